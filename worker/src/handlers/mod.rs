//! Handlers, one module per job family.

pub mod abandoned_cart;
pub mod backup;
pub mod email;
pub mod maintenance;
pub mod noop;
pub mod order_confirmation;
pub mod payments;
pub mod provisioning;
pub mod stock;
