//! A shop's Stripe keys: one row per shop, its secrets sealed (`cartwheel_domain::secrets`).

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
                    .table(StripeSettings::Table)
                    .col(uuid(StripeSettings::TenantId).primary_key())
                    .col(string_len(StripeSettings::PublishableKey, 255))
                    .col(text(StripeSettings::SecretKey))
                    .col(string_len(StripeSettings::SecretKeyLast4, 4))
                    .col(text(StripeSettings::WebhookSecret))
                    .col(string_len(StripeSettings::WebhookSecretLast4, 4))
                    .col(boolean(StripeSettings::Live))
                    .col(timestamp_with_time_zone(StripeSettings::CreatedAt))
                    .col(timestamp_with_time_zone(StripeSettings::UpdatedAt))
                    .foreign_key(&mut tenant_fk(
                        StripeSettings::Table,
                        StripeSettings::TenantId,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StripeSettings::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum StripeSettings {
    Table,
    TenantId,
    PublishableKey,
    SecretKey,
    SecretKeyLast4,
    WebhookSecret,
    WebhookSecretLast4,
    Live,
    CreatedAt,
    UpdatedAt,
}
