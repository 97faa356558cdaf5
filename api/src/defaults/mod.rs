//! A shop's settings (read and changed) and its default business data: chart of accounts,
//! warehouses and units.

use cartwheel_domain::accounts::roles::Permission;
use cartwheel_domain::defaults;
use cartwheel_entity::ledger_accounts;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use crate::auth::{AdminAuth, AdminError};
use crate::country::Country;
use crate::json_body::JsonBody;
use crate::problem::ProblemJson;
use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// A shop's settings and reference data (seeded when it was provisioned).
    StoreSetup,
}

pub struct StoreSetupApi;

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct SettingsView {
    /// ISO 4217, fixed at signup: every price is kept in its minor units.
    currency: String,
    /// An IANA timezone.
    timezone: String,
    /// ISO 3166-1 alpha-2: where the shop is; carts estimate their tax for it.
    country: String,
    /// Whether prices include tax (the tax is then the part of them a rule says), or tax comes
    /// on top.
    prices_include_tax: bool,
}

/// The settings an admin may change.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct SettingsRequest {
    #[oai(validator(max_length = 64))]
    timezone: String,
    country: Country,
    prices_include_tax: bool,
}

impl From<cartwheel_entity::store_settings::Model> for SettingsView {
    fn from(settings: cartwheel_entity::store_settings::Model) -> Self {
        SettingsView {
            currency: settings.currency,
            timezone: settings.timezone,
            country: settings.country,
            prices_include_tax: settings.prices_include_tax,
        }
    }
}

/// An account in the chart, with its children.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct AccountNode {
    code: String,
    name: String,
    /// Asset, Liability, Equity, Income or Expense.
    root_type: String,
    #[oai(nullable)]
    account_type: Option<String>,
    is_group: bool,
    children: Vec<AccountNode>,
}

#[derive(Object)]
struct AccountTree {
    items: Vec<AccountNode>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct LocationView {
    code: String,
    name: String,
    #[oai(nullable)]
    parent_code: Option<String>,
}

#[derive(Object)]
struct WarehouseView {
    code: String,
    name: String,
    locations: Vec<LocationView>,
}

#[derive(Object)]
struct WarehouseList {
    items: Vec<WarehouseView>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct UnitView {
    code: String,
    name: String,
    whole_number: bool,
}

#[derive(Object)]
struct UnitList {
    items: Vec<UnitView>,
}

#[OpenApi(prefix_path = "/api/v1/admin", tag = "ApiTags::StoreSetup")]
impl StoreSetupApi {
    /// Currency, timezone, country and whether prices include tax.
    #[oai(path = "/settings", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn settings(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<SettingsView>, AdminError> {
        auth.0.require(Permission::SettingsRead)?;
        let settings = defaults::store_settings(&state.db, auth.0.tenant.id)
            .await
            .map_err(|e| AdminError::internal(&e))?
            .ok_or_else(|| ProblemJson::not_found("This shop is not set up yet."))?;
        Ok(Json(settings.into()))
    }

    /// Changes the timezone, the country and whether prices include tax (`settings:manage`);
    /// the currency stays.
    #[oai(path = "/settings", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn update_settings(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: JsonBody<SettingsRequest>,
    ) -> Result<Json<SettingsView>, AdminError> {
        auth.0.require(Permission::SettingsManage)?;
        let input = defaults::SettingsInput {
            country: body.0.country.0,
            timezone: body.0.timezone,
            prices_include_tax: body.0.prices_include_tax,
        };
        let settings =
            defaults::update_settings(&state.db, &state.catalog_changes, &auth.0.actor(), input)
                .await?;
        Ok(Json(settings.into()))
    }

    /// The chart of accounts as a tree under the five root types.
    #[oai(path = "/ledger-accounts", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn ledger_accounts(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<AccountTree>, AdminError> {
        auth.0.require(Permission::SettingsRead)?;
        let accounts = defaults::ledger_accounts(&state.db, auth.0.tenant.id)
            .await
            .map_err(|e| AdminError::internal(&e))?;
        Ok(Json(AccountTree {
            items: children_of(None, &accounts),
        }))
    }

    /// Warehouses with their locations.
    #[oai(path = "/warehouses", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn warehouses(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<WarehouseList>, AdminError> {
        auth.0.require(Permission::SettingsRead)?;
        let warehouses = defaults::warehouses(&state.db, auth.0.tenant.id)
            .await
            .map_err(|e| AdminError::internal(&e))?;
        Ok(Json(WarehouseList {
            items: warehouses
                .into_iter()
                .map(|(w, locations)| WarehouseView {
                    code: w.code,
                    name: w.name,
                    locations: locations
                        .iter()
                        .map(|l| LocationView {
                            code: l.code.clone(),
                            name: l.name.clone(),
                            parent_code: l.parent_id.and_then(|p| {
                                locations.iter().find(|x| x.id == p).map(|x| x.code.clone())
                            }),
                        })
                        .collect(),
                })
                .collect(),
        }))
    }

    /// Units of measure.
    #[oai(path = "/units", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn units(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<UnitList>, AdminError> {
        auth.0.require(Permission::SettingsRead)?;
        let units = defaults::units(&state.db, auth.0.tenant.id)
            .await
            .map_err(|e| AdminError::internal(&e))?;
        Ok(Json(UnitList {
            items: units
                .into_iter()
                .map(|u| UnitView {
                    code: u.code,
                    name: u.name,
                    whole_number: u.whole_number,
                })
                .collect(),
        }))
    }
}

fn children_of(parent: Option<uuid::Uuid>, all: &[ledger_accounts::Model]) -> Vec<AccountNode> {
    all.iter()
        .filter(|a| a.parent_id == parent)
        .map(|a| AccountNode {
            code: a.code.clone(),
            name: a.name.clone(),
            root_type: a.root_type.clone(),
            account_type: a.account_type.clone(),
            is_group: a.is_group,
            children: children_of(Some(a.id), all),
        })
        .collect()
}
