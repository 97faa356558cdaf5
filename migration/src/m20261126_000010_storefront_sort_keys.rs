//! The storefront reads one table: listings carry what shoppers filter and sort by (whether
//! the product shows, its name and price), each with an index in the order a page needs, so a
//! page is an index range scan instead of a join over the whole catalog.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(name, columns)` of the storefront's indexes; all start with the tenant.
const INDEXES: &[(&str, &[Listings])] = &[
    (
        "listings_store_display_order",
        &[
            Listings::TenantId,
            Listings::Visible,
            Listings::DisplayOrder,
            Listings::Name,
            Listings::ItemId,
        ],
    ),
    (
        "listings_store_price",
        &[
            Listings::TenantId,
            Listings::Visible,
            Listings::Price,
            Listings::ItemId,
        ],
    ),
    (
        "listings_store_name",
        &[
            Listings::TenantId,
            Listings::Visible,
            Listings::Name,
            Listings::ItemId,
        ],
    ),
    (
        "listings_store_newest",
        &[Listings::TenantId, Listings::Visible, Listings::ItemId],
    ),
    (
        "listings_store_category",
        &[
            Listings::TenantId,
            Listings::CategoryId,
            Listings::Visible,
            Listings::DisplayOrder,
            Listings::Name,
            Listings::ItemId,
        ],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [
            boolean(Listings::Visible).default(false).to_owned(),
            string_len(Listings::Name, 200).default("").to_owned(),
            big_integer(Listings::Price).default(0).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Listings::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE listings SET \
                   name = (SELECT i.name FROM items i WHERE i.id = listings.item_id), \
                   price = (SELECT i.price FROM items i WHERE i.id = listings.item_id), \
                   visible = (published AND EXISTS (SELECT 1 FROM items i \
                     WHERE i.id = listings.item_id AND i.active AND i.deleted_at IS NULL))",
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("listings_tenant_category")
                    .table(Listings::Table)
                    .to_owned(),
            )
            .await?;
        for (name, columns) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table(Listings::Table);
            for column in *columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(*name).table(Listings::Table).to_owned())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("listings_tenant_category")
                    .table(Listings::Table)
                    .col(Listings::TenantId)
                    .col(Listings::CategoryId)
                    .to_owned(),
            )
            .await?;
        for column in [Listings::Visible, Listings::Name, Listings::Price] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Listings::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Listings {
    Table,
    ItemId,
    TenantId,
    CategoryId,
    DisplayOrder,
    Visible,
    Name,
    Price,
}
