//! Managing the catalog: products (items with their storefront listings) and categories.

pub mod import;
pub mod views;

use cartwheel_domain::accounts::roles::Permission;
use cartwheel_domain::catalog::items::{ItemDetail, ItemInput, ListingInput};
use cartwheel_domain::catalog::{CatalogError, categories, items};
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use crate::auth::{AdminAuth, AdminError, validation};
use crate::json_body::JsonBody;
use crate::paging::{Page, PageNumber, PageSize};
use crate::problem::{FieldError, ProblemJson};
use crate::responses::{Created, NoContent};
use crate::state::AppState;
use views::{Availability, ImageView};

#[derive(Tags)]
pub(crate) enum ApiTags {
    /// Products and categories (admin).
    Catalog,
}

pub struct CatalogApi;

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ListingRequest {
    published: bool,
    /// Unique per shop: the product's address on the storefront.
    #[oai(validator(pattern = "^[a-z0-9]([a-z0-9-]{0,98}[a-z0-9])?$"))]
    slug: String,
    #[oai(default, validator(max_length = 500))]
    short_description: String,
    #[oai(default, validator(max_length = 20000))]
    long_description: String,
    #[oai(default, validator(max_items = 20))]
    images: Vec<ImageView>,
    #[oai(nullable)]
    category_id: Option<uuid::Uuid>,
    #[oai(default)]
    display_order: i32,
    /// The product's own search-engine title; omitted, null or blank: `{name} | {shop name}`.
    #[oai(default, nullable, validator(max_length = 150))]
    seo_title: Option<String>,
    /// The product's own meta description; omitted, null or blank: derived from its
    /// descriptions (the store's product answer shows the result under `seo`).
    #[oai(default, nullable, validator(max_length = 320))]
    seo_description: Option<String>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ItemRequest {
    /// Unique per shop.
    #[oai(validator(min_length = 1, max_length = 64))]
    sku: String,
    #[oai(validator(min_length = 1, max_length = 200))]
    name: String,
    /// A unit code of the shop, e.g. `Nos`.
    #[oai(validator(max_length = 16))]
    unit: String,
    /// In minor units of the shop's currency (cents).
    #[oai(validator(minimum(value = "0"), maximum(value = "100000000000")))]
    price: i64,
    /// Which of the shop's tax rules apply (`GET /api/v1/admin/tax-rules`); `standard` when
    /// omitted.
    #[oai(default = "standard_class", validator(pattern = "^[a-z0-9_-]{1,32}$"))]
    tax_class: String,
    /// What one unit costs the shop, in minor units: a shipment posts it as the cost of goods
    /// sold. 0 when omitted.
    #[oai(
        default,
        validator(minimum(value = "0"), maximum(value = "100000000000"))
    )]
    cost_price: i64,
    #[oai(
        default,
        validator(minimum(value = "0"), maximum(value = "1000000000"))
    )]
    reorder_level: i64,
    #[oai(default = "yes")]
    active: bool,
    listing: ListingRequest,
}

fn yes() -> bool {
    true
}

fn standard_class() -> String {
    cartwheel_domain::tax::STANDARD_CLASS.into()
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ListingView {
    published: bool,
    slug: String,
    short_description: String,
    long_description: String,
    images: Vec<ImageView>,
    #[oai(nullable)]
    category_id: Option<uuid::Uuid>,
    display_order: i32,
    /// The admin's own search-engine title; null when derived.
    #[oai(nullable)]
    seo_title: Option<String>,
    /// The admin's own meta description; null when derived.
    #[oai(nullable)]
    seo_description: Option<String>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ItemView {
    id: uuid::Uuid,
    sku: String,
    name: String,
    unit: String,
    price: i64,
    tax_class: String,
    cost_price: i64,
    reorder_level: i64,
    active: bool,
    on_hand: i64,
    reserved: i64,
    availability: Availability,
    listing: ListingView,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<ItemDetail> for ItemView {
    fn from(d: ItemDetail) -> Self {
        let availability = Availability::of(&d);
        let images = d.images().into_iter().map(ImageView::from).collect();
        ItemView {
            id: d.item.id,
            sku: d.item.sku,
            name: d.item.name,
            unit: d.item.unit_code,
            price: d.item.price,
            tax_class: d.item.tax_class,
            cost_price: d.item.cost_price,
            reorder_level: d.item.reorder_level,
            active: d.item.active,
            on_hand: d.stock.on_hand,
            reserved: d.stock.reserved,
            availability,
            listing: ListingView {
                published: d.listing.published,
                slug: d.listing.slug,
                short_description: d.listing.short_description,
                long_description: d.listing.long_description,
                images,
                category_id: d.listing.category_id,
                display_order: d.listing.display_order,
                seo_title: d.listing.seo_title,
                seo_description: d.listing.seo_description,
            },
            created_at: d.item.created_at,
            updated_at: d.item.updated_at,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CategoryRequest {
    #[oai(validator(min_length = 1, max_length = 200))]
    name: String,
    /// Unique per shop.
    #[oai(validator(pattern = "^[a-z0-9]([a-z0-9-]{0,98}[a-z0-9])?$"))]
    slug: String,
    #[oai(nullable)]
    parent_id: Option<uuid::Uuid>,
    #[oai(default)]
    display_order: i32,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CategoryView {
    id: uuid::Uuid,
    name: String,
    slug: String,
    #[oai(nullable)]
    parent_id: Option<uuid::Uuid>,
    display_order: i32,
}

#[derive(Object)]
struct CategoryList {
    items: Vec<CategoryView>,
}

impl From<cartwheel_entity::categories::Model> for CategoryView {
    fn from(c: cartwheel_entity::categories::Model) -> Self {
        CategoryView {
            id: c.id,
            name: c.name,
            slug: c.slug,
            parent_id: c.parent_id,
            display_order: c.display_order,
        }
    }
}

impl From<CatalogError> for AdminError {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::Invalid(problems) => AdminError::Unprocessable(validation(problems)),
            CatalogError::NotFound(what) => AdminError::NotFound(ProblemJson::not_found(format!(
                "No such {what} in this shop."
            ))),
            CatalogError::Conflict { field, message } => AdminError::Conflict(
                ProblemJson::new(StatusCode::CONFLICT, "conflict", message.clone()).with_errors(
                    field
                        .map(|f| {
                            vec![FieldError {
                                field: f.into(),
                                message,
                            }]
                        })
                        .unwrap_or_default(),
                ),
            ),
            CatalogError::InsufficientStock { available } => AdminError::Conflict(
                ProblemJson::new(
                    StatusCode::CONFLICT,
                    "insufficient-stock",
                    format!("Not enough stock: {available} available."),
                )
                .with_errors(vec![FieldError {
                    field: "quantity".into(),
                    message: format!("only {available} available"),
                }]),
            ),
            CatalogError::Database(e) => AdminError::internal(&e),
            CatalogError::Enqueue(e) => AdminError::internal(&e),
        }
    }
}

fn item_input(body: ItemRequest) -> ItemInput {
    let l = body.listing;
    ItemInput {
        sku: body.sku,
        name: body.name,
        unit: body.unit,
        price: body.price,
        tax_class: body.tax_class,
        cost_price: body.cost_price,
        reorder_level: body.reorder_level,
        active: body.active,
        listing: ListingInput {
            published: l.published,
            slug: l.slug,
            short_description: l.short_description,
            long_description: l.long_description,
            images: l.images.into_iter().map(Into::into).collect(),
            category_id: l.category_id,
            display_order: l.display_order,
            seo_title: l.seo_title,
            seo_description: l.seo_description,
        },
    }
}

fn category_input(body: CategoryRequest) -> categories::CategoryInput {
    categories::CategoryInput {
        name: body.name,
        slug: body.slug,
        parent_id: body.parent_id,
        display_order: body.display_order,
    }
}

#[OpenApi(prefix_path = "/api/v1/store/admin", tag = "ApiTags::Catalog")]
impl CatalogApi {
    /// Items with their listings and stock, by sku.
    #[oai(path = "/products", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn items(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        page: Query<PageNumber>,
        limit: Query<PageSize>,
    ) -> Result<Json<Page<ItemView>>, AdminError> {
        auth.0.require(Permission::CatalogRead)?;
        let (page, limit) = (page.0, limit.0);
        let (found, total) = items::list(&state.db, auth.0.tenant.id, page.0, limit.0).await?;
        let found = found.into_iter().map(ItemView::from).collect();
        Ok(Json(Page::new(found, page, limit, total)))
    }

    /// Creates an item with its storefront listing.
    #[oai(path = "/products", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn create_item(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: JsonBody<ItemRequest>,
    ) -> Result<Created<ItemView>, AdminError> {
        auth.0.require(Permission::CatalogManage)?;
        let item = items::create(
            &state.db,
            &state.catalog_changes,
            &auth.0.actor(),
            item_input(body.0),
        )
        .await?;
        Ok(Created::Created(Json(item.into())))
    }

    /// One item with its listing and stock.
    #[oai(path = "/products/:id", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn item(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
    ) -> Result<Json<ItemView>, AdminError> {
        auth.0.require(Permission::CatalogRead)?;
        Ok(Json(
            items::get(&state.db, auth.0.tenant.id, id.0).await?.into(),
        ))
    }

    /// Replaces an item and its listing.
    #[oai(path = "/products/:id", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn update_item(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
        body: JsonBody<ItemRequest>,
    ) -> Result<Json<ItemView>, AdminError> {
        auth.0.require(Permission::CatalogManage)?;
        let item = items::update(
            &state.db,
            &state.catalog_changes,
            &auth.0.actor(),
            id.0,
            item_input(body.0),
        )
        .await?;
        Ok(Json(item.into()))
    }

    /// Deletes an item softly: it leaves the storefront and the lists, past records keep it.
    #[oai(path = "/products/:id", method = "delete")]
    #[tracing::instrument(skip_all)]
    async fn delete_item(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
    ) -> Result<NoContent, AdminError> {
        auth.0.require(Permission::CatalogManage)?;
        items::delete(&state.db, &state.catalog_changes, &auth.0.actor(), id.0).await?;
        Ok(NoContent::NoContent)
    }

    /// Every category, flat, by display order.
    #[oai(path = "/categories", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn categories(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<CategoryList>, AdminError> {
        auth.0.require(Permission::CatalogRead)?;
        let all = categories::list(&state.db, auth.0.tenant.id).await?;
        Ok(Json(CategoryList {
            items: all.into_iter().map(CategoryView::from).collect(),
        }))
    }

    /// Creates a category, optionally under a parent.
    #[oai(path = "/categories", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn create_category(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: JsonBody<CategoryRequest>,
    ) -> Result<Created<CategoryView>, AdminError> {
        auth.0.require(Permission::CatalogManage)?;
        let category = categories::create(
            &state.db,
            &state.catalog_changes,
            &auth.0.actor(),
            category_input(body.0),
        )
        .await?;
        Ok(Created::Created(Json(category.into())))
    }

    /// Renames or moves a category; a move into its own subtree is refused.
    #[oai(path = "/categories/:id", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn update_category(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
        body: JsonBody<CategoryRequest>,
    ) -> Result<Json<CategoryView>, AdminError> {
        auth.0.require(Permission::CatalogManage)?;
        let category = categories::update(
            &state.db,
            &state.catalog_changes,
            &auth.0.actor(),
            id.0,
            category_input(body.0),
        )
        .await?;
        Ok(Json(category.into()))
    }

    /// Deletes an empty category (no sub-categories, no products).
    #[oai(path = "/categories/:id", method = "delete")]
    #[tracing::instrument(skip_all)]
    async fn delete_category(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
    ) -> Result<NoContent, AdminError> {
        auth.0.require(Permission::CatalogManage)?;
        categories::delete(&state.db, &state.catalog_changes, &auth.0.actor(), id.0).await?;
        Ok(NoContent::NoContent)
    }
}
