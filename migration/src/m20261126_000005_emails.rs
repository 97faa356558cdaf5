//! Outgoing emails: what to render and send, and whether it was sent (so it never goes twice).

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::tenant_fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Emails::Table)
                    .col(pk_uuid(Emails::Id))
                    .col(uuid_null(Emails::TenantId))
                    .col(string_len(Emails::ToAddress, 254))
                    .col(string_len(Emails::Template, 64))
                    // The template's variables; may hold a one-time token, so never listed by the API.
                    .col(json(Emails::Context))
                    .col(string_len(Emails::MessageId, 128))
                    .col(text_null(Emails::Subject))
                    .col(timestamp_with_time_zone_null(Emails::SentAt))
                    .col(timestamp_with_time_zone(Emails::CreatedAt))
                    .foreign_key(&mut tenant_fk(Emails::Table, Emails::TenantId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Emails::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Emails {
    Table,
    Id,
    TenantId,
    ToAddress,
    Template,
    Context,
    MessageId,
    Subject,
    SentAt,
    CreatedAt,
}
