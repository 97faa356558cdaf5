//! Items and their storefront listings: created and replaced together, deleted softly.

use cartwheel_entity::{TenantId, items, listings, units};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CatalogChanges, CatalogError, check_slug, check_text, stock, unique_conflict};
use crate::audit::{self, Action, Actor, Diff, Entity};
use crate::money;
use crate::validation::{FieldProblem, check_length};

/// Rows per multi-row statement. A listing has 15 columns: 15,000 bind parameters, under
/// SQLite's limit of 32,766 and Postgres's of 65,535.
pub(crate) const ROWS_PER_STATEMENT: usize = 1_000;

/// The most images a listing shows.
pub const MAX_IMAGES: usize = 20;

/// The longest search-engine title and meta description an admin may set.
pub const MAX_SEO_TITLE: usize = 150;
pub const MAX_SEO_DESCRIPTION: usize = 320;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub url: String,
    pub alt: String,
}

pub struct ItemInput {
    pub sku: String,
    pub name: String,
    pub unit: String,
    /// Minor units of the tenant's currency.
    pub price: i64,
    /// Which of the shop's tax rules apply: `standard` unless the admin names another class.
    pub tax_class: String,
    /// What one unit costs the shop (minor units), for the cost of goods sold.
    pub cost_price: i64,
    pub reorder_level: i64,
    pub active: bool,
    pub listing: ListingInput,
}

#[derive(Serialize)]
pub struct ListingInput {
    pub published: bool,
    pub slug: String,
    pub short_description: String,
    pub long_description: String,
    pub images: Vec<Image>,
    pub category_id: Option<Uuid>,
    pub display_order: i32,
    /// The admin's own search-engine title and meta description (`None`: derived, see
    /// `seo::product`).
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
}

/// An item with its listing and stock totals.
#[derive(Clone, Debug)]
pub struct ItemDetail {
    pub item: items::Model,
    pub listing: listings::Model,
    pub stock: stock::Totals,
}

impl ItemDetail {
    pub fn images(&self) -> Vec<Image> {
        images(&self.listing)
    }

    /// Whether any is available (on hand less reserved, over all locations).
    pub fn in_stock(&self) -> bool {
        self.stock.available() > 0
    }
}

/// The images a stored listing shows.
pub fn images(listing: &listings::Model) -> Vec<Image> {
    serde_json::from_value(listing.images.clone()).unwrap_or_default()
}

impl ListingInput {
    /// What a stored listing holds, as its owner chose it.
    fn of(listing: &listings::Model) -> Self {
        Self {
            published: listing.published,
            slug: listing.slug.clone(),
            short_description: listing.short_description.clone(),
            long_description: listing.long_description.clone(),
            images: images(listing),
            category_id: listing.category_id,
            display_order: listing.display_order,
            seo_title: listing.seo_title.clone(),
            seo_description: listing.seo_description.clone(),
        }
    }
}

#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn create(
    db: &DatabaseConnection,
    changes: &CatalogChanges,
    by: &Actor,
    input: ItemInput,
) -> Result<ItemDetail, CatalogError> {
    let tenant_id = by.tenant_id;
    let input = validate(db, tenant_id, input).await?;
    let item = item_model(tenant_id, None, &input, Utc::now());
    let txn = crate::transaction::begin(db).await?;
    write_items(&txn, std::slice::from_ref(&item))
        .await
        .map_err(|e| sku_taken(e, &input.sku))?;
    write_listings(&txn, &[(&item, &input.listing)])
        .await
        .map_err(|e| slug_taken(e, &input.listing.slug))?;
    let diff = Diff::created(&item).and(Diff::created(&input.listing));
    audit::record(&txn, by, Entity::Product, item.id, Action::Created, diff).await?;
    changes.commit(txn, tenant_id).await?;
    get(db, tenant_id, item.id).await
}

/// Replaces the item and its listing.
#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn update(
    db: &DatabaseConnection,
    changes: &CatalogChanges,
    by: &Actor,
    id: Uuid,
    input: ItemInput,
) -> Result<ItemDetail, CatalogError> {
    let tenant_id = by.tenant_id;
    let existing = get(db, tenant_id, id).await?;
    let input = validate(db, tenant_id, input).await?;
    let alerts_may_change = stock_alerts_may_change(&existing.item, &existing.listing, &input);
    let before = existing.item.clone();
    let item = item_model(tenant_id, Some(existing.item), &input, Utc::now());
    let diff = Diff::changed(&before, &item).and(Diff::changed(
        &ListingInput::of(&existing.listing),
        &input.listing,
    ));
    let txn = crate::transaction::begin(db).await?;
    write_items(&txn, std::slice::from_ref(&item))
        .await
        .map_err(|e| sku_taken(e, &input.sku))?;
    write_listings(&txn, &[(&item, &input.listing)])
        .await
        .map_err(|e| slug_taken(e, &input.listing.slug))?;
    audit::record(&txn, by, Entity::Product, id, Action::Updated, diff).await?;
    if alerts_may_change {
        super::alerts::enqueue_check(&txn, tenant_id, id).await?;
    }
    changes.commit(txn, tenant_id).await?;
    get(db, tenant_id, id).await
}

/// Hides the item everywhere but in past records: it keeps its row, leaves the storefront,
/// and its sku stays taken.
#[tracing::instrument(skip_all, fields(tenant = %by.tenant_id))]
pub async fn delete(
    db: &DatabaseConnection,
    changes: &CatalogChanges,
    by: &Actor,
    id: Uuid,
) -> Result<(), CatalogError> {
    let tenant_id = by.tenant_id;
    let txn = crate::transaction::begin(db).await?;
    let deleted = items::Entity::update_many()
        .col_expr(items::Column::DeletedAt, Expr::value(Utc::now()))
        .col_expr(items::Column::Active, Expr::value(false))
        .filter(items::Column::Id.eq(id))
        .filter(items::Column::TenantId.eq(tenant_id))
        .filter(items::Column::DeletedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if deleted == 0 {
        return Err(CatalogError::NotFound("item"));
    }
    let item = items::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(CatalogError::NotFound("item"))?;
    if let Some(listing) = listings::Entity::find_by_id(id).one(&txn).await? {
        let listing = ListingInput {
            published: false,
            ..ListingInput::of(&listing)
        };
        write_listings(&txn, &[(&item, &listing)]).await?;
    }
    let diff = Diff::default()
        .field("sku", &item.sku, ())
        .field("name", &item.name, ());
    audit::record(&txn, by, Entity::Product, id, Action::Deleted, diff).await?;
    changes.commit(txn, tenant_id).await?;
    Ok(())
}

/// An item that is not deleted, with its listing and stock.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn get<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    id: Uuid,
) -> Result<ItemDetail, CatalogError> {
    let item = items::Entity::find_by_id(id)
        .filter(items::Column::TenantId.eq(tenant_id))
        .filter(items::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or(CatalogError::NotFound("item"))?;
    let listing = listings::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CatalogError::NotFound("item"))?;
    let stock = stock::totals(db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    Ok(ItemDetail {
        item,
        listing,
        stock,
    })
}

/// A page of the tenant's items (not deleted) by sku, and the total.
#[tracing::instrument(skip_all, fields(tenant = %tenant_id))]
pub async fn list<C: ConnectionTrait>(
    db: &C,
    tenant_id: TenantId,
    page: u64,
    limit: u64,
) -> Result<(Vec<ItemDetail>, u64), CatalogError> {
    let query = items::Entity::find()
        .filter(items::Column::TenantId.eq(tenant_id))
        .filter(items::Column::DeletedAt.is_null());
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(items::Column::Sku)
        .paginate(db, limit)
        .fetch_page(page.saturating_sub(1))
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|i| i.id).collect();
    let listings = listings::Entity::find()
        .filter(listings::Column::ItemId.is_in(ids.clone()))
        .all(db)
        .await?;
    let mut totals = stock::totals(db, &ids).await?;
    let details = rows
        .into_iter()
        .filter_map(|item| {
            let listing = listings.iter().find(|l| l.item_id == item.id)?.clone();
            let stock = totals.remove(&item.id).unwrap_or_default();
            Some(ItemDetail {
                item,
                listing,
                stock,
            })
        })
        .collect();
    Ok((details, total))
}

async fn validate(
    db: &DatabaseConnection,
    tenant_id: TenantId,
    input: ItemInput,
) -> Result<ItemInput, CatalogError> {
    let unit_known = units::Entity::find()
        .filter(units::Column::TenantId.eq(tenant_id))
        .filter(units::Column::Code.eq(input.unit.trim()))
        .count(db)
        .await?
        > 0;
    let category_known = match input.listing.category_id {
        Some(category) => super::categories::find(db, tenant_id, category)
            .await
            .is_ok(),
        None => true,
    };
    check(input, unit_known, category_known).map_err(CatalogError::Invalid)
}

/// The item as it is to be stored (texts trimmed), or every problem with it. Whether its unit
/// and category (if any) belong to the shop is the caller's to look up.
pub(crate) fn check(
    mut input: ItemInput,
    unit_known: bool,
    category_known: bool,
) -> Result<ItemInput, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut keep = |result: Result<String, FieldProblem>| match result {
        Ok(value) => value,
        Err(problem) => {
            problems.push(problem);
            String::new()
        }
    };
    // The same bounds as the JSON API's schema, for what arrives otherwise (CSV imports).
    input.sku = keep(check_text("sku", &input.sku, 64));
    input.name = keep(check_text("name", &input.name, 200));
    input.listing.slug = keep(check_slug("listing.slug", &input.listing.slug));
    input.tax_class = keep(crate::tax::rules::check_class("taxClass", &input.tax_class));
    for (field, amount) in [("price", input.price), ("costPrice", input.cost_price)] {
        if !(0..=money::MAX_PRICE).contains(&amount) {
            problems.push(FieldProblem::new(
                field,
                format!("must be 0 to {}", money::MAX_PRICE),
            ));
        }
    }
    if !(0..=stock::MAX_QUANTITY).contains(&input.reorder_level) {
        problems.push(FieldProblem::new(
            "reorderLevel",
            format!("must be 0 to {}", stock::MAX_QUANTITY),
        ));
    }
    let seo = [
        (
            "listing.seoTitle",
            &mut input.listing.seo_title,
            MAX_SEO_TITLE,
        ),
        (
            "listing.seoDescription",
            &mut input.listing.seo_description,
            MAX_SEO_DESCRIPTION,
        ),
    ];
    for (field, text, max) in seo {
        // Blank is no override.
        *text = text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if let Some(Err(problem)) = text.as_deref().map(|t| check_length(field, t, max)) {
            problems.push(problem);
        }
    }
    let listing = &input.listing;
    let lengths = [
        ("unit", input.unit.as_str(), 16),
        ("listing.shortDescription", &listing.short_description, 500),
        ("listing.longDescription", &listing.long_description, 20_000),
    ];
    problems.extend(
        lengths
            .into_iter()
            .filter_map(|(field, text, max)| check_length(field, text, max).err()),
    );
    if listing.images.len() > MAX_IMAGES {
        problems.push(FieldProblem::new(
            "listing.images",
            format!("must be at most {MAX_IMAGES}"),
        ));
    }
    for (n, image) in listing.images.iter().enumerate() {
        if !(image.url.starts_with("https://") || image.url.starts_with("http://")) {
            problems.push(FieldProblem::new(
                "listing.images",
                format!("image {n}: url must be http(s)"),
            ));
        }
        let texts = [("url", &image.url, 2_000), ("alt", &image.alt, 300)];
        for (part, text, max) in texts {
            if let Err(problem) = check_length("listing.images", text, max) {
                problems.push(FieldProblem::new(
                    "listing.images",
                    format!("image {n}: {part} {}", problem.message),
                ));
            }
        }
    }
    if !unit_known {
        problems.push(FieldProblem::new(
            "unit",
            format!("`{}` is not a unit of this shop", input.unit),
        ));
    }
    if !category_known {
        problems.push(FieldProblem::new(
            "listing.categoryId",
            "is not a category of this shop",
        ));
    }
    if problems.is_empty() {
        input.unit = input.unit.trim().to_string();
        Ok(input)
    } else {
        Err(problems)
    }
}

/// Whether replacing the item with `input` can start or end a stock alert (its reorder level,
/// or whether it is for sale), so its stock check is owed.
pub(crate) fn stock_alerts_may_change(
    item: &items::Model,
    listing: &listings::Model,
    input: &ItemInput,
) -> bool {
    item.reorder_level != input.reorder_level
        || item.active != input.active
        || listing.published != input.listing.published
}

/// The item row for checked `input`: a new item (a fresh id), or `current` replaced.
pub(crate) fn item_model(
    tenant_id: TenantId,
    current: Option<items::Model>,
    input: &ItemInput,
    now: DateTime<Utc>,
) -> items::Model {
    let current = current.unwrap_or_else(|| items::Model {
        id: Uuid::now_v7(),
        tenant_id,
        sku: String::new(),
        name: String::new(),
        unit_code: String::new(),
        price: 0,
        tax_class: String::new(),
        cost_price: 0,
        reorder_level: 0,
        active: false,
        deleted_at: None,
        created_at: now,
        updated_at: now,
    });
    items::Model {
        sku: input.sku.clone(),
        name: input.name.clone(),
        unit_code: input.unit.clone(),
        price: input.price,
        tax_class: input.tax_class.clone(),
        cost_price: input.cost_price,
        reorder_level: input.reorder_level,
        active: input.active,
        updated_at: now,
        ..current
    }
}

/// Inserts new items and replaces known ones (by id) in the order given, keeping a known
/// item's `created_at` and `deleted_at`. Write their listings next, with [`write_listings`].
#[tracing::instrument(skip_all)]
pub async fn write_items(txn: &DatabaseTransaction, rows: &[items::Model]) -> Result<(), DbErr> {
    let replaced = [
        items::Column::Sku,
        items::Column::Name,
        items::Column::UnitCode,
        items::Column::Price,
        items::Column::TaxClass,
        items::Column::CostPrice,
        items::Column::ReorderLevel,
        items::Column::Active,
        items::Column::UpdatedAt,
    ];
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        items::Entity::insert_many(chunk.iter().cloned().map(items::ActiveModel::from))
            .on_conflict(
                OnConflict::column(items::Column::Id)
                    .update_columns(replaced)
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Inserts or replaces (by item) the listings of `rows`, in the order given, with the columns
/// they copy from their items. The one writer of listings: `visible`, `name`, `price` and
/// `search_text` are never written anywhere else.
#[tracing::instrument(skip_all)]
pub async fn write_listings(
    txn: &DatabaseTransaction,
    rows: &[(&items::Model, &ListingInput)],
) -> Result<(), DbErr> {
    let replaced: Vec<listings::Column> = <listings::Column as sea_orm::Iterable>::iter()
        .filter(|c| !matches!(c, listings::Column::ItemId | listings::Column::TenantId))
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        listings::Entity::insert_many(
            chunk
                .iter()
                .map(|(item, listing)| listings::ActiveModel::from(listing_model(item, listing))),
        )
        .on_conflict(
            OnConflict::column(listings::Column::ItemId)
                .update_columns(replaced.clone())
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// What storefront search matches: name, sku and descriptions, lowercased.
fn search_text(name: &str, sku: &str, short_description: &str, long_description: &str) -> String {
    [name, sku, short_description, long_description]
        .join(" ")
        .to_lowercase()
}

/// The listing row of `item`: the owner's `listing`, and what it copies from the item so
/// storefront pages filter, sort and search without a join.
fn listing_model(item: &items::Model, listing: &ListingInput) -> listings::Model {
    listings::Model {
        item_id: item.id,
        tenant_id: item.tenant_id,
        published: listing.published,
        slug: listing.slug.clone(),
        short_description: listing.short_description.trim().to_string(),
        long_description: listing.long_description.trim().to_string(),
        images: serde_json::to_value(&listing.images).expect("images serialize"),
        category_id: listing.category_id,
        display_order: listing.display_order,
        seo_title: listing.seo_title.clone(),
        seo_description: listing.seo_description.clone(),
        search_text: search_text(
            &item.name,
            &item.sku,
            &listing.short_description,
            &listing.long_description,
        ),
        visible: listing.published && item.active && item.deleted_at.is_none(),
        name: item.name.clone(),
        price: item.price,
    }
}

fn sku_taken(error: DbErr, sku: &str) -> CatalogError {
    unique_conflict(error, "sku", format!("The sku `{sku}` is taken."))
}

fn slug_taken(error: sea_orm::DbErr, slug: &str) -> CatalogError {
    unique_conflict(
        error,
        "listing.slug",
        format!("The slug `{slug}` is taken."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(active: bool, deleted: bool) -> items::Model {
        let now = Utc::now();
        items::Model {
            id: Uuid::now_v7(),
            tenant_id: TenantId(Uuid::now_v7()),
            sku: "TEA-1".into(),
            name: "Green Tea".into(),
            unit_code: "Nos".into(),
            price: 450,
            tax_class: "standard".into(),
            cost_price: 0,
            reorder_level: 0,
            active,
            deleted_at: deleted.then_some(now),
            created_at: now,
            updated_at: now,
        }
    }

    fn listing(published: bool) -> ListingInput {
        ListingInput {
            published,
            slug: "tea-1".into(),
            short_description: " Fresh, GREEN ".into(),
            long_description: "Ünique leaves".into(),
            images: Vec::new(),
            category_id: None,
            display_order: 3,
            seo_title: None,
            seo_description: None,
        }
    }

    #[test]
    fn a_listing_copies_name_price_and_search_text_from_its_item() {
        let item = item(true, false);
        let row = listing_model(&item, &listing(true));
        assert_eq!((row.item_id, row.tenant_id), (item.id, item.tenant_id));
        assert_eq!((row.name.as_str(), row.price), ("Green Tea", 450));
        assert_eq!(
            row.search_text,
            "green tea tea-1  fresh, green  ünique leaves"
        );
        assert_eq!(row.short_description, "Fresh, GREEN");
        assert_eq!(row.display_order, 3);
    }

    #[test]
    fn a_listing_is_visible_only_published_with_its_item_active_and_not_deleted() {
        let visible = |active, deleted, published| {
            listing_model(&item(active, deleted), &listing(published)).visible
        };
        assert!(visible(true, false, true));
        assert!(!visible(true, false, false));
        assert!(!visible(false, false, true));
        assert!(!visible(true, true, true));
    }
}
