//! sea-orm entities, one file per table; data only, no business rules.

pub mod addresses;
pub mod audit_log;
pub mod backup_runs;
pub mod cart_lines;
pub mod carts;
pub mod categories;
pub mod checkout_lines;
pub mod checkouts;
pub mod coupon_redemptions;
pub mod coupons;
pub mod customers;
pub mod documents;
pub mod emails;
mod ids;
pub mod invitations;
pub mod item_sales_days;
pub mod items;
pub mod ledger_accounts;
pub mod ledger_entries;
pub mod listings;
pub mod low_stock_alerts;
pub mod order_counts;
pub mod order_lines;
pub mod orders;
pub mod payments;
pub mod refunds;
pub mod reset_tokens;
pub mod roles;
pub mod sales_days;
pub mod shipping_methods;
pub mod shipping_zone_countries;
pub mod shipping_zones;
pub mod stock_levels;
pub mod stock_movements;
pub mod stock_reservations;
pub mod stock_subscriptions;
pub mod store_settings;
pub mod stripe_events;
pub mod stripe_settings;
pub mod tax_rules;
pub mod tenant_signups;
pub mod tenants;
pub mod units;
pub mod users;
pub mod warehouse_locations;
pub mod warehouses;

pub use ids::TenantId;

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, EntityTrait, QueryTrait};

    use crate::{cart_lines, carts, items, listings};

    #[test]
    fn relations_build_the_foreign_key_joins() {
        let sql = items::Entity::find()
            .find_with_related(listings::Entity)
            .build(DbBackend::Postgres)
            .to_string();
        assert!(
            sql.contains(r#"LEFT JOIN "listings" ON "items"."id" = "listings"."item_id""#),
            "{sql}"
        );
        let sql = cart_lines::Entity::find()
            .find_also_related(carts::Entity)
            .build(DbBackend::Postgres)
            .to_string();
        assert!(
            sql.contains(r#"LEFT JOIN "carts" ON "cart_lines"."cart_id" = "carts"."id""#),
            "{sql}"
        );
    }
}
