//! The public storefront catalog: products of the tenant that are published, and categories.

pub mod cache;
pub mod seo;

use cartwheel_domain::catalog::store::{self, Product, ProductQuery, Sort};
use cartwheel_domain::catalog::{CatalogError, alerts, categories};
use cartwheel_domain::seo::ProductSeo;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::auth::validation;
use crate::catalog::views::{Availability, ImageView};
use crate::json_body::JsonBody;
use crate::paging::{Page, PageNumber, PageSize};
use crate::problem::{FieldError, ProblemJson};
use crate::responses::Accepted;
use crate::state::AppState;
use crate::tenant::CurrentTenant;

#[derive(Tags)]
enum ApiTags {
    /// What shoppers browse.
    Store,
}

pub struct StoreApi;

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ProductView {
    /// The item id, as `itemId` for the cart.
    id: uuid::Uuid,
    slug: String,
    sku: String,
    name: String,
    /// Minor units of `currency`.
    price: i64,
    unit: String,
    short_description: String,
    /// Only in the single-product answer.
    #[oai(nullable, skip_serializing_if_is_none)]
    long_description: Option<String>,
    images: Vec<ImageView>,
    #[oai(nullable)]
    category: Option<String>,
    availability: Availability,
    /// Only in the single-product answer: its title, meta description, canonical URL, Open
    /// Graph tags and `schema.org/Product` JSON-LD.
    #[oai(skip_serializing_if_is_none)]
    seo: Option<seo::ProductSeoView>,
}

impl ProductView {
    /// A product in a list, or with its `seo` data the single-product answer.
    fn new(p: Product, seo: Option<ProductSeo>) -> Self {
        let availability = Availability::of(&p.detail);
        let images = p.detail.images().into_iter().map(ImageView::from).collect();
        let d = p.detail;
        ProductView {
            id: d.item.id,
            slug: d.listing.slug,
            sku: d.item.sku,
            name: d.item.name,
            price: d.item.price,
            unit: d.item.unit_code,
            short_description: d.listing.short_description,
            long_description: seo.is_some().then_some(d.listing.long_description),
            images,
            category: p.category_slug,
            availability,
            seo: seo.map(Into::into),
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CategoryNode {
    name: String,
    slug: String,
    children: Vec<CategoryNode>,
}

#[derive(Object)]
struct CategoryTree {
    items: Vec<CategoryNode>,
}

#[derive(Object)]
struct NotifyMeRequest {
    email: String,
}

#[derive(ApiResponse)]
enum NotifyMeError {
    /// No such shop, or no such published product in it.
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// The product is in stock now: nothing to wait for.
    #[oai(status = 409)]
    Conflict(ProblemJson),
    /// The email was rejected; `errors` names it.
    #[oai(status = 422)]
    Unprocessable(ProblemJson),
    /// Too many requests from this client; see `Retry-After` (answered by the rate limiter).
    #[allow(dead_code)]
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
    /// An unexpected error; the log has the details under the request id.
    #[oai(status = 500)]
    Internal(ProblemJson),
}

impl From<CatalogError> for NotifyMeError {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::Invalid(problems) => NotifyMeError::Unprocessable(validation(problems)),
            CatalogError::NotFound(what) => {
                NotifyMeError::NotFound(ProblemJson::not_found(format!("No such {what}.")))
            }
            CatalogError::Conflict { message, .. } => {
                NotifyMeError::Conflict(ProblemJson::new(StatusCode::CONFLICT, "in-stock", message))
            }
            other => NotifyMeError::Internal(ProblemJson::internal(&other)),
        }
    }
}

#[derive(ApiResponse)]
enum StoreError {
    /// A filter or paging parameter is invalid; `errors` names it.
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// No such shop, or no such published product in it.
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// Too many requests from this client; see `Retry-After` (answered by the rate limiter).
    #[allow(dead_code)]
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
    /// An unexpected error; the log has the details under the request id.
    #[oai(status = 500)]
    Internal(ProblemJson),
}

impl From<CatalogError> for StoreError {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::Invalid(problems) => {
                let detail = problems
                    .iter()
                    .map(|p| format!("`{}` {}", p.field, p.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                StoreError::BadRequest(
                    ProblemJson::new(StatusCode::BAD_REQUEST, "bad-parameter", detail).with_errors(
                        problems
                            .into_iter()
                            .map(|p| FieldError {
                                field: p.field.into(),
                                message: p.message,
                            })
                            .collect(),
                    ),
                )
            }
            CatalogError::NotFound(what) => {
                StoreError::NotFound(ProblemJson::not_found(format!("No such {what}.")))
            }
            other => StoreError::Internal(ProblemJson::internal(&other)),
        }
    }
}

#[OpenApi(prefix_path = "/api/v1/store", tag = "ApiTags::Store")]
impl StoreApi {
    /// Published products with price and availability. `category` includes its sub-categories;
    /// `search` matches name, sku and descriptions, case-insensitively; `sort` is
    /// display_order (default), price_asc, price_desc, name or newest.
    #[oai(path = "/products", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn products(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        #[oai(validator(max_length = 100))] category: Query<Option<String>>,
        #[oai(validator(max_length = 100))] search: Query<Option<String>>,
        page: Query<PageNumber>,
        limit: Query<PageSize>,
        #[oai(default)] sort: Query<Sort>,
    ) -> Result<Json<Page<ProductView>>, StoreError> {
        let query = ProductQuery {
            // An empty parameter (`?category=`) filters nothing, as if it were absent.
            category: category.0.filter(|c| !c.is_empty()),
            search: search.0.filter(|s| !s.is_empty()),
            sort: sort.0,
            page: page.0.0,
            limit: limit.0.0,
        };
        let (found, total) = store::products(&state.db, tenant.0.id, &query).await?;
        let found = found
            .into_iter()
            .map(|p| ProductView::new(p, None))
            .collect();
        Ok(Json(Page::new(found, page.0, limit.0, total)))
    }

    /// One published product by its slug, with the long description and its search-engine
    /// data (`seo`).
    #[oai(path = "/products/:slug", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn product(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        slug: Path<String>,
    ) -> Result<Json<ProductView>, StoreError> {
        let page = store::product(&state.db, tenant.0.id, &slug.0).await?;
        let shop_url = cartwheel_domain::tenants::url(&state.public_url, &tenant.0.slug);
        let seo = cartwheel_domain::seo::product(&page, &tenant.0.name, &shop_url);
        Ok(Json(ProductView::new(page.product, Some(seo))))
    }

    /// Asks to be told by email, once, when an out-of-stock product is back in stock.
    #[oai(path = "/products/:slug/notify-me", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn notify_me(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
        slug: Path<String>,
        body: JsonBody<NotifyMeRequest>,
    ) -> Result<Accepted, NotifyMeError> {
        alerts::notify_me(&state.db, tenant.0.id, &slug.0, &body.0.email).await?;
        Ok(Accepted::Accepted)
    }

    /// The category tree, by display order.
    #[oai(path = "/categories", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn categories(
        &self,
        state: Data<&AppState>,
        tenant: CurrentTenant,
    ) -> Result<Json<CategoryTree>, StoreError> {
        let all = categories::list(&state.db, tenant.0.id).await?;
        Ok(Json(CategoryTree {
            items: categories::tree(&all, |c, children| CategoryNode {
                name: c.name.clone(),
                slug: c.slug.clone(),
                children,
            }),
        }))
    }
}
