//! Migrations that move a shop's data: what a shop had before the step is there after it, and
//! after the step is undone.

use cartwheel_entity::{TenantId, store_settings, tax_rules};
use cartwheel_migration::{Migrator, MigratorTrait};
use cartwheel_testkit::{Backend, TestDatabase, scalar};
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use uuid::Uuid;

/// The migrations before tax rules (m20261206_000017).
const BEFORE_TAX_RULES: u32 = 16;

cartwheel_testkit::on_each_backend!(a_shops_tax_rates_become_rules_for_its_country);

async fn a_shops_tax_rates_become_rules_for_its_country(backend: Backend) {
    let (_database, url) = TestDatabase::create(backend).await;
    let db = cartwheel::database::connect(&url.clone().into())
        .await
        .unwrap();
    Migrator::up(&db, Some(BEFORE_TAX_RULES)).await.unwrap();

    // A shop as provisioning left it before: settings and three rates, Standard the default.
    let shop = Uuid::now_v7();
    let now = chrono::Utc::now();
    let insert = |table: &str, columns: &[&str], values: Vec<sea_orm::Value>| {
        Query::insert()
            .into_table(Alias::new(table))
            .columns(columns.iter().map(|c| Alias::new(*c)))
            .values_panic(values.into_iter().map(Into::into))
            .to_owned()
    };
    db.execute(&insert(
        "tenants",
        &[
            "id",
            "slug",
            "name",
            "status",
            "progress",
            "created_at",
            "updated_at",
        ],
        vec![
            shop.into(),
            "old-shop".into(),
            "Old Shop".into(),
            "READY".into(),
            100.into(),
            now.into(),
            now.into(),
        ],
    ))
    .await
    .unwrap();
    db.execute(&insert(
        "store_settings",
        &[
            "tenant_id",
            "currency",
            "timezone",
            "prices_include_tax",
            "created_at",
            "updated_at",
        ],
        vec![
            shop.into(),
            "EUR".into(),
            "UTC".into(),
            false.into(),
            now.into(),
            now.into(),
        ],
    ))
    .await
    .unwrap();
    for (name, rate, is_default) in [
        ("Standard", 2000, true),
        ("Reduced", 550, false),
        ("Zero", 0, false),
    ] {
        db.execute(&insert(
            "tax_rates",
            &["id", "tenant_id", "name", "rate_basis_points", "is_default"],
            vec![
                Uuid::now_v7().into(),
                shop.into(),
                name.into(),
                rate.into(),
                is_default.into(),
            ],
        ))
        .await
        .unwrap();
    }

    Migrator::up(&db, None).await.unwrap();
    let settings = store_settings::Entity::find_by_id(TenantId(shop))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settings.country, "US");
    let rules: Vec<(String, Option<String>, Option<String>, i32)> = tax_rules::Entity::find()
        .order_by_desc(tax_rules::Column::RateBasisPoints)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.country, r.region, r.tax_class, r.rate_basis_points))
        .collect();
    assert_eq!(
        rules,
        [
            ("US".into(), None, None, 2000),
            ("US".into(), None, Some("reduced".into()), 550),
            ("US".into(), None, Some("zero".into()), 0),
        ]
    );

    // Undone (with every later step), the rates are back as they were.
    let later = Migrator::migrations().len() as u32 - BEFORE_TAX_RULES;
    Migrator::down(&db, Some(later)).await.unwrap();
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM tax_rates WHERE is_default = TRUE AND rate_basis_points = 2000"
        )
        .await,
        1
    );
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM tax_rates").await, 3);
}
