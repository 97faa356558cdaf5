//! Confirming a checkout: one transaction re-checks the lines, posts the order's documents,
//! closes the cart and enqueues the confirmation mail, and last counts the coupon's use,
//! reserves the stock, takes the shop's next order number and inserts the order: the rows every
//! confirm of a shop contends for are held only for those last statements and the commit. The
//! checkout's row lock serialises confirms of one checkout, and the unique order per checkout
//! holds even if that were bypassed: a confirm repeated, concurrently or later, with or without
//! the same `Idempotency-Key`, answers with the one order.

use std::collections::HashMap;
use std::time::Duration;

use cartwheel_entity::{
    TenantId, carts, checkout_lines, checkouts, coupon_redemptions, coupons, items, listings,
    order_lines, orders,
};
use cartwheel_jobs::NewJob;
use cartwheel_jobs::families::order_confirmation::{OrderMail, SendOrderMail};
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set, Statement,
};
use uuid::Uuid;

use super::reserve::{self, Wanted};
use super::{CheckoutError, CheckoutKey, Status};
use crate::ledger;
use crate::validation::FieldProblem;

pub use cartwheel_entity::orders::PaymentMethod;

/// What a confirm asks for.
pub struct Confirm {
    pub method: PaymentMethod,
    /// The request's `Idempotency-Key`, if it sent one.
    pub idempotency_key: Option<String>,
    /// How long a manual order may stay unpaid before it is cancelled and its stock released.
    pub payment_window: Duration,
}

/// The order a confirm placed, and the token a guest reads it with (only when just placed: the
/// order keeps its hash). `again` is true when an earlier confirm had placed it.
pub struct Placed {
    pub order: orders::Model,
    pub token: Option<String>,
    pub again: bool,
}

#[tracing::instrument(skip_all, fields(tenant = %key.tenant_id))]
pub async fn confirm(
    db: &DatabaseConnection,
    key: CheckoutKey,
    confirm: Confirm,
) -> Result<Placed, CheckoutError> {
    let txn = crate::transaction::begin(db).await?;
    if let Some(idempotency_key) = &confirm.idempotency_key
        && let Some(order) = orders::Entity::find()
            .filter(orders::Column::TenantId.eq(key.tenant_id))
            .filter(orders::Column::IdempotencyKey.eq(idempotency_key.as_str()))
            .one(&txn)
            .await?
    {
        txn.commit().await?;
        if order.checkout_id != key.id {
            return Err(reused_key());
        }
        return Ok(Placed {
            order,
            token: None,
            again: true,
        });
    }
    let checkout = checkouts::Entity::find_by_id(key.id)
        .filter(checkouts::Column::TenantId.eq(key.tenant_id))
        .filter(key.held())
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(CheckoutError::NotFound("checkout"))?;
    if checkout.status == Status::Completed {
        let order = order_of(&txn, checkout.id).await?;
        txn.commit().await?;
        return Ok(Placed {
            order,
            token: None,
            again: true,
        });
    }
    super::open_for_changes(&checkout)?;
    match place(&txn, checkout, &confirm).await {
        Ok((order, token)) => {
            txn.commit().await.map_err(|e| conflict_or(e, &confirm))?;
            Ok(Placed {
                order,
                token: Some(token),
                again: false,
            })
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

async fn place(
    txn: &DatabaseTransaction,
    checkout: checkouts::Model,
    confirm: &Confirm,
) -> Result<(orders::Model, String), CheckoutError> {
    let checked = check(txn, &checkout, Sale::Checked).await?;
    let due = Utc::now() + chrono::Duration::from_std(confirm.payment_window).unwrap_or_default();
    let (order, token) = draft(
        &checkout,
        &checked,
        confirm.method,
        confirm.idempotency_key.clone(),
        Some(due),
    );
    // First what no other confirm waits for (`record`), then the rows every confirm of the
    // shop contends for, held from here to the commit: the coupon's use count (a code many
    // shoppers share) and the items' stock levels (`hold`), then the order counter (`insert`).
    record(txn, &order, &checkout, &token, &[]).await?;
    hold(txn, &checkout, &checked).await?;
    let order = insert(txn, order, &checked)
        .await
        .map_err(|e| conflict_or(e, confirm))?;
    Ok((order, token))
}

/// Whether the lines' items must still be for sale: when the shopper confirms, yes; when a
/// card payment for them has arrived, the sale was made then.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sale {
    Checked,
    Made,
}

/// What a checkout becomes an order of: its lines, their prices and tax, its address, and each
/// item's cost price (which the order line keeps).
pub(crate) struct Checked {
    lines: Vec<checkout_lines::Model>,
    priced: super::Priced,
    address: crate::postal::Address,
    costs: HashMap<Uuid, i64>,
}

impl Checked {
    pub(crate) fn total(&self) -> i64 {
        self.priced.totals.total
    }
}

/// Checks that the checkout can become an order (contact, address, shipping method, and, with
/// `Sale::Checked`, every item still for sale) and prices it.
pub(crate) async fn check(
    txn: &DatabaseTransaction,
    checkout: &checkouts::Model,
    sale: Sale,
) -> Result<Checked, CheckoutError> {
    let tenant_id = checkout.tenant_id;
    let lines = super::lines_of(txn, checkout.id).await?;
    let address = super::address_of(checkout.shipping_address.as_ref());
    let mut missing = Vec::new();
    if checkout.email.is_none() {
        missing.push(FieldProblem::new("email", "is required to place the order"));
    }
    if address.is_none() {
        missing.push(FieldProblem::new(
            "shippingAddress",
            "is required to place the order",
        ));
    }
    let priced = super::price(txn, checkout, &lines).await?;
    if priced.method.is_none() && super::ships_anywhere(txn, tenant_id).await? {
        missing.push(FieldProblem::new(
            "shippingMethodId",
            "is required to place the order: choose one of the checkout's shipping methods",
        ));
    }
    if !missing.is_empty() {
        return Err(CheckoutError::Invalid(missing));
    }
    let Some(address) = address else {
        unreachable!("checked above")
    };
    let costs = match sale {
        Sale::Checked => check_on_sale(txn, tenant_id, &lines).await?,
        Sale::Made => costs_of(txn, &lines).await?,
    };
    Ok(Checked {
        lines,
        priced,
        address,
        costs,
    })
}

/// The order a checkout makes, numbered 0 (`insert` takes the number), and the token a guest
/// reads it with.
pub(crate) fn draft(
    checkout: &checkouts::Model,
    checked: &Checked,
    method: PaymentMethod,
    idempotency_key: Option<String>,
    payment_due_at: Option<chrono::DateTime<Utc>>,
) -> (orders::Model, String) {
    let now = Utc::now();
    let token = crate::accounts::token::generate();
    let priced = &checked.priced;
    let address = &checked.address;
    let billing = super::address_of(checkout.billing_address.as_ref()).unwrap_or(address.clone());
    let order = orders::Model {
        id: Uuid::now_v7(),
        tenant_id: checkout.tenant_id,
        number: 0,
        checkout_id: checkout.id,
        idempotency_key,
        customer_id: checkout.customer_id,
        email: checkout.email.clone().unwrap_or_default(),
        phone: checkout
            .phone
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| address.phone.clone()),
        status: orders::Status::Pending,
        payment_status: orders::PaymentStatus::Pending,
        payment_method: method,
        currency: checkout.currency.clone(),
        prices_include_tax: priced.prices_include_tax,
        subtotal: priced.totals.subtotal,
        discount: priced.totals.discount,
        shipping: priced.totals.shipping,
        shipping_tax: priced.totals.shipping_tax.tax,
        tax: priced.totals.tax,
        total: priced.totals.total,
        refunded: 0,
        refund_due: 0,
        coupon_code: priced
            .coupon
            .as_ref()
            .filter(|_| priced.totals.discount > 0)
            .map(|c| c.code.clone()),
        shipping_method: priced
            .method
            .as_ref()
            .map_or_else(String::new, |m| m.name.clone()),
        shipping_address: super::to_json(address),
        billing_address: super::to_json(&billing),
        token_hash: crate::accounts::token::hash(&token),
        carrier: None,
        tracking_number: None,
        tracking_url: None,
        placed_at: now,
        updated_at: now,
        payment_due_at,
        paid_at: None,
        shipped_at: None,
        delivered_at: None,
        cancelled_at: None,
    };
    (order, token)
}

/// What placing `order` changes besides the order itself, none of it contended: the sales
/// order and its invoice (the shopper owes the total from now on), the checkout completed, the
/// cart closed (never reminded, never checked out again), the confirmation mail's job, and
/// `more_mails` (a card payment's receipt).
pub(crate) async fn record(
    txn: &DatabaseTransaction,
    order: &orders::Model,
    checkout: &checkouts::Model,
    token: &str,
    more_mails: &[OrderMail],
) -> Result<(), CheckoutError> {
    ledger::post_for_order(txn, order, ledger::Kind::SalesOrder, order.total, vec![]).await?;
    let invoice = ledger::invoice(order);
    ledger::post_for_order(txn, order, ledger::Kind::SalesInvoice, order.total, invoice).await?;
    checkouts::Entity::update_many()
        .col_expr(checkouts::Column::Status, Expr::value(Status::Completed))
        .col_expr(checkouts::Column::UpdatedAt, Expr::value(order.placed_at))
        .filter(checkouts::Column::Id.eq(checkout.id))
        .exec(txn)
        .await?;
    carts::Entity::update_many()
        .col_expr(carts::Column::Status, Expr::value(carts::Status::Ordered))
        .col_expr(carts::Column::SessionHash, Expr::value(None::<String>))
        .filter(carts::Column::Id.eq(checkout.cart_id))
        .exec(txn)
        .await?;
    let mails = std::iter::once((OrderMail::Confirmation, Some(token.to_string())))
        .chain(more_mails.iter().map(|m| (*m, None)));
    for (mail, token) in mails {
        let mail = SendOrderMail {
            tenant_id: order.tenant_id,
            order_id: order.id,
            mail,
            token,
        };
        let key = mail.idempotency_key();
        cartwheel_jobs::enqueue(txn, NewJob::new(mail).idempotency_key(key)).await?;
    }
    Ok(())
}

/// Counts the coupon's use and reserves the stock, for the checkout: the contended rows, held
/// from here to the commit.
pub(crate) async fn hold(
    txn: &DatabaseTransaction,
    checkout: &checkouts::Model,
    checked: &Checked,
) -> Result<(), CheckoutError> {
    if let Some(coupon) = &checked.priced.coupon {
        redeem(txn, checkout, coupon, checked.priced.totals.subtotal).await?;
    }
    reserve_lines(txn, checkout, checked).await
}

/// Reserves the checkout's stock (a shortfall reserves nothing).
pub(crate) async fn reserve_lines(
    txn: &DatabaseTransaction,
    checkout: &checkouts::Model,
    checked: &Checked,
) -> Result<(), CheckoutError> {
    let wanted: Vec<Wanted> = checked
        .lines
        .iter()
        .map(|l| Wanted {
            item_id: l.item_id,
            sku: &l.sku,
            quantity: l.quantity,
        })
        .collect();
    reserve::reserve(txn, checkout.tenant_id, checkout.id, &wanted).await
}

/// Takes the shop's next order number, inserts the order and its lines, and counts it in the
/// dashboard's rollups (more rows every order of the shop updates, so last).
pub(crate) async fn insert(
    txn: &DatabaseTransaction,
    mut order: orders::Model,
    checked: &Checked,
) -> Result<orders::Model, sea_orm::DbErr> {
    order.number = next_number(txn, order.tenant_id).await?;
    let order = orders::ActiveModel::from(order)
        .reset_all()
        .insert(txn)
        .await?;
    let lines: Vec<order_lines::Model> = checked
        .lines
        .iter()
        .zip(&checked.priced.totals.lines)
        .enumerate()
        .map(|(position, (line, tax))| order_lines::Model {
            order_id: order.id,
            position: position as i32,
            item_id: line.item_id,
            sku: line.sku.clone(),
            name: line.name.clone(),
            quantity: line.quantity,
            unit_price: line.unit_price,
            unit_cost: checked
                .costs
                .get(&line.item_id)
                .copied()
                .unwrap_or_default(),
            line_total: line.unit_price * line.quantity,
            discount: line.unit_price * line.quantity - tax.taxable,
            tax_class: line.tax_class.clone(),
            tax_rate: tax.rate as i32,
            tax: tax.tax,
        })
        .collect();
    order_lines::Entity::insert_many(lines.iter().cloned().map(order_lines::ActiveModel::from))
        .exec_without_returning(txn)
        .await?;
    crate::dashboard::rollups::order_changed(txn, None, &order, Some(&lines)).await?;
    Ok(order)
}

/// Each line's item's cost price, whether or not it is still for sale.
async fn costs_of(
    txn: &DatabaseTransaction,
    lines: &[checkout_lines::Model],
) -> Result<HashMap<Uuid, i64>, CheckoutError> {
    let ids: Vec<Uuid> = lines.iter().map(|l| l.item_id).collect();
    Ok(items::Entity::find()
        .select_only()
        .column(items::Column::Id)
        .column(items::Column::CostPrice)
        .filter(items::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, i64)>()
        .all(txn)
        .await?
        .into_iter()
        .collect())
}

/// Every line's item is still for sale (active, not deleted, listed); each one that is not is
/// named. Answers each item's cost price, which the order line keeps.
async fn check_on_sale(
    txn: &DatabaseTransaction,
    tenant_id: TenantId,
    lines: &[checkout_lines::Model],
) -> Result<HashMap<Uuid, i64>, CheckoutError> {
    let ids: Vec<Uuid> = lines.iter().map(|l| l.item_id).collect();
    let on_sale: HashMap<Uuid, i64> = items::Entity::find()
        .select_only()
        .column(items::Column::Id)
        .column(items::Column::CostPrice)
        .filter(items::Column::TenantId.eq(tenant_id))
        .filter(items::Column::Id.is_in(ids))
        .filter(items::Column::Active.eq(true))
        .filter(items::Column::DeletedAt.is_null())
        .filter(
            items::Column::Id.in_subquery(
                Query::select()
                    .column(listings::Column::ItemId)
                    .from(listings::Entity)
                    .and_where(listings::Column::Published.eq(true))
                    .to_owned(),
            ),
        )
        .into_tuple::<(Uuid, i64)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let gone: Vec<&str> = lines
        .iter()
        .filter(|l| !on_sale.contains_key(&l.item_id))
        .map(|l| l.sku.as_str())
        .collect();
    if gone.is_empty() {
        Ok(on_sale)
    } else {
        Err(CheckoutError::Conflict {
            field: "lines",
            message: format!(
                "No longer for sale: {}. Remove them from the cart and check out again.",
                gone.join(", ")
            ),
        })
    }
}

/// Counts the coupon's use for this order: its global limit by one conditional update of the
/// coupon's row (which also holds the row until commit), its per-customer limit by counting
/// the customer's redemptions after that, and the redemption row.
async fn redeem(
    txn: &DatabaseTransaction,
    checkout: &checkouts::Model,
    coupon: &coupons::Model,
    subtotal: i64,
) -> Result<(), CheckoutError> {
    let rejected = |message: String| CheckoutError::Conflict {
        field: "coupon",
        message,
    };
    if let Some(reason) =
        crate::coupons::rejection(txn, coupon, subtotal, checkout.customer_id, Utc::now()).await?
    {
        return Err(rejected(reason));
    }
    let counted = coupons::Entity::update_many()
        .col_expr(
            coupons::Column::UsedCount,
            Expr::col(coupons::Column::UsedCount).add(1),
        )
        .filter(coupons::Column::Id.eq(coupon.id))
        .filter(coupons::Column::Active.eq(true))
        .filter(
            sea_orm::Condition::any()
                .add(coupons::Column::MaxUses.is_null())
                .add(Expr::col(coupons::Column::UsedCount).lt(Expr::col(coupons::Column::MaxUses))),
        )
        .exec(txn)
        .await?
        .rows_affected;
    if counted == 0 {
        return Err(rejected(crate::coupons::NOT_VALID.into()));
    }
    if let (Some(max), Some(customer)) = (coupon.max_uses_per_customer, checkout.customer_id) {
        let used = coupon_redemptions::Entity::find()
            .filter(coupon_redemptions::Column::CouponId.eq(coupon.id))
            .filter(coupon_redemptions::Column::CustomerId.eq(customer))
            .count(txn)
            .await?;
        if used >= max as u64 {
            return Err(rejected("You have already used this code.".into()));
        }
    }
    coupon_redemptions::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(checkout.tenant_id),
        coupon_id: Set(coupon.id),
        customer_id: Set(checkout.customer_id),
        checkout_id: Set(Some(checkout.id)),
        created_at: Set(Utc::now()),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// The shop's next order number, counted in the caller's transaction.
async fn next_number(
    txn: &DatabaseTransaction,
    tenant_id: TenantId,
) -> Result<i64, sea_orm::DbErr> {
    let backend = txn.get_database_backend();
    let p = crate::sql::placeholder(backend, 1);
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO order_numbers (tenant_id, last) VALUES ({p}, 1) \
                 ON CONFLICT (tenant_id) DO UPDATE SET last = order_numbers.last + 1 \
                 RETURNING last"
            ),
            [tenant_id.into()],
        ))
        .await?
        .ok_or_else(|| sea_orm::DbErr::Custom("order number upsert returned no row".into()))?;
    row.try_get("", "last")
}

pub(crate) async fn order_of<C: ConnectionTrait>(
    db: &C,
    checkout_id: Uuid,
) -> Result<orders::Model, CheckoutError> {
    orders::Entity::find()
        .filter(orders::Column::CheckoutId.eq(checkout_id))
        .one(db)
        .await?
        .ok_or(CheckoutError::NotFound("order"))
}

/// A unique violation on the order: its `Idempotency-Key` was taken by a concurrent confirm of
/// another checkout.
fn conflict_or(e: sea_orm::DbErr, confirm: &Confirm) -> CheckoutError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            if confirm.idempotency_key.is_some() =>
        {
            reused_key()
        }
        _ => CheckoutError::Database(e),
    }
}

fn reused_key() -> CheckoutError {
    CheckoutError::Invalid(vec![FieldProblem::new(
        "Idempotency-Key",
        "was used to confirm another checkout; use a new key",
    )])
}
