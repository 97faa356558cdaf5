//! A shop's payment settings (admin): its Stripe keys. The secrets are write-only: they are
//! sealed at rest and shown back by their last 4 characters only. Stripe's webhook is in
//! `webhook`, refunds of card-paid orders in `refunds`.

pub mod refunds;
pub mod webhook;

use cartwheel_domain::accounts::roles::Permission;
use cartwheel_domain::payments::stripe_keys::{self, KeysInput, Shown, StripeKeysError};
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi, Tags};

use crate::auth::{AdminAuth, AdminError, validation};
use crate::json_body::JsonBody;
use crate::problem::ProblemJson;
use crate::responses::NoContent;
use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// How the shop takes payment (admin): manual always, Stripe once its keys are set.
    Payments,
}

pub struct PaymentsApi;

/// The shop's Stripe keys, all three at once (`settings:manage`).
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct StripeKeysRequest {
    /// `pk_test_…` or `pk_live_…`; the storefront hands it to the browser.
    #[oai(validator(pattern = "^pk_(test|live)_[A-Za-z0-9_]{8,247}$"))]
    publishable_key: String,
    /// `sk_…` or a restricted `rk_…` key, of the same mode (test or live) as the publishable
    /// key. Write-only.
    #[oai(validator(pattern = "^[sr]k_(test|live)_[A-Za-z0-9_]{8,247}$"))]
    secret_key: String,
    /// The signing secret of the shop's webhook endpoint, `whsec_…`. Write-only.
    #[oai(validator(pattern = "^whsec_[A-Za-z0-9_]{8,247}$"))]
    webhook_secret: String,
}

#[derive(Enum)]
#[oai(rename_all = "lowercase")]
enum Mode {
    Test,
    Live,
}

/// What an admin sees of the shop's Stripe keys: never the secrets themselves.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct StripeKeysView {
    publishable_key: String,
    /// The secret key's last 4 characters.
    secret_key_last4: String,
    /// The webhook signing secret's last 4 characters.
    webhook_secret_last4: String,
    mode: Mode,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Shown> for StripeKeysView {
    fn from(shown: Shown) -> Self {
        StripeKeysView {
            publishable_key: shown.publishable_key,
            secret_key_last4: shown.secret_key_last4,
            webhook_secret_last4: shown.webhook_secret_last4,
            mode: if shown.live { Mode::Live } else { Mode::Test },
            updated_at: shown.updated_at,
        }
    }
}

impl From<StripeKeysError> for AdminError {
    fn from(error: StripeKeysError) -> Self {
        match error {
            StripeKeysError::Invalid(problems) => AdminError::Unprocessable(validation(problems)),
            StripeKeysError::NoSecretsKey => AdminError::Conflict(ProblemJson::new(
                StatusCode::CONFLICT,
                "no-secrets-key",
                "This server cannot keep payment secrets: its operator has not set \
                 CARTWHEEL_SECRETS_KEY. The shop takes manual payment only.",
            )),
            StripeKeysError::Unreadable(e) => AdminError::internal(&e),
            StripeKeysError::Database(e) => AdminError::internal(&e),
        }
    }
}

fn not_set() -> AdminError {
    AdminError::NotFound(ProblemJson::not_found(
        "This shop has no Stripe keys: it takes manual payment only.",
    ))
}

#[OpenApi(prefix_path = "/api/v1/admin/payments", tag = "ApiTags::Payments")]
impl PaymentsApi {
    /// The shop's Stripe keys as admins see them (`settings:read`); 404 when it has none.
    #[oai(path = "/stripe", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn stripe(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<StripeKeysView>, AdminError> {
        auth.0.require(Permission::SettingsRead)?;
        let shown = stripe_keys::shown(&state.db, auth.0.tenant.id)
            .await
            .map_err(|e| AdminError::internal(&e))?
            .ok_or_else(not_set)?;
        Ok(Json(shown.into()))
    }

    /// Sets the shop's Stripe keys, replacing any (`settings:manage`). The secrets are sealed
    /// at rest and never shown again; 409 when the server has no `CARTWHEEL_SECRETS_KEY`.
    #[oai(path = "/stripe", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn set_stripe(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: JsonBody<StripeKeysRequest>,
    ) -> Result<Json<StripeKeysView>, AdminError> {
        auth.0.require(Permission::SettingsManage)?;
        let body = body.0;
        let input = KeysInput {
            publishable_key: body.publishable_key,
            secret_key: body.secret_key.into(),
            webhook_secret: body.webhook_secret.into(),
        };
        let shown =
            stripe_keys::set(&state.db, state.secrets.as_ref(), &auth.0.actor(), input).await?;
        Ok(Json(shown.into()))
    }

    /// Removes the shop's Stripe keys (`settings:manage`): it takes manual payment only.
    #[oai(path = "/stripe", method = "delete")]
    #[tracing::instrument(skip_all)]
    async fn remove_stripe(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<NoContent, AdminError> {
        auth.0.require(Permission::SettingsManage)?;
        let removed = stripe_keys::remove(&state.db, &auth.0.actor())
            .await
            .map_err(|e| AdminError::internal(&e))?;
        if !removed {
            return Err(not_set());
        }
        Ok(NoContent::NoContent)
    }
}
