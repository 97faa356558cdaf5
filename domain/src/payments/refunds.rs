//! Card money paid back through Stripe. Each refund request carries an idempotency key made
//! from our own rows, so a retried job or request asks Stripe for the same refund again and
//! gets the first answer back.

use std::collections::HashMap;

use cartwheel_entity::{TenantId, checkouts, payments};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::stripe::{CallError, Stripe};
use crate::checkout::CheckoutError;
use crate::emails::{self, NewEmail, Template};

/// Refunds in full a payment that could place no order (`card::complete` found its stock gone,
/// or another payment had placed the order), and mails the shopper once.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id, payment = %payment_id))]
pub async fn refund_orphan(
    db: &DatabaseConnection,
    stripe: &Stripe,
    tenant_id: TenantId,
    payment_id: Uuid,
) -> Result<(), CheckoutError> {
    let Some(payment) = payments::Entity::find_by_id(payment_id)
        .filter(payments::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let (Some(intent_id), None, payments::Status::Succeeded) =
        (&payment.provider_id, payment.order_id, payment.status)
    else {
        return Ok(());
    };
    let account = stripe.account(db, tenant_id).await?.ok_or_else(|| {
        CallError::Refused("the shop's Stripe keys were removed; refund it in Stripe".into())
    })?;
    account
        .refund(
            intent_id,
            None,
            HashMap::from([
                ("cartwheel_payment".to_string(), payment.id.to_string()),
                ("reason".to_string(), "no order could be placed".to_string()),
            ]),
            &format!("cartwheel:refund:orphan:{}", payment.id),
        )
        .await?;
    let txn = crate::transaction::begin(db).await?;
    payments::Entity::update_many()
        .col_expr(
            payments::Column::Refunded,
            Expr::col(payments::Column::Received),
        )
        .col_expr(payments::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payments::Column::Id.eq(payment.id))
        .exec(&txn)
        .await?;
    let checkout = checkouts::Entity::find_by_id(payment.checkout_id)
        .one(&txn)
        .await?;
    if let Some(to) = checkout.and_then(|c| c.email) {
        emails::queue_once(
            &txn,
            &format!("payment-refunded:{}", payment.id),
            NewEmail {
                tenant_id: Some(tenant_id),
                to,
                template: Template::PaymentRefunded,
                context: serde_json::json!({
                    "amount": payment.received,
                    "currency": payment.currency,
                    "reason": "an item sold out, or the order was already paid, before your payment arrived.",
                }),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
