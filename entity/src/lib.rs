//! sea-orm entities, one module per table; data only, no business rules.

pub mod tenants;
