//! Starting a write transaction. On SQLite it begins IMMEDIATE: taking the write lock up
//! front waits politely for other writers (the worker, say), where a deferred transaction that
//! reads first and then writes fails at once with "database is locked".

use sea_orm::{DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait};

pub async fn begin<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}
