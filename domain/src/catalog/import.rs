//! Bulk import of products from CSV: one row per item and its listing, matched by sku (new
//! skus are created, known ones updated). Each row is written whole or not at all, and every
//! rejected row is reported with its line, column and reason.
//!
//! Columns (header row first, any order, names case-insensitive): `sku`, `name` and `price`
//! (minor units) are required; `unit` (default `Nos`), `reorder_level` (0), `active` (true),
//! `published` (true), `slug` (from the sku), `category` (a category slug), `short_description`,
//! `long_description`, `display_order` (0), `image_url` and `image_alt` are optional. When an
//! existing item is updated, a column missing from the file keeps the item's value.

use std::collections::{HashMap, HashSet};

use cartwheel_entity::items;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::items::{Image, ItemDetail, ItemInput, ListingInput};
use super::{CatalogError, categories};
use crate::validation::FieldProblem;

/// The most data rows one file may hold.
pub const MAX_ROWS: usize = 10_000;

const COLUMNS: &[&str] = &[
    "sku",
    "name",
    "price",
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
/// named; otherwise every row is tried and the report says what became of each.
pub async fn import_csv(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    csv: &[u8],
) -> Result<ImportReport, CatalogError> {
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

    let existing: HashMap<String, Uuid> = items::Entity::find()
        .filter(items::Column::TenantId.eq(tenant_id))
        .filter(items::Column::DeletedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.sku, i.id))
        .collect();
    let category_ids: HashMap<String, Uuid> = categories::list(db, tenant_id)
        .await?
        .into_iter()
        .map(|c| (c.slug, c.id))
        .collect();

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
        let current = match existing.get(&sku) {
            Some(id) => match super::items::get(db, tenant_id, *id).await {
                Ok(detail) => Some(detail),
                Err(CatalogError::NotFound(_)) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let input = match row_input(&cell, current.as_ref(), &category_ids) {
            Ok(input) => input,
            Err(problems) => {
                for p in problems {
                    fail(p.field, p.message);
                }
                continue;
            }
        };
        let written = match &current {
            Some(detail) => super::items::update(db, tenant_id, detail.item.id, input).await,
            None => super::items::create(db, tenant_id, input).await,
        };
        match written {
            Ok(_) if current.is_some() => report.updated += 1,
            Ok(_) => report.created += 1,
            Err(CatalogError::Invalid(problems)) => {
                for p in problems {
                    fail(csv_column(p.field), p.message);
                }
            }
            Err(CatalogError::Conflict { field, message }) => {
                fail(field.map_or("row", csv_column), message)
            }
            Err(CatalogError::NotFound(what)) => fail("row", format!("the {what} is gone")),
            Err(e) => return Err(e),
        }
    }
    Ok(report)
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
    current: Option<&ItemDetail>,
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
    let item = current.map(|c| &c.item);
    let listing = current.map(|c| &c.listing);
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
        None => current.map(ItemDetail::images).unwrap_or_default(),
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
        "listing.slug" => "slug",
        "listing.categoryId" => "category",
        "listing.shortDescription" => "short_description",
        "listing.longDescription" => "long_description",
        "listing.images" => "image_url",
        "listing.displayOrder" => "display_order",
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
