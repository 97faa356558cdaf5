//! The audit log: who changed what in a shop, when, with a small before/after diff; and the
//! permissions that read it (`audit:read`, Owner and Admin) and the dashboard
//! (`dashboard:read`, every role), added to every existing shop's built-in roles.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::JsonValue;

use crate::common::{drop_tables, tenant_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk_uuid(AuditLog::Id))
                    .col(uuid(AuditLog::TenantId))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(uuid_null(AuditLog::ActorId))
                    .col(string_len(AuditLog::ActorEmail, 320))
                    .col(string_len_null(AuditLog::RequestId, 128))
                    .col(string_len(AuditLog::Entity, 32))
                    .col(string_len(AuditLog::EntityId, 64))
                    .col(string_len(AuditLog::Action, 32))
                    .col(text(AuditLog::Diff))
                    .foreign_key(&mut tenant_fk(AuditLog::Table, AuditLog::TenantId))
                    .to_owned(),
            )
            .await?;
        // The list's newest-first pages, whole or by entity or by actor.
        for (name, column) in [
            ("audit_log_tenant_at", None),
            ("audit_log_tenant_entity_at", Some(AuditLog::Entity)),
            ("audit_log_tenant_actor_at", Some(AuditLog::ActorId)),
        ] {
            let mut index = Index::create();
            index
                .name(name)
                .table(AuditLog::Table)
                .col(AuditLog::TenantId);
            if let Some(column) = column {
                index.col(column);
            }
            index.col(AuditLog::At).col(AuditLog::Id);
            manager.create_index(index.to_owned()).await?;
        }
        grant_new_permissions(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, vec![AuditLog::Table.into_iden()]).await
    }
}

/// The built-in roles' permissions as of this migration: Owner and Admin everything, Staff
/// and Viewer as before plus the dashboard. No endpoint edits a built-in role, so they are
/// written whole.
async fn grant_new_permissions(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    const ALL: &[&str] = &[
        "users:read",
        "users:manage",
        "settings:read",
        "settings:manage",
        "catalog:read",
        "catalog:manage",
        "orders:read",
        "orders:manage",
        "jobs:read",
        "jobs:manage",
        "dashboard:read",
        "audit:read",
    ];
    const STAFF: &[&str] = &[
        "users:read",
        "settings:read",
        "catalog:read",
        "catalog:manage",
        "orders:read",
        "orders:manage",
        "jobs:read",
        "dashboard:read",
    ];
    const VIEWER: &[&str] = &[
        "users:read",
        "settings:read",
        "catalog:read",
        "orders:read",
        "jobs:read",
        "dashboard:read",
    ];
    for (role, permissions) in [
        ("Owner", ALL),
        ("Admin", ALL),
        ("Staff", STAFF),
        ("Viewer", VIEWER),
    ] {
        let list = JsonValue::Array(
            permissions
                .iter()
                .map(|p| JsonValue::String(String::from(*p)))
                .collect(),
        );
        manager
            .exec_stmt(
                Query::update()
                    .table(Roles::Table)
                    .value(Roles::Permissions, list)
                    .and_where(Expr::col(Roles::Name).eq(role))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    TenantId,
    At,
    ActorId,
    ActorEmail,
    RequestId,
    Entity,
    EntityId,
    Action,
    Diff,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Name,
    Permissions,
}
