//! Shipping: a shop's zones (lists of countries; a country is in at most one zone of a shop,
//! held by a unique key) and each zone's methods (a price, optionally free over a subtotal,
//! optionally only for subtotals between a minimum and a maximum).

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
                    .table(ShippingZones::Table)
                    .col(pk_uuid(ShippingZones::Id))
                    .col(uuid(ShippingZones::TenantId))
                    .col(string_len(ShippingZones::Name, 100))
                    .col(timestamp_with_time_zone(ShippingZones::CreatedAt))
                    .col(timestamp_with_time_zone(ShippingZones::UpdatedAt))
                    .foreign_key(&mut tenant_fk(
                        ShippingZones::Table,
                        ShippingZones::TenantId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShippingZoneCountries::Table)
                    .col(uuid(ShippingZoneCountries::ZoneId))
                    .col(uuid(ShippingZoneCountries::TenantId))
                    .col(string_len(ShippingZoneCountries::Country, 2))
                    .primary_key(
                        Index::create()
                            .col(ShippingZoneCountries::ZoneId)
                            .col(ShippingZoneCountries::Country),
                    )
                    .foreign_key(&mut tenant_fk(
                        ShippingZoneCountries::Table,
                        ShippingZoneCountries::TenantId,
                    ))
                    .foreign_key(&mut zone_fk(
                        ShippingZoneCountries::Table,
                        ShippingZoneCountries::ZoneId,
                    ))
                    .to_owned(),
            )
            .await?;
        // A country ships by one zone of a shop.
        create_unique_index(
            manager,
            ShippingZoneCountries::Table,
            &[
                ShippingZoneCountries::TenantId,
                ShippingZoneCountries::Country,
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShippingMethods::Table)
                    .col(pk_uuid(ShippingMethods::Id))
                    .col(uuid(ShippingMethods::TenantId))
                    .col(uuid(ShippingMethods::ZoneId))
                    .col(string_len(ShippingMethods::Name, 100))
                    .col(big_integer(ShippingMethods::Price))
                    .col(big_integer_null(ShippingMethods::FreeOver))
                    .col(big_integer_null(ShippingMethods::MinSubtotal))
                    .col(big_integer_null(ShippingMethods::MaxSubtotal))
                    .col(boolean(ShippingMethods::Active))
                    .col(timestamp_with_time_zone(ShippingMethods::CreatedAt))
                    .col(timestamp_with_time_zone(ShippingMethods::UpdatedAt))
                    .foreign_key(&mut tenant_fk(
                        ShippingMethods::Table,
                        ShippingMethods::TenantId,
                    ))
                    .foreign_key(&mut zone_fk(
                        ShippingMethods::Table,
                        ShippingMethods::ZoneId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("shipping_methods_zone_id_idx")
                    .table(ShippingMethods::Table)
                    .col(ShippingMethods::ZoneId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                ShippingMethods::Table.into_iden(),
                ShippingZoneCountries::Table.into_iden(),
                ShippingZones::Table.into_iden(),
            ],
        )
        .await
    }
}

/// `zone_id` → `shipping_zones.id`; deleting a zone deletes its countries and methods.
fn zone_fk(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(ShippingZones::Table, ShippingZones::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[derive(DeriveIden)]
enum ShippingZones {
    Table,
    Id,
    TenantId,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ShippingZoneCountries {
    Table,
    ZoneId,
    TenantId,
    Country,
}

#[derive(DeriveIden)]
enum ShippingMethods {
    Table,
    Id,
    TenantId,
    ZoneId,
    Name,
    Price,
    FreeOver,
    MinSubtotal,
    MaxSubtotal,
    Active,
    CreatedAt,
    UpdatedAt,
}
