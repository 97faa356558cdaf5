//! Forgotten passwords: a single-use token by email, valid for one hour.

use cartwheel_entity::{password_resets, users};
pub use cartwheel_jobs::families::email::Account;
use cartwheel_jobs::families::email::RequestPasswordReset;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{AccountError, password, token};
use crate::emails::{self, NewEmail, Template};

pub const VALID_FOR: chrono::Duration = chrono::Duration::hours(1);

/// Asks for a reset link for `email`, an admin's or a customer's: queues the job that runs
/// [`request`] (or `customers::resets::request`), and answers before anything is looked up,
/// the same for every address.
pub async fn ask(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    email: &str,
    account: Account,
) -> Result<(), AccountError> {
    let job = RequestPasswordReset {
        tenant_id,
        email: email.trim().to_ascii_lowercase(),
        account,
    };
    cartwheel_jobs::enqueue(db, cartwheel_jobs::NewJob::new(job).tenant(tenant_id)).await?;
    Ok(())
}

/// Run by the `email.password_reset` job: emails a reset link if an active user has this
/// address, and does nothing otherwise.
pub async fn request(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    email: &str,
) -> Result<(), AccountError> {
    let email = email.trim().to_ascii_lowercase();
    let Some(user) = users::Entity::find()
        .filter(users::Column::TenantId.eq(tenant_id))
        .filter(users::Column::Email.eq(&email))
        .filter(users::Column::Active.eq(true))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let token = token::generate();
    let now = chrono::Utc::now();
    let txn = crate::transaction::begin(db).await?;
    password_resets::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        user_id: Set(user.id),
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
            to: user.email,
            template: Template::AdminPasswordReset,
            context: serde_json::json!({ "name": user.name, "token": token, "valid_minutes": VALID_FOR.num_minutes() }),
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
    password::check_strength("password", &new_password)
        .map_err(|p| AccountError::Invalid(vec![p]))?;
    let now = chrono::Utc::now();
    let Some(reset) = password_resets::Entity::find()
        .filter(password_resets::Column::TokenHash.eq(token::hash(token_given)))
        .filter(password_resets::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
    else {
        return Err(AccountError::BadToken);
    };
    if reset.used_at.is_some() || reset.expires_at <= now {
        return Err(AccountError::BadToken);
    }
    let hash = password::hash(new_password).await;
    let txn = crate::transaction::begin(db).await?;
    // Marking it used first, conditionally, makes two concurrent uses end with one winner.
    let claimed = password_resets::Entity::update_many()
        .col_expr(password_resets::Column::UsedAt, Expr::value(now))
        .filter(password_resets::Column::Id.eq(reset.id))
        .filter(password_resets::Column::UsedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !claimed {
        return Err(AccountError::BadToken);
    }
    // The account's other reset links stop working with this one.
    password_resets::Entity::update_many()
        .col_expr(password_resets::Column::UsedAt, Expr::value(now))
        .filter(password_resets::Column::UserId.eq(reset.user_id))
        .filter(password_resets::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    super::users::set_password(&txn, reset.user_id, hash).await?;
    txn.commit().await?;
    Ok(())
}
