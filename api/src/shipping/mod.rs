//! A shop's shipping zones and methods (admin).

use cartwheel_domain::accounts::roles::Permission;
use cartwheel_domain::shipping::methods::{self, MethodInput};
use cartwheel_domain::shipping::zones::{self, Zone, ZoneInput};
use cartwheel_entity::shipping_methods::Model as ShippingMethod;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use crate::auth::{AdminAuth, AdminError};
use crate::country::Country;
use crate::json_body::JsonBody;
use crate::responses::{Created, NoContent};
use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// Shipping zones and methods (admin).
    Shipping,
}

pub struct ShippingApi;

/// Countries shipped to alike; a country is in at most one zone of a shop (a 409 otherwise).
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ZoneRequest {
    #[oai(validator(min_length = 1, max_length = 100))]
    name: String,
    #[oai(validator(max_items = 250, unique_items))]
    countries: Vec<Country>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ZoneView {
    id: uuid::Uuid,
    name: String,
    /// In alphabetical order.
    countries: Vec<String>,
}

impl From<Zone> for ZoneView {
    fn from(z: Zone) -> Self {
        ZoneView {
            id: z.zone.id,
            name: z.zone.name,
            countries: z.countries,
        }
    }
}

#[derive(Object)]
struct ZoneList {
    items: Vec<ZoneView>,
}

/// A way to ship to a zone. Amounts are minor units of the shop's currency; the subtotal the
/// bounds and `freeOver` compare with is the goods' after their discount.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct MethodRequest {
    /// One of the shop's zones.
    zone_id: uuid::Uuid,
    #[oai(validator(min_length = 1, max_length = 100))]
    name: String,
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000000000000")))]
    price: i64,
    /// Free from this subtotal on.
    #[oai(
        nullable,
        validator(minimum(value = "0"), maximum(value = "1000000000000000"))
    )]
    free_over: Option<i64>,
    /// Offered only from this subtotal on.
    #[oai(
        nullable,
        validator(minimum(value = "0"), maximum(value = "1000000000000000"))
    )]
    min_subtotal: Option<i64>,
    /// Offered only up to this subtotal; not less than `minSubtotal`.
    #[oai(
        nullable,
        validator(minimum(value = "0"), maximum(value = "1000000000000000"))
    )]
    max_subtotal: Option<i64>,
    #[oai(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct MethodView {
    id: uuid::Uuid,
    zone_id: uuid::Uuid,
    name: String,
    price: i64,
    #[oai(nullable)]
    free_over: Option<i64>,
    #[oai(nullable)]
    min_subtotal: Option<i64>,
    #[oai(nullable)]
    max_subtotal: Option<i64>,
    active: bool,
}

impl From<ShippingMethod> for MethodView {
    fn from(m: ShippingMethod) -> Self {
        MethodView {
            id: m.id,
            zone_id: m.zone_id,
            name: m.name,
            price: m.price,
            free_over: m.free_over,
            min_subtotal: m.min_subtotal,
            max_subtotal: m.max_subtotal,
            active: m.active,
        }
    }
}

#[derive(Object)]
struct MethodList {
    items: Vec<MethodView>,
}

fn zone_input(body: ZoneRequest) -> ZoneInput {
    ZoneInput {
        name: body.name,
        countries: body.countries.into_iter().map(|c| c.0).collect(),
    }
}

fn method_input(body: MethodRequest) -> MethodInput {
    MethodInput {
        zone_id: body.zone_id,
        name: body.name,
        price: body.price,
        free_over: body.free_over,
        min_subtotal: body.min_subtotal,
        max_subtotal: body.max_subtotal,
        active: body.active,
    }
}

#[OpenApi(prefix_path = "/api/v1/admin/shipping", tag = "ApiTags::Shipping")]
impl ShippingApi {
    /// Every zone, by name, with its countries.
    #[oai(path = "/zones", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn zones(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<ZoneList>, AdminError> {
        auth.0.require(Permission::SettingsRead)?;
        let all = zones::list(&state.db, auth.0.tenant.id)
            .await
            .map_err(|e| AdminError::internal(&e))?;
        Ok(Json(ZoneList {
            items: all.into_iter().map(ZoneView::from).collect(),
        }))
    }

    /// Adds a zone.
    #[oai(path = "/zones", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn create_zone(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: JsonBody<ZoneRequest>,
    ) -> Result<Created<ZoneView>, AdminError> {
        auth.0.require(Permission::SettingsManage)?;
        let zone = zones::create(&state.db, &auth.0.actor(), zone_input(body.0)).await?;
        Ok(Created::Created(Json(zone.into())))
    }

    /// Replaces a zone's name and countries.
    #[oai(path = "/zones/:id", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn update_zone(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
        body: JsonBody<ZoneRequest>,
    ) -> Result<Json<ZoneView>, AdminError> {
        auth.0.require(Permission::SettingsManage)?;
        let zone = zones::update(&state.db, &auth.0.actor(), id.0, zone_input(body.0)).await?;
        Ok(Json(zone.into()))
    }

    /// Deletes a zone and its methods.
    #[oai(path = "/zones/:id", method = "delete")]
    #[tracing::instrument(skip_all)]
    async fn delete_zone(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
    ) -> Result<NoContent, AdminError> {
        auth.0.require(Permission::SettingsManage)?;
        zones::delete(&state.db, &auth.0.actor(), id.0).await?;
        Ok(NoContent::NoContent)
    }

    /// Every method, by zone and name.
    #[oai(path = "/methods", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn methods(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<MethodList>, AdminError> {
        auth.0.require(Permission::SettingsRead)?;
        let all = methods::list(&state.db, auth.0.tenant.id)
            .await
            .map_err(|e| AdminError::internal(&e))?;
        Ok(Json(MethodList {
            items: all.into_iter().map(MethodView::from).collect(),
        }))
    }

    /// Adds a method to one of the shop's zones.
    #[oai(path = "/methods", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn create_method(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: JsonBody<MethodRequest>,
    ) -> Result<Created<MethodView>, AdminError> {
        auth.0.require(Permission::SettingsManage)?;
        let method = methods::create(&state.db, &auth.0.actor(), method_input(body.0)).await?;
        Ok(Created::Created(Json(method.into())))
    }

    /// Replaces a method.
    #[oai(path = "/methods/:id", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn update_method(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
        body: JsonBody<MethodRequest>,
    ) -> Result<Json<MethodView>, AdminError> {
        auth.0.require(Permission::SettingsManage)?;
        let method =
            methods::update(&state.db, &auth.0.actor(), id.0, method_input(body.0)).await?;
        Ok(Json(method.into()))
    }

    /// Deletes a method.
    #[oai(path = "/methods/:id", method = "delete")]
    #[tracing::instrument(skip_all)]
    async fn delete_method(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
    ) -> Result<NoContent, AdminError> {
        auth.0.require(Permission::SettingsManage)?;
        methods::delete(&state.db, &auth.0.actor(), id.0).await?;
        Ok(NoContent::NoContent)
    }
}
