//! Schema migrations for the business tables; every step runs on Postgres and SQLite.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_tenants;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261126_000001_create_tenants::Migration)]
    }
}
