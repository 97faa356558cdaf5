//! One table of password-reset tokens for admins and customers alike (`reset_tokens`), in place
//! of `password_resets` and `customer_password_resets`: each token belongs to exactly one user
//! or one customer. Outstanding tokens are copied over, so a link mailed before the upgrade
//! still works.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{drop_tables, tenant_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ResetTokens::Table)
                    .col(pk_uuid(ResetTokens::Id))
                    .col(uuid(ResetTokens::TenantId))
                    .col(uuid_null(ResetTokens::UserId))
                    .col(uuid_null(ResetTokens::CustomerId))
                    // SHA-256 of the token; the token itself is only ever in the mail.
                    .col(string_len_uniq(ResetTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(ResetTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ResetTokens::UsedAt))
                    .col(timestamp_with_time_zone(ResetTokens::CreatedAt))
                    .check((
                        Alias::new("reset_tokens_one_account"),
                        Expr::cust("(user_id IS NULL) <> (customer_id IS NULL)"),
                    ))
                    .foreign_key(&mut tenant_fk(ResetTokens::Table, ResetTokens::TenantId))
                    .foreign_key(&mut owner_fk(ResetTokens::UserId, Users::Table, Users::Id))
                    .foreign_key(&mut owner_fk(
                        ResetTokens::CustomerId,
                        Customers::Table,
                        Customers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO reset_tokens \
               (id, tenant_id, user_id, customer_id, token_hash, expires_at, used_at, created_at) \
             SELECT id, tenant_id, user_id, NULL, token_hash, expires_at, used_at, created_at \
             FROM password_resets",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO reset_tokens \
               (id, tenant_id, user_id, customer_id, token_hash, expires_at, used_at, created_at) \
             SELECT id, tenant_id, NULL, customer_id, token_hash, expires_at, used_at, created_at \
             FROM customer_password_resets",
        )
        .await?;
        drop_tables(
            manager,
            vec![
                PasswordResets::Table.into_iden(),
                CustomerPasswordResets::Table.into_iden(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(old_table(
                PasswordResets::Table,
                "user_id",
                Users::Table,
                Users::Id,
            ))
            .await?;
        manager
            .create_table(old_table(
                CustomerPasswordResets::Table,
                "customer_id",
                Customers::Table,
                Customers::Id,
            ))
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO password_resets \
               (id, tenant_id, user_id, token_hash, expires_at, used_at, created_at) \
             SELECT id, tenant_id, user_id, token_hash, expires_at, used_at, created_at \
             FROM reset_tokens WHERE user_id IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO customer_password_resets \
               (id, tenant_id, customer_id, token_hash, expires_at, used_at, created_at) \
             SELECT id, tenant_id, customer_id, token_hash, expires_at, used_at, created_at \
             FROM reset_tokens WHERE customer_id IS NOT NULL",
        )
        .await?;
        drop_tables(manager, vec![ResetTokens::Table.into_iden()]).await
    }
}

/// `column` → `table.id`; deleting the account deletes its tokens.
fn owner_fk(
    column: ResetTokens,
    table: impl IntoIden,
    id: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(ResetTokens::Table, column)
        .to(table, id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// One of the two tables this migration replaces, as migrations 3 and 8 created it.
fn old_table(
    table: impl IntoIden + Copy,
    owner_column: &str,
    owner: impl IntoIden,
    owner_id: impl IntoIden,
) -> TableCreateStatement {
    let owner_column = Alias::new(owner_column);
    Table::create()
        .table(table)
        .col(pk_uuid(Old::Id))
        .col(uuid(Old::TenantId))
        .col(uuid(owner_column.clone()))
        .col(string_len_uniq(Old::TokenHash, 64))
        .col(timestamp_with_time_zone(Old::ExpiresAt))
        .col(timestamp_with_time_zone_null(Old::UsedAt))
        .col(timestamp_with_time_zone(Old::CreatedAt))
        .foreign_key(&mut tenant_fk(table, Old::TenantId))
        .foreign_key(
            ForeignKey::create()
                .from(table, owner_column)
                .to(owner, owner_id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[derive(DeriveIden, Clone, Copy)]
enum ResetTokens {
    Table,
    Id,
    TenantId,
    UserId,
    CustomerId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Old {
    Id,
    TenantId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PasswordResets {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerPasswordResets {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Customers {
    Table,
    Id,
}
