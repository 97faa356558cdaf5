//! The catalog: categories, items with their storefront listings, stock, and the public
//! product queries.

pub mod alerts;
pub mod categories;
pub mod changes;
pub mod import;
pub mod items;
pub mod stock;
pub mod store;

pub use changes::CatalogChanges;

use crate::validation::FieldProblem;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("invalid input")]
    Invalid(Vec<FieldProblem>),
    #[error("no such {0}")]
    NotFound(&'static str),
    /// A unique value is taken or the change would break something; `field` names it if any.
    #[error("{message}")]
    Conflict {
        field: Option<&'static str>,
        message: String,
    },
    /// Not enough stock: the quantity that is available.
    #[error("only {available} available")]
    InsufficientStock { available: i64 },
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Enqueue(#[from] cartwheel_jobs::EnqueueError),
}

/// A URL-safe slug: 1–100 characters of a–z, 0–9 and '-'.
pub fn check_slug(field: &'static str, slug: &str) -> Result<String, FieldProblem> {
    let slug = slug.trim().to_ascii_lowercase();
    let ok = !slug.is_empty()
        && slug.len() <= 100
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(slug)
    } else {
        Err(FieldProblem::new(
            field,
            "must be 1 to 100 characters of a-z, 0-9 and '-', not starting or ending with '-'",
        ))
    }
}

/// A non-empty text of at most `max` characters without control characters, trimmed.
pub fn check_text(field: &'static str, text: &str, max: usize) -> Result<String, FieldProblem> {
    let text = text.trim();
    if text.chars().any(crate::validation::is_forbidden) {
        return Err(FieldProblem::new(
            field,
            crate::validation::CONTROL_CHARACTERS,
        ));
    }
    if text.is_empty() || text.chars().count() > max {
        return Err(FieldProblem::new(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(text.to_string())
}

/// Maps a unique-constraint violation to a conflict on `field`.
pub(crate) fn unique_conflict(
    error: sea_orm::DbErr,
    field: &'static str,
    message: impl Into<String>,
) -> CatalogError {
    if matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) {
        CatalogError::Conflict {
            field: Some(field),
            message: message.into(),
        }
    } else {
        CatalogError::Database(error)
    }
}
