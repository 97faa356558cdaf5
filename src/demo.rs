//! The `demo` shop's goods: once the first `serve` on an empty database has provisioned the
//! shop, three stocked products and a shipping zone for its country (US) with two methods, so
//! a person can walk from a cart to a placed order at once (README, "Checkout and orders").

use std::time::Duration;

use anyhow::Context;
use cartwheel_domain::audit::Actor;
use cartwheel_domain::catalog::CatalogChanges;
use cartwheel_domain::catalog::items::{self, Image, ItemInput, ListingInput};
use cartwheel_domain::catalog::stock::{self, Place};
use cartwheel_domain::shipping::{methods, zones};
use cartwheel_domain::tenants::{self, Status};
use cartwheel_entity::TenantId;
use sea_orm::DatabaseConnection;

/// `(sku, name, price, cost, stock)`, prices in cents.
const PRODUCTS: &[(&str, &str, i64, i64, i64)] = &[
    ("MUG-01", "Stoneware Mug", 1400, 600, 40),
    ("TOTE-01", "Linen Tote", 2400, 1100, 25),
    ("LAMP-01", "Desk Lamp", 5900, 3200, 8),
];

/// Waits (up to a minute) for the provisioning job to make the shop ready, then adds its goods.
pub async fn stock_when_ready(db: DatabaseConnection, slug: &'static str) {
    for _ in 0..240 {
        match tenants::find_by_slug(&db, slug).await {
            Ok(Some(tenant)) if tenant.status == Status::Ready => {
                if let Err(e) = stock(&db, tenant.id).await {
                    tracing::error!(error = %format!("{e:#}"), "could not stock the demo shop");
                }
                return;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            Err(e) => {
                tracing::error!(error = %e, "could not read the demo shop");
                return;
            }
        }
    }
    tracing::warn!("the demo shop was not ready within a minute; it has no products");
}

async fn stock(db: &DatabaseConnection, tenant: TenantId) -> anyhow::Result<()> {
    let changes = CatalogChanges::default();
    let by = Actor::system(tenant, "demo");
    for (sku, name, price, cost, quantity) in PRODUCTS {
        let slug = sku.to_lowercase();
        let item = items::create(
            db,
            &changes,
            &by,
            ItemInput {
                sku: sku.to_string(),
                name: name.to_string(),
                unit: "Nos".into(),
                price: *price,
                tax_class: cartwheel_domain::tax::STANDARD_CLASS.into(),
                cost_price: *cost,
                reorder_level: 5,
                active: true,
                listing: ListingInput {
                    published: true,
                    slug: slug.clone(),
                    short_description: format!("The {}.", name.to_lowercase()),
                    long_description: format!("A {} from the demo shop.", name.to_lowercase()),
                    images: vec![Image {
                        url: format!("https://img.example/{slug}.jpg"),
                        alt: name.to_string(),
                    }],
                    category_id: None,
                    display_order: 0,
                    seo_title: None,
                    seo_description: None,
                },
            },
        )
        .await
        .with_context(|| format!("product {sku}"))?;
        let place = Place {
            warehouse: "MAIN",
            location: "PICKING",
        };
        stock::adjust(
            db,
            &changes,
            &by,
            item.item.id,
            place,
            *quantity,
            "demo stock",
        )
        .await
        .with_context(|| format!("stock of {sku}"))?;
    }
    let zone = zones::create(
        db,
        &by,
        zones::ZoneInput {
            name: "United States".into(),
            countries: vec!["US".into()],
        },
    )
    .await
    .context("shipping zone")?;
    for (name, price, free_over) in [("Standard", 495, Some(5000)), ("Express", 1495, None)] {
        methods::create(
            db,
            &by,
            methods::MethodInput {
                zone_id: zone.zone.id,
                name: name.into(),
                price,
                free_over,
                min_subtotal: None,
                max_subtotal: None,
                active: true,
            },
        )
        .await
        .with_context(|| format!("shipping method {name}"))?;
    }
    tracing::info!("the demo shop has its products and shipping");
    Ok(())
}
