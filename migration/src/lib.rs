//! Schema migrations for the business tables; every step runs on Postgres and SQLite.

pub use sea_orm_migration::prelude::*;

mod common;
mod m20261126_000001_create_tenants;
mod m20261126_000002_tenant_provisioning;
mod m20261126_000003_admin_accounts;
mod m20261126_000004_business_defaults;
mod m20261126_000005_emails;
mod m20261126_000006_catalog;
mod m20261126_000007_carts_and_coupons;
mod m20261126_000008_customers;
mod m20261126_000009_stock_alerts;
mod m20261126_000010_storefront_sort_keys;
mod m20261126_000011_category_parents;
mod m20261201_000012_customer_names;
mod m20261202_000013_session_versions;
mod m20261202_000014_cart_sessions;
mod m20261203_000015_reset_tokens;
mod m20261204_000016_email_claims;
mod m20261206_000017_tax_rules;
mod m20261206_000018_shipping;
mod m20261206_000019_checkout_and_orders;
mod m20261206_000020_ledger;
mod m20261206_000021_backup_runs;
mod m20261206_000022_stripe_settings;
mod m20261207_000023_stripe_payments;
mod m20261207_000024_audit_log;
mod m20261207_000025_dashboard;
mod m20261207_000026_listing_seo;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_tenants::Migration),
            Box::new(m20261126_000002_tenant_provisioning::Migration),
            Box::new(m20261126_000003_admin_accounts::Migration),
            Box::new(m20261126_000004_business_defaults::Migration),
            Box::new(m20261126_000005_emails::Migration),
            Box::new(m20261126_000006_catalog::Migration),
            Box::new(m20261126_000007_carts_and_coupons::Migration),
            Box::new(m20261126_000008_customers::Migration),
            Box::new(m20261126_000009_stock_alerts::Migration),
            Box::new(m20261126_000010_storefront_sort_keys::Migration),
            Box::new(m20261126_000011_category_parents::Migration),
            Box::new(m20261201_000012_customer_names::Migration),
            Box::new(m20261202_000013_session_versions::Migration),
            Box::new(m20261202_000014_cart_sessions::Migration),
            Box::new(m20261203_000015_reset_tokens::Migration),
            Box::new(m20261204_000016_email_claims::Migration),
            Box::new(m20261206_000017_tax_rules::Migration),
            Box::new(m20261206_000018_shipping::Migration),
            Box::new(m20261206_000019_checkout_and_orders::Migration),
            Box::new(m20261206_000020_ledger::Migration),
            Box::new(m20261206_000021_backup_runs::Migration),
            Box::new(m20261206_000022_stripe_settings::Migration),
            Box::new(m20261207_000023_stripe_payments::Migration),
            Box::new(m20261207_000024_audit_log::Migration),
            Box::new(m20261207_000025_dashboard::Migration),
            Box::new(m20261207_000026_listing_seo::Migration),
        ]
    }
}
