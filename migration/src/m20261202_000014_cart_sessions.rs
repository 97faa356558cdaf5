//! A guest cart can be opened for a storefront session (`POST /store/cart {sessionId}`): the
//! session's hash finds its cart again, one cart per session and shop.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Carts::Table)
                    .add_column(ColumnDef::new(Carts::SessionHash).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        // NULLs are distinct in a unique index on both backends: carts without a session
        // do not collide.
        manager
            .create_index(
                Index::create()
                    .name("carts_session")
                    .table(Carts::Table)
                    .col(Carts::TenantId)
                    .col(Carts::SessionHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("carts_session")
                    .table(Carts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Carts::Table)
                    .drop_column(Carts::SessionHash)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Carts {
    Table,
    TenantId,
    SessionHash,
}
