//! The four built-in roles and what each may do.

pub use cartwheel_entity::roles::Name as Role;

/// A permission an admin endpoint requires; stored on a role, and named in the API, by its
/// name (`users:read`, [`Permission::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    UsersRead,
    UsersManage,
    SettingsRead,
    SettingsManage,
    CatalogRead,
    CatalogManage,
    OrdersRead,
    OrdersManage,
    JobsRead,
    JobsManage,
    DashboardRead,
    AuditRead,
}

impl Permission {
    pub const ALL: [Permission; 12] = [
        Permission::UsersRead,
        Permission::UsersManage,
        Permission::SettingsRead,
        Permission::SettingsManage,
        Permission::CatalogRead,
        Permission::CatalogManage,
        Permission::OrdersRead,
        Permission::OrdersManage,
        Permission::JobsRead,
        Permission::JobsManage,
        Permission::DashboardRead,
        Permission::AuditRead,
    ];

    /// The permission's one name, as roles store it and the API documents it.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::UsersRead => "users:read",
            Permission::UsersManage => "users:manage",
            Permission::SettingsRead => "settings:read",
            Permission::SettingsManage => "settings:manage",
            Permission::CatalogRead => "catalog:read",
            Permission::CatalogManage => "catalog:manage",
            Permission::OrdersRead => "orders:read",
            Permission::OrdersManage => "orders:manage",
            Permission::JobsRead => "jobs:read",
            Permission::JobsManage => "jobs:manage",
            Permission::DashboardRead => "dashboard:read",
            Permission::AuditRead => "audit:read",
        }
    }
}

/// The document lists the names of [`Permission::as_str`] as the enum's values.
#[cfg(feature = "openapi")]
mod openapi {
    use std::borrow::Cow;

    use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
    use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
    use serde_json::Value;

    use super::Permission;

    impl Type for Permission {
        const IS_REQUIRED: bool = true;

        type RawValueType = Self;

        type RawElementValueType = Self;

        fn name() -> Cow<'static, str> {
            "Permission".into()
        }

        fn schema_ref() -> MetaSchemaRef {
            MetaSchemaRef::Reference(Self::name().into_owned())
        }

        fn register(registry: &mut Registry) {
            registry.create_schema::<Self, _>(Self::name().into_owned(), |_| MetaSchema {
                description: Some("A permission of a role."),
                enum_items: Permission::ALL
                    .iter()
                    .map(|p| Value::String(p.as_str().into()))
                    .collect(),
                ..MetaSchema::new("string")
            });
        }

        fn as_raw_value(&self) -> Option<&Self::RawValueType> {
            Some(self)
        }

        fn raw_element_iter<'a>(
            &'a self,
        ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
            Box::new(self.as_raw_value().into_iter())
        }
    }

    impl ParseFromJSON for Permission {
        fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
            let value = value.unwrap_or_default();
            Permission::ALL
                .into_iter()
                .find(|p| value.as_str() == Some(p.as_str()))
                .ok_or_else(|| ParseError::expected_type(value))
        }
    }

    impl ToJSON for Permission {
        fn to_json(&self) -> Option<Value> {
            Some(Value::String(self.as_str().into()))
        }
    }
}

/// The roles every tenant is seeded with, and their permissions. Owner and Admin may do
/// everything; only an Owner may make or unmake Owners.
pub fn builtin() -> Vec<(Role, Vec<Permission>)> {
    use Permission::*;
    vec![
        (Role::Owner, Permission::ALL.to_vec()),
        (Role::Admin, Permission::ALL.to_vec()),
        (
            Role::Staff,
            vec![
                UsersRead,
                SettingsRead,
                CatalogRead,
                CatalogManage,
                OrdersRead,
                OrdersManage,
                JobsRead,
                DashboardRead,
            ],
        ),
        (
            Role::Viewer,
            vec![
                UsersRead,
                SettingsRead,
                CatalogRead,
                OrdersRead,
                JobsRead,
                DashboardRead,
            ],
        ),
    ]
}

/// A role's stored permission list (a JSON array of names); names it does not know are left out.
pub fn permissions(stored: &serde_json::Value) -> Vec<Permission> {
    let names = stored.as_array().map(Vec::as_slice).unwrap_or_default();
    Permission::ALL
        .into_iter()
        .filter(|p| names.iter().any(|n| n.as_str() == Some(p.as_str())))
        .collect()
}

/// Whether a role's stored permission list grants `permission` (on every admin request, so
/// without building the list).
pub fn grants(stored: &serde_json::Value, permission: Permission) -> bool {
    stored.as_array().is_some_and(|names| {
        names
            .iter()
            .any(|n| n.as_str() == Some(permission.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_permissions_read_back_and_unknown_names_are_left_out() {
        for (_, granted) in builtin() {
            let stored = serde_json::json!(granted.iter().map(|p| p.as_str()).collect::<Vec<_>>());
            assert_eq!(permissions(&stored), granted);
        }
        let stored = serde_json::json!(["jobs:read", "rockets:launch", 7]);
        assert_eq!(permissions(&stored), vec![Permission::JobsRead]);
        assert!(grants(&stored, Permission::JobsRead));
        assert!(!grants(&stored, Permission::JobsManage));
    }
}
