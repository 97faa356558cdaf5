//! A shop's tax rules (admin): which rate applies to which country, region and tax class.

use cartwheel_domain::accounts::roles::Permission;
use cartwheel_domain::tax::rules::{self, RuleInput};
use cartwheel_entity::tax_rules::Model as TaxRule;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use crate::auth::{AdminAuth, AdminError};
use crate::country::Country;
use crate::json_body::JsonBody;
use crate::responses::{Created, NoContent};
use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// Tax rules by address and tax class (admin).
    Tax,
}

pub struct TaxApi;

/// A rate for addresses in a country, or only in one region of it, for items of every tax
/// class or only one. Of the rules that fit a line, the one for its class wins over one for
/// every class, then the one for its region over one for the whole country.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct TaxRuleRequest {
    #[oai(validator(min_length = 1, max_length = 100))]
    name: String,
    country: Country,
    /// Only addresses whose region is this (compared without regard to case); every region
    /// when omitted.
    #[oai(nullable, validator(min_length = 1, max_length = 100))]
    region: Option<String>,
    /// Only items of this class (shipping is `standard`); every class when omitted.
    #[oai(nullable, validator(pattern = "^[a-z0-9_-]{1,32}$"))]
    tax_class: Option<String>,
    /// 1 basis point = 0.01 %: 825 is 8.25 %.
    #[oai(validator(minimum(value = "0"), maximum(value = "10000")))]
    rate_basis_points: i32,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct TaxRuleView {
    id: uuid::Uuid,
    name: String,
    country: String,
    #[oai(nullable)]
    region: Option<String>,
    #[oai(nullable)]
    tax_class: Option<String>,
    rate_basis_points: i32,
}

impl From<TaxRule> for TaxRuleView {
    fn from(r: TaxRule) -> Self {
        TaxRuleView {
            id: r.id,
            name: r.name,
            country: r.country,
            region: r.region,
            tax_class: r.tax_class,
            rate_basis_points: r.rate_basis_points,
        }
    }
}

#[derive(Object)]
struct TaxRuleList {
    items: Vec<TaxRuleView>,
}

fn input(body: TaxRuleRequest) -> RuleInput {
    RuleInput {
        name: body.name,
        country: body.country.0,
        region: body.region,
        tax_class: body.tax_class,
        rate_basis_points: body.rate_basis_points,
    }
}

#[OpenApi(prefix_path = "/api/v1/admin/tax-rules", tag = "ApiTags::Tax")]
impl TaxApi {
    /// Every rule, by country, region and class.
    #[oai(path = "/", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn list(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<TaxRuleList>, AdminError> {
        auth.0.require(Permission::SettingsRead)?;
        let all = rules::list(&state.db, auth.0.tenant.id)
            .await
            .map_err(|e| AdminError::internal(&e))?;
        Ok(Json(TaxRuleList {
            items: all.into_iter().map(TaxRuleView::from).collect(),
        }))
    }

    /// Adds a rule; a second rule for the same country, region and class is a 409.
    #[oai(path = "/", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn create(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: JsonBody<TaxRuleRequest>,
    ) -> Result<Created<TaxRuleView>, AdminError> {
        auth.0.require(Permission::SettingsManage)?;
        let rule = rules::create(&state.db, &auth.0.actor(), input(body.0)).await?;
        Ok(Created::Created(Json(rule.into())))
    }

    /// Replaces a rule.
    #[oai(path = "/:id", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn update(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
        body: JsonBody<TaxRuleRequest>,
    ) -> Result<Json<TaxRuleView>, AdminError> {
        auth.0.require(Permission::SettingsManage)?;
        let rule = rules::update(&state.db, &auth.0.actor(), id.0, input(body.0)).await?;
        Ok(Json(rule.into()))
    }

    /// Deletes a rule; lines it covered fall to the next most specific rule.
    #[oai(path = "/:id", method = "delete")]
    #[tracing::instrument(skip_all)]
    async fn delete(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
    ) -> Result<NoContent, AdminError> {
        auth.0.require(Permission::SettingsManage)?;
        rules::delete(&state.db, &auth.0.actor(), id.0).await?;
        Ok(NoContent::NoContent)
    }
}
