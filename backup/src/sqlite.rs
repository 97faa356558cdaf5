//! SQLite: an online copy with `VACUUM INTO` (a consistent snapshot while the shop runs),
//! uploaded as a file; verified by opening the downloaded copy; restored by putting the file in
//! place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbErr, Statement};
use secrecy::{ExposeSecret, SecretString};

use crate::storage::Storage;
use crate::{BackupError, Dumped, scratch_file};

/// Copies the database `db` into `scratch_dir`, counts the copy's rows and uploads it as `key`.
pub async fn dump(
    db: &DatabaseConnection,
    storage: &Storage,
    key: &str,
    scratch_dir: &Path,
) -> Result<Dumped, BackupError> {
    let copy = scratch_file(scratch_dir, "backup");
    let result = async {
        db.execute_unprepared(&format!(
            "VACUUM INTO '{}'",
            copy.display().to_string().replace('\'', "''")
        ))
        .await?;
        let (tables, migration) = {
            let opened = open(&copy).await?;
            let tables = count_rows(&opened).await?;
            let migration = last_migration(&opened).await?;
            opened.close().await?;
            (tables, migration)
        };
        let file = tokio::fs::File::open(&copy).await?;
        let (size, sha256) = storage.upload(key, file, async { Ok(()) }).await?;
        Ok(Dumped {
            size,
            sha256,
            tables,
            migration,
        })
    }
    .await;
    let _ = tokio::fs::remove_file(&copy).await;
    result
}

/// Checks the database file `file` and counts its rows.
pub async fn check_and_count(file: &Path) -> Result<BTreeMap<String, i64>, BackupError> {
    let opened = open(file).await?;
    let check = opened
        .query_one_raw(Statement::from_string(
            opened.get_database_backend(),
            "PRAGMA integrity_check",
        ))
        .await?
        .map(|r| r.try_get_by_index::<String>(0))
        .transpose()?
        .unwrap_or_default();
    let counted = if check == "ok" {
        count_rows(&opened).await
    } else {
        Err(BackupError::Corrupt(format!(
            "the SQLite file fails its integrity check: {check}"
        )))
    };
    opened.close().await?;
    counted
}

/// Puts the database file `file` at the SQLite URL `url`, which must hold no tables unless
/// `force`.
pub async fn restore_into(url: &SecretString, file: &Path, force: bool) -> Result<(), BackupError> {
    let target = path_of(url.expose_secret())?;
    if target.exists() {
        let opened = open(&target).await?;
        let tables = count_rows(&opened).await?;
        opened.close().await?;
        if !tables.is_empty() && !force {
            return Err(BackupError::TargetNotEmpty(format!(
                "{} has {} tables; restore into a new file, or add --force to replace it",
                target.display(),
                tables.len()
            )));
        }
    }
    // Beside the target, then renamed over it: the target is whole or untouched.
    let staged = target.with_extension("restoring");
    tokio::fs::copy(file, &staged).await?;
    tokio::fs::File::open(&staged).await?.sync_all().await?;
    for suffix in ["-wal", "-shm"] {
        let _ = tokio::fs::remove_file(format!("{}{suffix}", target.display())).await;
    }
    tokio::fs::rename(&staged, &target).await?;
    Ok(())
}

/// The file an SQLite URL names (`sqlite://path?mode=rwc`, `sqlite:path`).
pub fn path_of(url: &str) -> Result<PathBuf, BackupError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| BackupError::Config(format!("not an SQLite URL: {url}")))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(BackupError::Config(
            "an in-memory SQLite database has no file to back up or restore".into(),
        ));
    }
    Ok(PathBuf::from(path))
}

/// Opens a database file read-only.
async fn open(file: &Path) -> Result<DatabaseConnection, DbErr> {
    Database::connect(format!("sqlite://{}?mode=ro", file.display())).await
}

pub(crate) async fn count_rows(
    db: &DatabaseConnection,
) -> Result<BTreeMap<String, i64>, BackupError> {
    let backend = db.get_database_backend();
    let names: Vec<String> = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        ))
        .await?
        .iter()
        .map(|r| r.try_get_by_index(0))
        .collect::<Result<_, _>>()?;
    let mut counts = BTreeMap::new();
    for name in names {
        let n: i64 = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\"")),
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("count returned no row".into()))?
            .try_get_by_index(0)?;
        counts.insert(name, n);
    }
    Ok(counts)
}

async fn last_migration(db: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1",
        ))
        .await?;
    row.map(|r| r.try_get_by_index(0)).transpose()
}
