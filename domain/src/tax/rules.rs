//! A shop's tax rules, as its admins keep them: one rule per country, region and class.

use crate::audit::{self, Action, Actor, Diff, Entity};
use cartwheel_entity::{TenantId, tax_rules};
use chrono::Utc;
use sea_orm::sea_query::Order;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use crate::catalog::{CatalogError, unique_conflict};
use crate::validation::{self, FieldProblem};

/// The highest rate: 100 %.
pub const MAX_RATE: i32 = 10_000;

pub struct RuleInput {
    pub name: String,
    pub country: String,
    pub region: Option<String>,
    pub tax_class: Option<String>,
    pub rate_basis_points: i32,
}

/// The shop's rules, by country, then the broadest first.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn list<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
) -> Result<Vec<tax_rules::Model>, sea_orm::DbErr> {
    tax_rules::Entity::find()
        .filter(tax_rules::Column::TenantId.eq(tenant_id))
        .order_by_asc(tax_rules::Column::Country)
        // "Any" first on both backends (Postgres sorts NULL last, SQLite first).
        .order_by(tax_rules::Column::Region.is_not_null(), Order::Asc)
        .order_by_asc(tax_rules::Column::Region)
        .order_by(tax_rules::Column::TaxClass.is_not_null(), Order::Asc)
        .order_by_asc(tax_rules::Column::TaxClass)
        .order_by_asc(tax_rules::Column::Id)
        .all(db)
        .await
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn create(
    db: &DatabaseConnection,
    by: &Actor,
    input: RuleInput,
) -> Result<tax_rules::Model, CatalogError> {
    let tenant_id = by.tenant_id;
    let input = validate(input)?;
    let now = Utc::now();
    let txn = crate::transaction::begin(db).await?;
    let rule = tax_rules::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        name: Set(input.name),
        country: Set(input.country),
        region: Set(input.region),
        tax_class: Set(input.tax_class),
        rate_basis_points: Set(input.rate_basis_points),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(taken)?;
    audit::record(
        &txn,
        by,
        Entity::TaxRule,
        rule.id,
        Action::Created,
        Diff::created(&rule),
    )
    .await?;
    txn.commit().await?;
    super::forget(tenant_id);
    Ok(rule)
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn update(
    db: &DatabaseConnection,
    by: &Actor,
    id: Uuid,
    input: RuleInput,
) -> Result<tax_rules::Model, CatalogError> {
    let tenant_id = by.tenant_id;
    let input = validate(input)?;
    let txn = crate::transaction::begin(db).await?;
    let before = get(&txn, tenant_id, id).await?;
    let mut rule: tax_rules::ActiveModel = before.clone().into();
    rule.name = Set(input.name);
    rule.country = Set(input.country);
    rule.region = Set(input.region);
    rule.tax_class = Set(input.tax_class);
    rule.rate_basis_points = Set(input.rate_basis_points);
    rule.updated_at = Set(Utc::now());
    let rule = rule.update(&txn).await.map_err(taken)?;
    let diff = Diff::changed(&before, &rule);
    audit::record(&txn, by, Entity::TaxRule, id, Action::Updated, diff).await?;
    txn.commit().await?;
    super::forget(tenant_id);
    Ok(rule)
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn delete(db: &DatabaseConnection, by: &Actor, id: Uuid) -> Result<(), CatalogError> {
    let tenant_id = by.tenant_id;
    let txn = crate::transaction::begin(db).await?;
    let before = get(&txn, tenant_id, id).await?;
    tax_rules::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        by,
        Entity::TaxRule,
        id,
        Action::Deleted,
        Diff::deleted(&before),
    )
    .await?;
    txn.commit().await?;
    super::forget(tenant_id);
    Ok(())
}

async fn get<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    id: Uuid,
) -> Result<tax_rules::Model, CatalogError> {
    tax_rules::Entity::find_by_id(id)
        .filter(tax_rules::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or(CatalogError::NotFound("tax rule"))
}

fn taken(error: sea_orm::DbErr) -> CatalogError {
    unique_conflict(
        error,
        "country",
        "A rule for this country, region and tax class exists.",
    )
}

/// A tax class: 1–32 characters of a–z, 0–9, `-` and `_` (items and rules name it alike).
pub fn check_class(field: &'static str, class: &str) -> Result<String, FieldProblem> {
    let class = class.trim().to_ascii_lowercase();
    let ok = (1..=32).contains(&class.len())
        && class
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(class)
    } else {
        Err(FieldProblem::new(
            field,
            "must be 1 to 32 characters of a-z, 0-9, '-' and '_', like `reduced`",
        ))
    }
}

fn validate(mut input: RuleInput) -> Result<RuleInput, CatalogError> {
    let mut problems = Vec::new();
    match crate::catalog::check_text("name", &input.name, 100) {
        Ok(name) => input.name = name,
        Err(p) => problems.push(p),
    }
    match validation::check_country("country", &input.country) {
        Ok(country) => input.country = country,
        Err(p) => problems.push(p),
    }
    input.region = match input.region.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(region) => match validation::check_length("region", region, 100) {
            Ok(()) => Some(region.to_string()),
            Err(p) => {
                problems.push(p);
                None
            }
        },
    };
    input.tax_class = match input.tax_class.as_deref() {
        None => None,
        Some(class) => match check_class("taxClass", class) {
            Ok(class) => Some(class),
            Err(p) => {
                problems.push(p);
                None
            }
        },
    };
    if !(0..=MAX_RATE).contains(&input.rate_basis_points) {
        problems.push(FieldProblem::new(
            "rateBasisPoints",
            format!("must be 0 to {MAX_RATE} (100 %)"),
        ));
    }
    if problems.is_empty() {
        Ok(input)
    } else {
        Err(CatalogError::Invalid(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_short_lowercase_words() {
        assert_eq!(check_class("c", " Reduced ").unwrap(), "reduced");
        assert_eq!(check_class("c", "zero_rated-2").unwrap(), "zero_rated-2");
        assert!(check_class("c", "").is_err());
        assert!(check_class("c", "two words").is_err());
        assert!(check_class("c", &"x".repeat(33)).is_err());
    }
}
