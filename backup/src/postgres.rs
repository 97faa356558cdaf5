//! Postgres: `pg_dump --format=custom` of the whole database inside one exported snapshot (so
//! the manifest's row counts are those of the dump), streamed to the storage; `pg_restore` into
//! a scratch database to verify, or into a target to restore.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use sea_orm::{
    AccessMode, ConnectionTrait, Database, DatabaseConnection, DbErr, IsolationLevel, Statement,
    TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

use crate::storage::Storage;
use crate::{BackupError, Dumped};

/// Dumps the database `db` (reached by `url`) into the object `key`.
pub async fn dump(
    db: &DatabaseConnection,
    url: &SecretString,
    storage: &Storage,
    key: &str,
) -> Result<Dumped, BackupError> {
    check_pg_dump_version(db).await?;
    // The snapshot lives as long as this transaction: counted here, dumped by pg_dump.
    let txn = db
        .begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?;
    let snapshot: String = query_value(&txn, "SELECT pg_export_snapshot()").await?;
    let tables = count_rows(&txn).await?;
    let migration = last_migration(&txn).await?;
    let connection = Connection::from_url(url)?;
    let mut child = connection
        .command("pg_dump")
        .args(["--format=custom", "--no-password"])
        .arg(format!("--snapshot={snapshot}"))
        .arg(format!("--dbname={}", connection.url))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| BackupError::Tool(format!("cannot run pg_dump: {e}")))?;
    let stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    // The object completes only if pg_dump exits well; an upload that failed first ends
    // pg_dump too (SIGPIPE), and its error is the one told.
    let exited_well = async {
        let status = child.wait().await.map_err(|e| e.to_string())?;
        if status.success() {
            Ok(())
        } else {
            let errors = errors.await.unwrap_or_default();
            Err(format!("pg_dump failed ({status}): {}", errors.trim()))
        }
    };
    let uploaded = storage.upload(key, stdout, exited_well).await;
    txn.commit().await?;
    let (size, sha256) = uploaded?;
    Ok(Dumped {
        size,
        sha256,
        tables,
        migration,
    })
}

/// Restores the dump in `file` into a new scratch database on the same server, counts its
/// rows, and drops it again.
pub async fn restore_and_count(
    db: &DatabaseConnection,
    url: &SecretString,
    file: &Path,
) -> Result<BTreeMap<String, i64>, BackupError> {
    let name = format!("cartwheel_verify_{}", uuid::Uuid::new_v4().simple());
    // From template0: a template1 with additions would add rows the manifest never counted.
    db.execute_unprepared(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
        .await?;
    let scratch = SecretString::from(with_database(url, &name)?);
    let counted = async {
        pg_restore(&scratch, file).await?;
        let restored = connect(&scratch).await?;
        let tables = count_rows(&restored).await;
        restored.close().await?;
        tables
    }
    .await;
    db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    counted
}

/// Restores the dump in `file` into the database at `url`, which must hold no tables unless
/// `force` (then every schema of it is dropped first).
pub async fn restore_into(url: &SecretString, file: &Path, force: bool) -> Result<(), BackupError> {
    let target = connect(url).await?;
    let tables = tables_of(&target).await?;
    if !tables.is_empty() {
        if !force {
            return Err(BackupError::TargetNotEmpty(format!(
                "the target database has {} tables; restore into an empty database, or add --force to replace everything in it",
                tables.len()
            )));
        }
        for schema in user_schemas(&target).await? {
            target
                .execute_unprepared(&format!("DROP SCHEMA {} CASCADE", quote(&schema)))
                .await?;
        }
        target
            .execute_unprepared("CREATE SCHEMA IF NOT EXISTS public")
            .await?;
    }
    target.close().await?;
    pg_restore(url, file).await
}

async fn pg_restore(url: &SecretString, file: &Path) -> Result<(), BackupError> {
    let connection = Connection::from_url(url)?;
    let output = connection
        .command("pg_restore")
        // One transaction: a restore that fails leaves the target as it was.
        .args([
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
        ])
        .arg(format!("--dbname={}", connection.url))
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| BackupError::Tool(format!("cannot run pg_restore: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(BackupError::Tool(format!(
            "pg_restore failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// pg_dump must not be older than the server (it refuses, or misses what is new).
async fn check_pg_dump_version(db: &DatabaseConnection) -> Result<(), BackupError> {
    let server: String = query_value(db, "SHOW server_version_num").await?;
    let server_major = server.parse::<u32>().unwrap_or(0) / 10_000;
    let output = Command::new("pg_dump")
        .arg("--version")
        .output()
        .await
        .map_err(|e| {
            BackupError::Tool(format!(
                "cannot run pg_dump ({e}): install the PostgreSQL client tools (Debian: postgresql-client)"
            ))
        })?;
    let version = String::from_utf8_lossy(&output.stdout);
    let client_major = version
        .split_whitespace()
        .last()
        .and_then(|v| v.split('.').next())
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(0);
    if client_major < server_major {
        return Err(BackupError::Tool(format!(
            "pg_dump {} is older than the server (major {server_major}); install a client of at least that version",
            version.trim()
        )));
    }
    Ok(())
}

/// Rows per table of every schema but the system's, as `schema.table`.
pub(crate) async fn count_rows<C: ConnectionTrait>(
    db: &C,
) -> Result<BTreeMap<String, i64>, BackupError> {
    let mut counts = BTreeMap::new();
    for (schema, table) in tables_of(db).await? {
        let n: i64 = query_value(
            db,
            &format!("SELECT count(*) FROM {}.{}", quote(&schema), quote(&table)),
        )
        .await?;
        counts.insert(format!("{schema}.{table}"), n);
    }
    Ok(counts)
}

/// Every table outside the system schemas, as (schema, table).
async fn tables_of<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, String)>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT schemaname, tablename FROM pg_catalog.pg_tables \
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?)))
        .collect()
}

async fn user_schemas<C: ConnectionTrait>(db: &C) -> Result<Vec<String>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT nspname FROM pg_catalog.pg_namespace \
             WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
        ))
        .await?;
    rows.iter().map(|r| r.try_get_by_index(0)).collect()
}

async fn last_migration<C: ConnectionTrait>(db: &C) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1",
        ))
        .await?;
    row.map(|r| r.try_get_by_index(0)).transpose()
}

async fn query_value<C: ConnectionTrait, T: sea_orm::TryGetable>(
    db: &C,
    sql: &str,
) -> Result<T, DbErr> {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| DbErr::Custom(format!("no row from `{sql}`")))?
        .try_get_by_index(0)
}

/// An identifier, double-quoted.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A libpq connection for the client tools: the URL without its password, which goes in
/// `PGPASSWORD` (an argument would show in `ps`).
struct Connection {
    url: String,
    password: Option<String>,
}

impl Connection {
    fn from_url(url: &SecretString) -> Result<Self, BackupError> {
        let mut parsed = url::Url::parse(url.expose_secret())
            .map_err(|e| BackupError::Config(format!("DATABASE_URL does not parse: {e}")))?;
        let password = parsed
            .password()
            .map(|p| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .filter(|p| !p.is_empty());
        let _ = parsed.set_password(None);
        Ok(Connection {
            url: parsed.to_string(),
            password,
        })
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        if let Some(password) = &self.password {
            command.env("PGPASSWORD", password);
        }
        command
    }
}

/// Connects to `url`; an error never shows the URL's password.
async fn connect(url: &SecretString) -> Result<DatabaseConnection, BackupError> {
    Database::connect(url.expose_secret()).await.map_err(|e| {
        let mut message = e.to_string();
        if let Some(password) = url::Url::parse(url.expose_secret())
            .ok()
            .and_then(|u| u.password().map(str::to_string))
            .filter(|p| !p.is_empty())
        {
            message = message.replace(&password, "***");
        }
        BackupError::Database(DbErr::Custom(message))
    })
}

/// `url` with its database name replaced.
fn with_database(url: &SecretString, name: &str) -> Result<String, BackupError> {
    let mut parsed = url::Url::parse(url.expose_secret())
        .map_err(|e| BackupError::Config(format!("DATABASE_URL does not parse: {e}")))?;
    parsed.set_path(&format!("/{name}"));
    Ok(parsed.to_string())
}
