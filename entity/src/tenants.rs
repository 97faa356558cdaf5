//! A shop on the platform; every business row points at one.

use sea_orm::entity::prelude::*;

use crate::TenantId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: TenantId,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub status: Status,
    /// 0–100 while provisioning; 100 when READY.
    pub progress: i32,
    /// Why the last provisioning attempt failed, readable by the person who signed up.
    pub failure: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Where a tenant is on its way from signup to open shop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "SCREAMING_SNAKE_CASE"))]
pub enum Status {
    /// Signed up; the provisioning job has not started.
    Pending,
    CreatingTenant,
    SeedingData,
    Configuring,
    /// Open for business.
    Ready,
    /// Provisioning failed; `failure` says why.
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
