//! The category tree: crossing moves cannot make a cycle, the depth is bounded, and a loop
//! written by hand in the database neither hangs nor crashes a request.

use cartwheel_entity::categories;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::create_category;
use cartwheel_testkit::shops::{app_with_mail, ready_shop};
use cartwheel_testkit::smtp::MailServer;
use cartwheel_testkit::{Backend, scalar};

#[tokio::test]
async fn two_crossing_moves_never_both_succeed() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Postgres, &mail, &[]).await;
    let owner = ready_shop(&app, "crossing").await;
    let x = create_category(&owner, "X", "x", None).await;
    let y = create_category(&owner, "Y", "y", None).await;
    let path = |id: &str| format!("/api/v1/store/admin/categories/{id}");
    let body = |name: &str, parent: Option<&str>| json!({"name": name, "slug": name.to_lowercase(), "parentId": parent});
    let (x_path, y_path) = (path(&x), path(&y));
    for round in 0..20 {
        // X under Y and Y under X at once: the second to take the lock sees the first's move.
        let (x_under_y, y_under_x) = tokio::join!(
            owner.put(&x_path, body("X", Some(&y))),
            owner.put(&y_path, body("Y", Some(&x))),
        );
        let statuses = [x_under_y.0, y_under_x.0];
        assert!(
            statuses.contains(&200) && statuses.contains(&422),
            "round {round}: one move wins, the other is refused: {x_under_y:?} {y_under_x:?}"
        );
        let looped = scalar(
            &app.db,
            &format!(
                "SELECT COUNT(*) FROM categories a JOIN categories b ON a.parent_id = b.id \
                 WHERE a.id = '{x}' AND b.parent_id = a.id"
            ),
        )
        .await;
        assert_eq!(looped, 0, "round {round}: X and Y are each other's parent");
        // Both back to the top for the next round.
        for (id, name) in [(&x, "X"), (&y, "Y")] {
            let (status, answer) = owner.put(&path(id), body(name, None)).await;
            assert_eq!(status, 200, "{answer}");
        }
    }
}

#[tokio::test]
async fn the_tree_is_at_most_32_levels_deep() {
    let mail = MailServer::start().await;
    let app = app_with_mail(Backend::Sqlite, &mail, &[]).await;
    let owner = ready_shop(&app, "deep-tree").await;
    let shopper = owner.shopper();
    let mut parent = None;
    let mut ids = Vec::new();
    for level in 1..=32 {
        let id = create_category(
            &owner,
            &format!("Level {level}"),
            &format!("level-{level}"),
            parent.as_deref(),
        )
        .await;
        parent = Some(id.clone());
        ids.push(id);
    }
    let (status, problem) = owner
        .post(
            "/api/v1/store/admin/categories",
            json!({"name": "Level 33", "slug": "level-33", "parentId": parent}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "parentId", "{problem}");

    // A two-level branch cannot move under level 31 either: it would reach level 33.
    let top = create_category(&owner, "Top", "top", None).await;
    create_category(&owner, "Below", "below", Some(&top)).await;
    let (status, problem) = owner
        .put(
            &format!("/api/v1/store/admin/categories/{top}"),
            json!({"name": "Top", "slug": "top", "parentId": ids[30]}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "parentId", "{problem}");

    // The storefront renders all 32 levels.
    let tree: serde_json::Value = shopper.get("categories").await.json().await.unwrap();
    let mut node = &tree["items"][0];
    for level in 1..=32 {
        assert_eq!(node["slug"], format!("level-{level}"), "{tree}");
        node = &node["children"][0];
    }
    assert!(node.is_null(), "nothing below level 32: {node}");
}

cartwheel_testkit::on_each_backend!(a_loop_in_the_database_neither_hangs_nor_crashes_a_request);

async fn a_loop_in_the_database_neither_hangs_nor_crashes_a_request(backend: Backend) {
    let mail = MailServer::start().await;
    let app = app_with_mail(backend, &mail, &[("CARTWHEEL_STORE_CACHE_MS", "0")]).await;
    let owner = ready_shop(&app, "looped").await;
    let shopper = owner.shopper();
    let top = create_category(&owner, "Top", "top", None).await;
    let a = create_category(&owner, "A", "a", None).await;
    let b = create_category(&owner, "B", "b", Some(&a)).await;
    // What a crossing race or a hand edit could leave: A and B each other's parent.
    let (a_id, b_id): (uuid::Uuid, uuid::Uuid) = (a.parse().unwrap(), b.parse().unwrap());
    categories::Entity::update_many()
        .col_expr(categories::Column::ParentId, Expr::value(b_id))
        .filter(categories::Column::Id.eq(a_id))
        .exec(&app.db)
        .await
        .unwrap();

    let tree: serde_json::Value = shopper.get("categories").await.json().await.unwrap();
    assert_eq!(
        tree["items"].as_array().unwrap().len(),
        1,
        "the loop has no way in: {tree}"
    );
    assert_eq!(tree["items"][0]["slug"], "top", "{tree}");
    let products = shopper.get("products?category=a").await;
    assert_eq!(products.status(), 200);

    // A move into the loop is refused; moving a looped category out of it walks the loop's
    // subtree (which used to spin for ever) and mends it.
    let path = |id: &str| format!("/api/v1/store/admin/categories/{id}");
    let (status, problem) = owner
        .put(
            &path(&top),
            json!({"name": "Top", "slug": "top", "parentId": b}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    let (status, answer) = owner
        .put(
            &path(&a),
            json!({"name": "A", "slug": "a", "parentId": top}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let tree: serde_json::Value = shopper.get("categories").await.json().await.unwrap();
    assert_eq!(
        tree["items"][0]["children"][0]["children"][0]["slug"], "b",
        "{tree}"
    );
}
