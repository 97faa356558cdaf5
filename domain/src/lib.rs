//! The commerce rules. Functions take the caller's connection or transaction.

pub mod accounts;
pub mod catalog;
pub mod defaults;
pub mod emails;
pub mod provisioning;
pub mod tenants;
pub mod validation;
