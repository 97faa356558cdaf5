//! The ledger: business documents and their double-entry lines on the shop's chart of accounts
//! (`defaults::seed::ACCOUNTS`). Every document is posted by [`post`], which refuses a posting
//! that does not balance and posts each document once (unique per shop, kind and source), in
//! the caller's transaction, with the change it documents. Lines are appended, never changed:
//! a cancellation posts a credit note, it does not edit the invoice.

use cartwheel_entity::{TenantId, documents, ledger_accounts, ledger_entries, orders};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
};
use uuid::Uuid;

pub use cartwheel_entity::documents::Kind;

/// The accounts the money path posts to, by their code in the seeded chart.
pub mod accounts {
    pub const BANK: &str = "1120";
    pub const RECEIVABLE: &str = "1130";
    pub const STOCK: &str = "1140";
    /// Card money Stripe holds until its payout.
    pub const STRIPE_CLEARING: &str = "1150";
    pub const SALES_TAX: &str = "2120";
    pub const SALES: &str = "4100";
    pub const SHIPPING_INCOME: &str = "4200";
    pub const COST_OF_GOODS: &str = "5100";
}

/// One line of a posting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub account: &'static str,
    pub debit: i64,
    pub credit: i64,
}

fn debit(account: &'static str, amount: i64) -> Line {
    Line {
        account,
        debit: amount,
        credit: 0,
    }
}

fn credit(account: &'static str, amount: i64) -> Line {
    Line {
        account,
        debit: 0,
        credit: amount,
    }
}

/// The same lines with debit and credit swapped: what reverses them.
fn reversed(lines: Vec<Line>) -> Vec<Line> {
    lines
        .into_iter()
        .map(|l| Line {
            account: l.account,
            debit: l.credit,
            credit: l.debit,
        })
        .collect()
}

/// An order's invoice: the shopper owes the total (Dr Accounts Receivable); the goods after
/// discount and the shipping, each net of the tax inside them when prices include tax, are
/// income (Cr Sales, Cr Shipping Income); the tax is owed to the state (Cr Sales Tax Payable).
pub fn invoice(order: &orders::Model) -> Vec<Line> {
    let goods_tax = order.tax - order.shipping_tax;
    let (goods, shipping) = if order.prices_include_tax {
        (
            order.subtotal - order.discount - goods_tax,
            order.shipping - order.shipping_tax,
        )
    } else {
        (order.subtotal - order.discount, order.shipping)
    };
    vec![
        debit(accounts::RECEIVABLE, order.total),
        credit(accounts::SALES, goods),
        credit(accounts::SHIPPING_INCOME, shipping),
        credit(accounts::SALES_TAX, order.tax),
    ]
}

/// A payment received by bank transfer or cash: Dr Bank, Cr Accounts Receivable.
pub fn payment(amount: i64) -> Vec<Line> {
    vec![
        debit(accounts::BANK, amount),
        credit(accounts::RECEIVABLE, amount),
    ]
}

/// A payment by card through Stripe: Dr Stripe Clearing, Cr Accounts Receivable.
pub fn card_payment(amount: i64) -> Vec<Line> {
    vec![
        debit(accounts::STRIPE_CLEARING, amount),
        credit(accounts::RECEIVABLE, amount),
    ]
}

/// Card money paid back on an order that stands: the sale shrinks by the amount, its tax in
/// the order's proportion (half up), and the money leaves Stripe Clearing: Dr Sales, Dr Sales
/// Tax Payable, Cr Stripe Clearing.
pub fn card_refund(order: &orders::Model, amount: i64) -> Vec<Line> {
    // At most the order's tax (the amount is at most the total), so it never overflows.
    let tax = if order.total > 0 {
        crate::money::share(amount, order.tax, order.total).unwrap_or(order.tax)
    } else {
        0
    };
    vec![
        debit(accounts::SALES, amount - tax),
        debit(accounts::SALES_TAX, tax),
        credit(accounts::STRIPE_CLEARING, amount),
    ]
}

/// Goods leaving stock at their cost: Dr Cost of Goods Sold, Cr Stock Asset.
pub fn shipment(cost: i64) -> Vec<Line> {
    vec![
        debit(accounts::COST_OF_GOODS, cost),
        credit(accounts::STOCK, cost),
    ]
}

/// A cancelled order's credit note: its invoice reversed.
pub fn credit_note(order: &orders::Model) -> Vec<Line> {
    reversed(invoice(order))
}

/// A document to post.
pub struct Document<'a> {
    pub tenant_id: TenantId,
    pub kind: Kind,
    /// What it documents, unique per kind within the shop.
    pub source_key: String,
    pub order_id: Option<Uuid>,
    pub amount: i64,
    pub currency: &'a str,
    pub lines: Vec<Line>,
}

/// Records the document and its lines on `db` (the caller's transaction), unless a document of
/// the same kind and source was posted before: then nothing, and `false`. Lines of zero are
/// left out. A posting that does not balance is an error, never written.
pub async fn post<C: ConnectionTrait>(db: &C, document: Document<'_>) -> Result<bool, DbErr> {
    let debits: i64 = document.lines.iter().map(|l| l.debit).sum();
    let credits: i64 = document.lines.iter().map(|l| l.credit).sum();
    if debits != credits {
        return Err(DbErr::Custom(format!(
            "a {:?} posting does not balance: debits {debits}, credits {credits}",
            document.kind
        )));
    }
    let id = Uuid::now_v7();
    let now = Utc::now();
    let inserted = documents::Entity::insert(documents::ActiveModel {
        id: Set(id),
        tenant_id: Set(document.tenant_id),
        kind: Set(document.kind),
        source_key: Set(document.source_key),
        order_id: Set(document.order_id),
        amount: Set(document.amount),
        currency: Set(document.currency.to_string()),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            documents::Column::TenantId,
            documents::Column::Kind,
            documents::Column::SourceKey,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if inserted == 0 {
        return Ok(false);
    }
    let lines: Vec<ledger_entries::ActiveModel> = document
        .lines
        .into_iter()
        .filter(|l| l.debit != 0 || l.credit != 0)
        .map(|l| ledger_entries::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(document.tenant_id),
            document_id: Set(id),
            account_code: Set(l.account.to_string()),
            debit: Set(l.debit),
            credit: Set(l.credit),
            posted_at: Set(now),
        })
        .collect();
    if !lines.is_empty() {
        ledger_entries::Entity::insert_many(lines)
            .exec_without_returning(db)
            .await?;
    }
    Ok(true)
}

/// Posts one of an order's documents (`order:<id>` is its source).
pub async fn post_for_order<C: ConnectionTrait>(
    db: &C,
    order: &orders::Model,
    kind: Kind,
    amount: i64,
    lines: Vec<Line>,
) -> Result<bool, DbErr> {
    post(
        db,
        Document {
            tenant_id: order.tenant_id,
            kind,
            source_key: format!("order:{}", order.id),
            order_id: Some(order.id),
            amount,
            currency: &order.currency,
            lines,
        },
    )
    .await
}

/// A ledger line as the entries list shows it.
#[derive(Debug, FromQueryResult)]
pub struct Entry {
    pub id: Uuid,
    pub account_code: String,
    pub account_name: String,
    pub document_id: Uuid,
    pub document_kind: Kind,
    pub order_id: Option<Uuid>,
    pub debit: i64,
    pub credit: i64,
    pub posted_at: DateTime<Utc>,
}

/// What the entries list narrows to.
#[derive(Default)]
pub struct EntryFilter {
    pub account: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

/// A page of the shop's ledger lines, newest first, and how many match.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn entries<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    filter: &EntryFilter,
    page: u64,
    limit: u64,
) -> Result<(Vec<Entry>, u64), DbErr> {
    let mut query =
        ledger_entries::Entity::find().filter(ledger_entries::Column::TenantId.eq(tenant_id));
    if let Some(account) = &filter.account {
        query = query.filter(ledger_entries::Column::AccountCode.eq(account.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(ledger_entries::Column::PostedAt.gte(from));
    }
    if let Some(before) = filter.before {
        query = query.filter(ledger_entries::Column::PostedAt.lt(before));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .select_only()
        .column(ledger_entries::Column::Id)
        .column(ledger_entries::Column::AccountCode)
        .column_as(ledger_accounts::Column::Name, "account_name")
        .column(ledger_entries::Column::DocumentId)
        .column_as(documents::Column::Kind, "document_kind")
        .column(documents::Column::OrderId)
        .column(ledger_entries::Column::Debit)
        .column(ledger_entries::Column::Credit)
        .column(ledger_entries::Column::PostedAt)
        .join(
            JoinType::InnerJoin,
            ledger_entries::Relation::Document.def(),
        )
        .join(JoinType::InnerJoin, account_join())
        .order_by_desc(ledger_entries::Column::PostedAt)
        .order_by_desc(ledger_entries::Column::Id)
        .into_model::<Entry>()
        .paginate(db, limit)
        .fetch_page(page.saturating_sub(1))
        .await?;
    Ok((rows, total))
}

/// An account's totals in the trial balance.
#[derive(Debug, FromQueryResult)]
pub struct AccountTotal {
    pub code: String,
    pub name: String,
    pub root_type: String,
    pub debit: i64,
    pub credit: i64,
}

/// Every account with postings up to `until` (all, when `None`), by code, with its debits and
/// credits: their sums are equal, as every posting balances.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn trial_balance<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<AccountTotal>, DbErr> {
    let backend = db.get_database_backend();
    let p = |n| crate::sql::placeholder(backend, n);
    let until_clause = match until {
        Some(_) => format!("AND e.posted_at < {}", p(2)),
        None => String::new(),
    };
    let sql = format!(
        "SELECT a.code, a.name, a.root_type, \
           CAST(SUM(e.debit) AS BIGINT) AS debit, CAST(SUM(e.credit) AS BIGINT) AS credit \
         FROM ledger_entries e \
         JOIN ledger_accounts a ON a.tenant_id = e.tenant_id AND a.code = e.account_code \
         WHERE e.tenant_id = {} {until_clause} \
         GROUP BY a.code, a.name, a.root_type ORDER BY a.code",
        p(1)
    );
    let mut values: Vec<sea_orm::Value> = vec![tenant_id.into()];
    if let Some(until) = until {
        values.push(until.into());
    }
    AccountTotal::find_by_statement(sea_orm::Statement::from_sql_and_values(
        backend, sql, values,
    ))
    .all(db)
    .await
}

/// `ledger_entries` → `ledger_accounts` by shop and code.
fn account_join() -> sea_orm::RelationDef {
    use sea_orm::sea_query::{Condition, Expr, ExprTrait};
    ledger_entries::Entity::belongs_to(ledger_accounts::Entity)
        .from(ledger_entries::Column::AccountCode)
        .to(ledger_accounts::Column::Code)
        .on_condition(|entries, accounts| {
            Condition::all().add(
                Expr::col((entries, ledger_entries::Column::TenantId))
                    .eq(Expr::col((accounts, ledger_accounts::Column::TenantId))),
            )
        })
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(prices_include_tax: bool) -> orders::Model {
        let now = Utc::now();
        orders::Model {
            id: Uuid::nil(),
            tenant_id: TenantId(Uuid::nil()),
            number: 1,
            checkout_id: Uuid::nil(),
            idempotency_key: None,
            customer_id: None,
            email: String::new(),
            phone: String::new(),
            status: orders::Status::Pending,
            payment_status: orders::PaymentStatus::Pending,
            payment_method: orders::PaymentMethod::Manual,
            currency: "EUR".into(),
            prices_include_tax,
            subtotal: 2765,
            discount: 265,
            shipping: 495,
            shipping_tax: 94,
            tax: 619,
            total: if prices_include_tax { 2995 } else { 3614 },
            refunded: 0,
            refund_due: 0,
            coupon_code: None,
            shipping_method: String::new(),
            shipping_address: serde_json::Value::Null,
            billing_address: serde_json::Value::Null,
            token_hash: String::new(),
            carrier: None,
            tracking_number: None,
            tracking_url: None,
            placed_at: now,
            updated_at: now,
            payment_due_at: None,
            paid_at: None,
            shipped_at: None,
            delivered_at: None,
            cancelled_at: None,
        }
    }

    fn balance(lines: &[Line]) -> i64 {
        lines.iter().map(|l| l.debit - l.credit).sum()
    }

    #[test]
    fn an_invoice_balances_with_tax_on_top_or_inside() {
        let on_top = invoice(&order(false));
        assert_eq!(balance(&on_top), 0);
        assert_eq!(on_top[1], credit(accounts::SALES, 2500));
        assert_eq!(on_top[2], credit(accounts::SHIPPING_INCOME, 495));
        let inside = invoice(&order(true));
        assert_eq!(balance(&inside), 0);
        // 2500 of goods hold 525 of tax; 495 of shipping hold 94.
        assert_eq!(inside[1], credit(accounts::SALES, 1975));
        assert_eq!(inside[2], credit(accounts::SHIPPING_INCOME, 401));
        assert_eq!(balance(&credit_note(&order(false))), 0);
        assert_eq!(
            credit_note(&order(false))[0],
            credit(accounts::RECEIVABLE, 3614)
        );
    }
}
