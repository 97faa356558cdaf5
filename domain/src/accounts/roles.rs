//! The four built-in roles and what each may do.

/// A permission an admin endpoint requires.
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

pub const OWNER: &str = "Owner";
pub const ADMIN: &str = "Admin";
pub const STAFF: &str = "Staff";
pub const VIEWER: &str = "Viewer";

/// The roles every tenant is seeded with, and their permissions. Owner and Admin may do
/// everything; only an Owner may make or unmake Owners.
pub fn builtin() -> Vec<(&'static str, Vec<Permission>)> {
    use Permission::*;
    vec![
        (OWNER, Permission::ALL.to_vec()),
        (ADMIN, Permission::ALL.to_vec()),
        (
            STAFF,
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
            VIEWER,
            vec![UsersRead, SettingsRead, CatalogRead, OrdersRead, JobsRead],
        ),
    ]
}

/// Whether a role's stored permission list (a JSON array of strings) grants `permission`.
pub fn grants(permissions: &serde_json::Value, permission: Permission) -> bool {
    permissions
        .as_array()
        .is_some_and(|list| list.iter().any(|p| p.as_str() == Some(permission.as_str())))
}
