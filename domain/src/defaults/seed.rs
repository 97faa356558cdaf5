//! The default business data a new tenant starts with, written in the caller's transaction.

use cartwheel_entity::TenantId;
use cartwheel_entity::{
    ledger_accounts, roles, store_settings, tax_rules, units, warehouse_locations, warehouses,
};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use uuid::Uuid;

use crate::accounts::roles as builtin_roles;

/// One account of the default chart.
pub struct Account {
    pub code: &'static str,
    pub name: &'static str,
    pub parent: Option<&'static str>,
    /// Asset, Liability, Equity, Income or Expense.
    pub root_type: &'static str,
    pub account_type: Option<&'static str>,
    pub is_group: bool,
}

const fn group(
    code: &'static str,
    name: &'static str,
    parent: Option<&'static str>,
    root_type: &'static str,
) -> Account {
    Account {
        code,
        name,
        parent,
        root_type,
        account_type: None,
        is_group: true,
    }
}

const fn leaf(
    code: &'static str,
    name: &'static str,
    parent: &'static str,
    root_type: &'static str,
    account_type: &'static str,
) -> Account {
    Account {
        code,
        name,
        parent: Some(parent),
        root_type,
        account_type: Some(account_type),
        is_group: false,
    }
}

/// The chart of accounts, parents before children.
pub const ACCOUNTS: &[Account] = &[
    group("1000", "Assets", None, "Asset"),
    group("1100", "Current Assets", Some("1000"), "Asset"),
    leaf("1110", "Cash", "1100", "Asset", "Cash"),
    leaf("1120", "Bank", "1100", "Asset", "Bank"),
    leaf("1130", "Accounts Receivable", "1100", "Asset", "Receivable"),
    leaf("1140", "Stock Asset", "1100", "Asset", "Stock"),
    leaf("1150", "Stripe Clearing", "1100", "Asset", "Bank"),
    group("2000", "Liabilities", None, "Liability"),
    group("2100", "Current Liabilities", Some("2000"), "Liability"),
    leaf("2110", "Accounts Payable", "2100", "Liability", "Payable"),
    leaf("2120", "Sales Tax Payable", "2100", "Liability", "Tax"),
    group("3000", "Equity", None, "Equity"),
    leaf("3100", "Owner's Equity", "3000", "Equity", "Equity"),
    leaf("3200", "Retained Earnings", "3000", "Equity", "Equity"),
    group("4000", "Income", None, "Income"),
    leaf("4100", "Sales", "4000", "Income", "Income"),
    leaf("4200", "Shipping Income", "4000", "Income", "Income"),
    group("5000", "Expenses", None, "Expense"),
    leaf(
        "5100",
        "Cost of Goods Sold",
        "5000",
        "Expense",
        "Cost of Goods Sold",
    ),
    leaf(
        "5200",
        "Stock Adjustment",
        "5000",
        "Expense",
        "Stock Adjustment",
    ),
    leaf(
        "5300",
        "Payment Processing Fees",
        "5000",
        "Expense",
        "Expense",
    ),
    leaf("5400", "Operating Expenses", "5000", "Expense", "Expense"),
];

pub const WAREHOUSE: (&str, &str) = ("MAIN", "Main Warehouse");

/// `(code, name)`; ROOT is the parent of the others.
pub const LOCATIONS: &[(&str, &str)] = &[
    ("ROOT", "Main Warehouse"),
    ("RECEIVING", "Receiving"),
    ("PICKING", "Picking"),
    ("STAGING", "Staging"),
];

/// `(code, name, whole numbers only)`.
pub const UNITS: &[(&str, &str, bool)] = &[
    ("Nos", "Numbers", true),
    ("Kg", "Kilogram", false),
    ("L", "Litre", false),
    ("Box", "Box", true),
];

/// `(name, basis points, tax class)`: the rules seeded for the shop's country; `None` is every
/// class (and shipping).
pub const TAX_RULES: &[(&str, i32, Option<&str>)] = &[
    ("Standard", 1000, None),
    ("Reduced", 500, Some("reduced")),
    ("Zero", 0, Some("zero")),
];

/// Writes every default row for `tenant_id`; returns the Owner role's id.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn seed<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    currency: &str,
    timezone: &str,
    country: &str,
) -> Result<Uuid, DbErr> {
    let mut owner_role = None;
    let role_rows = builtin_roles::builtin()
        .into_iter()
        .map(|(name, permissions)| {
            let id = Uuid::now_v7();
            if name == builtin_roles::Role::Owner {
                owner_role = Some(id);
            }
            roles::ActiveModel {
                id: Set(id),
                tenant_id: Set(tenant_id),
                name: Set(name),
                permissions: Set(serde_json::json!(
                    permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>()
                )),
            }
        });
    let role_rows: Vec<_> = role_rows.collect();
    roles::Entity::insert_many(role_rows).exec(db).await?;

    let mut account_ids = std::collections::HashMap::new();
    let account_rows: Vec<_> = ACCOUNTS
        .iter()
        .map(|account| {
            let id = Uuid::now_v7();
            account_ids.insert(account.code, id);
            ledger_accounts::ActiveModel {
                id: Set(id),
                tenant_id: Set(tenant_id),
                parent_id: Set(account.parent.map(|p| account_ids[p])),
                code: Set(account.code.to_string()),
                name: Set(account.name.to_string()),
                root_type: Set(account.root_type.to_string()),
                account_type: Set(account.account_type.map(str::to_string)),
                is_group: Set(account.is_group),
            }
        })
        .collect();
    ledger_accounts::Entity::insert_many(account_rows)
        .exec(db)
        .await?;

    let warehouse_id = Uuid::now_v7();
    warehouses::Entity::insert(warehouses::ActiveModel {
        id: Set(warehouse_id),
        tenant_id: Set(tenant_id),
        code: Set(WAREHOUSE.0.to_string()),
        name: Set(WAREHOUSE.1.to_string()),
    })
    .exec(db)
    .await?;
    let root_id = Uuid::now_v7();
    let location_rows: Vec<_> = LOCATIONS
        .iter()
        .map(|(code, name)| {
            let is_root = *code == "ROOT";
            warehouse_locations::ActiveModel {
                id: Set(if is_root { root_id } else { Uuid::now_v7() }),
                tenant_id: Set(tenant_id),
                warehouse_id: Set(warehouse_id),
                parent_id: Set((!is_root).then_some(root_id)),
                code: Set(code.to_string()),
                name: Set(name.to_string()),
            }
        })
        .collect();
    warehouse_locations::Entity::insert_many(location_rows)
        .exec(db)
        .await?;

    let unit_rows: Vec<_> = UNITS
        .iter()
        .map(|(code, name, whole)| units::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant_id),
            code: Set(code.to_string()),
            name: Set(name.to_string()),
            whole_number: Set(*whole),
        })
        .collect();
    units::Entity::insert_many(unit_rows).exec(db).await?;

    let now = chrono::Utc::now();
    let tax_rows: Vec<_> = TAX_RULES
        .iter()
        .map(|(name, basis_points, class)| tax_rules::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant_id),
            name: Set(name.to_string()),
            country: Set(country.to_string()),
            region: Set(None),
            tax_class: Set(class.map(str::to_string)),
            rate_basis_points: Set(*basis_points),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    tax_rules::Entity::insert_many(tax_rows).exec(db).await?;

    store_settings::Entity::insert(store_settings::ActiveModel {
        tenant_id: Set(tenant_id),
        currency: Set(currency.to_string()),
        timezone: Set(timezone.to_string()),
        country: Set(country.to_string()),
        prices_include_tax: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(db)
    .await?;

    Ok(owner_role.expect("the built-in roles include Owner"))
}
