//! The SQL dialect helpers of the domain's hand-written statements.

use sea_orm::DatabaseBackend;

/// The `n`th (1-based) bind parameter; numbered on both databases so a parameter can repeat.
pub(crate) fn placeholder(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}
