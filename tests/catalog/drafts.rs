//! Drafts and deleted products: a draft cannot be put in a cart by its id, and a category whose
//! products were all deleted can be deleted.

use reqwest::Method;
use serde_json::json;

use super::{cart, cart_call, create_category, create_item, item, send};
use cartwheel_testkit::shops::{app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, assert_problem};

cartwheel_testkit::on_each_backend!(a_draft_cannot_be_added_to_a_cart_by_its_id);

async fn a_draft_cannot_be_added_to_a_cart_by_its_id(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[]).await;
    let shop = "draft-shop";
    let (_, token) = ready_shop(&app, shop).await;
    let draft = create_item(
        &app,
        shop,
        &token,
        item("DRAFT-1", "Draft", 500, false, None),
    )
    .await;
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/v1/admin/stock/adjustments",
        shop,
        &token,
        Some(json!({"itemId": draft, "location": "PICKING", "quantity": 5, "reason": "count"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = cart(&app, shop, Method::POST, "", None).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let add = json!({"itemId": draft, "qty": 1});
    let problem = assert_problem(
        cart_call(
            &app,
            shop,
            Method::POST,
            &format!("/{id}/items"),
            Some(add.clone()),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "itemId", "{problem}");
    // Published, the same item goes in.
    let published = item("DRAFT-1", "Draft", 500, true, None);
    let (status, body) = send(
        &app,
        Method::PUT,
        &format!("/api/v1/store/admin/products/{draft}"),
        shop,
        &token,
        Some(published),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let added = cart(&app, shop, Method::POST, &format!("/{id}/items"), Some(add)).await;
    assert_eq!(added["lines"][0]["qty"], 1, "{added}");
}

#[tokio::test]
async fn a_category_whose_products_were_all_deleted_can_be_deleted() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let shop = "empty-cat";
    let (_, token) = ready_shop(&app, shop).await;
    let category = create_category(&app, shop, &token, "Mugs", "mugs", None).await;
    let mug = create_item(
        &app,
        shop,
        &token,
        item("MUG-1", "Mug", 900, true, Some(&category)),
    )
    .await;
    let path = format!("/api/v1/store/admin/categories/{category}");
    let (status, _) = send(&app, Method::DELETE, &path, shop, &token, None).await;
    assert_eq!(status, 409, "a category with a product stays");
    let (status, _) = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/store/admin/products/{mug}"),
        shop,
        &token,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = send(&app, Method::DELETE, &path, shop, &token, None).await;
    assert_eq!(status, 204, "{body}");
}
