//! Storefront customers (apart from admin users), their password resets and address books.

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
                    .table(Customers::Table)
                    .col(pk_uuid(Customers::Id))
                    .col(uuid(Customers::TenantId))
                    // Stored lowercased; unique per tenant.
                    .col(string_len(Customers::Email, 254))
                    .col(string_len(Customers::Name, 200))
                    .col(string_len_null(Customers::Phone, 32))
                    .col(text(Customers::PasswordHash))
                    .col(timestamp_with_time_zone(Customers::CreatedAt))
                    .col(timestamp_with_time_zone(Customers::UpdatedAt))
                    .foreign_key(&mut tenant_fk(Customers::Table, Customers::TenantId))
                    .to_owned(),
            )
            .await?;
        create_unique_index(
            manager,
            Customers::Table,
            &[Customers::TenantId, Customers::Email],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(CustomerPasswordResets::Table)
                    .col(pk_uuid(CustomerPasswordResets::Id))
                    .col(uuid(CustomerPasswordResets::TenantId))
                    .col(uuid(CustomerPasswordResets::CustomerId))
                    .col(string_len_uniq(CustomerPasswordResets::TokenHash, 64))
                    .col(timestamp_with_time_zone(CustomerPasswordResets::ExpiresAt))
                    .col(timestamp_with_time_zone_null(
                        CustomerPasswordResets::UsedAt,
                    ))
                    .col(timestamp_with_time_zone(CustomerPasswordResets::CreatedAt))
                    .foreign_key(&mut tenant_fk(
                        CustomerPasswordResets::Table,
                        CustomerPasswordResets::TenantId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                CustomerPasswordResets::Table,
                                CustomerPasswordResets::CustomerId,
                            )
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Addresses::Table)
                    .col(pk_uuid(Addresses::Id))
                    .col(uuid(Addresses::TenantId))
                    .col(uuid(Addresses::CustomerId))
                    .col(string_len(Addresses::Name, 200))
                    .col(string_len(Addresses::Line1, 200))
                    .col(string_len(Addresses::Line2, 200))
                    .col(string_len(Addresses::City, 100))
                    .col(string_len(Addresses::Region, 100))
                    .col(string_len(Addresses::PostalCode, 32))
                    // ISO 3166-1 alpha-2.
                    .col(string_len(Addresses::Country, 2))
                    .col(string_len(Addresses::Phone, 32))
                    .col(boolean(Addresses::IsDefault))
                    .col(timestamp_with_time_zone(Addresses::CreatedAt))
                    .foreign_key(&mut tenant_fk(Addresses::Table, Addresses::TenantId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Addresses::Table, Addresses::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("addresses_customer")
                    .table(Addresses::Table)
                    .col(Addresses::CustomerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                Addresses::Table.into_iden(),
                CustomerPasswordResets::Table.into_iden(),
                Customers::Table.into_iden(),
            ],
        )
        .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Customers {
    Table,
    Id,
    TenantId,
    Email,
    Name,
    Phone,
    PasswordHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerPasswordResets {
    Table,
    Id,
    TenantId,
    CustomerId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Addresses {
    Table,
    Id,
    TenantId,
    CustomerId,
    Name,
    Line1,
    Line2,
    City,
    Region,
    PostalCode,
    Country,
    Phone,
    IsDefault,
    CreatedAt,
}
