//! Backups of the whole Cartwheel database to S3-compatible storage, each proven by a restore.
//!
//! A run ([`run`]): start a run row (one in flight at a time), dump the database in one snapshot
//! (`pg_dump` custom format, or SQLite's `VACUUM INTO`) streamed to the storage with its
//! SHA-256, write the manifest (time, size, checksum, version, migration, rows per table), then
//! verify: download, check the checksum, restore into a scratch database, compare the row counts
//! with the manifest, drop the scratch. Only then is it verified, and only then does retention
//! delete older backups. [`restore`] checks the checksum before it touches the target.

pub mod manifest;
pub mod postgres;
pub mod retention;
pub mod sqlite;
pub mod storage;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cartwheel_domain::backups::{self, StartError};
use cartwheel_entity::backup_runs::Status;
use chrono::Utc;
use sea_orm::{DatabaseBackend, DatabaseConnection, DbErr};
use secrecy::{ExposeSecret, SecretString};

pub use manifest::{Format, Manifest};
pub use storage::{Storage, StorageError, StorageSettings};

/// Everything a backup run needs besides the database connection.
#[derive(Clone, Debug)]
pub struct Settings {
    pub storage: StorageSettings,
    /// The database backed up (for `pg_dump`; its password goes by environment).
    pub database_url: SecretString,
    /// Verified backups kept: the newest of each of the last `keep_daily` days…
    pub keep_daily: usize,
    /// …and of each of the last `keep_weekly` weeks.
    pub keep_weekly: usize,
    /// Where dumps and downloads are staged (the system's temp directory by default).
    pub scratch_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    InFlight(String),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Tool(String),
    #[error("{0}")]
    Storage(#[from] StorageError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The object is not what its manifest says (checksum, integrity, row counts).
    #[error("{0}")]
    Corrupt(String),
    #[error("{0}")]
    TargetNotEmpty(String),
}

impl BackupError {
    /// Worth another attempt later: the storage, the database or a tool failed, or the backup
    /// did not verify. Configuration mistakes and a backup in flight are not.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, BackupError::InFlight(_) | BackupError::Config(_))
    }
}

/// What a dump wrote.
pub struct Dumped {
    pub size: u64,
    pub sha256: String,
    pub tables: BTreeMap<String, i64>,
    pub migration: Option<String>,
}

/// A temporary file in `dir` for a dump, a download or a restore.
pub(crate) fn scratch_file(dir: &Path, what: &str) -> PathBuf {
    dir.join(format!(
        "cartwheel-{what}-{}.sqlite",
        uuid::Uuid::new_v4().simple()
    ))
}

/// A finished, verified backup.
#[derive(Debug)]
pub struct Report {
    pub manifest: Manifest,
    /// Keys retention deleted after this backup verified.
    pub deleted: Vec<String>,
}

/// Makes one backup of `db`, verifies it and applies retention. `job_id` names the
/// `backup.run` job (none by hand). A backup already in flight is `BackupError::InFlight`.
pub async fn run(
    db: &DatabaseConnection,
    settings: &Settings,
    job_id: Option<&str>,
) -> Result<Report, BackupError> {
    let storage = Storage::open(&settings.storage)?;
    let format = match db.get_database_backend() {
        DatabaseBackend::Sqlite => Format::Sqlite,
        _ => Format::PostgresCustom,
    };
    let now = Utc::now();
    let id = uuid::Uuid::now_v7();
    let key = storage.new_key(now, &id.simple().to_string()[..12], format.extension());
    let run = match backups::start(db, &key, job_id).await {
        Ok(run) => run,
        Err(StartError::InFlight { key, started_at }) => {
            return Err(BackupError::InFlight(format!(
                "another backup is in flight ({key}, started {started_at})"
            )));
        }
        Err(StartError::Database(e)) => return Err(e.into()),
    };
    tracing::info!(%key, "backup started");
    // Renewed while this run lives; the guard stops it however the run ends (a panic or a
    // cancelled job included), so a dead run goes stale.
    let _heartbeat = Heartbeat(tokio::spawn({
        let db = db.clone();
        async move {
            let mut tick = tokio::time::interval(backups::HEARTBEAT);
            loop {
                tick.tick().await;
                if let Err(e) = backups::heartbeat(&db, run.id).await {
                    tracing::warn!(error = %e, "backup heartbeat failed");
                }
            }
        }
    }));
    let outcome = make_and_verify(db, settings, &storage, format, &key, run.id).await;
    match outcome {
        Ok(manifest) => {
            backups::finish(db, run.id, Status::Verified, None).await?;
            tracing::info!(%key, size = manifest.size, "backup verified");
            // The backup is good whatever retention does; a retention that fails is tried
            // again after the next backup.
            let deleted = apply_retention(&storage, settings)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "retention failed; nothing more was deleted");
                    Vec::new()
                });
            Ok(Report { manifest, deleted })
        }
        Err((status, e)) => {
            let message = e.to_string();
            tracing::warn!(%key, error = %message, "backup did not complete");
            backups::finish(db, run.id, status, Some(&message)).await?;
            Err(e)
        }
    }
}

/// Aborts the heartbeat task when the run ends.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The dump, its manifest and the verification; on failure, how the run ends and why.
async fn make_and_verify(
    db: &DatabaseConnection,
    settings: &Settings,
    storage: &Storage,
    format: Format,
    key: &str,
    run_id: uuid::Uuid,
) -> Result<Manifest, (Status, BackupError)> {
    let failed = |e: BackupError| (Status::Failed, e);
    // An object without its manifest is no backup anyone can list: it goes.
    let discard = |e: BackupError| async move {
        if let Err(deleted) = storage.delete(key).await {
            tracing::warn!(%key, error = %deleted, "could not delete the object of a failed backup");
        }
        failed(e)
    };
    let dumped = match format {
        Format::PostgresCustom => postgres::dump(db, &settings.database_url, storage, key).await,
        Format::Sqlite => sqlite::dump(db, storage, key, &settings.scratch_dir).await,
    }
    .map_err(failed)?;
    if let Err(e) = backups::uploaded(db, run_id, dumped.size as i64, &dumped.sha256).await {
        return Err(discard(e.into()).await);
    }
    let mut manifest = Manifest {
        key: key.to_string(),
        format,
        created_at: Utc::now(),
        size: dumped.size,
        sha256: dumped.sha256,
        cartwheel_version: env!("CARGO_PKG_VERSION").to_string(),
        migration: dumped.migration,
        tables: dumped.tables,
        verified_at: None,
        error: None,
    };
    if let Err(e) = storage.put_manifest(&manifest).await {
        return Err(discard(e.into()).await);
    }
    match verify(db, settings, storage, &manifest).await {
        Ok(()) => {
            manifest.verified_at = Some(Utc::now());
            storage
                .put_manifest(&manifest)
                .await
                .map_err(|e| (Status::Unverified, e.into()))?;
            Ok(manifest)
        }
        Err(e) => {
            manifest.error = Some(e.to_string());
            let _ = storage.put_manifest(&manifest).await;
            Err((Status::Unverified, e))
        }
    }
}

/// Downloads the backup, checks its checksum, restores it into a scratch database and compares
/// its rows per table with the manifest.
pub async fn verify(
    db: &DatabaseConnection,
    settings: &Settings,
    storage: &Storage,
    manifest: &Manifest,
) -> Result<(), BackupError> {
    let file = scratch_file(&settings.scratch_dir, "verify");
    let result = async {
        download_checked(storage, manifest, &file).await?;
        let found = match manifest.format {
            Format::PostgresCustom => {
                postgres::restore_and_count(db, &settings.database_url, &file).await?
            }
            Format::Sqlite => sqlite::check_and_count(&file).await?,
        };
        let differences = manifest::count_differences(&manifest.tables, &found);
        if differences.is_empty() {
            Ok(())
        } else {
            Err(BackupError::Corrupt(format!(
                "the restored rows differ from the manifest: {}",
                differences.join(", ")
            )))
        }
    }
    .await;
    let _ = tokio::fs::remove_file(&file).await;
    result
}

/// Downloads the object into `file` and checks its size and checksum against the manifest.
async fn download_checked(
    storage: &Storage,
    manifest: &Manifest,
    file: &Path,
) -> Result<(), BackupError> {
    let (size, sha256) = storage.download(&manifest.key, file).await?;
    if size != manifest.size || sha256 != manifest.sha256 {
        return Err(BackupError::Corrupt(format!(
            "{} is corrupt: {size} bytes with SHA-256 {sha256}, its manifest says {} bytes with {}",
            manifest.key, manifest.size, manifest.sha256
        )));
    }
    Ok(())
}

/// Deletes what retention does not keep; answers the deleted keys.
pub async fn apply_retention(
    storage: &Storage,
    settings: &Settings,
) -> Result<Vec<String>, BackupError> {
    let stored: Vec<retention::Stored> = storage
        .manifests()
        .await?
        .into_iter()
        .map(|m| retention::Stored {
            key: m.key,
            created_at: m.created_at,
            verified: m.verified_at.is_some(),
        })
        .collect();
    let deleted = retention::to_delete(&stored, settings.keep_daily, settings.keep_weekly);
    for key in &deleted {
        storage.delete(key).await?;
        tracing::info!(%key, "backup deleted by retention");
    }
    Ok(deleted)
}

/// Rows per table of `db`, named as a manifest names them.
pub async fn row_counts(db: &DatabaseConnection) -> Result<BTreeMap<String, i64>, BackupError> {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => sqlite::count_rows(db).await,
        _ => postgres::count_rows(db).await,
    }
}

/// Every backup in the storage, oldest first.
pub async fn list(settings: &Settings) -> Result<Vec<Manifest>, BackupError> {
    Ok(Storage::open(&settings.storage)?.manifests().await?)
}

/// Restores the backup `key` into the database at `into` (Postgres or SQLite, as the backup
/// was made): the checksum first (a corrupt object is refused, `BackupError::Corrupt`, and its
/// manifest loses its verified mark; the caller unmarks the run row), then the target must be
/// empty unless `force`. The caller migrates the target afterwards.
pub async fn restore(
    settings: &Settings,
    key: &str,
    into: &SecretString,
    force: bool,
) -> Result<Manifest, BackupError> {
    let storage = Storage::open(&settings.storage)?;
    let mut manifest = storage.manifest(key).await?;
    let target_is_sqlite = into.expose_secret().starts_with("sqlite:");
    if target_is_sqlite != (manifest.format == Format::Sqlite) {
        return Err(BackupError::Config(format!(
            "{key} is a {:?} backup; restore it into a database of that kind",
            manifest.format
        )));
    }
    let file = scratch_file(&settings.scratch_dir, "restore");
    let result = async {
        if let Err(e) = download_checked(&storage, &manifest, &file).await {
            if matches!(e, BackupError::Corrupt(_)) {
                manifest.verified_at = None;
                manifest.error = Some(e.to_string());
                storage.put_manifest(&manifest).await?;
            }
            return Err(e);
        }
        match manifest.format {
            Format::PostgresCustom => postgres::restore_into(into, &file, force).await,
            Format::Sqlite => sqlite::restore_into(into, &file, force).await,
        }
    }
    .await;
    let _ = tokio::fs::remove_file(&file).await;
    result.map(|()| manifest)
}
