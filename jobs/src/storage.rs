//! The apalis job tables: created by `migrate`, probed by readiness checks.

use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("job storage migration failed: {0}")]
    Migrate(String),
    #[error("job storage is not reachable: {0}")]
    Unreachable(#[from] DbErr),
    #[error("job storage needs Postgres or SQLite")]
    UnsupportedBackend,
}

/// Creates or upgrades apalis's own tables (schema `apalis` on Postgres, `Jobs` on SQLite).
pub async fn setup(db: &DatabaseConnection) -> Result<(), StorageError> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            PostgresStorage::<()>::setup(db.get_postgres_connection_pool())
                .await
                .map_err(|e| StorageError::Migrate(e.to_string()))
        }
        DatabaseBackend::Sqlite => SqliteStorage::<()>::setup(db.get_sqlite_connection_pool())
            .await
            .map_err(|e| StorageError::Migrate(e.to_string())),
        _ => Err(StorageError::UnsupportedBackend),
    }
}

/// Succeeds when the jobs table answers a query.
pub async fn check<C: ConnectionTrait>(db: &C) -> Result<(), StorageError> {
    let sql = match db.get_database_backend() {
        DatabaseBackend::Postgres => "SELECT 1 FROM apalis.jobs LIMIT 1",
        DatabaseBackend::Sqlite => "SELECT 1 FROM Jobs LIMIT 1",
        _ => return Err(StorageError::UnsupportedBackend),
    };
    db.execute_unprepared(sql).await?;
    Ok(())
}
