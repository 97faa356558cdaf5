//! One backup run of the whole database (not a shop's): the object it wrote and how it ended.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The object's key in the backup storage; its manifest is `<key>.manifest.json`.
    #[sea_orm(unique)]
    pub key: String,
    /// The `backup.run` job that made it; none when run by hand.
    pub job_id: Option<String>,
    pub status: Status,
    pub size: Option<i64>,
    pub sha256: Option<String>,
    pub error: Option<String>,
    pub started_at: DateTimeUtc,
    /// A running run renews this while it works; one that stopped renewing died.
    pub heartbeat_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub verified_at: Option<DateTimeUtc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(16))",
    rename_all = "snake_case"
)]
pub enum Status {
    /// Dumping, uploading or verifying.
    Running,
    /// Restored into a scratch database and its row counts matched the manifest.
    Verified,
    /// Uploaded, but its restore failed or did not match (or a later restore found it corrupt).
    Unverified,
    /// Never uploaded whole (the dump or the storage failed), or its worker died.
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
