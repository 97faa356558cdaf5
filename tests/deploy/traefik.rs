//! Traefik v3 with the production routing file: the apex and every shop subdomain over HTTPS
//! with one wildcard certificate obtained by DNS challenge, HTTP redirected, the security
//! headers and compression on every answer, the edge rate limit, and no router, service or
//! middleware in error.

use cartwheel_testkit::edge::{EDGE_RATE_LIMIT, Edge};
use cartwheel_testkit::shops::ready_shop;
use cartwheel_testkit::{Backend, spawn_app_with};

const DOMAIN: &str = "shop.test";

#[tokio::test]
async fn traefik_routes_each_shop_subdomain_over_tls_with_the_security_headers() {
    let app = spawn_app_with(Backend::Postgres, &[("CARTWHEEL_BASE_DOMAIN", DOMAIN)]).await;
    ready_shop(&app, "north").await;
    ready_shop(&app, "south").await;
    let edge = Edge::start(DOMAIN, &app.address).await;
    let hosts = ["shop.test", "north.shop.test", "south.shop.test"];
    let client = edge.client(&hosts);
    let https = |host: &str, path: &str| format!("https://{host}:{}{path}", edge.https_port);

    // Each shop's host reaches that shop, over TLS the client verifies against the CA alone:
    // one certificate for the apex and *.shop.test.
    for shop in ["north", "south"] {
        let response = client
            .get(https(&format!("{shop}.{DOMAIN}"), "/api/v1/tenant"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{shop}");
        assert_security_headers(&response, shop);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["slug"], shop);
    }
    // The apex: the platform (health, signup, docs), no shop.
    let apex = client.get(https(DOMAIN, "/health")).send().await.unwrap();
    assert_eq!(apex.status(), 200);
    assert_security_headers(&apex, "apex");
    let no_shop = client
        .get(https(DOMAIN, "/api/v1/tenant"))
        .send()
        .await
        .unwrap();
    assert!(no_shop.status().is_client_error(), "{}", no_shop.status());

    // Plain HTTP answers with a permanent redirect to the same URL over HTTPS.
    let plain = client
        .get(format!(
            "http://north.{DOMAIN}:{}/api/v1/tenant?x=1",
            edge.http_port
        ))
        .send()
        .await
        .unwrap();
    assert!(
        [301, 308].contains(&plain.status().as_u16()),
        "{}",
        plain.status()
    );
    let location = plain.headers()["location"].to_str().unwrap();
    assert_eq!(
        location,
        format!(
            "https://north.{DOMAIN}:{}/api/v1/tenant?x=1",
            edge.https_port
        )
    );

    // Compression for clients that take it.
    let compressed = client
        .get(https(DOMAIN, "/api/v1/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(compressed.status(), 200);
    assert_eq!(compressed.headers()["content-encoding"], "gzip");

    // A host that is neither the apex nor a shop of it matches no router (Traefik's default
    // certificate, which the CA did not sign, is accepted for this one request).
    let stranger = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .resolve("elsewhere.example", ([127, 0, 0, 1], 0).into())
        .build()
        .unwrap()
        .get(https("elsewhere.example", "/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 404);

    // Traefik's API: the file's routers, services and middlewares, none in error.
    for (kind, names) in [
        ("routers", &["apex@file", "shops@file"][..]),
        ("services", &["cartwheel@file"][..]),
        (
            "middlewares",
            &[
                "security-headers@file",
                "compress@file",
                "edge-rate-limit@file",
            ][..],
        ),
    ] {
        let listed = edge.api(&format!("/http/{kind}")).await;
        let listed = listed.as_array().unwrap();
        for name in names {
            let entry = listed
                .iter()
                .find(|e| e["name"] == *name)
                .unwrap_or_else(|| panic!("no {kind} {name}: {listed:?}"));
            assert_eq!(entry["status"], "enabled", "{entry}");
        }
        for entry in listed {
            assert!(entry.get("error").is_none(), "{kind} in error: {entry}");
        }
    }
    // One server per EDGE_UPSTREAM entry (the replicas in production).
    let service = edge.api("/http/services/cartwheel@file").await;
    let servers = service["loadBalancer"]["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 2, "{service}");
    // The edge's rate limit: a burst far past it from one client is cut short with 429s.
    let burst = (0..5 * EDGE_RATE_LIMIT).map(|_| client.get(https(DOMAIN, "/health/live")).send());
    let statuses: Vec<u16> = futures::future::join_all(burst)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(limited > 0 && statuses.contains(&200), "{statuses:?}");

    // Nothing went wrong on the way (the certificate, the configuration, the upstream).
    let log = edge.log("traefik");
    assert!(log.contains(r#""level":"#), "Traefik logs JSON: {log}");
    assert!(!log.contains(r#""level":"error""#), "{log}");
}

/// Every header the edge adds (docs/DEPLOYMENT.md), on an answer for `what`. The API sets
/// nosniff, frame denial and `frame-ancestors` itself; HSTS, the referrer and permissions
/// policies and the CSP's `default-src` come from Traefik alone.
fn assert_security_headers(response: &reqwest::Response, what: &str) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{what}: no {name} header"))
    };
    assert!(
        header("strict-transport-security").starts_with("max-age=63072000"),
        "{what}"
    );
    assert!(header("strict-transport-security").contains("includeSubDomains"));
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(
        header("referrer-policy"),
        "strict-origin-when-cross-origin",
        "{what}"
    );
    assert!(
        header("content-security-policy").starts_with("default-src 'self'"),
        "{what}"
    );
    assert!(
        header("content-security-policy").contains("frame-ancestors 'none'"),
        "{what}"
    );
    assert!(header("permissions-policy").contains("camera=()"), "{what}");
}
