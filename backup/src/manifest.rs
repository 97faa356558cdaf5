//! What a backup holds, written beside it: enough to list, check and restore it without the
//! database it came from.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub key: String,
    pub format: Format,
    pub created_at: DateTime<Utc>,
    /// Bytes of the object.
    pub size: u64,
    /// SHA-256 of the object, hex.
    pub sha256: String,
    pub cartwheel_version: String,
    /// The last migration applied when the backup was taken.
    pub migration: Option<String>,
    /// Rows per table (`schema.table` on Postgres), as the backup's snapshot saw them.
    pub tables: BTreeMap<String, i64>,
    /// Set once a restore of the object matched `tables`; unset again if a later restore finds
    /// the object corrupt.
    pub verified_at: Option<DateTime<Utc>>,
    /// Why it is not verified, when it is not.
    pub error: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `pg_dump --format=custom`, restored with `pg_restore`.
    PostgresCustom,
    /// An SQLite database file (`VACUUM INTO`).
    Sqlite,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::PostgresCustom => "dump",
            Format::Sqlite => "sqlite",
        }
    }
}

/// The tables whose row counts differ between `expected` and `found`, as `table: expected → found`.
pub fn count_differences(
    expected: &BTreeMap<String, i64>,
    found: &BTreeMap<String, i64>,
) -> Vec<String> {
    let mut names: Vec<&String> = expected.keys().chain(found.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let (e, f) = (expected.get(name), found.get(name));
            (e != f).then(|| {
                let show = |n: Option<&i64>| n.map_or("missing".to_string(), i64::to_string);
                format!("{name}: {} → {}", show(e), show(f))
            })
        })
        .collect()
}
