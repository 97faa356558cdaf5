//! Checkout and orders: a checkout snapshots a cart (its lines, coupon, contact, addresses,
//! shipping method and totals); confirming it reserves stock (`stock_reservations`, one row per
//! item and location) and places exactly one order (unique per checkout), numbered per shop by
//! `order_numbers` in the order's own transaction, so a failed confirm takes no number. Coupons
//! count their uses in `used_count`, changed by a conditional update under the coupon's row
//! lock, so a usage limit holds under concurrent confirms. `order_mails` records which of an
//! order's mails were queued: each once.

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
                    .table(Checkouts::Table)
                    .col(pk_uuid(Checkouts::Id))
                    .col(uuid(Checkouts::TenantId))
                    .col(uuid(Checkouts::CartId))
                    .col(uuid_null(Checkouts::CustomerId))
                    .col(string_len(Checkouts::Status, 16))
                    .col(string_len_null(Checkouts::Email, 254))
                    .col(string_len_null(Checkouts::Phone, 32))
                    .col(json_null(Checkouts::ShippingAddress))
                    .col(json_null(Checkouts::BillingAddress))
                    .col(uuid_null(Checkouts::ShippingMethodId))
                    .col(uuid_null(Checkouts::CouponId))
                    .col(string_len(Checkouts::Currency, 3))
                    .col(big_integer(Checkouts::Subtotal))
                    .col(big_integer(Checkouts::Discount))
                    .col(big_integer(Checkouts::Shipping))
                    .col(big_integer(Checkouts::Tax))
                    .col(big_integer(Checkouts::Total))
                    .col(timestamp_with_time_zone(Checkouts::CreatedAt))
                    .col(timestamp_with_time_zone(Checkouts::UpdatedAt))
                    .col(timestamp_with_time_zone(Checkouts::ExpiresAt))
                    .foreign_key(&mut tenant_fk(Checkouts::Table, Checkouts::TenantId))
                    .to_owned(),
            )
            .await?;
        // One checkout per cart: checking a cart out again refreshes it.
        create_unique_index(manager, Checkouts::Table, &[Checkouts::CartId]).await?;
        manager
            .create_table(
                Table::create()
                    .table(CheckoutLines::Table)
                    .col(uuid(CheckoutLines::CheckoutId))
                    .col(integer(CheckoutLines::Position))
                    .col(uuid(CheckoutLines::ItemId))
                    .col(string_len(CheckoutLines::Sku, 64))
                    .col(string_len(CheckoutLines::Name, 200))
                    .col(string_len(CheckoutLines::TaxClass, 32))
                    .col(big_integer(CheckoutLines::Quantity))
                    .col(big_integer(CheckoutLines::UnitPrice))
                    .primary_key(
                        Index::create()
                            .col(CheckoutLines::CheckoutId)
                            .col(CheckoutLines::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CheckoutLines::Table, CheckoutLines::CheckoutId)
                            .to(Checkouts::Table, Checkouts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StockReservations::Table)
                    .col(uuid(StockReservations::CheckoutId))
                    .col(uuid(StockReservations::ItemId))
                    .col(uuid(StockReservations::LocationId))
                    .col(uuid(StockReservations::TenantId))
                    .col(big_integer(StockReservations::Quantity))
                    .primary_key(
                        Index::create()
                            .col(StockReservations::CheckoutId)
                            .col(StockReservations::ItemId)
                            .col(StockReservations::LocationId),
                    )
                    .foreign_key(&mut tenant_fk(
                        StockReservations::Table,
                        StockReservations::TenantId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderNumbers::Table)
                    .col(pk_uuid(OrderNumbers::TenantId))
                    .col(big_integer(OrderNumbers::Last))
                    .foreign_key(&mut tenant_fk(OrderNumbers::Table, OrderNumbers::TenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(pk_uuid(Orders::Id))
                    .col(uuid(Orders::TenantId))
                    .col(big_integer(Orders::Number))
                    .col(uuid(Orders::CheckoutId))
                    .col(string_len_null(Orders::IdempotencyKey, 255))
                    .col(uuid_null(Orders::CustomerId))
                    .col(string_len(Orders::Email, 254))
                    .col(string_len(Orders::Phone, 32))
                    .col(string_len(Orders::Status, 16))
                    .col(string_len(Orders::PaymentStatus, 24))
                    .col(string_len(Orders::PaymentMethod, 16))
                    .col(string_len(Orders::Currency, 3))
                    .col(big_integer(Orders::Subtotal))
                    .col(big_integer(Orders::Discount))
                    .col(big_integer(Orders::Shipping))
                    .col(big_integer(Orders::ShippingTax))
                    .col(big_integer(Orders::Tax))
                    .col(big_integer(Orders::Total))
                    .col(big_integer(Orders::Refunded))
                    .col(big_integer(Orders::RefundDue))
                    .col(string_len_null(Orders::CouponCode, 64))
                    .col(string_len(Orders::ShippingMethod, 100))
                    .col(json(Orders::ShippingAddress))
                    .col(json(Orders::BillingAddress))
                    .col(string_len(Orders::TokenHash, 64))
                    .col(string_len_null(Orders::Carrier, 100))
                    .col(string_len_null(Orders::TrackingNumber, 100))
                    .col(string_len_null(Orders::TrackingUrl, 500))
                    .col(timestamp_with_time_zone(Orders::PlacedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Orders::PaymentDueAt))
                    .col(timestamp_with_time_zone_null(Orders::PaidAt))
                    .col(timestamp_with_time_zone_null(Orders::ShippedAt))
                    .col(timestamp_with_time_zone_null(Orders::DeliveredAt))
                    .col(timestamp_with_time_zone_null(Orders::CancelledAt))
                    .foreign_key(&mut tenant_fk(Orders::Table, Orders::TenantId))
                    .to_owned(),
            )
            .await?;
        // Exactly one order per checkout, held by the database, not by a check.
        create_unique_index(manager, Orders::Table, &[Orders::CheckoutId]).await?;
        create_unique_index(manager, Orders::Table, &[Orders::TenantId, Orders::Number]).await?;
        create_unique_index(
            manager,
            Orders::Table,
            &[Orders::TenantId, Orders::IdempotencyKey],
        )
        .await?;
        // The admin list (newest first, by status, by payment status, by customer, by email)
        // and a customer's history read by these.
        for (name, columns) in [
            ("orders_tenant_placed_idx", vec![Orders::PlacedAt]),
            (
                "orders_tenant_status_placed_idx",
                vec![Orders::Status, Orders::PlacedAt],
            ),
            (
                "orders_tenant_payment_placed_idx",
                vec![Orders::PaymentStatus, Orders::PlacedAt],
            ),
            (
                "orders_tenant_customer_placed_idx",
                vec![Orders::CustomerId, Orders::PlacedAt],
            ),
            ("orders_tenant_email_idx", vec![Orders::Email]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Orders::Table).col(Orders::TenantId);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        // Unpaid manual orders, found by their due time.
        manager
            .create_index(
                Index::create()
                    .name("orders_payment_due_idx")
                    .table(Orders::Table)
                    .col(Orders::PaymentDueAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderLines::Table)
                    .col(uuid(OrderLines::OrderId))
                    .col(integer(OrderLines::Position))
                    .col(uuid(OrderLines::ItemId))
                    .col(string_len(OrderLines::Sku, 64))
                    .col(string_len(OrderLines::Name, 200))
                    .col(big_integer(OrderLines::Quantity))
                    .col(big_integer(OrderLines::UnitPrice))
                    .col(big_integer(OrderLines::LineTotal))
                    .col(big_integer(OrderLines::Discount))
                    .col(string_len(OrderLines::TaxClass, 32))
                    .col(integer(OrderLines::TaxRate))
                    .col(big_integer(OrderLines::Tax))
                    .primary_key(
                        Index::create()
                            .col(OrderLines::OrderId)
                            .col(OrderLines::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderLines::Table, OrderLines::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderMails::Table)
                    .col(uuid(OrderMails::OrderId))
                    .col(string_len(OrderMails::Kind, 32))
                    .col(timestamp_with_time_zone(OrderMails::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(OrderMails::OrderId)
                            .col(OrderMails::Kind),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderMails::Table, OrderMails::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Coupons::Table)
                    .add_column(integer(Coupons::UsedCount).default(0))
                    .to_owned(),
            )
            .await?;
        // Nothing wrote redemptions before; counted anyway, so the column starts true.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE coupons SET used_count = (SELECT COUNT(*) FROM coupon_redemptions r \
                 WHERE r.coupon_id = coupons.id)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Coupons::Table)
                    .drop_column(Coupons::UsedCount)
                    .to_owned(),
            )
            .await?;
        // Carts closed by an order open again as they were: the status did not exist before.
        manager
            .get_connection()
            .execute_unprepared("UPDATE carts SET status = 'merged' WHERE status = 'ordered'")
            .await?;
        drop_tables(
            manager,
            vec![
                OrderMails::Table.into_iden(),
                OrderLines::Table.into_iden(),
                Orders::Table.into_iden(),
                OrderNumbers::Table.into_iden(),
                StockReservations::Table.into_iden(),
                CheckoutLines::Table.into_iden(),
                Checkouts::Table.into_iden(),
            ],
        )
        .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Checkouts {
    Table,
    Id,
    TenantId,
    CartId,
    CustomerId,
    Status,
    Email,
    Phone,
    ShippingAddress,
    BillingAddress,
    ShippingMethodId,
    CouponId,
    Currency,
    Subtotal,
    Discount,
    Shipping,
    Tax,
    Total,
    CreatedAt,
    UpdatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum CheckoutLines {
    Table,
    CheckoutId,
    Position,
    ItemId,
    Sku,
    Name,
    TaxClass,
    Quantity,
    UnitPrice,
}

#[derive(DeriveIden)]
enum StockReservations {
    Table,
    CheckoutId,
    ItemId,
    LocationId,
    TenantId,
    Quantity,
}

#[derive(DeriveIden)]
enum OrderNumbers {
    Table,
    TenantId,
    Last,
}

#[derive(DeriveIden, Clone, Copy)]
enum Orders {
    Table,
    Id,
    TenantId,
    Number,
    CheckoutId,
    IdempotencyKey,
    CustomerId,
    Email,
    Phone,
    Status,
    PaymentStatus,
    PaymentMethod,
    Currency,
    Subtotal,
    Discount,
    Shipping,
    ShippingTax,
    Tax,
    Total,
    Refunded,
    RefundDue,
    CouponCode,
    ShippingMethod,
    ShippingAddress,
    BillingAddress,
    TokenHash,
    Carrier,
    TrackingNumber,
    TrackingUrl,
    PlacedAt,
    UpdatedAt,
    PaymentDueAt,
    PaidAt,
    ShippedAt,
    DeliveredAt,
    CancelledAt,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    OrderId,
    Position,
    ItemId,
    Sku,
    Name,
    Quantity,
    UnitPrice,
    LineTotal,
    Discount,
    TaxClass,
    TaxRate,
    Tax,
}

#[derive(DeriveIden)]
enum OrderMails {
    Table,
    OrderId,
    Kind,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Coupons {
    Table,
    UsedCount,
}
