//! Typed ids: a shop's id cannot be passed where another id is meant, nor the other way round.

use std::fmt;

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A shop's id (`tenants.id`, and `tenant_id` on every business row).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    DeriveValueType,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::NewType))]
pub struct TenantId(pub Uuid);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for TenantId {
    type Err = <Uuid as std::str::FromStr>::Err;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

/// `tenants.id` is a primary key; like a `Uuid`, it never comes from an auto-increment.
impl sea_orm::TryFromU64 for TenantId {
    fn try_from_u64(_: u64) -> Result<Self, DbErr> {
        Err(DbErr::ConvertFromU64("TenantId"))
    }
}
