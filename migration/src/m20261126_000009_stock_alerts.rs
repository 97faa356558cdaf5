//! Stock alerts: which items are below their reorder level and already alerted (one alert per
//! crossing), shoppers waiting to hear an item is back, and an index for the abandoned-cart scan.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{create_unique_index, drop_tables, tenant_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LowStockAlerts::Table)
                    // A row exists while the item is below its reorder level and its admins
                    // were told; it goes when stock is back at the level, re-arming the alert.
                    .col(pk_uuid(LowStockAlerts::ItemId))
                    .col(uuid(LowStockAlerts::TenantId))
                    .col(big_integer(LowStockAlerts::Available))
                    .col(timestamp_with_time_zone(LowStockAlerts::AlertedAt))
                    .foreign_key(&mut tenant_fk(
                        LowStockAlerts::Table,
                        LowStockAlerts::TenantId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LowStockAlerts::Table, LowStockAlerts::ItemId)
                            .to(Items::Table, Items::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StockSubscriptions::Table)
                    .col(pk_uuid(StockSubscriptions::Id))
                    .col(uuid(StockSubscriptions::TenantId))
                    .col(uuid(StockSubscriptions::ItemId))
                    // Stored lowercased; one per shopper and item.
                    .col(string_len(StockSubscriptions::Email, 254))
                    .col(timestamp_with_time_zone(StockSubscriptions::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        StockSubscriptions::NotifiedAt,
                    ))
                    .foreign_key(&mut tenant_fk(
                        StockSubscriptions::Table,
                        StockSubscriptions::TenantId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StockSubscriptions::Table, StockSubscriptions::ItemId)
                            .to(Items::Table, Items::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_unique_index(
            manager,
            StockSubscriptions::Table,
            &[StockSubscriptions::ItemId, StockSubscriptions::Email],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("carts_status_updated_at_idx")
                    .table(Carts::Table)
                    .col(Carts::Status)
                    .col(Carts::UpdatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("carts_status_updated_at_idx")
                    .table(Carts::Table)
                    .to_owned(),
            )
            .await?;
        drop_tables(
            manager,
            vec![
                StockSubscriptions::Table.into_iden(),
                LowStockAlerts::Table.into_iden(),
            ],
        )
        .await
    }
}

#[derive(DeriveIden)]
enum LowStockAlerts {
    Table,
    ItemId,
    TenantId,
    Available,
    AlertedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum StockSubscriptions {
    Table,
    Id,
    TenantId,
    ItemId,
    Email,
    CreatedAt,
    NotifiedAt,
}

#[derive(DeriveIden)]
enum Items {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Carts {
    Table,
    Status,
    UpdatedAt,
}
