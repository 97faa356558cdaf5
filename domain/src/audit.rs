//! The audit log: every admin change of a shop, written in the change's own transaction (a
//! change that fails leaves no row), with who made it and a small diff of what it changed.
//!
//! A diff holds the changed fields of the entity's row as its `serde::Serialize` writes them
//! (camelCase names; ids, the tenant and timestamps left out; long text cut to
//! [`MAX_TEXT`] characters). Rows whose fields include a secret skip that field in their
//! `Serialize` (users' password hash, the sealed Stripe keys), so no diff can hold one.

use cartwheel_entity::{TenantId, audit_log};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// Longest text kept of a field's value; longer values end in `…`.
pub const MAX_TEXT: usize = 200;

/// Fields every row has and no diff needs.
const LEFT_OUT: [&str; 5] = ["id", "tenantId", "createdAt", "updatedAt", "deletedAt"];

/// What kind of thing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum Entity {
    Product,
    Category,
    Stock,
    Coupon,
    Order,
    User,
    Invitation,
    Settings,
    StripeSettings,
    TaxRule,
    ShippingZone,
    ShippingMethod,
    /// A background job of the shop, retried or cancelled.
    Job,
}

/// What was done to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum Action {
    Created,
    Updated,
    Deleted,
    /// Products from a CSV file: how many were created and updated.
    Imported,
    Adjusted,
    Transferred,
    StatusChanged,
    MarkedPaid,
    Refunded,
    RoleChanged,
    Activated,
    Deactivated,
    Retried,
    Cancelled,
}

/// The stored names: snake_case, as the API shows them.
macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),*
                }
            }

            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == name)
            }
        }
    };
}

names!(Entity {
    Product => "product",
    Category => "category",
    Stock => "stock",
    Coupon => "coupon",
    Order => "order",
    User => "user",
    Invitation => "invitation",
    Settings => "settings",
    StripeSettings => "stripe_settings",
    TaxRule => "tax_rule",
    ShippingZone => "shipping_zone",
    ShippingMethod => "shipping_method",
    Job => "job",
});

names!(Action {
    Created => "created",
    Updated => "updated",
    Deleted => "deleted",
    Imported => "imported",
    Adjusted => "adjusted",
    Transferred => "transferred",
    StatusChanged => "status_changed",
    MarkedPaid => "marked_paid",
    Refunded => "refunded",
    RoleChanged => "role_changed",
    Activated => "activated",
    Deactivated => "deactivated",
    Retried => "retried",
    Cancelled => "cancelled",
});

/// Who makes a change: an admin of the shop, in the request that carries `request_id`.
#[derive(Clone, Debug)]
pub struct Actor {
    pub tenant_id: TenantId,
    pub user_id: Option<Uuid>,
    pub email: String,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn admin(
        tenant_id: TenantId,
        user_id: Uuid,
        email: &str,
        request_id: Option<&str>,
    ) -> Self {
        Actor {
            tenant_id,
            user_id: Some(user_id),
            email: email.to_string(),
            request_id: request_id.map(str::to_string),
        }
    }

    /// The platform operator (`CARTWHEEL_OPERATOR_TOKEN`) acting on the shop's jobs.
    pub fn operator(tenant_id: TenantId, request_id: Option<&str>) -> Self {
        Actor {
            tenant_id,
            user_id: None,
            email: "operator".to_string(),
            request_id: request_id.map(str::to_string),
        }
    }

    /// The shop's own processes (the demo shop's seed, say): no user, named by `what`.
    pub fn system(tenant_id: TenantId, what: &str) -> Self {
        Actor {
            tenant_id,
            user_id: None,
            email: format!("system:{what}"),
            request_id: None,
        }
    }
}

/// The changed fields of one change: `{"field": {"before": …, "after": …}}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diff(Map<String, Value>);

impl Diff {
    /// Every field of a new row, as `after`.
    pub fn created(after: &impl Serialize) -> Self {
        Self::between(None, Some(&fields(after)))
    }

    /// The fields that differ between the row before and after.
    pub fn changed(before: &impl Serialize, after: &impl Serialize) -> Self {
        Self::between(Some(&fields(before)), Some(&fields(after)))
    }

    /// Every field of a removed row, as `before`.
    pub fn deleted(before: &impl Serialize) -> Self {
        Self::between(Some(&fields(before)), None)
    }

    /// One field named by the caller (camelCase), for changes that are not a row's fields.
    pub fn field(mut self, name: &str, before: impl Serialize, after: impl Serialize) -> Self {
        let (before, after) = (small(to_value(before)), small(to_value(after)));
        if before != after {
            self.0
                .insert(name.to_string(), json!({"before": before, "after": after}));
        }
        self
    }

    /// This diff and another's fields (a row and the row that belongs to it).
    pub fn and(mut self, other: Diff) -> Self {
        self.0.extend(other.0);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }

    fn between(before: Option<&Map<String, Value>>, after: Option<&Map<String, Value>>) -> Self {
        let mut diff = Map::new();
        let names = before
            .into_iter()
            .chain(after)
            .flat_map(|m| m.keys())
            .filter(|k| !LEFT_OUT.contains(&k.as_str()));
        for name in names {
            if diff.contains_key(name) {
                continue;
            }
            let was = before.and_then(|m| m.get(name));
            let is = after.and_then(|m| m.get(name));
            if was == is {
                continue;
            }
            let mut change = Map::new();
            if let Some(was) = before.map(|_| was.cloned().unwrap_or(Value::Null)) {
                change.insert("before".into(), small(was));
            }
            if let Some(is) = after.map(|_| is.cloned().unwrap_or(Value::Null)) {
                change.insert("after".into(), small(is));
            }
            diff.insert(name.clone(), Value::Object(change));
        }
        Diff(diff)
    }
}

/// A row's fields by camelCase name.
fn fields(row: &impl Serialize) -> Map<String, Value> {
    match to_value(row) {
        Value::Object(map) => map.into_iter().map(|(k, v)| (camel(&k), v)).collect(),
        _ => Map::new(),
    }
}

fn to_value(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Text longer than [`MAX_TEXT`] characters is cut; arrays and objects are kept whole only
/// when their JSON is that short too.
fn small(value: Value) -> Value {
    match value {
        Value::String(s) if s.chars().count() > MAX_TEXT => {
            Value::String(s.chars().take(MAX_TEXT).chain(['…']).collect())
        }
        Value::Array(_) | Value::Object(_) if value.to_string().chars().count() > MAX_TEXT => {
            Value::String(
                value
                    .to_string()
                    .chars()
                    .take(MAX_TEXT)
                    .chain(['…'])
                    .collect(),
            )
        }
        other => other,
    }
}

/// Writes one audit row for `actor`'s change of `entity` `entity_id`; an empty diff of an
/// update (a save that changed nothing) writes none.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    entity: Entity,
    entity_id: impl std::fmt::Display,
    action: Action,
    diff: Diff,
) -> Result<(), DbErr> {
    if diff.is_empty() && action == Action::Updated {
        return Ok(());
    }
    audit_log::Entity::insert(audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(actor.tenant_id),
        at: Set(Utc::now()),
        actor_id: Set(actor.user_id),
        actor_email: Set(actor.email.clone()),
        request_id: Set(actor.request_id.clone()),
        entity: Set(entity.as_str().to_string()),
        entity_id: Set(entity_id.to_string()),
        action: Set(action.as_str().to_string()),
        diff: Set(diff.into_value().to_string()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// What the list shows: one kind of entity (or one entity), one actor, a time range (`from`
/// inclusive, `before` exclusive).
#[derive(Default)]
pub struct Filter {
    pub entity: Option<Entity>,
    pub entity_id: Option<String>,
    pub actor_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

/// A page of the shop's audit rows, newest first, and how many match.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn list<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    filter: &Filter,
    page: u64,
    limit: u64,
) -> Result<(Vec<audit_log::Model>, u64), DbErr> {
    let mut matching = Condition::all().add(audit_log::Column::TenantId.eq(tenant_id));
    if let Some(entity) = filter.entity {
        matching = matching.add(audit_log::Column::Entity.eq(entity.as_str()));
    }
    if let Some(entity_id) = &filter.entity_id {
        matching = matching.add(audit_log::Column::EntityId.eq(entity_id.as_str()));
    }
    if let Some(actor_id) = filter.actor_id {
        matching = matching.add(audit_log::Column::ActorId.eq(actor_id));
    }
    if let Some(from) = filter.from {
        matching = matching.add(audit_log::Column::At.gte(from));
    }
    if let Some(before) = filter.before {
        matching = matching.add(audit_log::Column::At.lt(before));
    }
    let query = audit_log::Entity::find().filter(matching);
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(audit_log::Column::At)
        .order_by_desc(audit_log::Column::Id)
        .offset((page - 1) * limit)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// The shop's latest `n` audit rows, newest first (the dashboard's recent activity): no count.
pub async fn recent<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    n: u64,
) -> Result<Vec<audit_log::Model>, DbErr> {
    audit_log::Entity::find()
        .filter(audit_log::Column::TenantId.eq(tenant_id))
        .order_by_desc(audit_log::Column::At)
        .order_by_desc(audit_log::Column::Id)
        .limit(n)
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        id: u32,
        tenant_id: u32,
        price: i64,
        long_description: String,
        updated_at: &'static str,
    }

    #[test]
    fn a_change_keeps_only_the_fields_that_changed_by_camel_case_name() {
        let before = Row {
            id: 1,
            tenant_id: 2,
            price: 100,
            long_description: "same".into(),
            updated_at: "then",
        };
        let after = Row {
            price: 120,
            long_description: before.long_description.clone(),
            updated_at: "now",
            ..before
        };
        assert_eq!(
            Diff::changed(&before, &after).into_value(),
            json!({"price": {"before": 100, "after": 120}})
        );
        assert!(Diff::changed(&after, &after).is_empty());
    }

    #[test]
    fn created_and_deleted_name_every_field_on_their_side_only() {
        let row = Row {
            id: 1,
            tenant_id: 2,
            price: 5,
            long_description: "x".repeat(MAX_TEXT + 10),
            updated_at: "now",
        };
        let created = Diff::created(&row).into_value();
        assert_eq!(created["price"], json!({"after": 5}));
        let cut = created["longDescription"]["after"].as_str().unwrap();
        assert_eq!(cut.chars().count(), MAX_TEXT + 1);
        assert!(cut.ends_with('…'));
        assert!(created.get("id").is_none() && created.get("tenantId").is_none());
        assert_eq!(
            Diff::deleted(&row).into_value()["price"],
            json!({"before": 5})
        );
    }

    #[test]
    fn a_named_field_is_kept_only_when_it_changed() {
        let diff = Diff::default()
            .field("status", "pending", "shipped")
            .field("note", "same", "same");
        assert_eq!(
            diff.into_value(),
            json!({"status": {"before": "pending", "after": "shipped"}})
        );
    }
}
