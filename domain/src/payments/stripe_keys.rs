//! A shop's Stripe keys, set by its admins: the publishable key in the clear (the storefront
//! hands it to the browser), the secret key and the webhook signing secret sealed with the
//! server's secrets key (`crate::secrets`) and shown back only by their last 4 characters.

use cartwheel_entity::{TenantId, stripe_settings};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, EntityTrait, Set};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::audit::{self, Action, Actor, Diff, Entity};
use crate::secrets::{SecretsKey, Unreadable};
use crate::validation::FieldProblem;

const SECRET_KEY: &str = "secret_key";
const WEBHOOK_SECRET: &str = "webhook_secret";

#[derive(Debug, thiserror::Error)]
pub enum StripeKeysError {
    #[error("invalid input")]
    Invalid(Vec<FieldProblem>),
    /// The server has no `CARTWHEEL_SECRETS_KEY`: secrets cannot be stored or read.
    #[error("this server has no CARTWHEEL_SECRETS_KEY")]
    NoSecretsKey,
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

/// The keys an admin sets, all three at once.
pub struct KeysInput {
    pub publishable_key: String,
    pub secret_key: SecretString,
    pub webhook_secret: SecretString,
}

/// What admins see of a shop's keys (and the audit log records: never a secret).
#[derive(Serialize)]
pub struct Shown {
    pub publishable_key: String,
    pub secret_key_last4: String,
    pub webhook_secret_last4: String,
    pub live: bool,
    pub updated_at: DateTime<Utc>,
}

/// The shop's keys, opened, for calls to Stripe and checks of its webhooks.
pub struct StripeKeys {
    pub publishable_key: String,
    pub secret_key: SecretString,
    pub webhook_secret: SecretString,
    pub live: bool,
}

impl From<stripe_settings::Model> for Shown {
    fn from(row: stripe_settings::Model) -> Self {
        Shown {
            publishable_key: row.publishable_key,
            secret_key_last4: row.secret_key_last4,
            webhook_secret_last4: row.webhook_secret_last4,
            live: row.live,
            updated_at: row.updated_at,
        }
    }
}

/// Stores the shop's keys (replacing any), sealed.
#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn set(
    db: &DatabaseConnection,
    secrets: Option<&SecretsKey>,
    by: &Actor,
    input: KeysInput,
) -> Result<Shown, StripeKeysError> {
    let tenant_id = by.tenant_id;
    let live = check(&input)?;
    let secrets = secrets.ok_or(StripeKeysError::NoSecretsKey)?;
    let secret_key = input.secret_key.expose_secret().trim();
    let webhook_secret = input.webhook_secret.expose_secret().trim();
    let now = Utc::now();
    let txn = crate::transaction::begin(db).await?;
    let before = stripe_settings::Entity::find_by_id(tenant_id)
        .one(&txn)
        .await?
        .map(Shown::from);
    let row = stripe_settings::ActiveModel {
        tenant_id: Set(tenant_id),
        publishable_key: Set(input.publishable_key.trim().to_string()),
        secret_key: Set(secrets.seal(tenant_id, SECRET_KEY, secret_key)),
        secret_key_last4: Set(last4(secret_key)),
        webhook_secret: Set(secrets.seal(tenant_id, WEBHOOK_SECRET, webhook_secret)),
        webhook_secret_last4: Set(last4(webhook_secret)),
        live: Set(live),
        created_at: Set(now),
        updated_at: Set(now),
    };
    stripe_settings::Entity::insert(row)
        .on_conflict(
            OnConflict::column(stripe_settings::Column::TenantId)
                .update_columns([
                    stripe_settings::Column::PublishableKey,
                    stripe_settings::Column::SecretKey,
                    stripe_settings::Column::SecretKeyLast4,
                    stripe_settings::Column::WebhookSecret,
                    stripe_settings::Column::WebhookSecretLast4,
                    stripe_settings::Column::Live,
                    stripe_settings::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    let row: Shown = stripe_settings::Entity::find_by_id(tenant_id)
        .one(&txn)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("stripe_settings".into()))?
        .into();
    let (action, diff) = match &before {
        Some(before) => (Action::Updated, Diff::changed(before, &row)),
        None => (Action::Created, Diff::created(&row)),
    };
    audit::record(&txn, by, Entity::StripeSettings, tenant_id, action, diff).await?;
    txn.commit().await?;
    Ok(row)
}

/// What admins see of the shop's keys; `None` when the shop has no Stripe.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn shown(
    db: &DatabaseConnection,
    tenant_id: TenantId,
) -> Result<Option<Shown>, sea_orm::DbErr> {
    Ok(stripe_settings::Entity::find_by_id(tenant_id)
        .one(db)
        .await?
        .map(Shown::from))
}

/// The shop's stored keys, sealed; `None` when the shop has no Stripe (it takes manual payment
/// only).
pub async fn row(
    db: &DatabaseConnection,
    tenant_id: TenantId,
) -> Result<Option<stripe_settings::Model>, sea_orm::DbErr> {
    stripe_settings::Entity::find_by_id(tenant_id).one(db).await
}

/// The shop's stored keys, opened.
pub fn open(
    secrets: Option<&SecretsKey>,
    row: stripe_settings::Model,
) -> Result<StripeKeys, StripeKeysError> {
    let secrets = secrets.ok_or(StripeKeysError::NoSecretsKey)?;
    Ok(StripeKeys {
        secret_key: secrets.open(row.tenant_id, SECRET_KEY, &row.secret_key)?,
        webhook_secret: secrets.open(row.tenant_id, WEBHOOK_SECRET, &row.webhook_secret)?,
        publishable_key: row.publishable_key,
        live: row.live,
    })
}

/// Removes the shop's keys: it takes manual payment only. `false` when it had none.
#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn remove(db: &DatabaseConnection, by: &Actor) -> Result<bool, sea_orm::DbErr> {
    let txn = crate::transaction::begin(db).await?;
    let Some(before) = stripe_settings::Entity::find_by_id(by.tenant_id)
        .one(&txn)
        .await?
    else {
        return Ok(false);
    };
    stripe_settings::Entity::delete_by_id(by.tenant_id)
        .exec(&txn)
        .await?;
    let diff = Diff::deleted(&Shown::from(before));
    audit::record(
        &txn,
        by,
        Entity::StripeSettings,
        by.tenant_id,
        Action::Deleted,
        diff,
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Each key must look like Stripe's kind of it, and the publishable and secret keys must both
/// be test keys or both live keys. Answers whether they are live. Problems never quote a secret.
fn check(input: &KeysInput) -> Result<bool, StripeKeysError> {
    let mut problems = Vec::new();
    let publishable = input.publishable_key.trim();
    let secret = input.secret_key.expose_secret().trim();
    let webhook = input.webhook_secret.expose_secret().trim();
    let publishable_mode = mode(publishable, &["pk"]);
    let secret_mode = mode(secret, &["sk", "rk"]);
    if publishable_mode.is_none() {
        problems.push(FieldProblem::new(
            "publishableKey",
            "must be a Stripe publishable key (pk_test_… or pk_live_…)",
        ));
    }
    if secret_mode.is_none() {
        problems.push(FieldProblem::new(
            "secretKey",
            "must be a Stripe secret or restricted key (sk_test_…, sk_live_…, rk_test_… or rk_live_…)",
        ));
    }
    if !well_formed(webhook.strip_prefix("whsec_")) {
        problems.push(FieldProblem::new(
            "webhookSecret",
            "must be a Stripe webhook signing secret (whsec_…)",
        ));
    }
    if let (Some(p), Some(s)) = (publishable_mode, secret_mode)
        && p != s
    {
        problems.push(FieldProblem::new(
            "publishableKey",
            format!(
                "is a {} key but secretKey is a {} key: use both keys of one mode",
                name(p),
                name(s)
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(StripeKeysError::Invalid(problems));
    }
    Ok(secret_mode == Some(true))
}

/// `Some(live)` for `<prefix>_test_…` or `<prefix>_live_…` of one of `prefixes`.
fn mode(key: &str, prefixes: &[&str]) -> Option<bool> {
    prefixes.iter().find_map(|prefix| {
        let rest = key.strip_prefix(prefix)?.strip_prefix('_')?;
        if well_formed(rest.strip_prefix("test_")) {
            Some(false)
        } else if well_formed(rest.strip_prefix("live_")) {
            Some(true)
        } else {
            None
        }
    })
}

/// 8 to 247 letters, digits and underscores after the prefix (Stripe's keys are these).
fn well_formed(body: Option<&str>) -> bool {
    body.is_some_and(|b| {
        (8..=247).contains(&b.len()) && b.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
    })
}

fn name(live: bool) -> &'static str {
    if live { "live" } else { "test" }
}

fn last4(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(publishable: &str, secret: &str, webhook: &str) -> KeysInput {
        KeysInput {
            publishable_key: publishable.into(),
            secret_key: secret.to_string().into(),
            webhook_secret: webhook.to_string().into(),
        }
    }

    fn fields(result: Result<bool, StripeKeysError>) -> Vec<&'static str> {
        match result {
            Err(StripeKeysError::Invalid(problems)) => problems.iter().map(|p| p.field).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn keys_of_one_mode_are_accepted() {
        let test = input("pk_test_51Abcdefg", "sk_test_51Abcdef", "whsec_abcdefgh12");
        assert!(!check(&test).unwrap());
        let live = input("pk_live_51Abc123", "rk_live_51Abcdef", "whsec_abcdefgh12");
        assert!(check(&live).unwrap());
    }

    #[test]
    fn each_wrong_key_is_named_and_mixed_modes_are_refused() {
        assert_eq!(
            fields(check(&input("sk_test_51Abcdef", "pk_test_51Abcdef", "abc"))),
            ["publishableKey", "secretKey", "webhookSecret"]
        );
        assert_eq!(
            fields(check(&input(
                "pk_live_51Abc123",
                "sk_test_51Abcdef",
                "whsec_abcdefgh12"
            ))),
            ["publishableKey"]
        );
        assert_eq!(
            fields(check(&input(
                "pk_test_short",
                "sk_test_51Abc def",
                "whsec_abcdefgh12"
            ))),
            ["publishableKey", "secretKey"]
        );
    }

    #[test]
    fn only_the_last_four_characters_are_kept_in_the_clear() {
        assert_eq!(last4("sk_test_51Abcdef"), "cdef");
        assert_eq!(last4("abc"), "abc");
    }
}
