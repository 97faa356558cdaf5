//! `cartwheel backup run | list | restore`: the operator's side of `cartwheel_backup`.

use anyhow::Context;
use cartwheel_backup::BackupError;
use secrecy::SecretString;

use crate::cli::BackupAction;
use crate::config::Config;
use crate::database;

pub async fn run(action: BackupAction, config: Config) -> anyhow::Result<()> {
    let settings = config.backup().context(
        "backups are not configured: set CARTWHEEL_BACKUP_S3_URL (and the endpoint and keys of your S3-compatible storage)",
    )?;
    match action {
        BackupAction::Run => {
            let db = database::connect(&config.database_url).await?;
            let report = cartwheel_backup::run(&db, &settings, None).await?;
            let m = &report.manifest;
            println!(
                "backup {} verified: {} bytes, sha256 {}, {} tables; retention deleted {}",
                m.key,
                m.size,
                m.sha256,
                m.tables.len(),
                report.deleted.len()
            );
        }
        BackupAction::List => {
            let manifests = cartwheel_backup::list(&settings).await?;
            println!(
                "{:<24} {:>14}  {:<9} key",
                "created (UTC)", "bytes", "verified"
            );
            for m in manifests {
                println!(
                    "{:<24} {:>14}  {:<9} {}",
                    m.created_at.format("%Y-%m-%d %H:%M:%S"),
                    m.size,
                    if m.verified_at.is_some() { "yes" } else { "no" },
                    m.key
                );
            }
        }
        BackupAction::Restore { key, into, force } => {
            let into = SecretString::from(into);
            match cartwheel_backup::restore(&settings, &key, &into, force).await {
                Ok(manifest) => {
                    let target = database::connect(&into).await?;
                    database::migrate(&target)
                        .await
                        .context("the backup was restored, but migrating it failed")?;
                    cartwheel_domain::backups::restored(
                        &target,
                        &key,
                        manifest.size as i64,
                        &manifest.sha256,
                        manifest.verified_at,
                    )
                    .await?;
                    println!(
                        "restored {key} ({} tables, made by Cartwheel {} at migration {}) and migrated it to this version",
                        manifest.tables.len(),
                        manifest.cartwheel_version,
                        manifest.migration.as_deref().unwrap_or("none")
                    );
                }
                Err(BackupError::Corrupt(message)) => {
                    // The run that made it no longer counts as verified, where its row is.
                    if let Ok(db) = database::connect(&config.database_url).await
                        && let Err(e) =
                            cartwheel_domain::backups::mark_unverified(&db, &key, &message).await
                    {
                        tracing::warn!(error = %e, "could not mark the backup run unverified");
                    }
                    anyhow::bail!("refused: {message}");
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
