//! Handlers, one module per job family.

pub mod email;
pub mod maintenance;
pub mod noop;
pub mod provisioning;
