//! One value out of a query, for checks of business tables.

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// The first column of the first row of `sql`, as an integer.
pub async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .unwrap()
        .expect("a row");
    row.try_get_by_index::<i64>(0).unwrap()
}

/// The first column of the first row of `sql`, as a uuid.
pub async fn scalar_uuid(db: &DatabaseConnection, sql: &str) -> uuid::Uuid {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .unwrap()
        .expect("a row");
    row.try_get_by_index::<uuid::Uuid>(0).unwrap()
}
