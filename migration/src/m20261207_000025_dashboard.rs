//! The dashboard's rollups, kept by the code that changes an order (`domain::dashboard::
//! rollups`), so that no dashboard request scans a shop's orders: orders by status, and per UTC
//! day of placing the orders that stand (not cancelled) and their revenue (total less refunds),
//! in all and per item. Filled here from the orders already placed. And the indexes the
//! dashboard's other counts read: failed card payments by time, customers by signup time.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::common::{drop_tables, tenant_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OrderCounts::Table)
                    .col(uuid(OrderCounts::TenantId))
                    .col(string_len(OrderCounts::Status, 16))
                    .col(big_integer(OrderCounts::Orders).default(0))
                    .primary_key(
                        Index::create()
                            .col(OrderCounts::TenantId)
                            .col(OrderCounts::Status),
                    )
                    .foreign_key(&mut tenant_fk(OrderCounts::Table, OrderCounts::TenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SalesDays::Table)
                    .col(uuid(SalesDays::TenantId))
                    .col(string_len(SalesDays::Day, 10))
                    .col(big_integer(SalesDays::Orders).default(0))
                    .col(big_integer(SalesDays::Revenue).default(0))
                    .primary_key(Index::create().col(SalesDays::TenantId).col(SalesDays::Day))
                    .foreign_key(&mut tenant_fk(SalesDays::Table, SalesDays::TenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ItemSalesDays::Table)
                    .col(uuid(ItemSalesDays::TenantId))
                    .col(string_len(ItemSalesDays::Day, 10))
                    .col(uuid(ItemSalesDays::ItemId))
                    .col(big_integer(ItemSalesDays::Units).default(0))
                    .col(big_integer(ItemSalesDays::Revenue).default(0))
                    .primary_key(
                        Index::create()
                            .col(ItemSalesDays::TenantId)
                            .col(ItemSalesDays::Day)
                            .col(ItemSalesDays::ItemId),
                    )
                    .foreign_key(&mut tenant_fk(
                        ItemSalesDays::Table,
                        ItemSalesDays::TenantId,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, table, columns) in [
            (
                "payments_tenant_status_updated_idx",
                Payments::Table.into_iden(),
                vec![
                    Payments::TenantId.into_iden(),
                    Payments::Status.into_iden(),
                    Payments::UpdatedAt.into_iden(),
                ],
            ),
            (
                "customers_tenant_created_idx",
                Customers::Table.into_iden(),
                vec![
                    Customers::TenantId.into_iden(),
                    Customers::CreatedAt.into_iden(),
                ],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        backfill(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            (
                "payments_tenant_status_updated_idx",
                Payments::Table.into_iden(),
            ),
            ("customers_tenant_created_idx", Customers::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        drop_tables(
            manager,
            vec![
                ItemSalesDays::Table.into_iden(),
                SalesDays::Table.into_iden(),
                OrderCounts::Table.into_iden(),
            ],
        )
        .await
    }
}

/// The rollups of the orders placed before this migration, by the rules of
/// `domain::dashboard::rollups` as they were written: every order counts under its status; one
/// that is not cancelled counts on the UTC day it was placed, with its total less what was
/// refunded, and its lines with their units and their total less discount.
async fn backfill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let day = match db.get_database_backend() {
        DatabaseBackend::Postgres => "to_char(o.placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        _ => "substr(o.placed_at, 1, 10)",
    };
    db.execute_unprepared(
        "INSERT INTO order_counts (tenant_id, status, orders) \
         SELECT tenant_id, status, COUNT(*) FROM orders GROUP BY tenant_id, status",
    )
    .await?;
    db.execute_unprepared(&format!(
        "INSERT INTO sales_days (tenant_id, day, orders, revenue) \
         SELECT o.tenant_id, {day}, COUNT(*), SUM(o.total - o.refunded) FROM orders o \
         WHERE o.status <> 'cancelled' GROUP BY o.tenant_id, {day}"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "INSERT INTO item_sales_days (tenant_id, day, item_id, units, revenue) \
         SELECT o.tenant_id, {day}, l.item_id, SUM(l.quantity), SUM(l.line_total - l.discount) \
         FROM orders o JOIN order_lines l ON l.order_id = o.id \
         WHERE o.status <> 'cancelled' GROUP BY o.tenant_id, {day}, l.item_id"
    ))
    .await?;
    Ok(())
}

#[derive(DeriveIden)]
enum OrderCounts {
    Table,
    TenantId,
    Status,
    Orders,
}

#[derive(DeriveIden)]
enum SalesDays {
    Table,
    TenantId,
    Day,
    Orders,
    Revenue,
}

#[derive(DeriveIden)]
enum ItemSalesDays {
    Table,
    TenantId,
    Day,
    ItemId,
    Units,
    Revenue,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    TenantId,
    Status,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    TenantId,
    CreatedAt,
}
