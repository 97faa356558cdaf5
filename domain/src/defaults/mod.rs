//! A tenant's default business data: seeding it, and reading it back for admins.

pub mod seed;

use cartwheel_entity::TenantId;
use cartwheel_entity::{
    ledger_accounts, roles, store_settings, units, warehouse_locations, warehouses,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use crate::audit::{self, Action, Actor, Diff, Entity};
use crate::catalog::CatalogError;

/// Whether the tenant's defaults are in place (they are written in one transaction, the store
/// settings with them).
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn seeded<C: ConnectionTrait>(db: &C, tenant_id: TenantId) -> Result<bool, DbErr> {
    Ok(store_settings(db, tenant_id).await?.is_some())
}

#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn store_settings<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
) -> Result<Option<store_settings::Model>, DbErr> {
    store_settings::Entity::find_by_id(tenant_id).one(db).await
}

/// What an admin may change of a shop's settings; the currency stays what the shop signed up
/// with, since every price is kept in its minor units.
pub struct SettingsInput {
    pub country: String,
    pub timezone: String,
    pub prices_include_tax: bool,
}

/// Changes the shop's country, timezone and whether its prices include tax (committed as a
/// catalog change, since product answers say whether their prices include tax; then forgotten
/// by this process's cache of the shop's tax).
#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn update_settings(
    db: &sea_orm::DatabaseConnection,
    changes: &crate::catalog::CatalogChanges,
    by: &Actor,
    input: SettingsInput,
) -> Result<store_settings::Model, CatalogError> {
    let tenant_id = by.tenant_id;
    let mut problems = Vec::new();
    let country = crate::validation::check_country("country", &input.country)
        .map_err(|p| problems.push(p))
        .unwrap_or_default();
    let timezone = crate::provisioning::validate::check_timezone("timezone", &input.timezone)
        .map_err(|p| problems.push(p))
        .unwrap_or_default();
    if !problems.is_empty() {
        return Err(CatalogError::Invalid(problems));
    }
    let txn = crate::transaction::begin(db).await?;
    let before = store_settings(&txn, tenant_id)
        .await?
        .ok_or(CatalogError::NotFound("store settings"))?;
    let mut settings: store_settings::ActiveModel = before.clone().into();
    settings.country = Set(country);
    settings.timezone = Set(timezone);
    settings.prices_include_tax = Set(input.prices_include_tax);
    settings.updated_at = Set(chrono::Utc::now());
    let settings = settings.update(&txn).await?;
    let diff = Diff::changed(&before, &settings);
    audit::record(&txn, by, Entity::Settings, tenant_id, Action::Updated, diff).await?;
    changes.commit(txn, tenant_id).await?;
    crate::tax::forget(tenant_id);
    Ok(settings)
}

/// The chart of accounts, ordered by code (parents before children).
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn ledger_accounts<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
) -> Result<Vec<ledger_accounts::Model>, DbErr> {
    ledger_accounts::Entity::find()
        .filter(ledger_accounts::Column::TenantId.eq(tenant_id))
        .order_by_asc(ledger_accounts::Column::Code)
        .all(db)
        .await
}

/// Warehouses by code, each with its locations (ROOT first, then by code).
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn warehouses<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
) -> Result<Vec<(warehouses::Model, Vec<warehouse_locations::Model>)>, DbErr> {
    let list = warehouses::Entity::find()
        .filter(warehouses::Column::TenantId.eq(tenant_id))
        .order_by_asc(warehouses::Column::Code)
        .all(db)
        .await?;
    let mut locations = warehouse_locations::Entity::find()
        .filter(warehouse_locations::Column::TenantId.eq(tenant_id))
        .order_by_asc(warehouse_locations::Column::Code)
        .all(db)
        .await?;
    locations.sort_by_key(|l| (l.parent_id.is_some(), l.code.clone()));
    Ok(list
        .into_iter()
        .map(|w| {
            let own = locations
                .iter()
                .filter(|l| l.warehouse_id == w.id)
                .cloned()
                .collect();
            (w, own)
        })
        .collect())
}

#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn units<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
) -> Result<Vec<units::Model>, DbErr> {
    units::Entity::find()
        .filter(units::Column::TenantId.eq(tenant_id))
        .order_by_asc(units::Column::Code)
        .all(db)
        .await
}

#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn roles<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
) -> Result<Vec<roles::Model>, DbErr> {
    roles::Entity::find()
        .filter(roles::Column::TenantId.eq(tenant_id))
        .order_by_asc(roles::Column::Name)
        .all(db)
        .await
}
