//! Headers on every response: nosniff, no framing (also of `/docs`), and no-store unless public.

use cartwheel_testkit::spawn_app_sqlite;

#[tokio::test]
async fn every_response_forbids_sniffing_and_framing_and_private_ones_are_not_stored() {
    let app = spawn_app_sqlite().await;
    for (path, stored) in [
        ("/health", false),
        ("/docs", false),
        ("/api/v1/openapi.json", false),
        ("/no/such/route", false),
        ("/api/v1/store/categories", true),
    ] {
        let response = app.get(path).await;
        let headers = response.headers();
        let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_string());
        assert_eq!(
            header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"), "{path}");
        assert_eq!(
            header("content-security-policy").as_deref(),
            Some("frame-ancestors 'none'"),
            "{path}"
        );
        let no_store = header("cache-control").as_deref() == Some("no-store");
        assert_eq!(no_store, !stored, "{path}: {:?}", header("cache-control"));
    }
}
