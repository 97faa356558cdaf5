//! A shop's Stripe keys: set by its admins, sealed at rest with the server's secrets key, shown
//! back by their last 4 characters, another shop's unseen, and refused clearly without a key.

use cartwheel_domain::payments::stripe_keys;
use cartwheel_domain::secrets::SecretsKey;
use cartwheel_entity::{TenantId, stripe_settings};
use cartwheel_testkit::shops::ready_shop;
use cartwheel_testkit::{Backend, spawn_app_with};
use sea_orm::EntityTrait;
use secrecy::ExposeSecret;
use serde_json::json;

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const SECRET: &str = "sk_test_51NorthSecretKey4242";
const WEBHOOK: &str = "whsec_NorthSigningSecret9876";
const PATH: &str = "/api/v1/admin/payments/stripe";

fn keys(publishable: &str, secret: &str, webhook: &str) -> serde_json::Value {
    json!({"publishableKey": publishable, "secretKey": secret, "webhookSecret": webhook})
}

cartwheel_testkit::on_each_backend!(stripe_keys_are_sealed_write_only_and_per_shop);

async fn stripe_keys_are_sealed_write_only_and_per_shop(backend: Backend) {
    let app = spawn_app_with(backend, &[("CARTWHEEL_SECRETS_KEY", KEY)]).await;
    let north = ready_shop(&app, "north").await;
    let south = ready_shop(&app, "south").await;

    let (status, body) = north.get(PATH).await;
    assert_eq!(status, 404, "{body}");

    let (status, shown) = north
        .put(PATH, keys("pk_test_51NorthPublishable", SECRET, WEBHOOK))
        .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["publishableKey"], "pk_test_51NorthPublishable");
    assert_eq!(shown["secretKeyLast4"], "4242");
    assert_eq!(shown["webhookSecretLast4"], "9876");
    assert_eq!(shown["mode"], "test");
    assert_eq!(north.get_ok(PATH).await, shown);
    for body in [shown.to_string(), north.get_ok(PATH).await.to_string()] {
        assert!(!body.contains(SECRET) && !body.contains(WEBHOOK), "{body}");
    }

    // At rest the secrets are sealed; the server's key opens them, for this shop only.
    let tenant = TenantId(north.tenant_id.parse().unwrap());
    let row = stripe_settings::Entity::find_by_id(tenant)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.secret_key.starts_with("v1."), "{}", row.secret_key);
    for sealed in [&row.secret_key, &row.webhook_secret] {
        assert!(!sealed.contains("North"), "{sealed}");
    }
    let key = SecretsKey::from_hex(KEY).unwrap();
    let stored = stripe_keys::row(&app.db, tenant).await.unwrap().unwrap();
    let opened = stripe_keys::open(Some(&key), stored).unwrap();
    assert_eq!(opened.secret_key.expose_secret(), SECRET);
    assert_eq!(opened.webhook_secret.expose_secret(), WEBHOOK);
    assert!(!opened.live);
    let south_tenant = TenantId(south.tenant_id.parse().unwrap());
    assert!(
        key.open(south_tenant, "secret_key", &row.secret_key)
            .is_err()
    );

    // Another shop sees none of it, and has none.
    let (status, body) = south.get(PATH).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = south.delete(PATH).await;
    assert_eq!(status, 404, "{body}");

    // Bad keys are named, without their values, and change nothing; a live secret with a test
    // publishable key too.
    let good = keys("pk_test_51NorthPublishable", SECRET, WEBHOOK);
    for (field, bad) in [
        ("publishableKey", "sk_test_51Oops12345"),
        ("secretKey", "pk_live_nope123456"),
        ("webhookSecret", "whsec_short"),
    ] {
        let mut body = good.clone();
        body[field] = json!(bad);
        let (status, body) = north.put(PATH, body).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"][0]["field"], field, "{body}");
        assert!(!body.to_string().contains(bad), "{body}");
    }
    let (status, body) = north
        .put(
            PATH,
            keys(
                "pk_test_51NorthPublishable",
                "sk_live_51LiveKey1234",
                WEBHOOK,
            ),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "publishableKey", "{body}");
    assert_eq!(north.get_ok(PATH).await, shown);

    // Replaced by live keys, then removed: the shop takes manual payment only.
    let (status, live) = north
        .put(
            PATH,
            keys(
                "pk_live_51NorthPublishable",
                "rk_live_51Restricted0001",
                WEBHOOK,
            ),
        )
        .await;
    assert_eq!(status, 200, "{live}");
    assert_eq!(live["mode"], "live");
    assert_eq!(live["secretKeyLast4"], "0001");
    let (status, _) = north.delete(PATH).await;
    assert_eq!(status, 204);
    let (status, _) = north.get(PATH).await;
    assert_eq!(status, 404);
    assert!(stripe_keys::row(&app.db, tenant).await.unwrap().is_none());
}

#[tokio::test]
async fn without_a_secrets_key_no_stripe_keys_are_stored() {
    let app = spawn_app_with(Backend::Postgres, &[]).await;
    let owner = ready_shop(&app, "keyless").await;
    let (status, body) = owner
        .put(PATH, keys("pk_test_51Keyless", SECRET, WEBHOOK))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("CARTWHEEL_SECRETS_KEY"),
        "{body}"
    );
    let (status, _) = owner.get(PATH).await;
    assert_eq!(status, 404);
}
