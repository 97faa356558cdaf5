//! Admins and customers carry a session version: every login token names the version it was
//! issued under, and a password reset moves it on, which ends every session issued before.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Accounts::Users, Accounts::Customers] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(
                            ColumnDef::new(Accounts::SessionVersion)
                                .integer()
                                .not_null()
                                .default(0),
                        )
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Accounts::Users, Accounts::Customers] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Accounts::SessionVersion)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Accounts {
    Users,
    Customers,
    SessionVersion,
}
