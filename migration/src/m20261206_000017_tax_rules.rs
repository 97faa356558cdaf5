//! Tax by address: a shop's tax rules (country, optional region, optional tax class, a rate in
//! basis points; the most specific rule wins) take the place of its flat tax rates. Shops and
//! signups get a country (where their own rules apply), items a tax class. Each shop's rates
//! become rules for its country: the default rate for every class, the others for the class of
//! their name (`reduced`, `zero`).

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::tenant_fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The country of the shops that existed before they had one, and of signups that name none.
const DEFAULT_COUNTRY: &str = "US";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            (StoreSettings::Table.into_iden(), country_column()),
            (TenantSignups::Table.into_iden(), country_column()),
            (
                Items::Table.into_iden(),
                ColumnDef::new(Items::TaxClass)
                    .string_len(32)
                    .not_null()
                    .default("standard")
                    .to_owned(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).add_column(column).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(TaxRules::Table)
                    .col(pk_uuid(TaxRules::Id))
                    .col(uuid(TaxRules::TenantId))
                    .col(string_len(TaxRules::Name, 100))
                    .col(string_len(TaxRules::Country, 2))
                    .col(string_len_null(TaxRules::Region, 100))
                    .col(string_len_null(TaxRules::TaxClass, 32))
                    .col(integer(TaxRules::RateBasisPoints))
                    .col(timestamp_with_time_zone(TaxRules::CreatedAt))
                    .col(timestamp_with_time_zone(TaxRules::UpdatedAt))
                    .foreign_key(&mut tenant_fk(TaxRules::Table, TaxRules::TenantId))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // One rule per scope; "any region" and "any class" are scopes of their own.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX tax_rules_scope_key ON tax_rules \
             (tenant_id, country, COALESCE(region, ''), COALESCE(tax_class, ''))",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO tax_rules (id, tenant_id, name, country, region, tax_class, \
               rate_basis_points, created_at, updated_at) \
             SELECT r.id, r.tenant_id, r.name, s.country, NULL, \
               CASE WHEN r.is_default THEN NULL ELSE lower(r.name) END, r.rate_basis_points, \
               s.created_at, s.updated_at \
             FROM tax_rates r JOIN store_settings s ON s.tenant_id = r.tenant_id",
        )
        .await?;
        manager
            .drop_table(Table::drop().table(TaxRates::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TaxRates::Table)
                    .col(pk_uuid(TaxRates::Id))
                    .col(uuid(TaxRates::TenantId))
                    .col(string_len(TaxRates::Name, 100))
                    .col(integer(TaxRates::RateBasisPoints))
                    .col(boolean(TaxRates::IsDefault))
                    .foreign_key(&mut tenant_fk(TaxRates::Table, TaxRates::TenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO tax_rates (id, tenant_id, name, rate_basis_points, is_default) \
                 SELECT r.id, r.tenant_id, r.name, r.rate_basis_points, r.tax_class IS NULL \
                 FROM tax_rules r JOIN store_settings s \
                   ON s.tenant_id = r.tenant_id AND s.country = r.country \
                 WHERE r.region IS NULL",
            )
            .await?;
        manager
            .drop_table(Table::drop().table(TaxRules::Table).to_owned())
            .await?;
        for (table, column) in [
            (
                StoreSettings::Table.into_iden(),
                Alias::new("country").into_iden(),
            ),
            (
                TenantSignups::Table.into_iden(),
                Alias::new("country").into_iden(),
            ),
            (Items::Table.into_iden(), Items::TaxClass.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn country_column() -> ColumnDef {
    ColumnDef::new(Alias::new("country"))
        .string_len(2)
        .not_null()
        .default(DEFAULT_COUNTRY)
        .to_owned()
}

#[derive(DeriveIden)]
enum StoreSettings {
    Table,
}

#[derive(DeriveIden)]
enum TenantSignups {
    Table,
}

#[derive(DeriveIden)]
enum Items {
    Table,
    TaxClass,
}

#[derive(DeriveIden)]
enum TaxRates {
    Table,
    Id,
    TenantId,
    Name,
    RateBasisPoints,
    IsDefault,
}

#[derive(DeriveIden)]
enum TaxRules {
    Table,
    Id,
    TenantId,
    Name,
    Country,
    Region,
    TaxClass,
    RateBasisPoints,
    CreatedAt,
    UpdatedAt,
}
