//! sea-orm entities, one file per table; data only, no business rules.

pub mod addresses;
pub mod cart_lines;
pub mod carts;
pub mod categories;
pub mod coupon_redemptions;
pub mod coupons;
pub mod customer_password_resets;
pub mod customers;
pub mod emails;
pub mod invitations;
pub mod items;
pub mod ledger_accounts;
pub mod listings;
pub mod password_resets;
pub mod roles;
pub mod stock_levels;
pub mod stock_movements;
pub mod store_settings;
pub mod tax_rates;
pub mod tenant_signups;
pub mod tenants;
pub mod units;
pub mod users;
pub mod warehouse_locations;
pub mod warehouses;
