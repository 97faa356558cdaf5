//! `cartwheel seed catalog`: a shop with many products in many categories, for load tests.

use anyhow::Context;
use cartwheel_domain::catalog::items::{self as catalog_items, Image, ListingInput};
use cartwheel_domain::provisioning::{self, Signup};
use cartwheel_domain::tenants::{self, Status};
use cartwheel_entity::{categories, items, stock_levels, stock_movements, warehouse_locations};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

use crate::config::Config;
use crate::database;

const ADJECTIVES: &[&str] = &[
    "Sturdy", "Compact", "Classic", "Modern", "Rustic", "Deluxe", "Handy", "Light",
];
const MATERIALS: &[&str] = &[
    "Oak", "Steel", "Cotton", "Ceramic", "Bamboo", "Leather", "Glass", "Copper",
];
const NOUNS: &[&str] = &[
    "Chair", "Lamp", "Mug", "Blanket", "Shelf", "Bag", "Vase", "Knife", "Table", "Bowl",
];

/// Creates (or reuses) the shop `slug` and adds `products` published, stocked products in
/// `category_count` categories (a tenth of them top-level, the rest beneath them).
pub async fn catalog(
    config: &Config,
    slug: &str,
    products: usize,
    category_count: usize,
) -> anyhow::Result<()> {
    let db = database::connect(&config.database_url).await?;
    database::migrate(&db).await?;
    let mut password = None;
    if tenants::find_by_slug(&db, slug).await?.is_none() {
        let chosen = format!("seed-{}", Uuid::new_v4().simple());
        provisioning::sign_up(
            &db,
            Signup {
                business_name: format!("{slug} (seeded)"),
                owner_email: format!("owner@{slug}.example"),
                owner_password: chosen.clone(),
                domain: slug.into(),
                currency: None,
                timezone: None,
                country: None,
                idempotency_key: None,
            },
        )
        .await
        .context("cannot sign the shop up")?;
        password = Some(chosen);
    }
    let tenant = tenants::find_by_slug(&db, slug)
        .await?
        .context("the shop exists now")?;
    if tenant.status != Status::Ready {
        // Seeding runs the provisioning job's own steps right here (it is idempotent).
        provisioning::provision(&db, tenant.id)
            .await
            .context("provisioning failed")?;
    }
    let picking = warehouse_locations::Entity::find()
        .filter(warehouse_locations::Column::TenantId.eq(tenant.id))
        .filter(warehouse_locations::Column::Code.eq("PICKING"))
        .one(&db)
        .await?
        .context("the shop has a PICKING location")?;

    let now = chrono::Utc::now();
    let roots = (category_count / 10).max(1);
    let mut category_ids = Vec::with_capacity(category_count);
    let rows: Vec<categories::ActiveModel> = (0..category_count)
        .map(|n| {
            let id = Uuid::now_v7();
            category_ids.push(id);
            categories::ActiveModel {
                id: Set(id),
                tenant_id: Set(tenant.id),
                parent_id: Set((n >= roots).then(|| category_ids[n % roots])),
                name: Set(format!("Category {n}")),
                slug: Set(format!("seed-cat-{n}")),
                display_order: Set(n as i32),
                created_at: Set(now),
                updated_at: Set(now),
            }
        })
        .collect();
    for chunk in rows.chunks(500) {
        categories::Entity::insert_many(chunk.to_vec())
            .exec(&db)
            .await?;
    }

    let batch = 500;
    for start in (0..products).step_by(batch) {
        let end = (start + batch).min(products);
        let mut item_rows = Vec::new();
        let mut listing_rows = Vec::new();
        let mut level_rows = Vec::new();
        let mut movement_rows = Vec::new();
        for n in start..end {
            let id = Uuid::now_v7();
            let name = format!(
                "{} {} {} {n}",
                ADJECTIVES[n % ADJECTIVES.len()],
                MATERIALS[(n / 8) % MATERIALS.len()],
                NOUNS[(n / 64) % NOUNS.len()]
            );
            let sku = format!("SEED-{n:06}");
            let short = format!("A {} for every day.", name.to_lowercase());
            let long = format!("{name}: made to last, easy to care for.");
            let quantity = (n % 50) as i64;
            let price = 100 + ((n * 7919) % 99_900) as i64;
            item_rows.push(items::Model {
                id,
                tenant_id: tenant.id,
                sku: sku.clone(),
                name: name.clone(),
                unit_code: "Nos".into(),
                price,
                tax_class: cartwheel_domain::tax::STANDARD_CLASS.into(),
                cost_price: price * 3 / 5,
                reorder_level: 5,
                active: true,
                deleted_at: None,
                created_at: now,
                updated_at: now,
            });
            listing_rows.push(ListingInput {
                published: true,
                slug: sku.to_lowercase(),
                short_description: short,
                long_description: long,
                images: vec![Image {
                    url: format!("https://img.example/{sku}.jpg"),
                    alt: name,
                }],
                category_id: Some(category_ids[roots + n % (category_count - roots).max(1)]),
                display_order: n as i32,
            });
            level_rows.push(stock_levels::ActiveModel {
                item_id: Set(id),
                location_id: Set(picking.id),
                tenant_id: Set(tenant.id),
                on_hand: Set(quantity),
                reserved: Set(0),
            });
            movement_rows.push(stock_movements::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(tenant.id),
                item_id: Set(id),
                location_id: Set(picking.id),
                quantity: Set(quantity),
                reason: Set("seed".into()),
                created_at: Set(now),
            });
        }
        let txn = db.begin().await?;
        catalog_items::write_items(&txn, &item_rows).await?;
        let listings: Vec<_> = item_rows.iter().zip(&listing_rows).collect();
        catalog_items::write_listings(&txn, &listings).await?;
        stock_levels::Entity::insert_many(level_rows)
            .exec(&txn)
            .await?;
        stock_movements::Entity::insert_many(movement_rows)
            .exec(&txn)
            .await?;
        txn.commit().await?;
    }
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("VACUUM ANALYZE").await?;
    }
    println!(
        "{}",
        serde_json::json!({
            "shop": slug,
            "products": products,
            "categories": category_count,
            "owner_email": format!("owner@{slug}.example"),
            "owner_password": password,
        })
    );
    Ok(())
}
