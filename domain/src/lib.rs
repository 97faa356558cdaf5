//! The commerce rules. Functions take the caller's connection or transaction.

pub mod accounts;
pub mod audit;
pub mod backups;
pub mod carts;
pub mod catalog;
pub mod checkout;
pub mod coupons;
pub mod customers;
pub mod dashboard;
pub mod defaults;
pub mod emails;
pub mod ledger;
pub mod money;
pub mod orders;
pub mod payments;
pub mod postal;
pub mod provisioning;
pub mod secrets;
pub mod seo;
pub mod shipping;
mod sql;
pub mod tax;
pub mod tenants;
pub mod transaction;
pub mod validation;
