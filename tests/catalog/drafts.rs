//! Drafts and deleted products: a draft cannot be put in a cart by its id, and a category whose
//! products were all deleted can be deleted.

use reqwest::Method;
use serde_json::json;

use super::{create_category, create_item, item, ok};
use cartwheel_testkit::shops::{app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, assert_problem};

cartwheel_testkit::on_each_backend!(a_draft_cannot_be_added_to_a_cart_by_its_id);

async fn a_draft_cannot_be_added_to_a_cart_by_its_id(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let owner = ready_shop(&app, "draft-shop").await;
    let shopper = owner.shopper();
    let draft = create_item(&owner, item("DRAFT-1", "Draft", 500, false, None)).await;
    let (status, body) = owner
        .post(
            "/api/v1/admin/stock/adjustments",
            json!({"itemId": draft, "location": "PICKING", "quantity": 5, "reason": "count"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = ok(shopper.send(Method::POST, "cart", None).await).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let add = json!({"itemId": draft, "qty": 1});
    let problem = assert_problem(
        shopper.post(&format!("cart/{id}/items"), add.clone()).await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "itemId", "{problem}");
    // Published, the same item goes in.
    let published = item("DRAFT-1", "Draft", 500, true, None);
    let (status, body) = owner
        .put(&format!("/api/v1/store/admin/products/{draft}"), published)
        .await;
    assert_eq!(status, 200, "{body}");
    let added = ok(shopper.post(&format!("cart/{id}/items"), add).await).await;
    assert_eq!(added["lines"][0]["qty"], 1, "{added}");
}

#[tokio::test]
async fn a_category_whose_products_were_all_deleted_can_be_deleted() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let owner = ready_shop(&app, "empty-cat").await;
    let category = create_category(&owner, "Mugs", "mugs", None).await;
    let mug = create_item(&owner, item("MUG-1", "Mug", 900, true, Some(&category))).await;
    let path = format!("/api/v1/store/admin/categories/{category}");
    let (status, _) = owner.delete(&path).await;
    assert_eq!(status, 409, "a category with a product stays");
    let (status, _) = owner
        .delete(&format!("/api/v1/store/admin/products/{mug}"))
        .await;
    assert_eq!(status, 204);
    let (status, body) = owner.delete(&path).await;
    assert_eq!(status, 204, "{body}");
}
