//! Self-service signup and the provisioning job's steps: a tenant goes from PENDING to READY
//! (or FAILED, retried) through the queue.

pub mod validate;

use cartwheel_entity::{TenantId, tenant_signups, tenants};
use cartwheel_jobs::families::provisioning::ProvisionTenant;
use cartwheel_jobs::{EnqueueError, NewJob};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set, SqlErr,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::accounts::{password, users};
use crate::emails::{self, NewEmail, Template};
use crate::tenants::{Status, progress};
use crate::validation::FieldProblem;
use crate::{defaults, tenants as tenant_queries};

pub const DEFAULT_CURRENCY: &str = "USD";
pub const DEFAULT_TIMEZONE: &str = "UTC";
/// Where a shop is when its signup names no country; its tax rules are seeded for it.
pub const DEFAULT_COUNTRY: &str = "US";

/// A signup as the client sent it.
pub struct Signup {
    pub business_name: String,
    pub owner_email: String,
    pub owner_password: String,
    pub domain: String,
    pub currency: Option<String>,
    pub timezone: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// The `Idempotency-Key` header: a retried request with it gets the first answer.
    pub idempotency_key: Option<String>,
}

/// The accepted signup: its tenant, and whether this answer repeats an earlier request's.
#[derive(Debug)]
pub struct Accepted {
    pub tenant_id: TenantId,
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    #[error("the signup is invalid")]
    Invalid(Vec<FieldProblem>),
    #[error("the domain `{0}` is taken")]
    DomainTaken(String),
    #[error("this Idempotency-Key was used for a different signup")]
    KeyReused,
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// Validates the signup, then creates the PENDING tenant, keeps the signup (with the password
/// already hashed) and enqueues its provisioning job, all in one transaction.
#[tracing::instrument(skip_all)]
pub async fn sign_up(db: &DatabaseConnection, signup: Signup) -> Result<Accepted, SignupError> {
    let mut problems = Vec::new();
    let mut check = |result: Result<String, FieldProblem>| {
        result.map_err(|p| problems.push(p)).unwrap_or_default()
    };
    let business_name = check(validate::check_business_name(
        "businessName",
        &signup.business_name,
    ));
    let owner_email = check(validate::check_owner_email(
        "ownerEmail",
        &signup.owner_email,
    ));
    let domain = check(validate::check_domain("domain", &signup.domain));
    let currency = check(validate::check_currency(
        "currency",
        signup.currency.as_deref().unwrap_or(DEFAULT_CURRENCY),
    ));
    let timezone = check(validate::check_timezone(
        "timezone",
        signup.timezone.as_deref().unwrap_or(DEFAULT_TIMEZONE),
    ));
    let country = check(crate::validation::check_country(
        "country",
        signup.country.as_deref().unwrap_or(DEFAULT_COUNTRY),
    ));
    if let Err(p) = validate::check_owner_password("ownerPassword", &signup.owner_password) {
        problems.push(p);
    }
    if !problems.is_empty() {
        return Err(SignupError::Invalid(problems));
    }
    let request_hash = {
        let mut hasher = Sha256::new();
        for part in [
            &business_name,
            &owner_email,
            &domain,
            &currency,
            &timezone,
            &country,
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hex::encode(hasher.finalize())
    };
    if let Some(key) = &signup.idempotency_key
        && let Some(earlier) = replay(db, key, &request_hash).await?
    {
        return Ok(earlier);
    }
    if tenant_queries::find_by_slug(db, &domain).await?.is_some() {
        return taken(db, signup.idempotency_key.as_deref(), &request_hash, domain).await;
    }
    let password_hash = password::hash(signup.owner_password).await;

    let tenant_id = TenantId(Uuid::now_v7());
    let now = chrono::Utc::now();
    let txn = crate::transaction::begin(db).await?;
    let written = async {
        tenants::ActiveModel {
            id: Set(tenant_id),
            slug: Set(domain.clone()),
            name: Set(business_name),
            status: Set(Status::Pending),
            progress: Set(progress(Status::Pending)),
            failure: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        tenant_signups::ActiveModel {
            tenant_id: Set(tenant_id),
            owner_email: Set(owner_email),
            owner_password_hash: Set(Some(password_hash)),
            currency: Set(currency),
            timezone: Set(timezone),
            country: Set(country),
            idempotency_key: Set(signup.idempotency_key.clone()),
            request_hash: Set(request_hash.clone()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        Ok::<_, DbErr>(())
    }
    .await;
    if let Err(e) = written {
        txn.rollback().await?;
        // A concurrent request won the race for the slug or the idempotency key.
        if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
            return taken(db, signup.idempotency_key.as_deref(), &request_hash, domain).await;
        }
        return Err(e.into());
    }
    cartwheel_jobs::enqueue(&txn, NewJob::new(ProvisionTenant { tenant_id })).await?;
    txn.commit().await?;
    Ok(Accepted {
        tenant_id,
        replayed: false,
    })
}

/// The domain exists: a concurrent retry of this very request may have just made it.
async fn taken(
    db: &DatabaseConnection,
    key: Option<&str>,
    request_hash: &str,
    domain: String,
) -> Result<Accepted, SignupError> {
    if let Some(key) = key
        && let Some(earlier) = replay(db, key, request_hash).await?
    {
        return Ok(earlier);
    }
    Err(SignupError::DomainTaken(domain))
}

async fn replay(
    db: &DatabaseConnection,
    key: &str,
    request_hash: &str,
) -> Result<Option<Accepted>, SignupError> {
    let Some(earlier) = tenant_signups::Entity::find()
        .filter(tenant_signups::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if earlier.request_hash != request_hash {
        return Err(SignupError::KeyReused);
    }
    Ok(Some(Accepted {
        tenant_id: earlier.tenant_id,
        replayed: true,
    }))
}

/// What the provisioning job did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The tenant is READY now, and its owner's email is queued.
    MadeReady,
    /// It was READY already (a re-run after a crash, or a duplicate delivery).
    AlreadyReady,
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The tenant or its signup is gone: nothing to retry.
    #[error("tenant {0} or its signup does not exist")]
    Missing(TenantId),
    #[error("seeding default data failed: {0}")]
    Seeding(DbErr),
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// Builds the tenant: owner account and default data in one transaction, then READY with the
/// store-ready email in another. Every step checks what is already done, so a re-run after a
/// crash anywhere creates nothing twice.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn provision(
    db: &DatabaseConnection,
    tenant_id: TenantId,
) -> Result<Outcome, ProvisionError> {
    let tenant = tenant_queries::find(db, tenant_id)
        .await?
        .ok_or(ProvisionError::Missing(tenant_id))?;
    if tenant.status == Status::Ready {
        return Ok(Outcome::AlreadyReady);
    }
    let signup = tenant_signups::Entity::find_by_id(tenant_id)
        .one(db)
        .await?
        .ok_or(ProvisionError::Missing(tenant_id))?;
    set_status(db, tenant_id, Status::CreatingTenant, None).await?;

    if !defaults::seeded(db, tenant_id).await? {
        set_status(db, tenant_id, Status::SeedingData, None).await?;
        let password_hash = signup
            .owner_password_hash
            .clone()
            .ok_or(ProvisionError::Missing(tenant_id))?;
        let txn = crate::transaction::begin(db).await?;
        let seeded = async {
            let owner_role = defaults::seed::seed(
                &txn,
                tenant_id,
                &signup.currency,
                &signup.timezone,
                &signup.country,
            )
            .await?;
            users::create(
                &txn,
                users::NewUser {
                    tenant_id,
                    email: signup.owner_email.clone(),
                    name: owner_name(&signup.owner_email),
                    password_hash,
                    role_id: owner_role,
                },
            )
            .await?;
            set_status(&txn, tenant_id, Status::Configuring, None).await
        }
        .await;
        match seeded {
            Ok(()) => txn.commit().await?,
            Err(e) => {
                txn.rollback().await?;
                return Err(ProvisionError::Seeding(e));
            }
        }
    }

    let txn = crate::transaction::begin(db).await?;
    // Only the run that flips the status sends the email.
    let flipped = tenants::Entity::update_many()
        .col_expr(tenants::Column::Status, Expr::value(Status::Ready))
        .col_expr(
            tenants::Column::Progress,
            Expr::value(progress(Status::Ready)),
        )
        .col_expr(
            tenants::Column::Failure,
            Expr::value(Option::<String>::None),
        )
        .col_expr(tenants::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(tenants::Column::Id.eq(tenant_id))
        .filter(tenants::Column::Status.ne(Status::Ready))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !flipped {
        txn.rollback().await?;
        return Ok(Outcome::AlreadyReady);
    }
    tenant_signups::Entity::update_many()
        .col_expr(
            tenant_signups::Column::OwnerPasswordHash,
            Expr::value(Option::<String>::None),
        )
        .filter(tenant_signups::Column::TenantId.eq(tenant_id))
        .exec(&txn)
        .await?;
    emails::queue(
        &txn,
        NewEmail {
            tenant_id: Some(tenant_id),
            to: signup.owner_email.clone(),
            template: Template::StoreReady,
            context: serde_json::json!({ "owner_email": signup.owner_email }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Outcome::MadeReady)
}

/// Records a failed attempt: FAILED with a message the person who signed up can read.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn mark_failed(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    message: &str,
) -> Result<(), DbErr> {
    set_status(db, tenant_id, Status::Failed, Some(message)).await
}

/// Moves a tenant that is not READY to `status`.
async fn set_status<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    status: Status,
    failure: Option<&str>,
) -> Result<(), DbErr> {
    let mut update = tenants::Entity::update_many()
        .col_expr(tenants::Column::Status, Expr::value(status))
        .col_expr(
            tenants::Column::Failure,
            Expr::value(failure.map(str::to_string)),
        )
        .col_expr(tenants::Column::UpdatedAt, Expr::value(chrono::Utc::now()));
    // A failure keeps the progress reached, so the client sees how far it got.
    if status != Status::Failed {
        update = update.col_expr(tenants::Column::Progress, Expr::value(progress(status)));
    }
    update
        .filter(tenants::Column::Id.eq(tenant_id))
        .filter(tenants::Column::Status.ne(Status::Ready))
        .exec(db)
        .await?;
    Ok(())
}

/// Until the owner sets a name: the part of the email before the `@`.
fn owner_name(email: &str) -> String {
    email.split('@').next().unwrap_or(email).to_string()
}
