//! A shop's shipping zones, as its admins keep them: a name and its countries, each country in
//! at most one zone of the shop (a unique key holds it, also against two admins at once).

use std::collections::BTreeSet;

use cartwheel_entity::{TenantId, shipping_methods, shipping_zone_countries, shipping_zones};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::audit::{self, Action, Actor, Diff, Entity};
use crate::catalog::{CatalogError, unique_conflict};
use crate::validation::{self, FieldProblem};

/// The most countries one zone lists.
pub const MAX_COUNTRIES: usize = 250;

pub struct ZoneInput {
    pub name: String,
    pub countries: Vec<String>,
}

/// A zone with its countries, in order.
pub struct Zone {
    pub zone: shipping_zones::Model,
    pub countries: Vec<String>,
}

#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn list<C: ConnectionTrait>(db: &C, tenant_id: TenantId) -> Result<Vec<Zone>, DbErr> {
    let zones = shipping_zones::Entity::find()
        .filter(shipping_zones::Column::TenantId.eq(tenant_id))
        .order_by_asc(shipping_zones::Column::Name)
        .order_by_asc(shipping_zones::Column::Id)
        .find_with_related(shipping_zone_countries::Entity)
        .all(db)
        .await?;
    Ok(zones
        .into_iter()
        .map(|(zone, countries)| Zone {
            zone,
            countries: sorted(countries),
        })
        .collect())
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn create(
    db: &DatabaseConnection,
    by: &Actor,
    input: ZoneInput,
) -> Result<Zone, CatalogError> {
    let tenant_id = by.tenant_id;
    let input = validate(input)?;
    let now = Utc::now();
    let txn = crate::transaction::begin(db).await?;
    let zone = shipping_zones::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        name: Set(input.name),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    write_countries(&txn, &zone, &input.countries).await?;
    let diff = Diff::created(&zone).field("countries", (), &input.countries);
    audit::record(
        &txn,
        by,
        Entity::ShippingZone,
        zone.id,
        Action::Created,
        diff,
    )
    .await?;
    txn.commit().await?;
    Ok(Zone {
        zone,
        countries: input.countries,
    })
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn update(
    db: &DatabaseConnection,
    by: &Actor,
    id: Uuid,
    input: ZoneInput,
) -> Result<Zone, CatalogError> {
    let tenant_id = by.tenant_id;
    let input = validate(input)?;
    let txn = crate::transaction::begin(db).await?;
    let before = get(&txn, tenant_id, id).await?;
    let countries_before = countries_of(&txn, id).await?;
    let mut zone: shipping_zones::ActiveModel = before.clone().into();
    zone.name = Set(input.name);
    zone.updated_at = Set(Utc::now());
    let zone = zone.update(&txn).await?;
    shipping_zone_countries::Entity::delete_many()
        .filter(shipping_zone_countries::Column::ZoneId.eq(id))
        .exec(&txn)
        .await?;
    write_countries(&txn, &zone, &input.countries).await?;
    let diff =
        Diff::changed(&before, &zone).field("countries", &countries_before, &input.countries);
    audit::record(&txn, by, Entity::ShippingZone, id, Action::Updated, diff).await?;
    txn.commit().await?;
    Ok(Zone {
        zone,
        countries: input.countries,
    })
}

async fn countries_of<C: ConnectionTrait>(db: &C, zone_id: Uuid) -> Result<Vec<String>, DbErr> {
    let countries = shipping_zone_countries::Entity::find()
        .filter(shipping_zone_countries::Column::ZoneId.eq(zone_id))
        .all(db)
        .await?;
    Ok(sorted(countries))
}

/// Deletes a zone with its countries and methods.
#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn delete(db: &DatabaseConnection, by: &Actor, id: Uuid) -> Result<(), CatalogError> {
    let tenant_id = by.tenant_id;
    let txn = crate::transaction::begin(db).await?;
    let before = get(&txn, tenant_id, id).await?;
    let countries_before = countries_of(&txn, id).await?;
    shipping_methods::Entity::delete_many()
        .filter(shipping_methods::Column::ZoneId.eq(id))
        .exec(&txn)
        .await?;
    shipping_zone_countries::Entity::delete_many()
        .filter(shipping_zone_countries::Column::ZoneId.eq(id))
        .exec(&txn)
        .await?;
    shipping_zones::Entity::delete_by_id(id).exec(&txn).await?;
    let diff = Diff::deleted(&before).field("countries", &countries_before, ());
    audit::record(&txn, by, Entity::ShippingZone, id, Action::Deleted, diff).await?;
    txn.commit().await?;
    Ok(())
}

/// The shop's zone `id`; another shop's is not found.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    id: Uuid,
) -> Result<shipping_zones::Model, CatalogError> {
    shipping_zones::Entity::find_by_id(id)
        .filter(shipping_zones::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or(CatalogError::NotFound("shipping zone"))
}

async fn write_countries<C: ConnectionTrait>(
    db: &C,
    zone: &shipping_zones::Model,
    countries: &[String],
) -> Result<(), CatalogError> {
    if countries.is_empty() {
        return Ok(());
    }
    shipping_zone_countries::Entity::insert_many(countries.iter().map(|country| {
        shipping_zone_countries::ActiveModel {
            zone_id: Set(zone.id),
            country: Set(country.clone()),
            tenant_id: Set(zone.tenant_id),
        }
    }))
    .exec(db)
    .await
    .map_err(|e| {
        unique_conflict(
            e,
            "countries",
            "A country in the list is in another zone of this shop.",
        )
    })?;
    Ok(())
}

fn sorted(countries: Vec<shipping_zone_countries::Model>) -> Vec<String> {
    let mut codes: Vec<String> = countries.into_iter().map(|c| c.country).collect();
    codes.sort();
    codes
}

fn validate(mut input: ZoneInput) -> Result<ZoneInput, CatalogError> {
    let mut problems = Vec::new();
    match crate::catalog::check_text("name", &input.name, 100) {
        Ok(name) => input.name = name,
        Err(p) => problems.push(p),
    }
    let mut countries = BTreeSet::new();
    for country in &input.countries {
        match validation::check_country("countries", country) {
            Ok(code) => {
                countries.insert(code);
            }
            Err(p) => {
                problems.push(p);
                break;
            }
        }
    }
    if input.countries.len() > MAX_COUNTRIES {
        problems.push(FieldProblem::new(
            "countries",
            format!("must list at most {MAX_COUNTRIES}"),
        ));
    }
    input.countries = countries.into_iter().collect();
    if problems.is_empty() {
        Ok(input)
    } else {
        Err(CatalogError::Invalid(problems))
    }
}
