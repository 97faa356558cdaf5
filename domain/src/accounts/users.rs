//! Admin users: creating, logging in, listing, changing roles, deactivating.

use cartwheel_entity::{TenantId, roles, users};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::roles::Role;
use super::{AccountError, password};
use crate::audit::{self, Action, Actor, Diff, Entity};

pub struct NewUser {
    pub tenant_id: TenantId,
    /// Lowercased already.
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role_id: Uuid,
}

#[tracing::instrument(skip_all)]
pub async fn create<C: ConnectionTrait>(db: &C, new: NewUser) -> Result<users::Model, DbErr> {
    let now = chrono::Utc::now();
    users::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(new.tenant_id),
        email: Set(new.email),
        name: Set(new.name),
        password_hash: Set(new.password_hash),
        role_id: Set(new.role_id),
        active: Set(true),
        last_login_at: Set(None),
        session_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// A user with their role.
#[derive(Clone, Debug)]
pub struct UserWithRole {
    pub user: users::Model,
    pub role: roles::Model,
}

/// Checks the email and password of an active user of the tenant.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn login<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    email: &str,
    password_given: String,
) -> Result<UserWithRole, AccountError> {
    let email = email.trim().to_ascii_lowercase();
    let found = users::Entity::find()
        .filter(users::Column::TenantId.eq(tenant_id))
        .filter(users::Column::Email.eq(email))
        .find_also_related_role(db)
        .await?;
    let stored = found.as_ref().map(|u| u.user.password_hash.clone());
    if !password::verify(password_given, stored).await {
        return Err(AccountError::BadCredentials);
    }
    let found = found.ok_or(AccountError::BadCredentials)?;
    if !found.user.active {
        return Err(AccountError::BadCredentials);
    }
    users::Entity::update_many()
        .col_expr(users::Column::LastLoginAt, Expr::value(chrono::Utc::now()))
        .filter(users::Column::Id.eq(found.user.id))
        .exec(db)
        .await?;
    Ok(found)
}

/// The active user behind a token, with their current role (so role changes and
/// deactivation take effect at once).
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn find_active<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    user_id: Uuid,
) -> Result<Option<UserWithRole>, DbErr> {
    let found = users::Entity::find_by_id(user_id)
        .filter(users::Column::TenantId.eq(tenant_id))
        .find_also_related_role(db)
        .await?;
    Ok(found.filter(|u| u.user.active))
}

#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn find<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    user_id: Uuid,
) -> Result<Option<UserWithRole>, DbErr> {
    users::Entity::find_by_id(user_id)
        .filter(users::Column::TenantId.eq(tenant_id))
        .find_also_related_role(db)
        .await
}

/// A page of the tenant's users by email, and the total.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn list<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    page: u64,
    limit: u64,
) -> Result<(Vec<UserWithRole>, u64), DbErr> {
    let query = users::Entity::find().filter(users::Column::TenantId.eq(tenant_id));
    let total = query.clone().count(db).await?;
    let items = query
        .order_by_asc(users::Column::Email)
        .find_also_related(roles::Entity)
        .paginate(db, limit)
        .fetch_page(page.saturating_sub(1))
        .await?
        .into_iter()
        .filter_map(|(user, role)| Some(UserWithRole { user, role: role? }))
        .collect();
    Ok((items, total))
}

#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn find_role<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    name: Role,
) -> Result<Option<roles::Model>, DbErr> {
    roles::Entity::find()
        .filter(roles::Column::TenantId.eq(tenant_id))
        .filter(roles::Column::Name.eq(name))
        .one(db)
        .await
}

/// Gives `user_id` the role `role_name`. Only an Owner makes or unmakes Owners, and the last
/// active Owner keeps the role.
#[tracing::instrument(skip_all)]
pub async fn change_role(
    db: &DatabaseConnection,
    by: &Actor,
    by_role: Role,
    user_id: Uuid,
    role_name: Role,
) -> Result<UserWithRole, AccountError> {
    let tenant_id = by.tenant_id;
    let txn = crate::transaction::begin(db).await?;
    let target = find(&txn, tenant_id, user_id)
        .await?
        .ok_or(AccountError::NotFound)?;
    let role = find_role(&txn, tenant_id, role_name)
        .await?
        .ok_or(AccountError::NotFound)?;
    if (role.name == Role::Owner || target.role.name == Role::Owner) && by_role != Role::Owner {
        return Err(AccountError::Forbidden(
            "Only an Owner can make or unmake Owners.".into(),
        ));
    }
    if target.role.name == Role::Owner && role.name != Role::Owner {
        ensure_another_owner(&txn, tenant_id, user_id).await?;
    }
    users::Entity::update_many()
        .col_expr(users::Column::RoleId, Expr::value(role.id))
        .col_expr(users::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(users::Column::Id.eq(user_id))
        .exec(&txn)
        .await?;
    let diff = Diff::default().field("role", target.role.name.to_value(), role.name.to_value());
    audit::record(&txn, by, Entity::User, user_id, Action::RoleChanged, diff).await?;
    txn.commit().await?;
    Ok(UserWithRole {
        user: target.user,
        role,
    })
}

/// Activates or deactivates `user_id`. The last active Owner cannot be deactivated; only an
/// Owner may deactivate an Owner.
#[tracing::instrument(skip_all)]
pub async fn set_active(
    db: &DatabaseConnection,
    by: &Actor,
    by_role: Role,
    user_id: Uuid,
    active: bool,
) -> Result<UserWithRole, AccountError> {
    let tenant_id = by.tenant_id;
    let txn = crate::transaction::begin(db).await?;
    let mut target = find(&txn, tenant_id, user_id)
        .await?
        .ok_or(AccountError::NotFound)?;
    if target.role.name == Role::Owner && by_role != Role::Owner {
        return Err(AccountError::Forbidden(
            "Only an Owner can change an Owner's account.".into(),
        ));
    }
    if !active && target.role.name == Role::Owner {
        ensure_another_owner(&txn, tenant_id, user_id).await?;
    }
    users::Entity::update_many()
        .col_expr(users::Column::Active, Expr::value(active))
        .col_expr(users::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(users::Column::Id.eq(user_id))
        .exec(&txn)
        .await?;
    let action = if active {
        Action::Activated
    } else {
        Action::Deactivated
    };
    let diff = Diff::default().field("active", target.user.active, active);
    audit::record(&txn, by, Entity::User, user_id, action, diff).await?;
    txn.commit().await?;
    target.user.active = active;
    Ok(target)
}

/// Fails unless an active Owner other than `user_id` exists. On Postgres the Owner rows are
/// locked, so two concurrent demotions cannot both pass.
async fn ensure_another_owner<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    user_id: Uuid,
) -> Result<(), AccountError> {
    let owner_role = find_role(db, tenant_id, Role::Owner)
        .await?
        .ok_or(AccountError::NotFound)?;
    let mut query = users::Entity::find()
        .filter(users::Column::TenantId.eq(tenant_id))
        .filter(users::Column::RoleId.eq(owner_role.id))
        .filter(users::Column::Active.eq(true));
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        use sea_orm::QuerySelect;
        query = query.lock_exclusive();
    }
    let others = query
        .all(db)
        .await?
        .into_iter()
        .filter(|u| u.id != user_id)
        .count();
    if others == 0 {
        return Err(AccountError::Conflict(
            "This is the tenant's last active Owner; make someone else an Owner first.".into(),
        ));
    }
    Ok(())
}

/// Sets a new password and ends every session issued before (the session version moves on).
#[tracing::instrument(skip_all)]
pub async fn set_password<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    password_hash: String,
) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(
            users::Column::SessionVersion,
            Expr::col(users::Column::SessionVersion).add(1),
        )
        .col_expr(users::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Users with their role, in one statement (the user joined to the role).
trait FindWithRole {
    async fn find_also_related_role<C: ConnectionTrait>(
        self,
        db: &C,
    ) -> Result<Option<UserWithRole>, DbErr>;
}

impl FindWithRole for sea_orm::Select<users::Entity> {
    async fn find_also_related_role<C: ConnectionTrait>(
        self,
        db: &C,
    ) -> Result<Option<UserWithRole>, DbErr> {
        let Some((user, role)) = self.find_also_related(roles::Entity).one(db).await? else {
            return Ok(None);
        };
        let role = role.ok_or_else(|| DbErr::RecordNotFound(format!("role {}", user.role_id)))?;
        Ok(Some(UserWithRole { user, role }))
    }
}
