//! The four built-in roles and what each may do.

pub use cartwheel_entity::roles::Name as Role;

/// A permission an admin endpoint requires; stored on a role by its name (`users:read`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
pub enum Permission {
    #[cfg_attr(feature = "openapi", oai(rename = "users:read"))]
    UsersRead,
    #[cfg_attr(feature = "openapi", oai(rename = "users:manage"))]
    UsersManage,
    #[cfg_attr(feature = "openapi", oai(rename = "settings:read"))]
    SettingsRead,
    #[cfg_attr(feature = "openapi", oai(rename = "settings:manage"))]
    SettingsManage,
    #[cfg_attr(feature = "openapi", oai(rename = "catalog:read"))]
    CatalogRead,
    #[cfg_attr(feature = "openapi", oai(rename = "catalog:manage"))]
    CatalogManage,
    #[cfg_attr(feature = "openapi", oai(rename = "orders:read"))]
    OrdersRead,
    #[cfg_attr(feature = "openapi", oai(rename = "orders:manage"))]
    OrdersManage,
    #[cfg_attr(feature = "openapi", oai(rename = "jobs:read"))]
    JobsRead,
    #[cfg_attr(feature = "openapi", oai(rename = "jobs:manage"))]
    JobsManage,
}

impl Permission {
    pub const ALL: [Permission; 10] = [
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
    ];

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
            ],
        ),
        (
            Role::Viewer,
            vec![UsersRead, SettingsRead, CatalogRead, OrdersRead, JobsRead],
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
