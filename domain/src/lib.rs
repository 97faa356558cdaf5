//! The commerce rules. Functions take the caller's connection or transaction.

pub mod tenants;
