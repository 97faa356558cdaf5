//! The shop's ledger (admin): its lines, and the trial balance.

use cartwheel_domain::accounts::roles::Permission;
use cartwheel_domain::ledger::{self, EntryFilter, Kind};
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi, Tags};

use crate::auth::{AdminAuth, AdminError};
use crate::paging::{Page, PageNumber, PageSize};
use crate::problem::ProblemJson;
use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// Business documents' postings on the chart of accounts (admin).
    Ledger,
}

pub struct LedgerApi;

/// The business document a line belongs to.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
enum DocumentKind {
    SalesOrder,
    SalesInvoice,
    PaymentEntry,
    Shipment,
    CreditNote,
    /// Card money paid back through Stripe.
    Refund,
}

impl From<Kind> for DocumentKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::SalesOrder => DocumentKind::SalesOrder,
            Kind::SalesInvoice => DocumentKind::SalesInvoice,
            Kind::PaymentEntry => DocumentKind::PaymentEntry,
            Kind::Shipment => DocumentKind::Shipment,
            Kind::CreditNote => DocumentKind::CreditNote,
            Kind::Refund => DocumentKind::Refund,
        }
    }
}

/// A line of a posting: a debit or a credit (minor units of the shop's currency).
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct EntryView {
    id: uuid::Uuid,
    account_code: String,
    account_name: String,
    document_id: uuid::Uuid,
    document_kind: DocumentKind,
    #[oai(nullable)]
    order_id: Option<uuid::Uuid>,
    debit: i64,
    credit: i64,
    posted_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct AccountTotalView {
    code: String,
    name: String,
    /// Asset, Liability, Equity, Income or Expense.
    root_type: String,
    debit: i64,
    credit: i64,
    /// Debit less credit.
    balance: i64,
}

/// Every account with postings, by code. `debit` and `credit` are their sums, which are equal:
/// every posting balances.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct TrialBalance {
    accounts: Vec<AccountTotalView>,
    debit: i64,
    credit: i64,
}

#[OpenApi(prefix_path = "/api/v1/admin/ledger", tag = "ApiTags::Ledger")]
impl LedgerApi {
    /// The ledger's lines, newest first: of one account (`account`, its code such as `1130`),
    /// posted from `from` (inclusive) and before `before`.
    #[oai(path = "/entries", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn entries(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        #[oai(validator(max_length = 32))] account: Query<Option<String>>,
        from: Query<Option<chrono::DateTime<chrono::Utc>>>,
        before: Query<Option<chrono::DateTime<chrono::Utc>>>,
        page: Query<PageNumber>,
        limit: Query<PageSize>,
    ) -> Result<Json<Page<EntryView>>, AdminError> {
        auth.0.require(Permission::OrdersRead)?;
        let filter = EntryFilter {
            account: account.0,
            from: from.0,
            before: before.0,
        };
        let (page, limit) = (page.0, limit.0);
        let (rows, total) = ledger::entries(&state.db, auth.0.tenant.id, &filter, page.0, limit.0)
            .await
            .map_err(|e| AdminError::Internal(ProblemJson::internal(&e)))?;
        let rows = rows
            .into_iter()
            .map(|e| EntryView {
                id: e.id,
                account_code: e.account_code,
                account_name: e.account_name,
                document_id: e.document_id,
                document_kind: e.document_kind.into(),
                order_id: e.order_id,
                debit: e.debit,
                credit: e.credit,
                posted_at: e.posted_at,
            })
            .collect();
        Ok(Json(Page::new(rows, page, limit, total)))
    }

    /// Each account's debits and credits, posted before `until` (everything when omitted).
    #[oai(path = "/trial-balance", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn trial_balance(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        until: Query<Option<chrono::DateTime<chrono::Utc>>>,
    ) -> Result<Json<TrialBalance>, AdminError> {
        auth.0.require(Permission::OrdersRead)?;
        let totals = ledger::trial_balance(&state.db, auth.0.tenant.id, until.0)
            .await
            .map_err(|e| AdminError::Internal(ProblemJson::internal(&e)))?;
        let accounts: Vec<AccountTotalView> = totals
            .into_iter()
            .map(|a| AccountTotalView {
                balance: a.debit - a.credit,
                code: a.code,
                name: a.name,
                root_type: a.root_type,
                debit: a.debit,
                credit: a.credit,
            })
            .collect();
        Ok(Json(TrialBalance {
            debit: accounts.iter().map(|a| a.debit).sum(),
            credit: accounts.iter().map(|a| a.credit).sum(),
            accounts,
        }))
    }
}
