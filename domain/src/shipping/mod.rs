//! Shipping: a shop's zones (countries) and their methods, which of them apply to an address
//! and a subtotal, and what they cost.

pub mod methods;
pub mod zones;

use cartwheel_entity::{TenantId, shipping_methods, shipping_zone_countries};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};

/// Whether `method` ships an order of `subtotal` (the goods after their discount): it is
/// active and the subtotal is within its minimum and maximum, where it has them.
pub fn applies(method: &shipping_methods::Model, subtotal: i64) -> bool {
    method.active
        && method.min_subtotal.is_none_or(|min| subtotal >= min)
        && method.max_subtotal.is_none_or(|max| subtotal <= max)
}

/// What `method` costs for an order of `subtotal`: nothing from its free-over amount on.
pub fn price(method: &shipping_methods::Model, subtotal: i64) -> i64 {
    match method.free_over {
        Some(free) if subtotal >= free => 0,
        _ => method.price,
    }
}

/// The methods that ship an order of `subtotal` to `country`, cheapest first.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn for_destination<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    country: &str,
    subtotal: i64,
) -> Result<Vec<shipping_methods::Model>, DbErr> {
    // The methods of the zone that lists the country (at most one per shop), in one statement.
    let zone = shipping_zone_countries::Entity::find()
        .select_only()
        .column(shipping_zone_countries::Column::ZoneId)
        .filter(shipping_zone_countries::Column::TenantId.eq(tenant_id))
        .filter(shipping_zone_countries::Column::Country.eq(country))
        .into_query();
    let mut methods: Vec<_> = shipping_methods::Entity::find()
        .filter(shipping_methods::Column::TenantId.eq(tenant_id))
        .filter(shipping_methods::Column::ZoneId.in_subquery(zone))
        .order_by_asc(shipping_methods::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .filter(|m| applies(m, subtotal))
        .collect();
    methods.sort_by_key(|m| price(m, subtotal));
    Ok(methods)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(
        price: i64,
        free_over: Option<i64>,
        min: Option<i64>,
        max: Option<i64>,
    ) -> shipping_methods::Model {
        let now = chrono::Utc::now();
        shipping_methods::Model {
            id: uuid::Uuid::now_v7(),
            tenant_id: TenantId(uuid::Uuid::nil()),
            zone_id: uuid::Uuid::nil(),
            name: "Parcel".into(),
            price,
            free_over,
            min_subtotal: min,
            max_subtotal: max,
            active: true,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_method_applies_within_its_bounds_and_is_free_over_its_amount() {
        let parcel = method(495, Some(5000), None, None);
        assert!(applies(&parcel, 0));
        assert_eq!(price(&parcel, 4999), 495);
        assert_eq!(price(&parcel, 5000), 0);

        let freight = method(2500, None, Some(10_000), Some(50_000));
        assert!(!applies(&freight, 9_999));
        assert!(applies(&freight, 10_000));
        assert!(applies(&freight, 50_000));
        assert!(!applies(&freight, 50_001));
        assert_eq!(price(&freight, 50_000), 2500);

        let off = shipping_methods::Model {
            active: false,
            ..method(0, None, None, None)
        };
        assert!(!applies(&off, 100));
    }
}
