//! Checkout: a cart's lines snapshotted (`start`), contact, addresses and a shipping method
//! (`update`), the totals they make (tax by the shipping address, `crate::tax`), and
//! `confirm::confirm`, which reserves the stock and places the order.

pub mod confirm;
pub mod reserve;

use std::time::Duration;

use cartwheel_entity::{
    TenantId, addresses, checkout_lines, checkouts, coupons, shipping_methods, shipping_zones,
};
use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TryIntoModel,
};
use uuid::Uuid;

use crate::carts::{self, CartError, CartKey};
use crate::coupons as coupon_rules;
use crate::postal::{self, Address, Fields};
use crate::shipping;
use crate::tax;
use crate::validation::FieldProblem;

pub use cartwheel_entity::checkouts::Status;

/// How long a checkout stays open after its last change; past it, it reads as abandoned.
pub const TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("invalid input")]
    Invalid(Vec<FieldProblem>),
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The checkout's state forbids it (completed, abandoned, a product no longer for sale, a
    /// coupon that no longer applies): the message says which; `field` names what to change.
    #[error("{message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// Not enough stock for some lines: each item short, with what is available.
    #[error("not enough stock")]
    Shortfall(Vec<Short>),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Enqueue(#[from] cartwheel_jobs::EnqueueError),
    /// A card payment's call to Stripe failed (or the shop's keys cannot be opened).
    #[error(transparent)]
    Provider(#[from] crate::payments::stripe::CallError),
}

/// An item a confirm wanted more of than there is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Short {
    pub item_id: Uuid,
    pub sku: String,
    pub requested: i64,
    pub available: i64,
}

impl From<crate::money::Overflow> for CheckoutError {
    fn from(overflow: crate::money::Overflow) -> Self {
        CheckoutError::Invalid(vec![FieldProblem::new(
            "cartId",
            format!("the order's total is too large: {overflow}"),
        )])
    }
}

impl From<CartError> for CheckoutError {
    fn from(e: CartError) -> Self {
        match e {
            CartError::Invalid(p) => CheckoutError::Invalid(p),
            CartError::NotFound(what) => CheckoutError::NotFound(what),
            CartError::InsufficientStock { available } => CheckoutError::Conflict {
                field: "cartId",
                message: format!("Only {available} available."),
            },
            CartError::CouponRejected(reason) => CheckoutError::Conflict {
                field: "coupon",
                message: reason,
            },
            CartError::Database(e) => CheckoutError::Database(e),
            CartError::Enqueue(e) => CheckoutError::Enqueue(e),
        }
    }
}

impl From<crate::catalog::CatalogError> for CheckoutError {
    fn from(e: crate::catalog::CatalogError) -> Self {
        CheckoutError::from(CartError::from(e))
    }
}

/// Which checkout, asked for by whom: as a cart, a guest's answers to whoever holds its random
/// id, a customer's only with that customer's token.
#[derive(Clone, Copy, Debug)]
pub struct CheckoutKey {
    pub tenant_id: TenantId,
    pub id: Uuid,
    /// The signed-in customer making the request, if any.
    pub customer_id: Option<Uuid>,
}

impl CheckoutKey {
    pub(crate) fn held(&self) -> sea_orm::Condition {
        let anyone = sea_orm::Condition::any().add(checkouts::Column::CustomerId.is_null());
        match self.customer_id {
            Some(customer) => anyone.add(checkouts::Column::CustomerId.eq(customer)),
            None => anyone,
        }
    }
}

/// What a shopper sees of a checkout's status: an open one past its expiry is abandoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Pending,
    PaymentPending,
    PaymentFailed,
    Completed,
    Abandoned,
}

pub fn shown(checkout: &checkouts::Model) -> Shown {
    match checkout.status {
        Status::Completed => Shown::Completed,
        Status::PaymentPending => Shown::PaymentPending,
        _ if checkout.expires_at <= Utc::now() => Shown::Abandoned,
        Status::Pending => Shown::Pending,
        Status::PaymentFailed => Shown::PaymentFailed,
    }
}

pub struct CheckoutView {
    pub checkout: checkouts::Model,
    pub status: Shown,
    pub lines: Vec<checkout_lines::Model>,
    pub shipping_address: Option<Address>,
    /// `None` with `billing_same_as_shipping`.
    pub billing_address: Option<Address>,
    pub shipping_method: Option<shipping_methods::Model>,
    pub coupon: Option<carts::AppliedCoupon>,
    /// The order the checkout placed, once completed.
    pub order_id: Option<Uuid>,
}

impl CheckoutView {
    pub fn billing_same_as_shipping(&self) -> bool {
        self.checkout.billing_address.is_none()
    }
}

/// Starts the checkout of a cart, or refreshes the cart's open checkout with its current lines
/// and coupon (contact, addresses and shipping method stay): one checkout per cart.
#[tracing::instrument(skip_all, fields(tenant = %cart.tenant_id))]
pub async fn start(db: &DatabaseConnection, cart: CartKey) -> Result<CheckoutView, CheckoutError> {
    let view = carts::get(db, cart).await?;
    if view.lines.is_empty() {
        return Err(CheckoutError::Invalid(vec![FieldProblem::new(
            "cartId",
            "the cart is empty",
        )]));
    }
    let shop = tax::shop_tax(db, cart.tenant_id, None)
        .await?
        .ok_or(CheckoutError::NotFound("shop"))?;
    let applied_coupon = match &view.coupon {
        Some(c) if c.not_applied.is_none() => view.cart.coupon_id,
        _ => None,
    };
    let now = Utc::now();
    let draft = checkouts::Model {
        // Random, not time-ordered: the id is a guest's only key to the checkout.
        id: Uuid::new_v4(),
        tenant_id: cart.tenant_id,
        cart_id: view.cart.id,
        customer_id: view.cart.customer_id,
        status: Status::Pending,
        email: view.cart.email.clone(),
        phone: None,
        shipping_address: None,
        billing_address: None,
        shipping_method_id: None,
        coupon_id: applied_coupon,
        currency: shop.currency,
        subtotal: 0,
        discount: 0,
        shipping: 0,
        tax: 0,
        total: 0,
        created_at: now,
        updated_at: now,
        expires_at: now,
    };
    let txn = crate::transaction::begin(db).await?;
    let inserted =
        checkouts::Entity::insert(checkouts::ActiveModel::from(draft.clone()).reset_all())
            .on_conflict(
                OnConflict::column(checkouts::Column::CartId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    // A new checkout is the draft, and has no lines yet; the cart's earlier one is locked and
    // refreshed.
    let checkout = if inserted == 1 {
        draft
    } else {
        let checkout = checkouts::Entity::find()
            .filter(checkouts::Column::CartId.eq(view.cart.id))
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(CheckoutError::NotFound("checkout"))?;
        // An expired checkout starts over; a completed or paying one is not the cart's to change.
        if matches!(checkout.status, Status::PaymentPending | Status::Completed) {
            open_for_changes(&checkout)?;
        }
        checkout_lines::Entity::delete_many()
            .filter(checkout_lines::Column::CheckoutId.eq(checkout.id))
            .exec(&txn)
            .await?;
        checkout
    };
    let lines: Vec<checkout_lines::Model> = view
        .lines
        .iter()
        .enumerate()
        .map(|(position, l)| checkout_lines::Model {
            checkout_id: checkout.id,
            position: position as i32,
            item_id: l.item_id,
            sku: l.sku.clone(),
            name: l.name.clone(),
            tax_class: l.tax_class.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price,
        })
        .collect();
    checkout_lines::Entity::insert_many(lines.iter().map(|l| checkout_lines::ActiveModel {
        checkout_id: Set(l.checkout_id),
        position: Set(l.position),
        item_id: Set(l.item_id),
        sku: Set(l.sku.clone()),
        name: Set(l.name.clone()),
        tax_class: Set(l.tax_class.clone()),
        quantity: Set(l.quantity),
        unit_price: Set(l.unit_price),
    }))
    .exec_without_returning(&txn)
    .await?;
    let mut active: checkouts::ActiveModel = checkout.clone().into();
    active.status = Set(Status::Pending);
    active.coupon_id = Set(applied_coupon);
    if checkout.customer_id.is_none() {
        active.customer_id = Set(view.cart.customer_id);
    }
    if checkout.email.is_none() {
        active.email = Set(view.cart.email.clone());
    }
    let view = store(&txn, active, lines).await?;
    txn.commit().await?;
    Ok(view)
}

/// The checkout with its lines, addresses, shipping method and coupon.
#[tracing::instrument(skip_all, fields(tenant = %key.tenant_id))]
pub async fn get<C: ConnectionTrait>(
    db: &C,
    key: CheckoutKey,
) -> Result<CheckoutView, CheckoutError> {
    let checkout = find(db, key).await?;
    load(db, checkout).await
}

/// What a `PUT …/checkout/{id}` changes; a field left `None` stays as it is.
#[derive(Default)]
pub struct Changes {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub shipping_address: Option<Address>,
    /// One of the signed-in customer's saved addresses, as the shipping address.
    pub shipping_address_id: Option<Uuid>,
    /// `Some(true)`: bill to the shipping address; `Some(false)` needs `billing_address`.
    pub billing_same_as_shipping: Option<bool>,
    pub billing_address: Option<Address>,
    /// One of the signed-in customer's saved addresses, as the billing address.
    pub billing_address_id: Option<Uuid>,
    pub shipping_method_id: Option<Uuid>,
}

/// Changes contact, addresses or shipping method and recomputes the totals. A customer's token
/// attaches a guest checkout to the customer (their email unless one was given). A shipping
/// method must ship to the address; a new address that the chosen method does not ship to
/// clears the method.
#[tracing::instrument(skip_all, fields(tenant = %key.tenant_id))]
pub async fn update(
    db: &DatabaseConnection,
    key: CheckoutKey,
    changes: Changes,
) -> Result<CheckoutView, CheckoutError> {
    let mut problems = Vec::new();
    let email = match changes
        .email
        .as_deref()
        .map(|e| crate::validation::check_email("email", e))
    {
        Some(Ok(email)) => Some(email),
        Some(Err(p)) => {
            problems.push(p);
            None
        }
        None => None,
    };
    let phone = changes.phone.map(|p| p.trim().to_string());
    if let Some(phone) = &phone
        && let Err(p) = crate::validation::check_length("phone", phone, 32)
    {
        problems.push(p);
    }
    let saved = |id: Option<Uuid>, field: &'static str| async move {
        let Some(id) = id else { return Ok(None) };
        let Some(customer) = key.customer_id else {
            return Err(CheckoutError::Invalid(vec![FieldProblem::new(
                field,
                "a saved address needs the customer's token",
            )]));
        };
        let address = addresses::Entity::find_by_id(id)
            .filter(addresses::Column::CustomerId.eq(customer))
            .filter(addresses::Column::TenantId.eq(key.tenant_id))
            .one(db)
            .await?
            .ok_or_else(|| {
                CheckoutError::Invalid(vec![FieldProblem::new(
                    field,
                    "is not one of your addresses",
                )])
            })?;
        Ok(Some(from_saved(address)))
    };
    let mut shipping_address = changes.shipping_address;
    if let Some(address) = saved(changes.shipping_address_id, "shippingAddressId").await? {
        shipping_address = Some(address);
    }
    let mut billing_address = changes.billing_address;
    if let Some(address) = saved(changes.billing_address_id, "billingAddressId").await? {
        billing_address = Some(address);
    }
    let shipping_address = match shipping_address.map(|a| postal::check(a, &Fields::SHIPPING)) {
        Some(Ok(a)) => Some(a),
        Some(Err(p)) => {
            problems.extend(p);
            None
        }
        None => None,
    };
    let billing_address = match billing_address.map(|a| postal::check(a, &Fields::BILLING)) {
        Some(Ok(a)) => Some(a),
        Some(Err(p)) => {
            problems.extend(p);
            None
        }
        None => None,
    };
    if changes.billing_same_as_shipping == Some(false)
        && billing_address.is_none()
        && problems.is_empty()
    {
        problems.push(FieldProblem::new(
            "billingAddress",
            "is required when billingSameAsShipping is false",
        ));
    }
    if !problems.is_empty() {
        return Err(CheckoutError::Invalid(problems));
    }

    let txn = crate::transaction::begin(db).await?;
    let checkout = checkouts::Entity::find_by_id(key.id)
        .filter(checkouts::Column::TenantId.eq(key.tenant_id))
        .filter(key.held())
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(CheckoutError::NotFound("checkout"))?;
    open_for_changes(&checkout)?;
    let mut active: checkouts::ActiveModel = checkout.clone().into();
    if let Some(customer) = key.customer_id
        && checkout.customer_id.is_none()
    {
        active.customer_id = Set(Some(customer));
        if email.is_none() && checkout.email.is_none() {
            let customer = cartwheel_entity::customers::Entity::find_by_id(customer)
                .one(&txn)
                .await?;
            active.email = Set(customer.map(|c| c.email));
        }
    }
    if let Some(email) = email {
        active.email = Set(Some(email));
    }
    if let Some(phone) = phone {
        active.phone = Set(Some(phone));
    }
    let country_changed = shipping_address.as_ref().map(|a| a.country.clone())
        != address_of(checkout.shipping_address.as_ref()).map(|a| a.country);
    if let Some(address) = &shipping_address {
        active.shipping_address = Set(Some(to_json(address)));
    }
    match (changes.billing_same_as_shipping, billing_address) {
        (Some(true), _) => active.billing_address = Set(None),
        (_, Some(address)) => active.billing_address = Set(Some(to_json(&address))),
        (_, None) => {}
    }
    let mut method_id = checkout.shipping_method_id;
    if shipping_address.is_some() && country_changed {
        method_id = None;
    }
    if let Some(wanted) = changes.shipping_method_id {
        method_id = Some(wanted);
    }
    active.shipping_method_id = Set(method_id);
    if let Some(wanted) = changes.shipping_method_id {
        check_method(&txn, &active.clone().try_into_model()?, wanted).await?;
    }
    let lines = lines_of(&txn, checkout.id).await?;
    let view = store(&txn, active, lines).await?;
    txn.commit().await?;
    Ok(view)
}

/// The shipping methods that ship the checkout to its address, each with its price for this
/// checkout, cheapest first.
#[tracing::instrument(skip_all, fields(tenant = %key.tenant_id))]
pub async fn shipping_options(
    db: &DatabaseConnection,
    key: CheckoutKey,
) -> Result<Vec<(shipping_methods::Model, i64)>, CheckoutError> {
    let checkout = find(db, key).await?;
    let Some(address) = address_of(checkout.shipping_address.as_ref()) else {
        return Err(CheckoutError::Conflict {
            field: "shippingAddress",
            message: "Set the shipping address first: the methods depend on it.".into(),
        });
    };
    let goods = checkout.subtotal - checkout.discount;
    let methods = shipping::for_destination(db, key.tenant_id, &address.country, goods).await?;
    Ok(methods
        .into_iter()
        .map(|m| {
            let price = shipping::price(&m, goods);
            (m, price)
        })
        .collect())
}

/// The checkout the key reaches, if any.
async fn find<C: ConnectionTrait>(
    db: &C,
    key: CheckoutKey,
) -> Result<checkouts::Model, CheckoutError> {
    checkouts::Entity::find_by_id(key.id)
        .filter(checkouts::Column::TenantId.eq(key.tenant_id))
        .filter(key.held())
        .one(db)
        .await?
        .ok_or(CheckoutError::NotFound("checkout"))
}

/// A checkout takes changes while open: not completed, not waiting for a payment, not expired.
pub(crate) fn open_for_changes(checkout: &checkouts::Model) -> Result<(), CheckoutError> {
    let message = match shown(checkout) {
        Shown::Pending | Shown::PaymentFailed => return Ok(()),
        Shown::Completed => "This checkout is completed: its order is placed.",
        Shown::PaymentPending => "This checkout is waiting for its payment.",
        Shown::Abandoned => "This checkout expired; check the cart out again.",
    };
    Err(CheckoutError::Conflict {
        field: "id",
        message: message.into(),
    })
}

/// The method must exist and ship to the checkout's address (which must be set) for its goods.
async fn check_method<C: ConnectionTrait>(
    db: &C,
    checkout: &checkouts::Model,
    method_id: Uuid,
) -> Result<(), CheckoutError> {
    let Some(address) = address_of(checkout.shipping_address.as_ref()) else {
        return Err(CheckoutError::Invalid(vec![FieldProblem::new(
            "shippingMethodId",
            "set the shipping address first",
        )]));
    };
    let goods = checkout.subtotal - checkout.discount;
    let ships = shipping::for_destination(db, checkout.tenant_id, &address.country, goods)
        .await?
        .iter()
        .any(|m| m.id == method_id);
    if ships {
        Ok(())
    } else {
        Err(CheckoutError::Invalid(vec![FieldProblem::new(
            "shippingMethodId",
            format!(
                "is not a shipping method of this shop to {}",
                address.country
            ),
        )]))
    }
}

/// What the checkout's lines, coupon, address and method come to, and the pieces of it: the
/// one computation of a checkout's (and its order's) totals.
pub(crate) struct Priced {
    pub totals: tax::Totals,
    pub prices_include_tax: bool,
    pub coupon: Option<coupons::Model>,
    pub method: Option<shipping_methods::Model>,
}

pub(crate) async fn price<C: ConnectionTrait>(
    db: &C,
    checkout: &checkouts::Model,
    lines: &[checkout_lines::Model],
) -> Result<Priced, CheckoutError> {
    let address = address_of(checkout.shipping_address.as_ref());
    let shop = tax::shop_tax(
        db,
        checkout.tenant_id,
        address.as_ref().map(|a| a.country.as_str()),
    )
    .await?
    .ok_or(CheckoutError::NotFound("shop"))?;
    let line_totals = lines
        .iter()
        .map(|l| crate::money::times(l.unit_price, l.quantity))
        .collect::<Result<Vec<_>, _>>()?;
    let subtotal = crate::money::sum(line_totals.iter().copied())?;
    let mut coupon = None;
    let mut discount = 0;
    if let Some(id) = checkout.coupon_id
        && let Some(found) = coupons::Entity::find_by_id(id).one(db).await?
    {
        if coupon_rules::rejection(db, &found, subtotal, checkout.customer_id, Utc::now())
            .await?
            .is_none()
        {
            discount = coupon_rules::discount(&found, subtotal)?;
        }
        coupon = Some(found);
    }
    let goods = subtotal - discount;
    let method = match checkout.shipping_method_id {
        Some(id) => shipping_methods::Entity::find_by_id(id)
            .filter(shipping_methods::Column::TenantId.eq(checkout.tenant_id))
            .one(db)
            .await?
            .filter(|m| shipping::applies(m, goods)),
        None => None,
    };
    let shipping_price = method.as_ref().map_or(0, |m| shipping::price(m, goods));
    let taxable: Vec<tax::Taxable> = lines
        .iter()
        .zip(&line_totals)
        .map(|(l, total)| tax::Taxable {
            total: *total,
            class: &l.tax_class,
        })
        .collect();
    let destination = tax::Destination {
        country: &shop.country,
        region: address
            .as_ref()
            .map(|a| a.region.as_str())
            .filter(|r| !r.is_empty()),
    };
    let totals = tax::totals(
        &shop.rules,
        destination,
        shop.prices_include_tax,
        &taxable,
        discount,
        shipping_price,
    )?;
    Ok(Priced {
        totals,
        prices_include_tax: shop.prices_include_tax,
        coupon,
        method,
    })
}

/// Prices the checkout as `active` leaves it, with `lines`, and stores it with its totals and a
/// fresh expiry: the one place a checkout's totals are written. Answers its view.
async fn store<C: ConnectionTrait>(
    db: &C,
    mut active: checkouts::ActiveModel,
    lines: Vec<checkout_lines::Model>,
) -> Result<CheckoutView, CheckoutError> {
    let priced = price(db, &active.clone().try_into_model()?, &lines).await?;
    active.subtotal = Set(priced.totals.subtotal);
    active.discount = Set(priced.totals.discount);
    active.shipping = Set(priced.totals.shipping);
    active.tax = Set(priced.totals.tax);
    active.total = Set(priced.totals.total);
    active.shipping_method_id = Set(priced.method.as_ref().map(|m| m.id));
    let now = Utc::now();
    active.updated_at = Set(now);
    active.expires_at = Set(now + chrono::Duration::from_std(TTL).unwrap_or_default());
    let checkout = active.update(db).await?;
    view_of(db, checkout, lines, priced.method).await
}

pub(crate) async fn lines_of<C: ConnectionTrait>(
    db: &C,
    checkout_id: Uuid,
) -> Result<Vec<checkout_lines::Model>, sea_orm::DbErr> {
    checkout_lines::Entity::find()
        .filter(checkout_lines::Column::CheckoutId.eq(checkout_id))
        .order_by_asc(checkout_lines::Column::Position)
        .all(db)
        .await
}

async fn load<C: ConnectionTrait>(
    db: &C,
    checkout: checkouts::Model,
) -> Result<CheckoutView, CheckoutError> {
    let lines = lines_of(db, checkout.id).await?;
    let shipping_method = match checkout.shipping_method_id {
        Some(id) => shipping_methods::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    view_of(db, checkout, lines, shipping_method).await
}

/// The view of a checkout whose lines and shipping method are at hand.
async fn view_of<C: ConnectionTrait>(
    db: &C,
    checkout: checkouts::Model,
    lines: Vec<checkout_lines::Model>,
    shipping_method: Option<shipping_methods::Model>,
) -> Result<CheckoutView, CheckoutError> {
    let coupon = match checkout.coupon_id {
        Some(id) => match coupons::Entity::find_by_id(id).one(db).await? {
            Some(c) => {
                let not_applied = coupon_rules::rejection(
                    db,
                    &c,
                    checkout.subtotal,
                    checkout.customer_id,
                    Utc::now(),
                )
                .await?;
                Some(carts::AppliedCoupon {
                    code: c.code,
                    not_applied,
                })
            }
            None => None,
        },
        None => None,
    };
    let order_id = match checkout.status {
        Status::Completed => {
            cartwheel_entity::orders::Entity::find()
                .select_only()
                .column(cartwheel_entity::orders::Column::Id)
                .filter(cartwheel_entity::orders::Column::CheckoutId.eq(checkout.id))
                .into_tuple::<Uuid>()
                .one(db)
                .await?
        }
        _ => None,
    };
    Ok(CheckoutView {
        status: shown(&checkout),
        shipping_address: address_of(checkout.shipping_address.as_ref()),
        billing_address: address_of(checkout.billing_address.as_ref()),
        lines,
        shipping_method,
        coupon,
        order_id,
        checkout,
    })
}

/// Whether the shop ships anywhere: a shop with no zones sells without shipping (pickup,
/// digital goods), one with zones needs a method for the address.
pub(crate) async fn ships_anywhere<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
) -> Result<bool, sea_orm::DbErr> {
    Ok(shipping_zones::Entity::find()
        .filter(shipping_zones::Column::TenantId.eq(tenant_id))
        .count(db)
        .await?
        > 0)
}

pub(crate) fn address_of(json: Option<&serde_json::Value>) -> Option<Address> {
    json.and_then(|j| serde_json::from_value(j.clone()).ok())
}

pub(crate) fn to_json(address: &Address) -> serde_json::Value {
    serde_json::to_value(address).unwrap_or_default()
}

fn from_saved(a: addresses::Model) -> Address {
    Address {
        name: a.name,
        line1: a.line1,
        line2: a.line2,
        city: a.city,
        region: a.region,
        postal_code: a.postal_code,
        country: a.country,
        phone: a.phone,
    }
}
