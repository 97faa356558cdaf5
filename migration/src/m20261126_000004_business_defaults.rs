//! The business data every tenant starts with: chart of accounts, warehouses and locations,
//! units of measure, tax rates and store settings.

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
                    .table(LedgerAccounts::Table)
                    .col(pk_uuid(LedgerAccounts::Id))
                    .col(uuid(LedgerAccounts::TenantId))
                    .col(uuid_null(LedgerAccounts::ParentId))
                    .col(string_len(LedgerAccounts::Code, 32))
                    .col(string_len(LedgerAccounts::Name, 200))
                    // Asset, Liability, Equity, Income or Expense.
                    .col(string_len(LedgerAccounts::RootType, 16))
                    // Cash, Bank, Receivable, Stock, Payable, Tax, … (None for groups).
                    .col(string_len_null(LedgerAccounts::AccountType, 32))
                    .col(boolean(LedgerAccounts::IsGroup))
                    .foreign_key(&mut tenant_fk(
                        LedgerAccounts::Table,
                        LedgerAccounts::TenantId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LedgerAccounts::Table, LedgerAccounts::ParentId)
                            .to(LedgerAccounts::Table, LedgerAccounts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        create_unique_index(
            manager,
            LedgerAccounts::Table,
            &[LedgerAccounts::TenantId, LedgerAccounts::Code],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Warehouses::Table)
                    .col(pk_uuid(Warehouses::Id))
                    .col(uuid(Warehouses::TenantId))
                    .col(string_len(Warehouses::Code, 32))
                    .col(string_len(Warehouses::Name, 200))
                    .foreign_key(&mut tenant_fk(Warehouses::Table, Warehouses::TenantId))
                    .to_owned(),
            )
            .await?;
        create_unique_index(
            manager,
            Warehouses::Table,
            &[Warehouses::TenantId, Warehouses::Code],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(WarehouseLocations::Table)
                    .col(pk_uuid(WarehouseLocations::Id))
                    .col(uuid(WarehouseLocations::TenantId))
                    .col(uuid(WarehouseLocations::WarehouseId))
                    .col(uuid_null(WarehouseLocations::ParentId))
                    .col(string_len(WarehouseLocations::Code, 32))
                    .col(string_len(WarehouseLocations::Name, 200))
                    .foreign_key(&mut tenant_fk(
                        WarehouseLocations::Table,
                        WarehouseLocations::TenantId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WarehouseLocations::Table, WarehouseLocations::WarehouseId)
                            .to(Warehouses::Table, Warehouses::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WarehouseLocations::Table, WarehouseLocations::ParentId)
                            .to(WarehouseLocations::Table, WarehouseLocations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        create_unique_index(
            manager,
            WarehouseLocations::Table,
            &[WarehouseLocations::WarehouseId, WarehouseLocations::Code],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Units::Table)
                    .col(pk_uuid(Units::Id))
                    .col(uuid(Units::TenantId))
                    .col(string_len(Units::Code, 16))
                    .col(string_len(Units::Name, 64))
                    // Quantities in this unit are whole numbers (Nos, Box) or not (Kg, L).
                    .col(boolean(Units::WholeNumber))
                    .foreign_key(&mut tenant_fk(Units::Table, Units::TenantId))
                    .to_owned(),
            )
            .await?;
        create_unique_index(manager, Units::Table, &[Units::TenantId, Units::Code]).await?;

        manager
            .create_table(
                Table::create()
                    .table(TaxRates::Table)
                    .col(pk_uuid(TaxRates::Id))
                    .col(uuid(TaxRates::TenantId))
                    .col(string_len(TaxRates::Name, 64))
                    // 1 basis point = 0.01 %: 825 is 8.25 %.
                    .col(integer(TaxRates::RateBasisPoints))
                    .col(boolean(TaxRates::IsDefault))
                    .foreign_key(&mut tenant_fk(TaxRates::Table, TaxRates::TenantId))
                    .to_owned(),
            )
            .await?;
        create_unique_index(
            manager,
            TaxRates::Table,
            &[TaxRates::TenantId, TaxRates::Name],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(StoreSettings::Table)
                    .col(uuid(StoreSettings::TenantId).primary_key())
                    .col(string_len(StoreSettings::Currency, 3))
                    .col(string_len(StoreSettings::Timezone, 64))
                    .col(boolean(StoreSettings::PricesIncludeTax))
                    .col(timestamp_with_time_zone(StoreSettings::CreatedAt))
                    .col(timestamp_with_time_zone(StoreSettings::UpdatedAt))
                    .foreign_key(&mut tenant_fk(
                        StoreSettings::Table,
                        StoreSettings::TenantId,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                StoreSettings::Table.into_iden(),
                TaxRates::Table.into_iden(),
                Units::Table.into_iden(),
                WarehouseLocations::Table.into_iden(),
                Warehouses::Table.into_iden(),
                LedgerAccounts::Table.into_iden(),
            ],
        )
        .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum LedgerAccounts {
    Table,
    Id,
    TenantId,
    ParentId,
    Code,
    Name,
    RootType,
    AccountType,
    IsGroup,
}

#[derive(DeriveIden, Clone, Copy)]
enum Warehouses {
    Table,
    Id,
    TenantId,
    Code,
    Name,
}

#[derive(DeriveIden, Clone, Copy)]
enum WarehouseLocations {
    Table,
    Id,
    TenantId,
    WarehouseId,
    ParentId,
    Code,
    Name,
}

#[derive(DeriveIden, Clone, Copy)]
enum Units {
    Table,
    Id,
    TenantId,
    Code,
    Name,
    WholeNumber,
}

#[derive(DeriveIden, Clone, Copy)]
enum TaxRates {
    Table,
    Id,
    TenantId,
    Name,
    RateBasisPoints,
    IsDefault,
}

#[derive(DeriveIden, Clone, Copy)]
enum StoreSettings {
    Table,
    TenantId,
    Currency,
    Timezone,
    PricesIncludeTax,
    CreatedAt,
    UpdatedAt,
}
