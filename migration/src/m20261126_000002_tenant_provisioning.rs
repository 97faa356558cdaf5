//! Provisioning: a tenant's progress and failure, and the signup its worker job builds from.
//! The currency moves to `store_settings`, seeded with the rest of the tenant's defaults.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(integer(Tenants::Progress).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(text_null(Tenants::Failure))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(Tenants::Currency)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TenantSignups::Table)
                    .col(uuid(TenantSignups::TenantId).primary_key())
                    .col(string_len(TenantSignups::OwnerEmail, 254))
                    // Cleared once the owner account exists.
                    .col(text_null(TenantSignups::OwnerPasswordHash))
                    .col(string_len(TenantSignups::Currency, 3))
                    .col(string_len(TenantSignups::Timezone, 64))
                    .col(string_len_null(TenantSignups::IdempotencyKey, 255).unique_key())
                    // Hash of the request (without the password) to tell a true retry from a
                    // different request reusing its key.
                    .col(string_len(TenantSignups::RequestHash, 64))
                    .col(timestamp_with_time_zone(TenantSignups::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TenantSignups::Table, TenantSignups::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TenantSignups::Table).to_owned())
            .await?;
        for column in [Tenants::Progress, Tenants::Failure] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tenants::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(string_len(Tenants::Currency, 3).default("USD"))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Progress,
    Failure,
    Currency,
}

#[derive(DeriveIden)]
enum TenantSignups {
    Table,
    TenantId,
    OwnerEmail,
    OwnerPasswordHash,
    Currency,
    Timezone,
    IdempotencyKey,
    RequestHash,
    CreatedAt,
}
