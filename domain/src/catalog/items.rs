//! Items and their storefront listings: created and replaced together, deleted softly.

use cartwheel_entity::{items, listings, units};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CatalogError, check_slug, check_text, stock, unique_conflict};
use crate::money;
use crate::validation::{FieldProblem, check_length};

/// The most images a listing shows.
pub const MAX_IMAGES: usize = 20;

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
    pub reorder_level: i64,
    pub active: bool,
    pub listing: ListingInput,
}

pub struct ListingInput {
    pub published: bool,
    pub slug: String,
    pub short_description: String,
    pub long_description: String,
    pub images: Vec<Image>,
    pub category_id: Option<Uuid>,
    pub display_order: i32,
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
        serde_json::from_value(self.listing.images.clone()).unwrap_or_default()
    }
}

pub async fn create(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    input: ItemInput,
) -> Result<ItemDetail, CatalogError> {
    let input = validate(db, tenant_id, input).await?;
    let id = Uuid::now_v7();
    let now = chrono::Utc::now();
    let txn = crate::transaction::begin(db).await?;
    items::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_id),
        sku: Set(input.sku.clone()),
        name: Set(input.name.clone()),
        unit_code: Set(input.unit.clone()),
        price: Set(input.price),
        reorder_level: Set(input.reorder_level),
        active: Set(input.active),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| unique_conflict(e, "sku", format!("The sku `{}` is taken.", input.sku)))?;
    listing_model(id, tenant_id, &input)
        .insert(&txn)
        .await
        .map_err(|e| slug_taken(e, &input.listing.slug))?;
    txn.commit().await?;
    get(db, tenant_id, id).await
}

/// Replaces the item and its listing.
pub async fn update(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    id: Uuid,
    input: ItemInput,
) -> Result<ItemDetail, CatalogError> {
    let existing = get(db, tenant_id, id).await?;
    let input = validate(db, tenant_id, input).await?;
    let stock_alerts_may_change = existing.item.reorder_level != input.reorder_level
        || existing.item.active != input.active
        || existing.listing.published != input.listing.published;
    let txn = crate::transaction::begin(db).await?;
    let mut item: items::ActiveModel = existing.item.into();
    item.sku = Set(input.sku.clone());
    item.name = Set(input.name.clone());
    item.unit_code = Set(input.unit.clone());
    item.price = Set(input.price);
    item.reorder_level = Set(input.reorder_level);
    item.active = Set(input.active);
    item.updated_at = Set(chrono::Utc::now());
    item.update(&txn)
        .await
        .map_err(|e| unique_conflict(e, "sku", format!("The sku `{}` is taken.", input.sku)))?;
    let mut listing = listing_model(id, tenant_id, &input);
    listing.item_id = sea_orm::ActiveValue::Unchanged(id);
    listing
        .update(&txn)
        .await
        .map_err(|e| slug_taken(e, &input.listing.slug))?;
    if stock_alerts_may_change {
        super::alerts::enqueue_check(&txn, tenant_id, id).await?;
    }
    txn.commit().await?;
    get(db, tenant_id, id).await
}

/// Hides the item everywhere but in past records: it keeps its row, leaves the storefront,
/// and its sku stays taken.
pub async fn delete<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<(), CatalogError> {
    let deleted = items::Entity::update_many()
        .col_expr(items::Column::DeletedAt, Expr::value(chrono::Utc::now()))
        .col_expr(items::Column::Active, Expr::value(false))
        .filter(items::Column::Id.eq(id))
        .filter(items::Column::TenantId.eq(tenant_id))
        .filter(items::Column::DeletedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    if deleted == 0 {
        return Err(CatalogError::NotFound("item"));
    }
    listings::Entity::update_many()
        .col_expr(listings::Column::Published, Expr::value(false))
        .col_expr(listings::Column::Visible, Expr::value(false))
        .filter(listings::Column::ItemId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// An item that is not deleted, with its listing and stock.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
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
pub async fn list<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
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
    tenant_id: Uuid,
    mut input: ItemInput,
) -> Result<ItemInput, CatalogError> {
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
    if !(0..=money::MAX_PRICE).contains(&input.price) {
        problems.push(FieldProblem::new(
            "price",
            format!("must be 0 to {}", money::MAX_PRICE),
        ));
    }
    if !(0..=stock::MAX_QUANTITY).contains(&input.reorder_level) {
        problems.push(FieldProblem::new(
            "reorderLevel",
            format!("must be 0 to {}", stock::MAX_QUANTITY),
        ));
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
    let unit_known = units::Entity::find()
        .filter(units::Column::TenantId.eq(tenant_id))
        .filter(units::Column::Code.eq(input.unit.trim()))
        .count(db)
        .await?
        > 0;
    if !unit_known {
        problems.push(FieldProblem::new(
            "unit",
            format!("`{}` is not a unit of this shop", input.unit),
        ));
    }
    if let Some(category) = input.listing.category_id
        && super::categories::find(db, tenant_id, category)
            .await
            .is_err()
    {
        problems.push(FieldProblem::new(
            "listing.categoryId",
            "is not a category of this shop",
        ));
    }
    if problems.is_empty() {
        input.unit = input.unit.trim().to_string();
        Ok(input)
    } else {
        Err(CatalogError::Invalid(problems))
    }
}

/// What storefront search matches: name, sku and descriptions, lowercased.
pub fn search_text(
    name: &str,
    sku: &str,
    short_description: &str,
    long_description: &str,
) -> String {
    [name, sku, short_description, long_description]
        .join(" ")
        .to_lowercase()
}

fn listing_model(item_id: Uuid, tenant_id: Uuid, input: &ItemInput) -> listings::ActiveModel {
    let l = &input.listing;
    let search_text = search_text(
        &input.name,
        &input.sku,
        &l.short_description,
        &l.long_description,
    );
    listings::ActiveModel {
        item_id: Set(item_id),
        tenant_id: Set(tenant_id),
        published: Set(l.published),
        slug: Set(l.slug.clone()),
        short_description: Set(l.short_description.trim().to_string()),
        long_description: Set(l.long_description.trim().to_string()),
        images: Set(serde_json::to_value(&l.images).expect("images serialize")),
        category_id: Set(l.category_id),
        display_order: Set(l.display_order),
        search_text: Set(search_text),
        visible: Set(l.published && input.active),
        name: Set(input.name.clone()),
        price: Set(input.price),
    }
}

fn slug_taken(error: sea_orm::DbErr, slug: &str) -> CatalogError {
    unique_conflict(
        error,
        "listing.slug",
        format!("The slug `{slug}` is taken."),
    )
}
