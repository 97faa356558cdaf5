//! Stripe payments: a payment row per attempt at paying a checkout (unique per checkout and
//! attempt, and per PaymentIntent), the refunds admins ask for, the webhook's events stored
//! once by their id, and the
//! "Stripe Clearing" account (1150) where card money waits for Stripe's payout, added to the
//! chart of every existing shop.

use sea_orm_migration::sea_orm::prelude::Uuid;
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
                    .table(Payments::Table)
                    .col(pk_uuid(Payments::Id))
                    .col(uuid(Payments::TenantId))
                    .col(uuid(Payments::CheckoutId))
                    .col(integer(Payments::Attempt))
                    .col(big_integer(Payments::Amount))
                    .col(string_len(Payments::Currency, 3))
                    .col(string_len_null(Payments::ProviderId, 255))
                    .col(string_len(Payments::Status, 16))
                    .col(big_integer(Payments::Received).default(0))
                    .col(big_integer(Payments::Refunded).default(0))
                    .col(uuid_null(Payments::OrderId))
                    .col(timestamp_with_time_zone(Payments::CreatedAt))
                    .col(timestamp_with_time_zone(Payments::UpdatedAt))
                    .foreign_key(&mut tenant_fk(Payments::Table, Payments::TenantId))
                    .to_owned(),
            )
            .await?;
        create_unique_index(
            manager,
            Payments::Table,
            &[Payments::CheckoutId, Payments::Attempt],
        )
        .await?;
        create_unique_index(manager, Payments::Table, &[Payments::ProviderId]).await?;
        manager
            .create_table(
                Table::create()
                    .table(Refunds::Table)
                    .col(pk_uuid(Refunds::Id))
                    .col(uuid(Refunds::TenantId))
                    .col(uuid(Refunds::OrderId))
                    .col(uuid(Refunds::PaymentId))
                    .col(big_integer(Refunds::Amount))
                    .col(string_len(Refunds::Reason, 500))
                    .col(string_len(Refunds::Status, 16))
                    .col(string_len_null(Refunds::ProviderId, 255))
                    .col(timestamp_with_time_zone(Refunds::CreatedAt))
                    .col(timestamp_with_time_zone(Refunds::UpdatedAt))
                    .foreign_key(&mut tenant_fk(Refunds::Table, Refunds::TenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("refunds_order_id")
                    .table(Refunds::Table)
                    .col(Refunds::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StripeEvents::Table)
                    .col(uuid(StripeEvents::TenantId))
                    .col(string_len(StripeEvents::Id, 255))
                    .col(string_len(StripeEvents::EventType, 255))
                    .col(string_len_null(StripeEvents::PaymentIntent, 255))
                    .col(text(StripeEvents::Payload))
                    .col(timestamp_with_time_zone(StripeEvents::ReceivedAt))
                    .col(timestamp_with_time_zone_null(StripeEvents::ProcessedAt))
                    .primary_key(
                        Index::create()
                            .col(StripeEvents::TenantId)
                            .col(StripeEvents::Id),
                    )
                    .foreign_key(&mut tenant_fk(StripeEvents::Table, StripeEvents::TenantId))
                    .to_owned(),
            )
            .await?;
        // A card payment counts its coupon when it reserves the stock; a failed payment gives
        // both back, so the redemption names its checkout.
        manager
            .alter_table(
                Table::alter()
                    .table(CouponRedemptions::Table)
                    .add_column(uuid_null(CouponRedemptions::CheckoutId))
                    .to_owned(),
            )
            .await?;
        add_clearing_account(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CouponRedemptions::Table)
                    .drop_column(CouponRedemptions::CheckoutId)
                    .to_owned(),
            )
            .await?;
        drop_tables(
            manager,
            vec![
                StripeEvents::Table.into_iden(),
                Refunds::Table.into_iden(),
                Payments::Table.into_iden(),
            ],
        )
        .await
    }
}

/// 1150 "Stripe Clearing" under each shop's Current Assets (1100), where it has none.
async fn add_clearing_account(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let parents = db
        .query_all(
            &Query::select()
                .columns([LedgerAccounts::Id, LedgerAccounts::TenantId])
                .from(LedgerAccounts::Table)
                .and_where(Expr::col(LedgerAccounts::Code).eq("1100"))
                .and_where(
                    Expr::col(LedgerAccounts::TenantId).not_in_subquery(
                        Query::select()
                            .column(LedgerAccounts::TenantId)
                            .from(LedgerAccounts::Table)
                            .and_where(Expr::col(LedgerAccounts::Code).eq("1150"))
                            .to_owned(),
                    ),
                )
                .to_owned(),
        )
        .await?;
    for row in parents {
        let parent: Uuid = row.try_get("", "id")?;
        let tenant: Uuid = row.try_get("", "tenant_id")?;
        let insert = Query::insert()
            .into_table(LedgerAccounts::Table)
            .columns([
                LedgerAccounts::Id,
                LedgerAccounts::TenantId,
                LedgerAccounts::ParentId,
                LedgerAccounts::Code,
                LedgerAccounts::Name,
                LedgerAccounts::RootType,
                LedgerAccounts::AccountType,
                LedgerAccounts::IsGroup,
            ])
            .values_panic([
                Uuid::new_v4().into(),
                tenant.into(),
                parent.into(),
                "1150".into(),
                "Stripe Clearing".into(),
                "Asset".into(),
                "Bank".into(),
                false.into(),
            ])
            .to_owned();
        db.execute(&insert).await?;
    }
    Ok(())
}

#[derive(DeriveIden, Clone, Copy)]
enum Payments {
    Table,
    Id,
    TenantId,
    CheckoutId,
    Attempt,
    Amount,
    Currency,
    ProviderId,
    Status,
    Received,
    Refunded,
    OrderId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Refunds {
    Table,
    Id,
    TenantId,
    OrderId,
    PaymentId,
    Amount,
    Reason,
    Status,
    ProviderId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum StripeEvents {
    Table,
    TenantId,
    Id,
    EventType,
    PaymentIntent,
    Payload,
    ReceivedAt,
    ProcessedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CouponRedemptions {
    Table,
    CheckoutId,
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
