//! Bulk import of products from CSV: one row per item and its listing, matched by sku (new
//! skus are created, known ones updated). Each row is written whole or not at all, and every
//! rejected row is reported with its line, column and reason.
//!
//! The rows are decided in file order against the catalog as read once at the start, as if
//! each were written before the next is checked (a slug one row gives up is free for a later
//! row), then written together, a thousand rows per statement, in one transaction.
//!
//! Columns (header row first, any order, names case-insensitive): `sku`, `name` and `price`
//! (minor units) are required; `unit` (default `Nos`), `reorder_level` (0), `active` (true),
//! `published` (true), `slug` (from the sku), `category` (a category slug), `short_description`,
//! `long_description`, `display_order` (0), `image_url`, `image_alt`, `seo_title` and
//! `seo_description` (derived when empty) are optional. When an existing item is updated, a
//! column missing from the file keeps the item's value.

use std::collections::{HashMap, HashSet};

use cartwheel_entity::{TenantId, items, listings, units};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use super::items::{self as catalog_items, Image, ItemInput, ListingInput, ROWS_PER_STATEMENT};
use super::{CatalogChanges, CatalogError, alerts, categories};
use crate::audit::{self, Action, Actor, Diff, Entity};
use crate::validation::FieldProblem;

/// The most data rows one file may hold.
pub const MAX_ROWS: usize = 10_000;

const COLUMNS: &[&str] = &[
    "sku",
    "name",
    "price",
    "tax_class",
    "unit",
    "reorder_level",
    "active",
    "published",
    "slug",
    "category",
    "short_description",
    "long_description",
    "display_order",
    "image_url",
    "image_alt",
    "seo_title",
    "seo_description",
];
const REQUIRED: &[&str] = &["sku", "name", "price"];

/// A row that was not imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    pub sku: String,
    /// The CSV column at fault, or `row` for the row as a whole.
    pub column: String,
    pub message: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub errors: Vec<RowError>,
}

/// Imports `csv` into the tenant's catalog. A file that cannot be read as a whole (no header,
/// unknown or missing columns, too many rows, not UTF-8) is rejected with `file` or the column
/// named; otherwise every row is tried and the report says what became of each. The rows
/// that pass are written in one transaction: all of them, or on a failure none.
#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn import_csv(
    db: &DatabaseConnection,
    changes: &CatalogChanges,
    by: &Actor,
    csv: &[u8],
) -> Result<ImportReport, CatalogError> {
    let tenant_id = by.tenant_id;
    let file_problem =
        |message: String| CatalogError::Invalid(vec![FieldProblem::new("file", message)]);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| file_problem(format!("the header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    check_header(&header)?;
    let column = |name: &str| header.iter().position(|h| h == name);
    let columns: HashMap<&str, usize> = COLUMNS
        .iter()
        .filter_map(|name| Some((*name, column(name)?)))
        .collect();

    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| file_problem(format!("the file is not valid CSV: {e}")))?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        records.push(record);
        if records.len() > MAX_ROWS {
            return Err(file_problem(format!(
                "holds more than {MAX_ROWS} rows; split it"
            )));
        }
    }

    let txn = crate::transaction::begin(db).await?;
    let skus: Vec<&str> = records
        .iter()
        .map(|record| {
            columns
                .get("sku")
                .and_then(|&i| record.get(i))
                .unwrap_or("")
        })
        .collect();
    let (shop, mut holders) = Shop::read(&txn, tenant_id, &skus).await?;

    let mut report = ImportReport {
        rows: records.len(),
        ..ImportReport::default()
    };
    // The reader skips blank lines without counting them, so lines come from byte offsets.
    let line_starts: Vec<usize> = csv
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
        .collect();
    // A record's position is where the reader started looking for it, before any blank lines.
    let line_of = |byte: u64| {
        let mut start = byte as usize;
        while csv.get(start).is_some_and(|b| *b == b'\n' || *b == b'\r') {
            start += 1;
        }
        line_starts.partition_point(|&nl| nl < start) as u64 + 1
    };
    let now = chrono::Utc::now();
    let mut item_rows = Vec::new();
    let mut listing_rows = Vec::new();
    let mut stock_checks = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in records {
        let line = record.position().map_or(0, |p| line_of(p.byte()));
        let cell = |name: &str| columns.get(name).map(|&i| record.get(i).unwrap_or(""));
        let sku = cell("sku").unwrap_or("").to_string();
        let mut fail = |column: &str, message: String| {
            report.errors.push(RowError {
                line,
                sku: sku.clone(),
                column: column.to_string(),
                message,
            })
        };
        if let Some(first) = seen.get(&sku) {
            fail("sku", format!("appears on line {first} too"));
            continue;
        }
        seen.insert(sku.clone(), line);
        let current = shop.current(&sku);
        let input = match row_input(&cell, current, &shop.category_ids) {
            Ok(input) => input,
            Err(problems) => {
                for p in problems {
                    fail(p.field, p.message);
                }
                continue;
            }
        };
        let unit_known = shop.units.contains(input.unit.trim());
        let category_known = input
            .listing
            .category_id
            .is_none_or(|id| shop.categories.contains(&id));
        let input = match catalog_items::check(input, unit_known, category_known) {
            Ok(input) => input,
            Err(problems) => {
                for p in problems {
                    fail(csv_column(p.field), p.message);
                }
                continue;
            }
        };
        let item =
            catalog_items::item_model(tenant_id, current.map(|(i, _)| i.clone()), &input, now);
        if let Err((column, message)) = holders.claim(&item, &input.listing.slug, current) {
            fail(column, message);
            continue;
        }
        match current {
            Some((old_item, old_listing)) => {
                if catalog_items::stock_alerts_may_change(old_item, old_listing, &input) {
                    stock_checks.push(item.id);
                }
                report.updated += 1;
            }
            None => report.created += 1,
        }
        item_rows.push(item);
        listing_rows.push(input.listing);
    }

    let listings: Vec<(&items::Model, &ListingInput)> =
        item_rows.iter().zip(&listing_rows).collect();
    catalog_items::write_items(&txn, &item_rows)
        .await
        .map_err(changed_meanwhile)?;
    catalog_items::write_listings(&txn, &listings)
        .await
        .map_err(changed_meanwhile)?;
    alerts::enqueue_checks(&txn, tenant_id, stock_checks).await?;
    if report.created + report.updated > 0 {
        // One row for the file: a row per product would weigh as much as the import.
        let diff = Diff::default().field("created", (), report.created).field(
            "updated",
            (),
            report.updated,
        );
        audit::record(
            &txn,
            by,
            Entity::Product,
            "csv-import",
            Action::Imported,
            diff,
        )
        .await?;
    }
    changes.commit(txn, tenant_id).await?;
    Ok(report)
}

/// What rows are checked against, read once at the start of the import.
struct Shop {
    units: HashSet<String>,
    /// By slug.
    category_ids: HashMap<String, Uuid>,
    categories: HashSet<Uuid>,
    /// The items the file's skus name (not deleted), by sku, with their listings.
    items: HashMap<String, items::Model>,
    listings: HashMap<Uuid, listings::Model>,
}

impl Shop {
    /// The shop as the rows naming `skus` see it, and who holds each sku and slug.
    async fn read(
        txn: &DatabaseTransaction,
        tenant_id: TenantId,
        skus: &[&str],
    ) -> Result<(Self, Holders), CatalogError> {
        let units = units::Entity::find()
            .filter(units::Column::TenantId.eq(tenant_id))
            .all(txn)
            .await?
            .into_iter()
            .map(|u| u.code)
            .collect();
        let category_ids: HashMap<String, Uuid> = categories::list(txn, tenant_id)
            .await?
            .into_iter()
            .map(|c| (c.slug, c.id))
            .collect();
        let categories = category_ids.values().copied().collect();
        // Every item and slug of the shop (deleted items' too: theirs stay taken), as the
        // unique indexes see them.
        let all_items = items::Entity::find()
            .filter(items::Column::TenantId.eq(tenant_id))
            .all(txn)
            .await?;
        let slugs: Vec<(Uuid, String)> = listings::Entity::find()
            .select_only()
            .column(listings::Column::ItemId)
            .column(listings::Column::Slug)
            .filter(listings::Column::TenantId.eq(tenant_id))
            .into_tuple()
            .all(txn)
            .await?;
        let holders = Holders {
            skus: all_items.iter().map(|i| (i.sku.clone(), i.id)).collect(),
            slugs: slugs.into_iter().map(|(id, slug)| (slug, id)).collect(),
        };
        let named: HashSet<&str> = skus.iter().copied().collect();
        let items: HashMap<String, items::Model> = all_items
            .into_iter()
            .filter(|i| i.deleted_at.is_none() && named.contains(i.sku.as_str()))
            .map(|i| (i.sku.clone(), i))
            .collect();
        let ids: Vec<Uuid> = items.values().map(|i| i.id).collect();
        let mut listings = HashMap::new();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let found = listings::Entity::find()
                .filter(listings::Column::ItemId.is_in(chunk.iter().copied()))
                .all(txn)
                .await?;
            listings.extend(found.into_iter().map(|l| (l.item_id, l)));
        }
        let shop = Self {
            units,
            category_ids,
            categories,
            items,
            listings,
        };
        Ok((shop, holders))
    }

    /// The item `sku` names with its listing, if it exists (and is not deleted).
    fn current(&self, sku: &str) -> Option<(&items::Model, &listings::Model)> {
        let item = self.items.get(sku)?;
        Some((item, self.listings.get(&item.id)?))
    }
}

/// Which item holds each sku and slug, kept as the rows decided so far would leave them.
struct Holders {
    skus: HashMap<String, Uuid>,
    slugs: HashMap<String, Uuid>,
}

impl Holders {
    /// Takes `item`'s sku and `slug` for it, giving up those it held before (`current`), or
    /// names the column another item holds, as the unique indexes would when it is written.
    fn claim(
        &mut self,
        item: &items::Model,
        slug: &str,
        current: Option<(&items::Model, &listings::Model)>,
    ) -> Result<(), (&'static str, String)> {
        let held_by_another = |holders: &HashMap<String, Uuid>, key: &str| {
            holders.get(key).is_some_and(|holder| *holder != item.id)
        };
        if held_by_another(&self.skus, &item.sku) {
            return Err(("sku", format!("The sku `{}` is taken.", item.sku)));
        }
        if held_by_another(&self.slugs, slug) {
            return Err(("slug", format!("The slug `{slug}` is taken.")));
        }
        if let Some((old_item, old_listing)) = current {
            self.skus.remove(&old_item.sku);
            self.slugs.remove(&old_listing.slug);
        }
        self.skus.insert(item.sku.clone(), item.id);
        self.slugs.insert(slug.to_string(), item.id);
        Ok(())
    }
}

/// A sku or slug the rows were checked against was taken by someone else before they were
/// written: the transaction is rolled back whole.
fn changed_meanwhile(error: DbErr) -> CatalogError {
    if matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) {
        CatalogError::Conflict {
            field: None,
            message: "The catalog changed while the file was imported (a sku or slug was taken \
                      meanwhile); nothing was imported. Import it again."
                .to_string(),
        }
    } else {
        CatalogError::Database(error)
    }
}

fn check_header(header: &[String]) -> Result<(), CatalogError> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for name in header {
        if !COLUMNS.contains(&name.as_str()) {
            problems.push(FieldProblem::new(
                "file",
                format!("unknown column `{name}`; known: {}", COLUMNS.join(", ")),
            ));
        } else if !seen.insert(name) {
            problems.push(FieldProblem::new(
                "file",
                format!("column `{name}` appears twice"),
            ));
        }
    }
    for name in REQUIRED {
        if !header.iter().any(|h| h == name) {
            problems.push(FieldProblem::new(
                "file",
                format!("the required column `{name}` is missing"),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CatalogError::Invalid(problems))
    }
}

/// The item the row describes; columns the file lacks keep `current`'s values.
fn row_input<'a>(
    cell: &impl Fn(&str) -> Option<&'a str>,
    current: Option<(&items::Model, &listings::Model)>,
    category_ids: &HashMap<String, Uuid>,
) -> Result<ItemInput, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut number = |name: &'static str, fallback: i64| -> i64 {
        match cell(name) {
            None => fallback,
            Some("") if name != "price" => 0,
            Some(text) => text.parse().unwrap_or_else(|_| {
                problems.push(FieldProblem::new(
                    name,
                    if name == "price" {
                        format!("`{text}` is not a whole number of minor units (cents)")
                    } else {
                        format!("`{text}` is not a whole number")
                    },
                ));
                0
            }),
        }
    };
    let item = current.map(|(item, _)| item);
    let listing = current.map(|(_, listing)| listing);
    let price = number("price", 0);
    let reorder_level = number("reorder_level", item.map_or(0, |i| i.reorder_level));
    let display_order = number(
        "display_order",
        listing.map_or(0, |l| l.display_order as i64),
    );
    let display_order = i32::try_from(display_order).unwrap_or_else(|_| {
        problems.push(FieldProblem::new("display_order", "is out of range"));
        0
    });
    let mut flag = |name: &'static str, fallback: bool| -> bool {
        match cell(name).map(str::to_ascii_lowercase).as_deref() {
            None | Some("") => fallback,
            Some("true" | "yes" | "1") => true,
            Some("false" | "no" | "0") => false,
            Some(other) => {
                problems.push(FieldProblem::new(
                    name,
                    format!("`{other}` is not true or false"),
                ));
                fallback
            }
        }
    };
    let active = flag("active", item.is_none_or(|i| i.active));
    let published = flag("published", listing.is_none_or(|l| l.published));
    let text = |name: &str, fallback: &str| cell(name).unwrap_or(fallback).to_string();
    let sku = text("sku", "");
    let category_id = match cell("category") {
        None => listing.and_then(|l| l.category_id),
        Some("") => None,
        Some(slug) => match category_ids.get(&slug.to_ascii_lowercase()) {
            Some(id) => Some(*id),
            None => {
                problems.push(FieldProblem::new(
                    "category",
                    format!("`{slug}` is not a category of this shop"),
                ));
                None
            }
        },
    };
    let images = match cell("image_url") {
        None => listing.map(catalog_items::images).unwrap_or_default(),
        Some("") => Vec::new(),
        Some(url) => vec![Image {
            url: url.to_string(),
            alt: cell("image_alt")
                .filter(|a| !a.is_empty())
                .unwrap_or(cell("name").unwrap_or(""))
                .to_string(),
        }],
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(ItemInput {
        sku: sku.clone(),
        name: text("name", ""),
        unit: text("unit", item.map_or("Nos", |i| i.unit_code.as_str())),
        price,
        tax_class: match cell("tax_class") {
            None | Some("") => item.map_or(crate::tax::STANDARD_CLASS, |i| i.tax_class.as_str()),
            Some(class) => class,
        }
        .to_string(),
        // Not a column of the file: an imported item keeps its cost price (new ones cost 0
        // until an admin sets it).
        cost_price: item.map_or(0, |i| i.cost_price),
        reorder_level,
        active,
        listing: ListingInput {
            published,
            slug: match cell("slug") {
                None | Some("") => listing.map_or_else(|| slug_of(&sku), |l| l.slug.clone()),
                Some(slug) => slug.to_string(),
            },
            short_description: text(
                "short_description",
                listing.map_or("", |l| l.short_description.as_str()),
            ),
            long_description: text(
                "long_description",
                listing.map_or("", |l| l.long_description.as_str()),
            ),
            images,
            category_id,
            display_order,
            seo_title: match cell("seo_title") {
                None => listing.and_then(|l| l.seo_title.clone()),
                Some(title) => Some(title.to_string()),
            },
            seo_description: match cell("seo_description") {
                None => listing.and_then(|l| l.seo_description.clone()),
                Some(description) => Some(description.to_string()),
            },
        },
    })
}

/// A slug from a sku: lowercased, runs of other characters as one `-`.
fn slug_of(sku: &str) -> String {
    let mut slug = String::new();
    for c in sku.to_ascii_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

/// The CSV column of a field named as in the JSON API.
fn csv_column(field: &str) -> &str {
    match field {
        "reorderLevel" => "reorder_level",
        "taxClass" => "tax_class",
        "listing.slug" => "slug",
        "listing.categoryId" => "category",
        "listing.shortDescription" => "short_description",
        "listing.longDescription" => "long_description",
        "listing.images" => "image_url",
        "listing.displayOrder" => "display_order",
        "listing.seoTitle" => "seo_title",
        "listing.seoDescription" => "seo_description",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_from_skus() {
        assert_eq!(slug_of("TEA-01"), "tea-01");
        assert_eq!(slug_of("  Big Box / XL "), "big-box-xl");
    }

    #[test]
    fn headers_name_what_is_wrong() {
        let header = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert!(check_header(&header(&["sku", "name", "price"])).is_ok());
        let Err(CatalogError::Invalid(problems)) =
            check_header(&header(&["sku", "colour", "price", "price"]))
        else {
            panic!("accepted");
        };
        let messages: Vec<_> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(messages[0].starts_with("unknown column `colour`"));
        assert_eq!(messages[1], "column `price` appears twice");
        assert_eq!(messages[2], "the required column `name` is missing");
    }
}
