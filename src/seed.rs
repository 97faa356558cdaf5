//! `cartwheel seed catalog`: a shop with many products in many categories, and `cartwheel seed
//! orders`: a shop with many orders, for load tests.

use anyhow::Context;
use cartwheel_domain::accounts::{password, token};
use cartwheel_domain::catalog::items::{self as catalog_items, Image, ListingInput};
use cartwheel_domain::dashboard::rollups;
use cartwheel_domain::provisioning::{self, Signup};
use cartwheel_domain::tenants::{self, Status};
use cartwheel_entity::orders::{PaymentMethod, PaymentStatus, Status as OrderStatus};
use cartwheel_entity::{
    TenantId, categories, customers, items, order_lines, orders, stock_levels, stock_movements,
    store_settings, warehouse_locations,
};
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};
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
    let (tenant, password) = shop(&db, slug).await?;
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
                seo_title: None,
                seo_description: None,
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

/// The shop `slug`, signed up and provisioned here when it is missing (with a random owner
/// password, answered only then), ready for seeding.
async fn shop(
    db: &DatabaseConnection,
    slug: &str,
) -> anyhow::Result<(cartwheel_entity::tenants::Model, Option<String>)> {
    let mut password = None;
    if tenants::find_by_slug(db, slug).await?.is_none() {
        let chosen = format!("seed-{}", Uuid::new_v4().simple());
        provisioning::sign_up(
            db,
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
    let tenant = tenants::find_by_slug(db, slug)
        .await?
        .context("the shop exists now")?;
    if tenant.status != Status::Ready {
        // Seeding runs the provisioning job's own steps right here (it is idempotent).
        provisioning::provision(db, tenant.id)
            .await
            .context("provisioning failed")?;
    }
    Ok((tenant, password))
}

const FIRST_NAMES: &[&str] = &[
    "Ada", "Ben", "Chloe", "Daniel", "Emma", "Felix", "Grace", "Hugo", "Iris", "Jonas", "Kim",
    "Liam", "Mia", "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Sam", "Tara",
];
const LAST_NAMES: &[&str] = &[
    "Smith", "Jansen", "Garcia", "Muller", "Rossi", "Dubois", "Novak", "Kowalski", "Berg",
    "Okafor", "Tanaka", "Silva", "Murphy", "Nguyen", "Larsen", "Cohen",
];
const STREETS: &[&str] = &[
    "High Street",
    "Station Road",
    "Church Lane",
    "Mill Road",
    "Park Avenue",
    "Market Square",
];
const CITIES: &[&str] = &[
    "Springfield",
    "Riverton",
    "Lakeside",
    "Fairview",
    "Greenville",
    "Kingsport",
    "Ashford",
];
const CARRIERS: &[&str] = &["DHL", "UPS", "DPD", "PostNL"];
/// Orders per multi-row INSERT: 500 × 37 columns stays under SQLite's 32,766 parameters, and
/// their at most 1,500 lines × 14 columns too.
const ORDERS_PER_STATEMENT: usize = 500;
/// Statements per transaction.
const STATEMENTS_PER_TXN: usize = 10;
/// Transactions writing at once on Postgres.
const POSTGRES_WRITERS: usize = 2;
/// How far back the orders go.
const HISTORY_DAYS: i64 = 730;
/// An unpaid manual order's payment window: no seeded unpaid order is past it, so the
/// expiry cron finds nothing to cancel.
const PAYMENT_DAYS: i64 = 7;
/// The guests' email pool (guests order again now and then).
const GUEST_EMAILS: u64 = 150_000;
/// Seeded customers' emails end so; a rerun finds them by it.
const CUSTOMER_DOMAIN: &str = "@customers.seed.example";

/// What an order line can be bought as: the shop's items (seed the catalog first), or made-up
/// ones when it has none.
struct Product {
    id: Uuid,
    sku: String,
    name: String,
    price: i64,
    cost: i64,
    tax_class: String,
}

struct Customer {
    id: Uuid,
    email: String,
    first: &'static str,
    last: &'static str,
}

/// Adds `count` orders to the shop `slug` (created and provisioned if missing), numbered on
/// from its last order, placed over the last two years in number order: each with one to
/// three lines of the shop's items, a status and a payment status that fit its age (open
/// orders are recent, old ones delivered; a few cancelled or refunded), a fifth by one of
/// `customer_count` customers (inserted, or reused on a rerun), the rest by guests from a pool
/// of emails. The shop's order counter ends at the last number. Multi-row INSERTs, several
/// per transaction; on Postgres it ends with VACUUM ANALYZE of the tables it wrote.
pub async fn orders(
    config: &Config,
    slug: &str,
    count: usize,
    customer_count: usize,
) -> anyhow::Result<()> {
    let db = database::connect(&config.database_url).await?;
    database::migrate(&db).await?;
    let (tenant, password) = shop(&db, slug).await?;
    let settings = store_settings::Entity::find_by_id(tenant.id)
        .one(&db)
        .await?;
    let (currency, country, include_tax) = settings.map_or_else(
        || ("USD".to_string(), "US".to_string(), false),
        |s| (s.currency, s.country, s.prices_include_tax),
    );
    let products = products_of(&db, tenant.id).await?;
    let customers = seed_customers(&db, tenant.id, customer_count).await?;
    let last: Option<i64> = orders::Entity::find()
        .select_only()
        .column_as(orders::Column::Number.max(), "last")
        .filter(orders::Column::TenantId.eq(tenant.id))
        .into_tuple()
        .one(&db)
        .await?
        .flatten();
    let first = last.unwrap_or(0) + 1;

    let mut rng = StdRng::seed_from_u64(0x5eed_0000 ^ first as u64);
    let now = Utc::now();
    let start = now - Duration::days(HISTORY_DAYS);
    let span_ms = Duration::days(HISTORY_DAYS).num_milliseconds() as f64;
    let shop = Shop {
        tenant_id: tenant.id,
        currency,
        country,
        include_tax,
        now,
    };
    // Rows are made here and written by up to `writers` transactions at once (one core makes
    // them; Postgres writes on the others).
    let writers = match db.get_database_backend() {
        DatabaseBackend::Postgres => POSTGRES_WRITERS,
        _ => 1,
    };
    let mut writing = tokio::task::JoinSet::new();
    let mut tally = rollups::Tally::default();
    let per_txn = ORDERS_PER_STATEMENT * STATEMENTS_PER_TXN;
    for txn_start in (0..count).step_by(per_txn) {
        let txn_end = (txn_start + per_txn).min(count);
        let mut statements = Vec::with_capacity(STATEMENTS_PER_TXN);
        for chunk_start in (txn_start..txn_end).step_by(ORDERS_PER_STATEMENT) {
            let chunk_end = (chunk_start + ORDERS_PER_STATEMENT).min(txn_end);
            let mut order_rows = Vec::with_capacity(chunk_end - chunk_start);
            let mut line_rows = Vec::with_capacity(2 * (chunk_end - chunk_start));
            for n in chunk_start..chunk_end {
                // Spread evenly over the history, in number order.
                let offset = span_ms * (n as f64 + rng.random::<f64>()) / count as f64;
                let placed_at = start + Duration::milliseconds(offset as i64);
                let (order, lines) =
                    shop.order(&mut rng, first + n as i64, placed_at, &products, &customers);
                tally.add(&order, &lines);
                order_rows.push(orders::ActiveModel::from(order));
                line_rows.extend(lines.into_iter().map(order_lines::ActiveModel::from));
            }
            statements.push((order_rows, line_rows));
        }
        while writing.len() >= writers {
            writing
                .join_next()
                .await
                .context("a writer is running")???;
        }
        let db = db.clone();
        writing.spawn(async move {
            let txn = db.begin().await?;
            for (order_rows, line_rows) in statements {
                orders::Entity::insert_many(order_rows)
                    .exec_without_returning(&txn)
                    .await?;
                order_lines::Entity::insert_many(line_rows)
                    .exec_without_returning(&txn)
                    .await?;
            }
            txn.commit().await
        });
    }
    while let Some(done) = writing.join_next().await {
        done??;
    }
    // The dashboard's rollups, as placing these orders one by one would have kept them.
    tally.write(&db, tenant.id).await?;
    let last = first - 1 + count as i64;
    if count > 0 {
        let backend = db.get_database_backend();
        let upsert = Statement::from_sql_and_values(
            backend,
            match backend {
                DatabaseBackend::Postgres => {
                    "INSERT INTO order_numbers (tenant_id, last) VALUES ($1, $2) \
                     ON CONFLICT (tenant_id) DO UPDATE SET last = GREATEST(order_numbers.last, excluded.last)"
                }
                _ => {
                    "INSERT INTO order_numbers (tenant_id, last) VALUES (?, ?) \
                     ON CONFLICT (tenant_id) DO UPDATE SET last = max(order_numbers.last, excluded.last)"
                }
            },
            [tenant.id.0.into(), last.into()],
        );
        db.execute_raw(upsert).await?;
    }
    if db.get_database_backend() == DatabaseBackend::Postgres {
        db.execute_unprepared(
            "VACUUM ANALYZE orders, order_lines, customers, order_numbers, order_counts, \
             sales_days, item_sales_days",
        )
        .await?;
    }
    println!(
        "{}",
        serde_json::json!({
            "shop": slug,
            "orders": count,
            "first_number": first,
            "last_number": last,
            "customers": customers.len(),
            "owner_email": format!("owner@{slug}.example"),
            "owner_password": password,
        })
    );
    Ok(())
}

/// Up to 1,000 of the shop's items; 200 made-up ones (ids that name no item) without any.
async fn products_of(db: &DatabaseConnection, tenant_id: TenantId) -> anyhow::Result<Vec<Product>> {
    let found: Vec<Product> = items::Entity::find()
        .filter(items::Column::TenantId.eq(tenant_id))
        .filter(items::Column::DeletedAt.is_null())
        .order_by_asc(items::Column::Id)
        .limit(1_000)
        .all(db)
        .await?
        .into_iter()
        .map(|i| Product {
            id: i.id,
            sku: i.sku,
            name: i.name,
            price: i.price,
            cost: i.cost_price,
            tax_class: i.tax_class,
        })
        .collect();
    if !found.is_empty() {
        return Ok(found);
    }
    Ok((0..200usize)
        .map(|n| {
            let price = 100 + ((n * 7919) % 19_900) as i64;
            Product {
                id: Uuid::new_v4(),
                sku: format!("SEED-{n:06}"),
                name: format!(
                    "{} {} {}",
                    ADJECTIVES[n % ADJECTIVES.len()],
                    MATERIALS[(n / 8) % MATERIALS.len()],
                    NOUNS[(n / 3) % NOUNS.len()]
                ),
                price,
                cost: price * 3 / 5,
                tax_class: cartwheel_domain::tax::STANDARD_CLASS.into(),
            }
        })
        .collect())
}

/// `count` customers named `….N@customers.seed.example` (those already there are kept), all
/// with one password hash (`seed-customer-password`); answers every such customer of the shop.
async fn seed_customers(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    count: usize,
) -> anyhow::Result<Vec<Customer>> {
    let names = |n: usize| {
        (
            FIRST_NAMES[n % FIRST_NAMES.len()],
            LAST_NAMES[(n / FIRST_NAMES.len()) % LAST_NAMES.len()],
        )
    };
    let email = |n: usize| {
        let (first, last) = names(n);
        format!(
            "{}.{}.{n}{CUSTOMER_DOMAIN}",
            first.to_lowercase(),
            last.to_lowercase()
        )
    };
    if count > 0 {
        let hash = password::hash("seed-customer-password".into()).await;
        let now = Utc::now();
        for chunk in (0..count).collect::<Vec<_>>().chunks(1_000) {
            let rows = chunk.iter().map(|&n| {
                let (first, last) = names(n);
                customers::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    tenant_id: Set(tenant_id),
                    email: Set(email(n)),
                    first_name: Set(first.into()),
                    last_name: Set(last.into()),
                    phone: Set(None),
                    password_hash: Set(hash.clone()),
                    session_version: Set(0),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
            });
            customers::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([customers::Column::TenantId, customers::Column::Email])
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(db)
                .await?;
        }
    }
    let found = customers::Entity::find()
        .filter(customers::Column::TenantId.eq(tenant_id))
        .filter(customers::Column::Email.ends_with(CUSTOMER_DOMAIN))
        .order_by_asc(customers::Column::Email)
        .all(db)
        .await?;
    Ok(found
        .into_iter()
        .map(|c| {
            let first = FIRST_NAMES
                .iter()
                .find(|n| **n == c.first_name)
                .unwrap_or(&FIRST_NAMES[0]);
            let last = LAST_NAMES
                .iter()
                .find(|n| **n == c.last_name)
                .unwrap_or(&LAST_NAMES[0]);
            Customer {
                id: c.id,
                email: c.email,
                first,
                last,
            }
        })
        .collect())
}

/// What every seeded order of the shop shares.
struct Shop {
    tenant_id: TenantId,
    currency: String,
    country: String,
    include_tax: bool,
    now: DateTime<Utc>,
}

impl Shop {
    /// Order number `number`, placed at `placed_at`, with its lines.
    fn order(
        &self,
        rng: &mut StdRng,
        number: i64,
        placed_at: DateTime<Utc>,
        products: &[Product],
        customers: &[Customer],
    ) -> (orders::Model, Vec<order_lines::Model>) {
        let id = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            placed_at.timestamp() as u64,
            placed_at.timestamp_subsec_nanos(),
        ));
        // Who: a fifth are signed-in customers, the rest guests (who come back now and then).
        let (customer_id, email, first, last) =
            if customers.is_empty() || rng.random::<f64>() >= 0.2 {
                let k = rng.random_range(0..GUEST_EMAILS) as usize;
                let first = FIRST_NAMES[k % FIRST_NAMES.len()];
                let last = LAST_NAMES[(k / 7) % LAST_NAMES.len()];
                let email = format!(
                    "{}.{}{k}@mail.example",
                    first.to_lowercase(),
                    last.to_lowercase()
                );
                (None, email, first, last)
            } else {
                let c = &customers[rng.random_range(0..customers.len())];
                (Some(c.id), c.email.clone(), c.first, c.last)
            };

        // What: one to three different items, mostly one of each.
        let line_count = match rng.random::<f64>() {
            r if r < 0.55 => 1,
            r if r < 0.85 => 2,
            _ => 3,
        }
        .min(products.len());
        let mut picked: Vec<&Product> = Vec::with_capacity(line_count);
        while picked.len() < line_count {
            let p = &products[rng.random_range(0..products.len())];
            if !picked.iter().any(|q| q.id == p.id) {
                picked.push(p);
            }
        }
        let coupon = rng.random::<f64>() < 0.08;
        let mut lines = Vec::with_capacity(line_count);
        let (mut subtotal, mut discount, mut tax) = (0, 0, 0);
        for (position, p) in picked.into_iter().enumerate() {
            let quantity = match rng.random::<f64>() {
                r if r < 0.75 => 1,
                r if r < 0.93 => 2,
                _ => 3,
            };
            let line_total = p.price * quantity;
            let line_discount = if coupon { line_total / 10 } else { 0 };
            let rate = tax_rate(&p.tax_class);
            let line_tax = self.tax(line_total - line_discount, rate);
            subtotal += line_total;
            discount += line_discount;
            tax += line_tax;
            lines.push(order_lines::Model {
                order_id: id,
                position: position as i32,
                item_id: p.id,
                sku: p.sku.clone(),
                name: p.name.clone(),
                quantity,
                unit_price: p.price,
                unit_cost: p.cost,
                line_total,
                discount: line_discount,
                tax_class: p.tax_class.clone(),
                tax_rate: rate as i32,
                tax: line_tax,
            });
        }
        let express = rng.random::<f64>() < 0.1;
        let shipping = match (express, subtotal - discount >= 5_000) {
            (true, _) => 995,
            (false, true) => 0,
            (false, false) => 495,
        };
        let shipping_tax = self.tax(shipping, tax_rate(cartwheel_domain::tax::STANDARD_CLASS));
        tax += shipping_tax;
        let total = subtotal - discount + shipping + if self.include_tax { 0 } else { tax };

        // Where it stands: open orders are recent; unpaid ones are inside the payment window.
        let age_days = (self.now - placed_at).num_seconds() as f64 / 86_400.0;
        let (status, payment_status) = lifecycle(rng, age_days);
        let paid = !matches!(payment_status, PaymentStatus::Pending);
        let mut at = placed_at;
        let mut step = |rng: &mut StdRng, min_hours: f64, max_hours: f64| {
            let hours = rng.random_range(min_hours..max_hours);
            at = (at + Duration::seconds((hours * 3_600.0) as i64)).min(self.now);
            at
        };
        let paid_at = paid.then(|| step(rng, 0.2, 30.0));
        let shipped = matches!(status, OrderStatus::Shipped | OrderStatus::Delivered);
        let shipped_at = shipped.then(|| step(rng, 4.0, 48.0));
        let delivered_at = matches!(status, OrderStatus::Delivered).then(|| step(rng, 20.0, 100.0));
        let cancelled_at = matches!(status, OrderStatus::Cancelled).then(|| step(rng, 1.0, 120.0));
        let refunded = match payment_status {
            PaymentStatus::Refunded => total,
            PaymentStatus::PartiallyRefunded => total / 2,
            _ => 0,
        };
        // A cancelled order paid and not yet paid back.
        let refund_due =
            if status == OrderStatus::Cancelled && payment_status == PaymentStatus::Paid {
                total
            } else {
                0
            };
        let open_unpaid = !paid && status != OrderStatus::Cancelled;
        let payment_due_at = open_unpaid.then(|| placed_at + Duration::days(PAYMENT_DAYS));
        let tracking = shipped.then(|| format!("1Z{number:012}"));
        let address = serde_json::json!({
            "name": format!("{first} {last}"),
            "line1": format!("{} {}", 1 + number % 199, STREETS[(number as usize / 3) % STREETS.len()]),
            "line2": "",
            "city": CITIES[(number as usize / 11) % CITIES.len()],
            "region": "",
            "postalCode": format!("{:05}", (number * 37) % 100_000),
            "country": self.country,
            "phone": format!("+1555{:07}", number % 10_000_000),
        });
        let order = orders::Model {
            id,
            tenant_id: self.tenant_id,
            number,
            checkout_id: Uuid::new_v4(),
            idempotency_key: None,
            customer_id,
            email,
            phone: format!("+1555{:07}", number % 10_000_000),
            status,
            payment_status,
            payment_method: PaymentMethod::Manual,
            currency: self.currency.clone(),
            prices_include_tax: self.include_tax,
            subtotal,
            discount,
            shipping,
            shipping_tax,
            tax,
            total,
            refunded,
            refund_due,
            coupon_code: coupon.then(|| "SEED10".to_string()),
            shipping_method: if express { "Express" } else { "Standard" }.into(),
            shipping_address: address.clone(),
            billing_address: address,
            token_hash: token::hash(&Uuid::new_v4().to_string()),
            carrier: shipped.then(|| CARRIERS[number as usize % CARRIERS.len()].to_string()),
            tracking_url: tracking
                .as_ref()
                .map(|t| format!("https://track.example/{t}")),
            tracking_number: tracking,
            placed_at,
            updated_at: at,
            payment_due_at,
            paid_at,
            shipped_at,
            delivered_at,
            cancelled_at,
        };
        (order, lines)
    }

    /// The tax in `amount` (prices with tax) or on it (without), half up, in minor units.
    fn tax(&self, amount: i64, rate: i64) -> i64 {
        if self.include_tax {
            (2 * amount * rate + 10_000 + rate) / (2 * (10_000 + rate))
        } else {
            (amount * rate + 5_000) / 10_000
        }
    }
}

/// Basis points: 20 % standard, 9 % for any reduced class.
fn tax_rate(class: &str) -> i64 {
    if class == cartwheel_domain::tax::STANDARD_CLASS {
        2_000
    } else {
        900
    }
}

/// A status and payment status that fit an order placed `age_days` ago: 4 % cancelled (mostly
/// unpaid, some refunded); the rest pending or processing in the first days, then shipped,
/// then delivered; unpaid only inside the payment window; a few old orders (partly) refunded.
fn lifecycle(rng: &mut StdRng, age_days: f64) -> (OrderStatus, PaymentStatus) {
    let r = rng.random::<f64>();
    if r < 0.04 {
        let payment = match rng.random::<f64>() {
            p if p < 0.65 => PaymentStatus::Pending,
            p if p < 0.95 => PaymentStatus::Refunded,
            _ => PaymentStatus::Paid,
        };
        return (OrderStatus::Cancelled, payment);
    }
    let r = rng.random::<f64>();
    let unpaid_allowed = age_days < (PAYMENT_DAYS - 1) as f64;
    match age_days {
        a if a < 2.0 => match r {
            _ if r < 0.45 => (OrderStatus::Pending, PaymentStatus::Pending),
            _ if r < 0.85 => (OrderStatus::Processing, PaymentStatus::Paid),
            _ => (OrderStatus::Shipped, PaymentStatus::Paid),
        },
        a if a < 6.0 => match r {
            _ if r < 0.10 && unpaid_allowed => (OrderStatus::Pending, PaymentStatus::Pending),
            _ if r < 0.25 => (OrderStatus::Processing, PaymentStatus::Paid),
            _ if r < 0.70 => (OrderStatus::Shipped, PaymentStatus::Paid),
            _ => (OrderStatus::Delivered, PaymentStatus::Paid),
        },
        a if a < 14.0 => match r {
            _ if r < 0.02 => (OrderStatus::Processing, PaymentStatus::Paid),
            _ if r < 0.20 => (OrderStatus::Shipped, PaymentStatus::Paid),
            _ => (OrderStatus::Delivered, PaymentStatus::Paid),
        },
        _ => match r {
            _ if r < 0.01 => (OrderStatus::Delivered, PaymentStatus::Refunded),
            _ if r < 0.03 => (OrderStatus::Delivered, PaymentStatus::PartiallyRefunded),
            _ => (OrderStatus::Delivered, PaymentStatus::Paid),
        },
    }
}
