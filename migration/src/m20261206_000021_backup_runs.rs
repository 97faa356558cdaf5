//! One row per backup run: which object it wrote, how big, its checksum, and whether a restore
//! of it was compared with its manifest (`verified`). At most one run is `running` at a time
//! (a partial unique index), and a running run's `heartbeat_at` shows it is still alive.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BackupRuns::Table)
                    .col(pk_uuid(BackupRuns::Id))
                    .col(string_len(BackupRuns::Key, 512).unique_key())
                    .col(string_len_null(BackupRuns::JobId, 64))
                    .col(string_len(BackupRuns::Status, 16))
                    .col(big_integer_null(BackupRuns::Size))
                    .col(string_len_null(BackupRuns::Sha256, 64))
                    .col(text_null(BackupRuns::Error))
                    .col(timestamp_with_time_zone(BackupRuns::StartedAt))
                    .col(timestamp_with_time_zone(BackupRuns::HeartbeatAt))
                    .col(timestamp_with_time_zone_null(BackupRuns::FinishedAt))
                    .col(timestamp_with_time_zone_null(BackupRuns::VerifiedAt))
                    .to_owned(),
            )
            .await?;
        // Two runs cannot both be in flight: the second insert fails.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX backup_runs_one_running ON backup_runs (status) \
                 WHERE status = 'running'",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("backup_runs_started_at_idx")
                    .table(BackupRuns::Table)
                    .col(BackupRuns::StartedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BackupRuns::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum BackupRuns {
    Table,
    Id,
    Key,
    JobId,
    Status,
    Size,
    Sha256,
    Error,
    StartedAt,
    HeartbeatAt,
    FinishedAt,
    VerifiedAt,
}
