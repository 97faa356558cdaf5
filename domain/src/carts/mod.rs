//! Carts: lines with the price snapshotted when first added, stock checked on every change,
//! a coupon, and totals (subtotal, discount, estimated tax, total) computed here.

pub mod abandoned;

use std::collections::HashMap;
use std::time::Duration;

use cartwheel_entity::{TenantId, cart_lines, carts, coupons, items, listings};
use chrono::Utc;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::catalog::stock;
use crate::coupons as coupon_rules;
use crate::money;
use crate::tax;
use crate::validation::FieldProblem;

pub use cartwheel_entity::carts::Status;

/// While a cart's lines change quickly, its last change (which its expiry and abandoned-cart
/// idle time count from) is recorded at most this often: a burst of adds to one cart then
/// writes the cart row once, not once per add.
const TOUCH_AT_MOST_EVERY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// How long a cart made on the customer's behalf lasts without a change.
const DEFAULT_TTL: Duration = Duration::from_secs(72 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("invalid input")]
    Invalid(Vec<FieldProblem>),
    #[error("no such {0}")]
    NotFound(&'static str),
    /// Not enough stock for the quantity asked: what is available.
    #[error("only {available} available")]
    InsufficientStock { available: i64 },
    /// The coupon does not apply; the reason is for the shopper.
    #[error("{0}")]
    CouponRejected(String),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Enqueue(#[from] cartwheel_jobs::EnqueueError),
}

/// The most of one item a cart line holds.
pub const MAX_QUANTITY: i64 = 1_000_000;

/// The highest total of one line, and the most lines a cart holds: together they keep a cart's
/// subtotal within `money::MAX_TOTAL` (50 × 10^13 = 5 × 10^14, tax on top), checked by the
/// statement that changes the line, so no transaction has to hold the line while totals are
/// computed.
pub const MAX_LINE_TOTAL: i64 = 10_000_000_000_000;
pub const MAX_LINES: i64 = 50;

impl From<money::Overflow> for CartError {
    fn from(overflow: money::Overflow) -> Self {
        CartError::Invalid(vec![FieldProblem::new(
            "qty",
            format!("would make the cart's total too large: {overflow}"),
        )])
    }
}

impl From<crate::catalog::CatalogError> for CartError {
    fn from(e: crate::catalog::CatalogError) -> Self {
        match e {
            crate::catalog::CatalogError::Database(e) => CartError::Database(e),
            crate::catalog::CatalogError::Enqueue(e) => CartError::Enqueue(e),
            crate::catalog::CatalogError::NotFound(what) => CartError::NotFound(what),
            crate::catalog::CatalogError::Invalid(p) => CartError::Invalid(p),
            crate::catalog::CatalogError::InsufficientStock { available } => {
                CartError::InsufficientStock { available }
            }
            crate::catalog::CatalogError::Conflict { message, .. } => {
                CartError::Invalid(vec![FieldProblem::new("cart", message)])
            }
        }
    }
}

pub struct Line {
    pub item_id: Uuid,
    pub sku: String,
    pub name: String,
    pub slug: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub line_total: i64,
    pub available: i64,
    pub tax_class: String,
}

pub struct AppliedCoupon {
    pub code: String,
    /// Why it gives no discount right now, if it does not.
    pub not_applied: Option<String>,
}

pub struct Totals {
    pub subtotal: i64,
    pub discount: i64,
    /// Estimated for an address in the shop's own country (`crate::tax`): per line after its
    /// share of the discount, rounded half up; inside the total when prices include tax.
    pub tax: i64,
    pub total: i64,
}

pub struct CartView {
    pub cart: carts::Model,
    pub lines: Vec<Line>,
    pub coupon: Option<AppliedCoupon>,
    pub totals: Totals,
}

/// Which cart, asked for by whom. An anonymous cart answers to whoever holds its id (the id is
/// random, the shopper's only key); a customer's cart answers only with that customer's token
/// (`customer_id`), and to anyone else is unknown.
#[derive(Clone, Copy, Debug)]
pub struct CartKey {
    pub tenant_id: TenantId,
    pub id: Uuid,
    /// The signed-in customer making the request, if any.
    pub customer_id: Option<Uuid>,
}

impl CartKey {
    /// The carts this key may reach: the anonymous ones, and the customer's own.
    pub(crate) fn held(&self) -> sea_orm::Condition {
        let anyone = sea_orm::Condition::any().add(carts::Column::CustomerId.is_null());
        match self.customer_id {
            Some(customer) => anyone.add(carts::Column::CustomerId.eq(customer)),
            None => anyone,
        }
    }
}

/// Who asks `POST /store/cart` for a cart.
pub enum Opener<'a> {
    /// A guest, with the storefront's session id if it sent one.
    Guest { session: Option<&'a str> },
    /// A signed-in customer.
    Customer(&'a cartwheel_entity::customers::Model),
}

/// The cart a shopper starts from, and whether it is new: a customer's open cart (or a new one
/// of theirs); a guest session's open cart (or a new one bound to the session, which finds it
/// again); otherwise a new anonymous cart. The session id is kept only as its SHA-256: it may be
/// the storefront's own session key.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn open(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    opener: Opener<'_>,
    ttl: Duration,
) -> Result<(CartView, bool), CartError> {
    match opener {
        Opener::Customer(customer) => match customer_cart(db, tenant_id, customer.id).await? {
            Some(id) => Ok((view(db, by_id(db, id).await?).await?, false)),
            None => {
                let cart = insert(db, tenant_id, Some(customer), None, DEFAULT_TTL).await?;
                Ok((new_view(db, cart).await?, true))
            }
        },
        Opener::Guest { session: None } => {
            let cart = insert(db, tenant_id, None, None, ttl).await?;
            Ok((new_view(db, cart).await?, true))
        }
        Opener::Guest {
            session: Some(session),
        } => {
            let hash = crate::accounts::token::hash(session);
            // A second request of the same session may insert first: then its cart is found.
            for _ in 0..3 {
                let bound = carts::Entity::find()
                    .filter(carts::Column::TenantId.eq(tenant_id))
                    .filter(carts::Column::SessionHash.eq(&hash))
                    .one(db)
                    .await?;
                if let Some(cart) = bound {
                    if cart.status == Status::Open && cart.expires_at > Utc::now() {
                        return Ok((view(db, cart).await?, false));
                    }
                    // Merged, checked out or expired: the session starts a new cart.
                    carts::Entity::update_many()
                        .col_expr(
                            carts::Column::SessionHash,
                            sea_orm::sea_query::Expr::value(None::<String>),
                        )
                        .filter(carts::Column::Id.eq(cart.id))
                        .exec(db)
                        .await?;
                }
                match insert(db, tenant_id, None, Some(hash.clone()), ttl).await {
                    Ok(cart) => return Ok((new_view(db, cart).await?, true)),
                    Err(CartError::Database(e))
                        if matches!(
                            e.sql_err(),
                            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                        ) => {}
                    Err(e) => return Err(e),
                }
            }
            Err(CartError::Database(sea_orm::DbErr::Custom(
                "a cart session kept changing under three attempts".into(),
            )))
        }
    }
}

/// A new, empty cart that expires `ttl` after its last change; a customer's has their email.
async fn insert<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    customer: Option<&cartwheel_entity::customers::Model>,
    session_hash: Option<String>,
    ttl: Duration,
) -> Result<carts::Model, CartError> {
    let now = Utc::now();
    Ok(carts::ActiveModel {
        // Random, not time-ordered: the id is the shopper's only key to the cart.
        id: Set(Uuid::new_v4()),
        tenant_id: Set(tenant_id),
        customer_id: Set(customer.map(|c| c.id)),
        email: Set(customer.map(|c| c.email.clone())),
        session_hash: Set(session_hash),
        coupon_id: Set(None),
        status: Set(Status::Open),
        reminded_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        expires_at: Set(expiry(now, ttl)),
    }
    .insert(db)
    .await?)
}

async fn by_id<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<carts::Model, CartError> {
    carts::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CartError::NotFound("cart"))
}

/// An open, unexpired cart of the tenant.
#[tracing::instrument(skip_all, fields(tenant = %key.tenant_id))]
pub async fn get<C: ConnectionTrait>(db: &C, key: CartKey) -> Result<CartView, CartError> {
    let cart = find_open(db, key).await?;
    view(db, cart).await
}

/// Adds `quantity` of an item (summed with what is there), if the stock allows the new total.
#[tracing::instrument(skip_all, fields(tenant = %key.tenant_id))]
pub async fn add(
    db: &DatabaseConnection,
    key: CartKey,
    item_id: Uuid,
    quantity: i64,
    ttl: Duration,
) -> Result<CartView, CartError> {
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(CartError::Invalid(vec![FieldProblem::new(
            "qty",
            format!("must be 1 to {MAX_QUANTITY}"),
        )]));
    }
    change(db, key, item_id, quantity, false, ttl).await
}

/// Sets the quantity of an item; 0 removes it.
#[tracing::instrument(skip_all, fields(tenant = %key.tenant_id))]
pub async fn set_quantity(
    db: &DatabaseConnection,
    key: CartKey,
    item_id: Uuid,
    quantity: i64,
    ttl: Duration,
) -> Result<CartView, CartError> {
    if !(0..=MAX_QUANTITY).contains(&quantity) {
        return Err(CartError::Invalid(vec![FieldProblem::new(
            "qty",
            format!("must be 0 to {MAX_QUANTITY}"),
        )]));
    }
    if quantity == 0 {
        return remove(db, key, item_id, ttl).await;
    }
    change(db, key, item_id, quantity, true, ttl).await
}

#[tracing::instrument(skip_all, fields(tenant = %key.tenant_id))]
pub async fn remove(
    db: &DatabaseConnection,
    key: CartKey,
    item_id: Uuid,
    ttl: Duration,
) -> Result<CartView, CartError> {
    let cart = find_open(db, key).await?;
    // Idempotent, as DELETE is: a line that is not in the cart is already removed.
    cart_lines::Entity::delete_many()
        .filter(cart_lines::Column::CartId.eq(cart.id))
        .filter(cart_lines::Column::ItemId.eq(item_id))
        .exec(db)
        .await?;
    touch(db, cart, ttl).await
}

/// Applies a coupon code; a code that does not apply is refused with the reason.
#[tracing::instrument(skip_all, fields(tenant = %key.tenant_id))]
pub async fn apply_coupon(
    db: &DatabaseConnection,
    key: CartKey,
    code: &str,
    ttl: Duration,
) -> Result<CartView, CartError> {
    let cart = find_open(db, key).await?;
    let Some(coupon) = coupon_rules::find_by_code(db, key.tenant_id, code).await? else {
        return Err(CartError::CouponRejected(coupon_rules::NOT_VALID.into()));
    };
    let current = view(db, cart.clone()).await?;
    if let Some(reason) = coupon_rules::rejection(
        db,
        &coupon,
        current.totals.subtotal,
        cart.customer_id,
        Utc::now(),
    )
    .await?
    {
        return Err(CartError::CouponRejected(reason));
    }
    let mut cart: carts::ActiveModel = cart.into();
    cart.coupon_id = Set(Some(coupon.id));
    let cart = cart.update(db).await?;
    touch(db, cart, ttl).await
}

#[tracing::instrument(skip_all, fields(tenant = %key.tenant_id))]
pub async fn remove_coupon(
    db: &DatabaseConnection,
    key: CartKey,
    ttl: Duration,
) -> Result<CartView, CartError> {
    let cart = find_open(db, key).await?;
    let mut cart: carts::ActiveModel = cart.into();
    cart.coupon_id = Set(None);
    let cart = cart.update(db).await?;
    touch(db, cart, ttl).await
}

async fn change(
    db: &DatabaseConnection,
    key: CartKey,
    item_id: Uuid,
    quantity: i64,
    replace: bool,
    ttl: Duration,
) -> Result<CartView, CartError> {
    // One statement adds to the line or creates it, if the cart is open, the item is on sale
    // (active, not deleted, its listing published), the stock covers the new quantity, and the
    // line stays within MAX_QUANTITY and MAX_LINE_TOTAL and the cart within MAX_LINES:
    // concurrent adds lose nothing, and no lock is held beyond the statement. The price is the
    // item's price when the line was first made.
    let backend = db.get_database_backend();
    let p = |n: usize| crate::sql::placeholder(backend, n);
    let available = stock::available_sql(&p(2));
    let new_quantity = if replace {
        "excluded.quantity"
    } else {
        "cart_lines.quantity + excluded.quantity"
    };
    let sql = format!(
        "INSERT INTO cart_lines (cart_id, item_id, quantity, unit_price, added_at) \
         SELECT {cart}, i.id, {qty}, i.price, {now} FROM items i \
         WHERE i.id = {item} AND i.tenant_id = {tenant} AND i.active = TRUE \
           AND i.deleted_at IS NULL AND {qty} <= {available} \
           AND {qty} * i.price <= {MAX_LINE_TOTAL} \
           AND ((SELECT COUNT(*) FROM cart_lines n WHERE n.cart_id = {cart}) < {MAX_LINES} \
             OR EXISTS (SELECT 1 FROM cart_lines e WHERE e.cart_id = {cart} AND e.item_id = i.id)) \
           AND EXISTS (SELECT 1 FROM listings l WHERE l.item_id = i.id AND l.published = TRUE) \
           AND EXISTS (SELECT 1 FROM carts c WHERE c.id = {cart} AND c.tenant_id = {tenant} \
             AND c.status = {open} AND c.expires_at > {now} \
             AND (c.customer_id IS NULL OR c.customer_id = {customer})) \
         ON CONFLICT (cart_id, item_id) DO UPDATE SET quantity = {new_quantity} \
         WHERE {new_quantity} <= {available} AND {new_quantity} <= {MAX_QUANTITY} \
           AND ({new_quantity}) * cart_lines.unit_price <= {MAX_LINE_TOTAL}",
        cart = p(1),
        item = p(2),
        qty = p(3),
        tenant = p(4),
        now = p(5),
        open = p(6),
        customer = p(7),
    );
    let changed = db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [
                key.id.into(),
                item_id.into(),
                quantity.into(),
                key.tenant_id.into(),
                Utc::now().into(),
                Status::Open.to_value().into(),
                key.customer_id.into(),
            ],
        ))
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(why_not_changed(db, key, item_id, quantity, replace).await);
    }
    let cart = find_open(db, key).await?;
    if Utc::now() - cart.updated_at < TOUCH_AT_MOST_EVERY {
        return view(db, cart).await;
    }
    touch(db, cart, ttl).await
}

fn expiry(now: chrono::DateTime<Utc>, ttl: Duration) -> chrono::DateTime<Utc> {
    now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(3))
}

/// Why a line could not change by `quantity` (or to it, when `replace`): no such cart, no such
/// item, a line beyond MAX_QUANTITY, or not enough stock.
async fn why_not_changed(
    db: &DatabaseConnection,
    key: CartKey,
    item_id: Uuid,
    quantity: i64,
    replace: bool,
) -> CartError {
    if let Err(e) = find_open(db, key).await {
        return e;
    }
    let item = items::Entity::find_by_id(item_id)
        .filter(items::Column::Id.in_subquery(on_sale(key.tenant_id)))
        .one(db)
        .await;
    // A draft answers as an unknown id: drafts are not for shoppers to find.
    match item {
        Err(e) => e.into(),
        Ok(None) => CartError::Invalid(vec![FieldProblem::new(
            "itemId",
            "is not a product of this shop",
        )]),
        Ok(Some(item)) => {
            let line = cart_lines::Entity::find_by_id((key.id, item_id))
                .one(db)
                .await;
            let line = match line {
                Err(e) => return e.into(),
                Ok(line) => line,
            };
            let (quantity, price) = match &line {
                Some(line) if !replace => (line.quantity + quantity, line.unit_price),
                Some(line) => (quantity, line.unit_price),
                None => (quantity, item.price),
            };
            let lines = cart_lines::Entity::find()
                .filter(cart_lines::Column::CartId.eq(key.id))
                .count(db)
                .await;
            let too_large =
                |message: String| CartError::Invalid(vec![FieldProblem::new("qty", message)]);
            if quantity > MAX_QUANTITY {
                too_large(format!("would make the line more than {MAX_QUANTITY}"))
            } else if i128::from(quantity) * i128::from(price) > i128::from(MAX_LINE_TOTAL) {
                too_large(format!(
                    "would make the line's total more than {MAX_LINE_TOTAL} minor units"
                ))
            } else if line.is_none() && lines.as_ref().is_ok_and(|n| *n as i64 >= MAX_LINES) {
                CartError::Invalid(vec![FieldProblem::new(
                    "itemId",
                    format!("the cart holds at most {MAX_LINES} lines"),
                )])
            } else {
                insufficient(db, item_id).await
            }
        }
    }
}

async fn insufficient(db: &DatabaseConnection, item_id: Uuid) -> CartError {
    match stock::available(db, item_id).await {
        Err(e) => e.into(),
        Ok(available) => CartError::InsufficientStock {
            available: available.unwrap_or(0),
        },
    }
}

/// Pushes the expiry out and returns the fresh view.
async fn touch<C: ConnectionTrait>(
    db: &C,
    cart: carts::Model,
    ttl: Duration,
) -> Result<CartView, CartError> {
    let now = Utc::now();
    let mut active: carts::ActiveModel = cart.into();
    active.updated_at = Set(now);
    active.expires_at = Set(expiry(now, ttl));
    let cart = active.update(db).await?;
    view(db, cart).await
}

async fn find_open<C: ConnectionTrait>(db: &C, key: CartKey) -> Result<carts::Model, CartError> {
    carts::Entity::find_by_id(key.id)
        .filter(carts::Column::TenantId.eq(key.tenant_id))
        .filter(key.held())
        .filter(carts::Column::Status.eq(Status::Open))
        .filter(carts::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?
        .ok_or(CartError::NotFound("cart"))
}

/// The cart with its lines, coupon and totals.
#[tracing::instrument(skip_all)]
pub async fn view<C: ConnectionTrait>(db: &C, cart: carts::Model) -> Result<CartView, CartError> {
    // The lines with their item, slug and available stock, in one statement.
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT l.item_id, l.quantity, l.unit_price, i.sku, i.name, i.tax_class, \
           COALESCE(li.slug, '') AS slug, {available} AS available \
         FROM cart_lines l JOIN items i ON i.id = l.item_id \
         LEFT JOIN listings li ON li.item_id = l.item_id \
         WHERE l.cart_id = {cart} ORDER BY l.added_at, l.item_id",
        available = stock::available_sql("l.item_id"),
        cart = crate::sql::placeholder(backend, 1)
    );
    let lines: Vec<Line> = db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [cart.id.into()],
        ))
        .await?
        .iter()
        .map(|row| {
            let quantity: i64 = row.try_get("", "quantity")?;
            let unit_price: i64 = row.try_get("", "unit_price")?;
            let available: i64 = row.try_get("", "available")?;
            Ok(Line {
                item_id: row.try_get("", "item_id")?,
                sku: row.try_get("", "sku")?,
                name: row.try_get("", "name")?,
                slug: row.try_get("", "slug")?,
                quantity,
                unit_price,
                line_total: money::times(unit_price, quantity)?,
                available: available.max(0),
                tax_class: row.try_get("", "tax_class")?,
            })
        })
        .collect::<Result<_, CartError>>()?;
    with_lines(db, cart, lines).await
}

/// A cart just made: it has no lines to read.
async fn new_view<C: ConnectionTrait>(db: &C, cart: carts::Model) -> Result<CartView, CartError> {
    with_lines(db, cart, Vec::new()).await
}

/// The cart's view from its lines: its coupon and totals.
async fn with_lines<C: ConnectionTrait>(
    db: &C,
    cart: carts::Model,
    lines: Vec<Line>,
) -> Result<CartView, CartError> {
    let subtotal = money::sum(lines.iter().map(|l| l.line_total))?;

    let mut discount = 0;
    let coupon = match cart.coupon_id {
        None => None,
        Some(coupon_id) => match coupons::Entity::find_by_id(coupon_id).one(db).await? {
            None => None,
            Some(coupon) => {
                let not_applied =
                    coupon_rules::rejection(db, &coupon, subtotal, cart.customer_id, Utc::now())
                        .await?;
                if not_applied.is_none() {
                    discount = coupon_rules::discount(&coupon, subtotal)?;
                }
                Some(AppliedCoupon {
                    code: coupon.code,
                    not_applied,
                })
            }
        },
    };

    let shop = tax::shop_tax(db, cart.tenant_id, None)
        .await?
        .ok_or(CartError::NotFound("shop"))?;
    let taxable: Vec<tax::Taxable> = lines
        .iter()
        .map(|l| tax::Taxable {
            total: l.line_total,
            class: &l.tax_class,
        })
        .collect();
    let home = tax::Destination {
        country: &shop.country,
        region: None,
    };
    let computed = tax::totals(
        &shop.rules,
        home,
        shop.prices_include_tax,
        &taxable,
        discount,
        0,
    )?;
    Ok(CartView {
        totals: Totals {
            subtotal: computed.subtotal,
            discount: computed.discount,
            tax: computed.tax,
            total: computed.total,
        },
        cart,
        lines,
        coupon,
    })
}

/// The customer's newest open cart, if any.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn customer_cart<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    customer_id: Uuid,
) -> Result<Option<Uuid>, sea_orm::DbErr> {
    Ok(carts::Entity::find()
        .filter(carts::Column::TenantId.eq(tenant_id))
        .filter(carts::Column::CustomerId.eq(customer_id))
        .filter(carts::Column::Status.eq(Status::Open))
        .filter(carts::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(carts::Column::UpdatedAt)
        .one(db)
        .await?
        .map(|c| c.id))
}

/// On login or registration: the anonymous cart `anonymous_id` joins the customer's cart, or a
/// new one made for them, never becoming theirs itself, so whoever knew its id (it was made
/// before login, perhaps handed over by someone else) holds no key to the customer's cart. Its
/// lines of products still on sale join (quantities summed, capped by stock), its coupon too if
/// it still applies, and it is closed as merged, all in one transaction. Returns the
/// customer's cart; a missing, expired or someone else's anonymous cart is ignored.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn merge_into_customer(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    anonymous_id: Uuid,
    customer: &cartwheel_entity::customers::Model,
) -> Result<Uuid, CartError> {
    let txn = crate::transaction::begin(db).await?;
    let key = CartKey {
        tenant_id,
        id: anonymous_id,
        customer_id: Some(customer.id),
    };
    let anonymous = match find_open(&txn, key).await {
        Ok(cart) if cart.customer_id.is_none() => Some(cart),
        Ok(_) | Err(CartError::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let target_id = match customer_cart(&txn, tenant_id, customer.id).await? {
        Some(id) => id,
        None => {
            insert(&txn, tenant_id, Some(customer), None, DEFAULT_TTL)
                .await?
                .id
        }
    };
    let Some(anonymous) = anonymous else {
        txn.commit().await?;
        return Ok(target_id);
    };
    let theirs = cart_lines::Entity::find()
        .filter(cart_lines::Column::CartId.eq(anonymous.id))
        .filter(cart_lines::Column::ItemId.in_subquery(on_sale(tenant_id)))
        .all(&txn)
        .await?;
    let ours: HashMap<Uuid, cart_lines::Model> = cart_lines::Entity::find()
        .filter(cart_lines::Column::CartId.eq(target_id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|l| (l.item_id, l))
        .collect();
    let ids: Vec<Uuid> = theirs.iter().map(|l| l.item_id).collect();
    let stock = stock::totals(&txn, &ids).await?;
    // The merged cart keeps to the bounds a cart change keeps to.
    let mut lines = ours.len();
    let most_of = |unit_price: i64| MAX_QUANTITY.min(MAX_LINE_TOTAL / unit_price.max(1));
    for line in theirs {
        let available = stock
            .get(&line.item_id)
            .copied()
            .unwrap_or_default()
            .available();
        match ours.get(&line.item_id) {
            Some(existing) => {
                let quantity = Ord::max(
                    (existing.quantity + line.quantity)
                        .min(available)
                        .min(most_of(existing.unit_price)),
                    existing.quantity,
                );
                let mut merged: cart_lines::ActiveModel = existing.clone().into();
                merged.quantity = Set(quantity);
                merged.update(&txn).await?;
            }
            None => {
                let quantity = line.quantity.min(available).min(most_of(line.unit_price));
                if quantity > 0 && (lines as i64) < MAX_LINES {
                    lines += 1;
                    cart_lines::ActiveModel {
                        cart_id: Set(target_id),
                        item_id: Set(line.item_id),
                        quantity: Set(quantity),
                        unit_price: Set(line.unit_price),
                        added_at: Set(line.added_at),
                    }
                    .insert(&txn)
                    .await?;
                }
            }
        }
    }
    let mut merged_away: carts::ActiveModel = anonymous.clone().into();
    merged_away.status = Set(Status::Merged);
    merged_away.update(&txn).await?;

    let target = by_id(&txn, target_id).await?;
    if let Some(coupon_id) = anonymous.coupon_id
        && let Some(coupon) = coupons::Entity::find_by_id(coupon_id).one(&txn).await?
    {
        let subtotal = view(&txn, target.clone()).await?.totals.subtotal;
        if coupon_rules::rejection(&txn, &coupon, subtotal, Some(customer.id), Utc::now())
            .await?
            .is_none()
        {
            let mut cart: carts::ActiveModel = target.into();
            cart.coupon_id = Set(Some(coupon.id));
            cart.update(&txn).await?;
        }
    }
    txn.commit().await?;
    Ok(target_id)
}

/// The ids of the tenant's items a shopper can put in a cart: active, not deleted, listed
/// (as the statement in `change` has it).
fn on_sale(tenant_id: TenantId) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::{QuerySelect, QueryTrait};
    items::Entity::find()
        .select_only()
        .column(items::Column::Id)
        .filter(items::Column::TenantId.eq(tenant_id))
        .filter(items::Column::Active.eq(true))
        .filter(items::Column::DeletedAt.is_null())
        .filter(
            items::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(listings::Column::ItemId)
                    .from(listings::Entity)
                    .and_where(listings::Column::Published.eq(true))
                    .to_owned(),
            ),
        )
        .into_query()
}
