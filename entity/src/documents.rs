//! A business document: an order's sales order and sales invoice, a payment entry, a shipment,
//! a credit note. One per shop, kind and source; its ledger lines are `ledger_entries`.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub kind: Kind,
    /// What it documents, unique per kind: `order:<id>` for an order's documents.
    pub source_key: String,
    pub order_id: Option<Uuid>,
    pub amount: i64,
    pub currency: String,
    pub created_at: DateTimeUtc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
pub enum Kind {
    SalesOrder,
    SalesInvoice,
    PaymentEntry,
    Shipment,
    CreditNote,
    /// Card money paid back through Stripe.
    Refund,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::ledger_entries::Entity")]
    LedgerEntries,
}

impl Related<super::ledger_entries::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LedgerEntries.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
