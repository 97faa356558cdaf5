//! Pieces every tenant-owned table's migration repeats.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

/// `tenant_id` → `tenants.id`; deleting a tenant deletes its rows.
pub fn tenant_fk(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// A unique index named `<table>_<columns>_key`.
pub async fn create_unique_index<T: IntoIden + Copy>(
    manager: &SchemaManager<'_>,
    table: T,
    columns: &[T],
) -> Result<(), DbErr> {
    let mut name = table.into_iden().to_string();
    let mut index = Index::create();
    index.table(table).unique();
    for column in columns {
        name.push('_');
        name.push_str(&column.into_iden().to_string());
        index.col(*column);
    }
    name.push_str("_key");
    manager.create_index(index.name(name).to_owned()).await
}

/// Drops `tables` in the order given (dependents first).
pub async fn drop_tables(manager: &SchemaManager<'_>, tables: Vec<DynIden>) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(table).to_owned())
            .await?;
    }
    Ok(())
}
