//! An email row is claimed before its send: `claimed_by` names the worker process and
//! `claimed_until` ends the claim, so a second job for the same row never sends it while the
//! first send may still be in flight.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for column in [
            ColumnDef::new(Emails::ClaimedBy)
                .string_len(128)
                .null()
                .to_owned(),
            ColumnDef::new(Emails::ClaimedUntil)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Emails::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Emails::ClaimedBy, Emails::ClaimedUntil] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Emails::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Emails {
    Table,
    ClaimedBy,
    ClaimedUntil,
}
