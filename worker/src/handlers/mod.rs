//! Handlers, one module per job family.

pub mod maintenance;
pub mod noop;
