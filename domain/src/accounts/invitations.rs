//! Invitations: an Owner or Admin invites an email with a role; the invitee sets a name and
//! password with the token from the mail.

use cartwheel_entity::users as user_rows;
use cartwheel_entity::{TenantId, invitations};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    SqlErr,
};
use uuid::Uuid;

use super::roles::Role;
use super::users::{self, UserWithRole};
use super::{AccountError, password, token};
use crate::audit::{self, Action, Actor, Diff, Entity};
use crate::emails::{self, NewEmail, Template};
use crate::validation::{FieldProblem, check_email};

pub const VALID_FOR: chrono::Duration = chrono::Duration::days(7);

/// Invites `email` as `role_name`; the invitee gets an email with the token.
#[tracing::instrument(skip_all)]
pub async fn invite(
    db: &DatabaseConnection,
    by: &Actor,
    inviter: &UserWithRole,
    email: &str,
    role_name: Role,
) -> Result<invitations::Model, AccountError> {
    let tenant_id = inviter.user.tenant_id;
    let email = check_email("email", email).map_err(|p| AccountError::Invalid(vec![p]))?;
    let role = users::find_role(db, tenant_id, role_name)
        .await?
        .ok_or(AccountError::NotFound)?;
    if role.name == Role::Owner && inviter.role.name != Role::Owner {
        return Err(AccountError::Forbidden(
            "Only an Owner can invite an Owner.".into(),
        ));
    }
    if user_exists(db, tenant_id, &email).await? {
        return Err(AccountError::Conflict(format!(
            "{email} already has an account in this shop."
        )));
    }
    let token = token::generate();
    let now = chrono::Utc::now();
    let txn = crate::transaction::begin(db).await?;
    let invitation = invitations::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        email: Set(email.clone()),
        role_id: Set(role.id),
        invited_by: Set(inviter.user.id),
        token_hash: Set(token::hash(&token)),
        expires_at: Set(now + VALID_FOR),
        accepted_at: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let diff = Diff::default()
        .field("email", (), &email)
        .field("role", (), role.name.to_value());
    audit::record(
        &txn,
        by,
        Entity::Invitation,
        invitation.id,
        Action::Created,
        diff,
    )
    .await?;
    emails::queue(
        &txn,
        NewEmail {
            tenant_id: Some(tenant_id),
            to: email,
            template: Template::UserInvitation,
            context: serde_json::json!({
                "token": token,
                "inviter_name": inviter.user.name,
                "role": role.name.to_value(),
                "valid_days": VALID_FOR.num_days(),
            }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(invitation)
}

/// Creates the invitee's account from a valid, unused invitation token.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn accept(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    token_given: &str,
    name: &str,
    new_password: String,
) -> Result<UserWithRole, AccountError> {
    let mut problems = Vec::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        problems.push(FieldProblem::new("name", "must be 1 to 200 characters"));
    }
    if let Err(p) = password::check_strength("password", &new_password) {
        problems.push(p);
    }
    if !problems.is_empty() {
        return Err(AccountError::Invalid(problems));
    }
    let now = chrono::Utc::now();
    let Some(invitation) = invitations::Entity::find()
        .filter(invitations::Column::TokenHash.eq(token::hash(token_given)))
        .filter(invitations::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
    else {
        return Err(AccountError::BadToken);
    };
    if invitation.accepted_at.is_some() || invitation.expires_at <= now {
        return Err(AccountError::BadToken);
    }
    let hash = password::hash(new_password).await;
    let txn = crate::transaction::begin(db).await?;
    let claimed = invitations::Entity::update_many()
        .col_expr(invitations::Column::AcceptedAt, Expr::value(now))
        .filter(invitations::Column::Id.eq(invitation.id))
        .filter(invitations::Column::AcceptedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !claimed {
        return Err(AccountError::BadToken);
    }
    let created = users::create(
        &txn,
        users::NewUser {
            tenant_id,
            email: invitation.email.clone(),
            name: name.to_string(),
            password_hash: hash,
            role_id: invitation.role_id,
        },
    )
    .await;
    let user = match created {
        Ok(user) => user,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(AccountError::Conflict(format!(
                "{} already has an account in this shop.",
                invitation.email
            )));
        }
        Err(e) => return Err(e.into()),
    };
    txn.commit().await?;
    users::find(db, tenant_id, user.id)
        .await?
        .ok_or(AccountError::NotFound)
}

async fn user_exists(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    email: &str,
) -> Result<bool, sea_orm::DbErr> {
    Ok(user_rows::Entity::find()
        .filter(user_rows::Column::TenantId.eq(tenant_id))
        .filter(user_rows::Column::Email.eq(email))
        .one(db)
        .await?
        .is_some())
}
