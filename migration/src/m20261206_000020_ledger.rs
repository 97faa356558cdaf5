//! Business documents and the ledger: each order's sales order and invoice, each payment,
//! shipment and credit note is a document (unique per shop, kind and source, so posting twice
//! posts once), and its double-entry lines on the shop's chart of accounts are
//! `ledger_entries`, appended and never changed. Items gain a cost price, which an order line
//! keeps (`unit_cost`) for the cost of goods its shipment posts; an order keeps whether its
//! prices included tax, which its invoice's split into sales and tax follows.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{create_unique_index, drop_tables, tenant_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            (Items::Table.into_iden(), Items::CostPrice.into_iden()),
            (
                OrderLines::Table.into_iden(),
                OrderLines::UnitCost.into_iden(),
            ),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(big_integer(column).default(0))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(boolean(Orders::PricesIncludeTax).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Documents::Table)
                    .col(pk_uuid(Documents::Id))
                    .col(uuid(Documents::TenantId))
                    .col(string_len(Documents::Kind, 24))
                    .col(string_len(Documents::SourceKey, 100))
                    .col(uuid_null(Documents::OrderId))
                    .col(big_integer(Documents::Amount))
                    .col(string_len(Documents::Currency, 3))
                    .col(timestamp_with_time_zone(Documents::CreatedAt))
                    .foreign_key(&mut tenant_fk(Documents::Table, Documents::TenantId))
                    .to_owned(),
            )
            .await?;
        // A document is made once per source: posting again finds it.
        create_unique_index(
            manager,
            Documents::Table,
            &[Documents::TenantId, Documents::Kind, Documents::SourceKey],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("documents_order_id_idx")
                    .table(Documents::Table)
                    .col(Documents::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerEntries::Table)
                    .col(pk_uuid(LedgerEntries::Id))
                    .col(uuid(LedgerEntries::TenantId))
                    .col(uuid(LedgerEntries::DocumentId))
                    .col(string_len(LedgerEntries::AccountCode, 32))
                    .col(big_integer(LedgerEntries::Debit))
                    .col(big_integer(LedgerEntries::Credit))
                    .col(timestamp_with_time_zone(LedgerEntries::PostedAt))
                    .foreign_key(&mut tenant_fk(
                        LedgerEntries::Table,
                        LedgerEntries::TenantId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LedgerEntries::Table, LedgerEntries::DocumentId)
                            .to(Documents::Table, Documents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from_tbl(LedgerEntries::Table)
                            .from_col(LedgerEntries::TenantId)
                            .from_col(LedgerEntries::AccountCode)
                            .to_tbl(LedgerAccounts::Table)
                            .to_col(LedgerAccounts::TenantId)
                            .to_col(LedgerAccounts::Code)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The entries list (by account, by time) and the trial balance read by these.
        manager
            .create_index(
                Index::create()
                    .name("ledger_entries_account_idx")
                    .table(LedgerEntries::Table)
                    .col(LedgerEntries::TenantId)
                    .col(LedgerEntries::AccountCode)
                    .col(LedgerEntries::PostedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ledger_entries_posted_idx")
                    .table(LedgerEntries::Table)
                    .col(LedgerEntries::TenantId)
                    .col(LedgerEntries::PostedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ledger_entries_document_idx")
                    .table(LedgerEntries::Table)
                    .col(LedgerEntries::DocumentId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                LedgerEntries::Table.into_iden(),
                Documents::Table.into_iden(),
            ],
        )
        .await?;
        for (table, column) in [
            (
                Orders::Table.into_iden(),
                Orders::PricesIncludeTax.into_iden(),
            ),
            (
                OrderLines::Table.into_iden(),
                OrderLines::UnitCost.into_iden(),
            ),
            (Items::Table.into_iden(), Items::CostPrice.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Items {
    Table,
    CostPrice,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    UnitCost,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    PricesIncludeTax,
}

#[derive(DeriveIden, Clone, Copy)]
enum Documents {
    Table,
    Id,
    TenantId,
    Kind,
    SourceKey,
    OrderId,
    Amount,
    Currency,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LedgerEntries {
    Table,
    Id,
    TenantId,
    DocumentId,
    AccountCode,
    Debit,
    Credit,
    PostedAt,
}

#[derive(DeriveIden)]
enum LedgerAccounts {
    Table,
    TenantId,
    Code,
}
