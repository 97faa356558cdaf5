//! Customers' forgotten passwords: a single-use token by email, valid for one hour.

use cartwheel_entity::{customer_password_resets, customers};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::accounts::{AccountError, password, token};
use crate::emails::{self, NewEmail, Template};

pub const VALID_FOR: chrono::Duration = chrono::Duration::hours(1);

/// Run by the `email.password_reset` job: emails a reset link if a customer has this address,
/// and does nothing otherwise.
pub async fn request(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    email: &str,
) -> Result<(), AccountError> {
    let Some(customer) = customers::Entity::find()
        .filter(customers::Column::TenantId.eq(tenant_id))
        .filter(customers::Column::Email.eq(email.trim().to_ascii_lowercase()))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let token = token::generate();
    let now = chrono::Utc::now();
    let txn = crate::transaction::begin(db).await?;
    customer_password_resets::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        customer_id: Set(customer.id),
        token_hash: Set(token::hash(&token)),
        expires_at: Set(now + VALID_FOR),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    emails::queue(
        &txn,
        NewEmail {
            tenant_id: Some(tenant_id),
            to: customer.email,
            template: Template::CustomerPasswordReset,
            context: serde_json::json!({ "name": customer.first_name, "token": token, "valid_minutes": VALID_FOR.num_minutes() }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Sets a new password with a reset token; the token works once, within its hour. The
/// account's other reset tokens and every session issued before end with it.
pub async fn reset(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    token_given: &str,
    new_password: String,
) -> Result<(), AccountError> {
    password::check_strength("newPassword", &new_password)
        .map_err(|p| AccountError::Invalid(vec![p]))?;
    let now = chrono::Utc::now();
    let reset = customer_password_resets::Entity::find()
        .filter(customer_password_resets::Column::TokenHash.eq(token::hash(token_given)))
        .filter(customer_password_resets::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .filter(|r| r.used_at.is_none() && r.expires_at > now)
        .ok_or(AccountError::BadToken)?;
    let hash = password::hash(new_password).await;
    let txn = crate::transaction::begin(db).await?;
    let claimed = customer_password_resets::Entity::update_many()
        .col_expr(customer_password_resets::Column::UsedAt, Expr::value(now))
        .filter(customer_password_resets::Column::Id.eq(reset.id))
        .filter(customer_password_resets::Column::UsedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !claimed {
        return Err(AccountError::BadToken);
    }
    // The account's other reset links stop working with this one.
    customer_password_resets::Entity::update_many()
        .col_expr(customer_password_resets::Column::UsedAt, Expr::value(now))
        .filter(customer_password_resets::Column::CustomerId.eq(reset.customer_id))
        .filter(customer_password_resets::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    customers::Entity::update_many()
        .col_expr(customers::Column::PasswordHash, Expr::value(hash))
        .col_expr(
            customers::Column::SessionVersion,
            Expr::col(customers::Column::SessionVersion).add(1),
        )
        .col_expr(customers::Column::UpdatedAt, Expr::value(now))
        .filter(customers::Column::Id.eq(reset.customer_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
