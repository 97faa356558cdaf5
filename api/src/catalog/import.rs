//! Bulk product import from CSV, with a report of every row that was not imported.

use cartwheel_domain::accounts::roles::Permission;
use cartwheel_domain::catalog::import;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::ApiTags;
use crate::auth::{AdminAuth, AdminError};
use crate::csv_body::CsvBody;
use crate::state::AppState;

pub struct ImportApi;

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ImportRowError {
    /// The row's line in the file; the header is line 1.
    line: u64,
    sku: String,
    /// The CSV column at fault, or `row`.
    column: String,
    message: String,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ImportReportView {
    /// Data rows in the file (blank lines not counted).
    rows: u64,
    created: u64,
    updated: u64,
    /// Rows not imported; each is listed in `errors` (once per problem).
    failed: u64,
    errors: Vec<ImportRowError>,
}

#[OpenApi(prefix_path = "/api/v1/store/admin", tag = "ApiTags::Catalog")]
impl ImportApi {
    /// Imports products from a `text/csv` body: a header row, then one item per row, matched
    /// by `sku` (new skus are created, known ones updated; columns missing from the file keep
    /// an updated item's values). Columns: `sku`, `name`, `price` (minor units) required;
    /// `unit`, `reorder_level`, `active`, `published`, `slug`, `category` (slug),
    /// `short_description`, `long_description`, `display_order`, `image_url`, `image_alt`,
    /// `seo_title`, `seo_description`. Each row is written whole or not at all; the answer lists every rejected row. A file
    /// that cannot be read (unknown or missing columns, over 10,000 rows) is a 422 on `file`.
    #[oai(path = "/products/import", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn import_products(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: CsvBody,
    ) -> Result<Json<ImportReportView>, AdminError> {
        auth.0.require(Permission::CatalogManage)?;
        let report =
            import::import_csv(&state.db, &state.catalog_changes, &auth.0.actor(), &body.0).await?;
        let mut failed_lines: Vec<u64> = report.errors.iter().map(|e| e.line).collect();
        failed_lines.dedup();
        Ok(Json(ImportReportView {
            rows: report.rows as u64,
            created: report.created as u64,
            updated: report.updated as u64,
            failed: failed_lines.len() as u64,
            errors: report
                .errors
                .into_iter()
                .map(|e| ImportRowError {
                    line: e.line,
                    sku: e.sku,
                    column: e.column,
                    message: e.message,
                })
                .collect(),
        }))
    }
}
