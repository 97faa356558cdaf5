//! Carts with their lines (prices snapshotted when added), and coupons.

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
                    .table(Coupons::Table)
                    .col(pk_uuid(Coupons::Id))
                    .col(uuid(Coupons::TenantId))
                    // Stored uppercased; unique per tenant.
                    .col(string_len(Coupons::Code, 64))
                    // `percent` (value in whole percent) or `fixed` (value in minor units).
                    .col(string_len(Coupons::Kind, 16))
                    .col(big_integer(Coupons::Value))
                    .col(big_integer_null(Coupons::MinSubtotal))
                    .col(timestamp_with_time_zone_null(Coupons::StartsAt))
                    .col(timestamp_with_time_zone_null(Coupons::EndsAt))
                    .col(integer_null(Coupons::MaxUses))
                    .col(integer_null(Coupons::MaxUsesPerCustomer))
                    .col(boolean(Coupons::Active))
                    .col(timestamp_with_time_zone(Coupons::CreatedAt))
                    .foreign_key(&mut tenant_fk(Coupons::Table, Coupons::TenantId))
                    .to_owned(),
            )
            .await?;
        create_unique_index(manager, Coupons::Table, &[Coupons::TenantId, Coupons::Code]).await?;

        manager
            .create_table(
                Table::create()
                    .table(CouponRedemptions::Table)
                    .col(pk_uuid(CouponRedemptions::Id))
                    .col(uuid(CouponRedemptions::TenantId))
                    .col(uuid(CouponRedemptions::CouponId))
                    .col(uuid_null(CouponRedemptions::CustomerId))
                    .col(timestamp_with_time_zone(CouponRedemptions::CreatedAt))
                    .foreign_key(&mut tenant_fk(
                        CouponRedemptions::Table,
                        CouponRedemptions::TenantId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CouponRedemptions::Table, CouponRedemptions::CouponId)
                            .to(Coupons::Table, Coupons::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("coupon_redemptions_coupon_customer")
                    .table(CouponRedemptions::Table)
                    .col(CouponRedemptions::CouponId)
                    .col(CouponRedemptions::CustomerId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Carts::Table)
                    .col(pk_uuid(Carts::Id))
                    .col(uuid(Carts::TenantId))
                    .col(uuid_null(Carts::CustomerId))
                    .col(string_len_null(Carts::Email, 254))
                    .col(uuid_null(Carts::CouponId))
                    // open, merged (into a customer's cart) or ordered.
                    .col(string_len(Carts::Status, 16))
                    .col(timestamp_with_time_zone_null(Carts::RemindedAt))
                    .col(timestamp_with_time_zone(Carts::CreatedAt))
                    .col(timestamp_with_time_zone(Carts::UpdatedAt))
                    .col(timestamp_with_time_zone(Carts::ExpiresAt))
                    .foreign_key(&mut tenant_fk(Carts::Table, Carts::TenantId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Carts::Table, Carts::CouponId)
                            .to(Coupons::Table, Coupons::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CartLines::Table)
                    .col(uuid(CartLines::CartId))
                    .col(uuid(CartLines::ItemId))
                    .col(big_integer(CartLines::Quantity))
                    // The item's price when it was first added.
                    .col(big_integer(CartLines::UnitPrice))
                    .col(timestamp_with_time_zone(CartLines::AddedAt))
                    .primary_key(
                        Index::create()
                            .col(CartLines::CartId)
                            .col(CartLines::ItemId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CartLines::Table, CartLines::CartId)
                            .to(Carts::Table, Carts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                CartLines::Table.into_iden(),
                Carts::Table.into_iden(),
                CouponRedemptions::Table.into_iden(),
                Coupons::Table.into_iden(),
            ],
        )
        .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Coupons {
    Table,
    Id,
    TenantId,
    Code,
    Kind,
    Value,
    MinSubtotal,
    StartsAt,
    EndsAt,
    MaxUses,
    MaxUsesPerCustomer,
    Active,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CouponRedemptions {
    Table,
    Id,
    TenantId,
    CouponId,
    CustomerId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Carts {
    Table,
    Id,
    TenantId,
    CustomerId,
    Email,
    CouponId,
    Status,
    RemindedAt,
    CreatedAt,
    UpdatedAt,
    ExpiresAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CartLines {
    Table,
    CartId,
    ItemId,
    Quantity,
    UnitPrice,
    AddedAt,
}
