//! Managing coupons (admin).

use cartwheel_domain::accounts::roles::Permission;
use cartwheel_domain::coupons::{self, CouponInput, Kind};
use cartwheel_entity::coupons::Model as Coupon;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use crate::auth::{AdminAuth, AdminError};
use crate::json_body::JsonBody;
use crate::responses::{Created, NoContent};
use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// Discount codes (admin).
    Coupons,
}

pub struct CouponsApi;

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CouponRequest {
    /// Letters, digits, '-' and '_'; stored uppercased, unique per shop.
    #[oai(validator(pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    code: String,
    /// `percent` (value in whole percent, at most 100) or `fixed` (value in minor units).
    kind: Kind,
    #[oai(validator(minimum(value = "1"), maximum(value = "100000000000")))]
    value: i64,
    #[oai(
        nullable,
        validator(minimum(value = "0"), maximum(value = "100000000000"))
    )]
    min_subtotal: Option<i64>,
    #[oai(nullable)]
    starts_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(nullable)]
    ends_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(nullable, validator(minimum(value = "1")))]
    max_uses: Option<i32>,
    #[oai(nullable, validator(minimum(value = "1")))]
    max_uses_per_customer: Option<i32>,
    #[oai(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CouponView {
    id: uuid::Uuid,
    code: String,
    kind: Kind,
    value: i64,
    #[oai(nullable)]
    min_subtotal: Option<i64>,
    #[oai(nullable)]
    starts_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(nullable)]
    ends_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(nullable)]
    max_uses: Option<i32>,
    #[oai(nullable)]
    max_uses_per_customer: Option<i32>,
    active: bool,
}

impl From<Coupon> for CouponView {
    fn from(c: Coupon) -> Self {
        CouponView {
            id: c.id,
            code: c.code,
            kind: c.kind,
            value: c.value,
            min_subtotal: c.min_subtotal,
            starts_at: c.starts_at,
            ends_at: c.ends_at,
            max_uses: c.max_uses,
            max_uses_per_customer: c.max_uses_per_customer,
            active: c.active,
        }
    }
}

#[derive(Object)]
struct CouponList {
    items: Vec<CouponView>,
}

fn input(b: CouponRequest) -> CouponInput {
    CouponInput {
        code: b.code,
        kind: b.kind,
        value: b.value,
        min_subtotal: b.min_subtotal,
        starts_at: b.starts_at,
        ends_at: b.ends_at,
        max_uses: b.max_uses,
        max_uses_per_customer: b.max_uses_per_customer,
        active: b.active,
    }
}

#[OpenApi(prefix_path = "/api/v1/store/admin/coupons", tag = "ApiTags::Coupons")]
impl CouponsApi {
    /// Every coupon, by code.
    #[oai(path = "/", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn list(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<CouponList>, AdminError> {
        auth.0.require(Permission::CatalogRead)?;
        let all = coupons::list(&state.db, auth.0.tenant.id).await?;
        Ok(Json(CouponList {
            items: all.into_iter().map(CouponView::from).collect(),
        }))
    }

    /// Creates a coupon.
    #[oai(path = "/", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn create(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: JsonBody<CouponRequest>,
    ) -> Result<Created<CouponView>, AdminError> {
        auth.0.require(Permission::CatalogManage)?;
        let coupon = coupons::create(&state.db, &auth.0.actor(), input(body.0)).await?;
        Ok(Created::Created(Json(coupon.into())))
    }

    /// Replaces a coupon.
    #[oai(path = "/:id", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn update(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
        body: JsonBody<CouponRequest>,
    ) -> Result<Json<CouponView>, AdminError> {
        auth.0.require(Permission::CatalogManage)?;
        let coupon = coupons::update(&state.db, &auth.0.actor(), id.0, input(body.0)).await?;
        Ok(Json(coupon.into()))
    }

    /// Deletes a coupon; carts holding it drop it.
    #[oai(path = "/:id", method = "delete")]
    #[tracing::instrument(skip_all)]
    async fn delete(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
    ) -> Result<NoContent, AdminError> {
        auth.0.require(Permission::CatalogManage)?;
        coupons::delete(&state.db, &auth.0.actor(), id.0).await?;
        Ok(NoContent::NoContent)
    }
}
