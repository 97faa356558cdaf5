//! Managing items and categories: validation, uniqueness, cycles, soft delete, roles.

use serde_json::json;

use super::{create_category, create_item, item};
use cartwheel_testkit::Backend;
use cartwheel_testkit::shops::{app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;

#[tokio::test]
async fn items_and_categories_are_validated_and_deleted_safely() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let owner = ready_shop(&app, "admin-shop").await;

    let id = create_item(&owner, item("KNIFE-1", "Knife", 1200, true, None)).await;
    let (status, problem) = owner
        .post(
            "/api/v1/store/admin/products",
            item("KNIFE-1", "Other", 1, true, None),
        )
        .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (409, Some("sku"))
    );
    let mut same_slug = item("KNIFE-2", "Knife 2", 1, true, None);
    same_slug["listing"]["slug"] = json!("knife-1");
    let (status, problem) = owner.post("/api/v1/store/admin/products", same_slug).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (409, Some("listing.slug"))
    );

    // What the document declares is refused by the schema, naming the field...
    for (field, value) in [("price", json!(-5)), ("slug", json!("Not A Slug"))] {
        let mut bad = item("BAD", "Bad", 100, true, None);
        if field == "price" {
            bad["price"] = value;
        } else {
            bad["listing"]["slug"] = value;
        }
        let (status, problem) = owner.post("/api/v1/store/admin/products", bad).await;
        let expected = if field == "price" {
            "price"
        } else {
            "listing.slug"
        };
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (422, Some(expected)),
            "{problem}"
        );
    }
    // ...and what only the shop's data can tell, every field at once.
    let mut bad = item(
        "BAD",
        "Bad",
        100,
        true,
        Some("0190b0a0-0000-7000-8000-000000000000"),
    );
    bad["unit"] = json!("Furlong");
    let (status, problem) = owner.post("/api/v1/store/admin/products", bad).await;
    assert_eq!(status, 422);
    let mut fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["listing.categoryId", "unit"]);
    let (status, problem) = owner.post("/api/v1/store/admin/products",
        json!({"sku": "X", "name": "X", "unit": "Nos", "price": "free", "listing": {"published": true, "slug": "x"}})).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("price"))
    );

    // Update replaces the item; a price change shows at once.
    let mut changed = item("KNIFE-1", "Chef Knife", 1500, true, None);
    changed["listing"]["slug"] = json!("chef-knife");
    let (status, updated) = owner
        .put(&format!("/api/v1/store/admin/products/{id}"), changed)
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (updated["name"].as_str(), updated["price"].as_i64()),
        (Some("Chef Knife"), Some(1500))
    );
    assert_eq!(updated["listing"]["slug"], "chef-knife");

    // Categories: no cycles, and only empty ones can go.
    let kitchen = create_category(&owner, "Kitchen", "kitchen", None).await;
    let knives = create_category(&owner, "Knives", "knives", Some(&kitchen)).await;
    let (status, problem) = owner
        .put(
            &format!("/api/v1/store/admin/categories/{kitchen}"),
            json!({"name": "Kitchen", "slug": "kitchen", "parentId": knives}),
        )
        .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("parentId"))
    );
    let (status, problem) = owner
        .put(
            &format!("/api/v1/store/admin/categories/{kitchen}"),
            json!({"name": "Kitchen", "slug": "kitchen", "parentId": kitchen}),
        )
        .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("parentId"))
    );
    let (status, _) = owner
        .post(
            "/api/v1/store/admin/categories",
            json!({"name": "Dup", "slug": "knives"}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = owner
        .delete(&format!("/api/v1/store/admin/categories/{kitchen}"))
        .await;
    assert_eq!(status, 409, "a category with sub-categories stays");
    let (status, _) = owner
        .delete(&format!("/api/v1/store/admin/categories/{knives}"))
        .await;
    assert_eq!(status, 204);

    // Soft delete: gone from lists and the store, the row and its sku remain.
    let (status, _) = owner
        .delete(&format!("/api/v1/store/admin/products/{id}"))
        .await;
    assert_eq!(status, 204);
    let (status, _) = owner
        .get(&format!("/api/v1/store/admin/products/{id}"))
        .await;
    assert_eq!(status, 404);
    let (_, list) = owner.get("/api/v1/store/admin/products").await;
    assert_eq!(list["total"], 0);
    let product = owner.shopper().get("products/chef-knife").await;
    assert_eq!(product.status(), 404);
    assert_eq!(
        cartwheel_testkit::scalar(
            &app.db,
            &format!("SELECT COUNT(*) FROM items WHERE id = '{id}'")
        )
        .await,
        1
    );
    let (status, _) = owner
        .post(
            "/api/v1/store/admin/products",
            item("KNIFE-1", "Again", 1, true, None),
        )
        .await;
    assert_eq!(status, 409, "a deleted item's sku stays taken");

    // Another shop's item is a 404, and a token of one shop is refused by another.
    let other = ready_shop(&app, "other-shop").await;
    let theirs = create_item(&other, item("THEIRS", "Theirs", 1, true, None)).await;
    let (status, _) = owner
        .get(&format!("/api/v1/store/admin/products/{theirs}"))
        .await;
    assert_eq!(status, 404);
    let (status, _) = owner
        .delete(&format!("/api/v1/store/admin/products/{theirs}"))
        .await;
    assert_eq!(status, 404);
    let (status, _) = other
        .with_token(&owner.token)
        .get("/api/v1/store/admin/products")
        .await;
    assert_eq!(status, 401, "a token of one shop is refused by another");
}
