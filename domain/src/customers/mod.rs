//! Storefront customers: register, log in (their anonymous cart merges into their own),
//! profile and the address book (forgotten passwords: `accounts::resets`, as for admins).
//! Customers of one shop do not exist in another.

pub mod addresses;

use cartwheel_entity::{TenantId, customers};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, SqlErr,
};
use uuid::Uuid;

use crate::accounts::{AccountError, password};
use crate::carts;
use crate::emails::{self, NewEmail, Template};
use crate::validation::{FieldProblem, check_email};

pub struct Registration {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password: String,
}

/// A customer and, when they came with an anonymous cart, the cart they now own.
pub struct Session {
    pub customer: customers::Model,
    pub cart_id: Option<Uuid>,
}

/// Creates the customer, sends the welcome mail, and merges `cart_id` into their cart.
///
/// An address that has an account already is not told apart: its owner gets a mail saying
/// someone tried, and the caller an answer shaped like a new account's (an id, a cart id and
/// names that exist nowhere, so the token made from them opens nothing). Both ways hash the
/// password and queue one mail, so they take the same time too.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn register(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    registration: Registration,
    cart_id: Option<Uuid>,
) -> Result<Session, AccountError> {
    let mut problems = Vec::new();
    let email = check_email("email", &registration.email)
        .map_err(|p| problems.push(p))
        .ok();
    let (first_name, last_name) = check_names(
        &registration.first_name,
        &registration.last_name,
        &mut problems,
    );
    if let Err(p) = password::check_strength("password", &registration.password) {
        problems.push(p);
    }
    let Some(email) = email.filter(|_| problems.is_empty()) else {
        return Err(AccountError::Invalid(problems));
    };
    let hash = password::hash(registration.password).await;
    let now = chrono::Utc::now();
    let txn = crate::transaction::begin(db).await?;
    let created = customers::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        email: Set(email.clone()),
        first_name: Set(first_name.clone()),
        last_name: Set(last_name.clone()),
        phone: Set(None),
        password_hash: Set(hash),
        session_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await;
    let customer = match created {
        Ok(customer) => customer,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            let names = (first_name, last_name);
            return account_exists(db, tenant_id, email, names, cart_id).await;
        }
        Err(e) => return Err(e.into()),
    };
    emails::queue(
        &txn,
        NewEmail {
            tenant_id: Some(tenant_id),
            to: email,
            template: Template::CustomerWelcome,
            context: serde_json::json!({ "name": first_name }),
        },
    )
    .await?;
    txn.commit().await?;
    let cart_id = merge(db, tenant_id, &customer, cart_id).await?;
    Ok(Session { customer, cart_id })
}

/// Registration with a taken address: the owner is told by mail; the caller gets a
/// new-account-shaped answer about nobody.
async fn account_exists(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    email: String,
    (first_name, last_name): (String, String),
    cart_id: Option<Uuid>,
) -> Result<Session, AccountError> {
    let txn = crate::transaction::begin(db).await?;
    let owner = customers::Entity::find()
        .filter(customers::Column::TenantId.eq(tenant_id))
        .filter(customers::Column::Email.eq(&email))
        .one(&txn)
        .await?;
    emails::queue(
        &txn,
        NewEmail {
            tenant_id: Some(tenant_id),
            to: email.clone(),
            template: Template::CustomerAccountExists,
            context: serde_json::json!({ "name": owner.map_or(first_name.clone(), |o| o.first_name) }),
        },
    )
    .await?;
    txn.commit().await?;
    let now = chrono::Utc::now();
    Ok(Session {
        customer: customers::Model {
            id: Uuid::now_v7(),
            tenant_id,
            email,
            first_name,
            last_name,
            phone: None,
            password_hash: String::new(),
            session_version: 0,
            created_at: now,
            updated_at: now,
        },
        cart_id: cart_id.map(|_| Uuid::new_v4()),
    })
}

/// Checks email and password (one answer for both being wrong) and merges `cart_id`.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn login(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    email: &str,
    password_given: String,
    cart_id: Option<Uuid>,
) -> Result<Session, AccountError> {
    let found = customers::Entity::find()
        .filter(customers::Column::TenantId.eq(tenant_id))
        .filter(customers::Column::Email.eq(email.trim().to_ascii_lowercase()))
        .one(db)
        .await?;
    let stored = found.as_ref().map(|c| c.password_hash.clone());
    if !password::verify(password_given, stored).await {
        return Err(AccountError::BadCredentials);
    }
    let customer = found.ok_or(AccountError::BadCredentials)?;
    let cart_id = merge(db, tenant_id, &customer, cart_id).await?;
    Ok(Session { customer, cart_id })
}

#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn find(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    id: Uuid,
) -> Result<Option<customers::Model>, sea_orm::DbErr> {
    customers::Entity::find_by_id(id)
        .filter(customers::Column::TenantId.eq(tenant_id))
        .one(db)
        .await
}

/// A customer's names, trimmed: a first name of 1 to 100 characters, a last name of at most 100
/// (some people have one name only).
fn check_names(first: &str, last: &str, problems: &mut Vec<FieldProblem>) -> (String, String) {
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() || first.chars().count() > 100 {
        problems.push(FieldProblem::new(
            "firstName",
            "must be 1 to 100 characters",
        ));
    }
    if last.chars().count() > 100 {
        problems.push(FieldProblem::new(
            "lastName",
            "must be at most 100 characters",
        ));
    }
    (first.to_string(), last.to_string())
}

/// Changes the names and phone.
#[tracing::instrument(skip_all)]
pub async fn update_profile(
    db: &DatabaseConnection,
    customer: customers::Model,
    first_name: &str,
    last_name: &str,
    phone: Option<String>,
) -> Result<customers::Model, AccountError> {
    let mut problems = Vec::new();
    let (first_name, last_name) = check_names(first_name, last_name, &mut problems);
    let phone = phone
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty());
    if phone.as_ref().is_some_and(|p| {
        p.len() > 32
            || !p
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
    }) {
        problems.push(FieldProblem::new(
            "phone",
            "must be digits, spaces and + - ( ) ., at most 32",
        ));
    }
    if !problems.is_empty() {
        return Err(AccountError::Invalid(problems));
    }
    let mut active: customers::ActiveModel = customer.into();
    active.first_name = Set(first_name);
    active.last_name = Set(last_name);
    active.phone = Set(phone);
    active.updated_at = Set(chrono::Utc::now());
    Ok(active.update(db).await?)
}

async fn merge(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    customer: &customers::Model,
    cart_id: Option<Uuid>,
) -> Result<Option<Uuid>, AccountError> {
    match cart_id {
        None => Ok(carts::customer_cart(db, tenant_id, customer.id).await?),
        Some(cart_id) => Ok(Some(
            carts::merge_into_customer(db, tenant_id, cart_id, customer)
                .await
                .map_err(|e| match e {
                    carts::CartError::Database(e) => AccountError::Database(e),
                    carts::CartError::Enqueue(e) => AccountError::Enqueue(e),
                    other => {
                        AccountError::Invalid(vec![FieldProblem::new("cartId", other.to_string())])
                    }
                })?,
        )),
    }
}
