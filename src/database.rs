//! Connecting to the database and bringing its schema up to date.

use anyhow::Context;
use cartwheel_migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use secrecy::{ExposeSecret, SecretString};

pub async fn connect(url: &SecretString) -> anyhow::Result<DatabaseConnection> {
    let url = url.expose_secret();
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // One writer at a time is all SQLite allows; a small pool avoids lock contention.
        options.max_connections(4);
    } else {
        options.max_connections(20);
    }
    Database::connect(options)
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(url)))
}

/// Applies pending business migrations and apalis's job storage migrations.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("business schema migration failed")?;
    cartwheel_jobs::store::setup(db).await?;
    Ok(())
}

/// Prints each business migration with its state, and whether job storage is set up.
pub async fn status(db: &DatabaseConnection) -> anyhow::Result<String> {
    let mut out = String::new();
    for migration in Migrator::get_migration_with_status_read_only(db).await? {
        out.push_str(&format!("{:<8} {}\n", migration.status(), migration.name()));
    }
    let jobs = match cartwheel_jobs::store::check(db).await {
        Ok(()) => "ready".to_string(),
        Err(e) => format!("not set up ({e})"),
    };
    out.push_str(&format!("job storage: {jobs}\n"));
    Ok(out)
}

/// Hides the password in a database URL before it is printed.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://cw:secret@db:5432/cw"),
            "postgres://cw:***@db:5432/cw"
        );
        assert_eq!(
            super::redact("sqlite://cartwheel.db?mode=rwc"),
            "sqlite://cartwheel.db?mode=rwc"
        );
    }
}
