//! Forgotten passwords, for admins and customers alike: a single-use token by email, valid for
//! one hour. The two kinds of account differ only in where the account is looked up, which
//! mail it gets and which row gets the new password.

use cartwheel_entity::{TenantId, customers, reset_tokens, users};
pub use cartwheel_jobs::families::email::Account;
use cartwheel_jobs::families::email::RequestPasswordReset;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set,
};
use uuid::Uuid;

use super::{AccountError, password, token};
use crate::emails::{self, NewEmail, Template};

pub const VALID_FOR: chrono::Duration = chrono::Duration::hours(1);

/// Asks for a reset link for `email`'s `account`: queues the job that runs [`request`], and
/// answers before anything is looked up, the same for every address.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn ask(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    email: &str,
    account: Account,
) -> Result<(), AccountError> {
    let job = RequestPasswordReset {
        tenant_id,
        email: email.trim().to_ascii_lowercase(),
        account,
    };
    cartwheel_jobs::enqueue(db, cartwheel_jobs::NewJob::new(job)).await?;
    Ok(())
}

/// The account a reset mail goes to.
struct Holder {
    id: Uuid,
    name: String,
    email: String,
}

/// Run by the `email.password_reset` job: emails a reset link if an account of this kind (an
/// active admin, or a customer) has this address, and does nothing otherwise.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn request(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    email: &str,
    account: Account,
) -> Result<(), AccountError> {
    let email = email.trim().to_ascii_lowercase();
    let Some(holder) = find_holder(db, tenant_id, &email, account).await? else {
        return Ok(());
    };
    let token = token::generate();
    let now = chrono::Utc::now();
    let (user_id, customer_id, template) = match account {
        Account::Admin => (Some(holder.id), None, Template::AdminPasswordReset),
        Account::Customer => (None, Some(holder.id), Template::CustomerPasswordReset),
    };
    let txn = crate::transaction::begin(db).await?;
    reset_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        user_id: Set(user_id),
        customer_id: Set(customer_id),
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
            to: holder.email,
            template,
            context: serde_json::json!({ "name": holder.name, "token": token, "valid_minutes": VALID_FOR.num_minutes() }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn find_holder(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    email: &str,
    account: Account,
) -> Result<Option<Holder>, DbErr> {
    Ok(match account {
        Account::Admin => users::Entity::find()
            .filter(users::Column::TenantId.eq(tenant_id))
            .filter(users::Column::Email.eq(email))
            .filter(users::Column::Active.eq(true))
            .one(db)
            .await?
            .map(|u| Holder {
                id: u.id,
                name: u.name,
                email: u.email,
            }),
        Account::Customer => customers::Entity::find()
            .filter(customers::Column::TenantId.eq(tenant_id))
            .filter(customers::Column::Email.eq(email))
            .one(db)
            .await?
            .map(|c| Holder {
                id: c.id,
                name: c.first_name,
                email: c.email,
            }),
    })
}

/// Sets a new password with a reset token of `account`'s kind; the token works once, within
/// its hour. The account's other reset tokens and every session issued before end with it.
/// `password_field` is the request field the password came in, named if it is too weak.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn reset(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    account: Account,
    token_given: &str,
    new_password: String,
    password_field: &'static str,
) -> Result<(), AccountError> {
    password::check_strength(password_field, &new_password)
        .map_err(|p| AccountError::Invalid(vec![p]))?;
    let now = chrono::Utc::now();
    let owner = match account {
        Account::Admin => reset_tokens::Column::UserId,
        Account::Customer => reset_tokens::Column::CustomerId,
    };
    let reset = reset_tokens::Entity::find()
        .filter(reset_tokens::Column::TokenHash.eq(token::hash(token_given)))
        .filter(reset_tokens::Column::TenantId.eq(tenant_id))
        .filter(owner.is_not_null())
        .one(db)
        .await?
        .filter(|r| r.used_at.is_none() && r.expires_at > now)
        .ok_or(AccountError::BadToken)?;
    let hash = password::hash(new_password).await;
    let txn = crate::transaction::begin(db).await?;
    // Marking it used first, conditionally, makes two concurrent uses end with one winner.
    let claimed = reset_tokens::Entity::update_many()
        .col_expr(reset_tokens::Column::UsedAt, Expr::value(now))
        .filter(reset_tokens::Column::Id.eq(reset.id))
        .filter(reset_tokens::Column::UsedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !claimed {
        return Err(AccountError::BadToken);
    }
    let owner_id = match account {
        Account::Admin => reset.user_id,
        Account::Customer => reset.customer_id,
    }
    .ok_or(AccountError::BadToken)?;
    // The account's other reset links stop working with this one.
    reset_tokens::Entity::update_many()
        .col_expr(reset_tokens::Column::UsedAt, Expr::value(now))
        .filter(owner.eq(owner_id))
        .filter(reset_tokens::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    match account {
        Account::Admin => super::users::set_password(&txn, owner_id, hash).await?,
        Account::Customer => set_customer_password(&txn, owner_id, hash, now).await?,
    }
    txn.commit().await?;
    Ok(())
}

/// A customer's new password; moving the session version on ends every earlier session.
async fn set_customer_password<C: ConnectionTrait>(
    db: &C,
    customer_id: Uuid,
    password_hash: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    customers::Entity::update_many()
        .col_expr(customers::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(
            customers::Column::SessionVersion,
            Expr::col(customers::Column::SessionVersion).add(1),
        )
        .col_expr(customers::Column::UpdatedAt, Expr::value(now))
        .filter(customers::Column::Id.eq(customer_id))
        .exec(db)
        .await?;
    Ok(())
}
