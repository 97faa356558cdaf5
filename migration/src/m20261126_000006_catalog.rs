//! The catalog: categories, items with their storefront listings, and stock as a ledger of
//! movements with on-hand and reserved levels per location.

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
                    .table(Categories::Table)
                    .col(pk_uuid(Categories::Id))
                    .col(uuid(Categories::TenantId))
                    .col(uuid_null(Categories::ParentId))
                    .col(string_len(Categories::Name, 200))
                    .col(string_len(Categories::Slug, 100))
                    .col(integer(Categories::DisplayOrder))
                    .col(timestamp_with_time_zone(Categories::CreatedAt))
                    .col(timestamp_with_time_zone(Categories::UpdatedAt))
                    .foreign_key(&mut tenant_fk(Categories::Table, Categories::TenantId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Categories::Table, Categories::ParentId)
                            .to(Categories::Table, Categories::Id),
                    )
                    .to_owned(),
            )
            .await?;
        create_unique_index(
            manager,
            Categories::Table,
            &[Categories::TenantId, Categories::Slug],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Items::Table)
                    .col(pk_uuid(Items::Id))
                    .col(uuid(Items::TenantId))
                    .col(string_len(Items::Sku, 64))
                    .col(string_len(Items::Name, 200))
                    .col(string_len(Items::UnitCode, 16))
                    // Minor units of the tenant's currency.
                    .col(big_integer(Items::Price))
                    .col(big_integer(Items::ReorderLevel))
                    .col(boolean(Items::Active))
                    // Soft delete: past orders keep pointing at the item.
                    .col(timestamp_with_time_zone_null(Items::DeletedAt))
                    .col(timestamp_with_time_zone(Items::CreatedAt))
                    .col(timestamp_with_time_zone(Items::UpdatedAt))
                    .foreign_key(&mut tenant_fk(Items::Table, Items::TenantId))
                    .to_owned(),
            )
            .await?;
        create_unique_index(manager, Items::Table, &[Items::TenantId, Items::Sku]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Listings::Table)
                    .col(uuid(Listings::ItemId).primary_key())
                    .col(uuid(Listings::TenantId))
                    .col(boolean(Listings::Published))
                    .col(string_len(Listings::Slug, 100))
                    .col(string_len(Listings::ShortDescription, 500))
                    .col(text(Listings::LongDescription))
                    // [{url, alt}]
                    .col(json(Listings::Images))
                    .col(uuid_null(Listings::CategoryId))
                    .col(integer(Listings::DisplayOrder))
                    // Lowercased name, sku and descriptions: what storefront search matches.
                    .col(text(Listings::SearchText))
                    .foreign_key(&mut tenant_fk(Listings::Table, Listings::TenantId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Listings::Table, Listings::ItemId)
                            .to(Items::Table, Items::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Listings::Table, Listings::CategoryId)
                            .to(Categories::Table, Categories::Id),
                    )
                    .to_owned(),
            )
            .await?;
        create_unique_index(
            manager,
            Listings::Table,
            &[Listings::TenantId, Listings::Slug],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("listings_tenant_category")
                    .table(Listings::Table)
                    .col(Listings::TenantId)
                    .col(Listings::CategoryId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StockMovements::Table)
                    .col(pk_uuid(StockMovements::Id))
                    .col(uuid(StockMovements::TenantId))
                    .col(uuid(StockMovements::ItemId))
                    .col(uuid(StockMovements::LocationId))
                    // Signed: receipts are positive, issues negative.
                    .col(big_integer(StockMovements::Quantity))
                    .col(string_len(StockMovements::Reason, 200))
                    .col(timestamp_with_time_zone(StockMovements::CreatedAt))
                    .foreign_key(&mut tenant_fk(
                        StockMovements::Table,
                        StockMovements::TenantId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StockMovements::Table, StockMovements::ItemId)
                            .to(Items::Table, Items::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("stock_movements_item")
                    .table(StockMovements::Table)
                    .col(StockMovements::ItemId)
                    .col(StockMovements::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StockLevels::Table)
                    .col(uuid(StockLevels::ItemId))
                    .col(uuid(StockLevels::LocationId))
                    .col(uuid(StockLevels::TenantId))
                    .col(big_integer(StockLevels::OnHand))
                    .col(big_integer(StockLevels::Reserved))
                    .primary_key(
                        Index::create()
                            .col(StockLevels::ItemId)
                            .col(StockLevels::LocationId),
                    )
                    .foreign_key(&mut tenant_fk(StockLevels::Table, StockLevels::TenantId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StockLevels::Table, StockLevels::ItemId)
                            .to(Items::Table, Items::Id),
                    )
                    .to_owned(),
            )
            .await?;

        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            // Substring search on the storefront uses a trigram index (pg_trgm is a trusted
            // extension: the database owner may create it).
            let db = manager.get_connection();
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .await?;
            db.execute_unprepared(
                "CREATE INDEX listings_search_trgm ON listings USING gin (search_text gin_trgm_ops)",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                StockLevels::Table.into_iden(),
                StockMovements::Table.into_iden(),
                Listings::Table.into_iden(),
                Items::Table.into_iden(),
                Categories::Table.into_iden(),
            ],
        )
        .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Categories {
    Table,
    Id,
    TenantId,
    ParentId,
    Name,
    Slug,
    DisplayOrder,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Items {
    Table,
    Id,
    TenantId,
    Sku,
    Name,
    UnitCode,
    Price,
    ReorderLevel,
    Active,
    DeletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Listings {
    Table,
    ItemId,
    TenantId,
    Published,
    Slug,
    ShortDescription,
    LongDescription,
    Images,
    CategoryId,
    DisplayOrder,
    SearchText,
}

#[derive(DeriveIden, Clone, Copy)]
enum StockMovements {
    Table,
    Id,
    TenantId,
    ItemId,
    LocationId,
    Quantity,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum StockLevels {
    Table,
    ItemId,
    LocationId,
    TenantId,
    OnHand,
    Reserved,
}
