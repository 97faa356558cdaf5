//! Stock in the back office: adjustments and transfers (ledger entries with a reason) and an
//! item's levels by location.

use cartwheel_domain::accounts::roles::Permission;
use cartwheel_domain::catalog::stock::{self, Place};
use cartwheel_entity::TenantId;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use crate::auth::{AdminAuth, AdminError};
use crate::json_body::JsonBody;
use crate::responses::Created;
use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// Stock levels and movements (admin).
    Stock,
}

pub struct StockApi;

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct AdjustmentRequest {
    item_id: uuid::Uuid,
    /// Warehouse code; `MAIN` when omitted.
    #[oai(nullable, validator(max_length = 32))]
    warehouse: Option<String>,
    /// Location code, e.g. `RECEIVING`.
    #[oai(validator(max_length = 32))]
    location: String,
    /// Positive to add, negative to remove; not zero.
    #[oai(validator(minimum(value = "-1000000000"), maximum(value = "1000000000")))]
    quantity: i64,
    #[oai(validator(min_length = 1, max_length = 200))]
    reason: String,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct TransferRequest {
    item_id: uuid::Uuid,
    /// Warehouse code; `MAIN` when omitted.
    #[oai(nullable, validator(max_length = 32))]
    warehouse: Option<String>,
    /// Location code to take from.
    #[oai(validator(max_length = 32))]
    from: String,
    /// Location code to put to.
    #[oai(validator(max_length = 32))]
    to: String,
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000000")))]
    quantity: i64,
    #[oai(validator(min_length = 1, max_length = 200))]
    reason: String,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct LevelView {
    warehouse: String,
    location: String,
    on_hand: i64,
    reserved: i64,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct MovementView {
    /// `WAREHOUSE/LOCATION`.
    place: String,
    quantity: i64,
    reason: String,
    created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct StockView {
    levels: Vec<LevelView>,
    /// The latest 50 ledger entries, newest first.
    movements: Vec<MovementView>,
}

async fn stock_view(
    state: &AppState,
    tenant_id: TenantId,
    item_id: uuid::Uuid,
) -> Result<StockView, AdminError> {
    let (levels, movements) = stock::ledger(&state.db, tenant_id, item_id, 50).await?;
    Ok(StockView {
        levels: levels
            .into_iter()
            .map(|l| LevelView {
                warehouse: l.warehouse,
                location: l.location,
                on_hand: l.on_hand,
                reserved: l.reserved,
            })
            .collect(),
        movements: movements
            .into_iter()
            .map(|(m, place)| MovementView {
                place,
                quantity: m.quantity,
                reason: m.reason,
                created_at: m.created_at,
            })
            .collect(),
    })
}

#[OpenApi(prefix_path = "/api/v1/admin/stock", tag = "ApiTags::Stock")]
impl StockApi {
    /// The item's stock by location and its latest ledger entries.
    #[oai(path = "/items/:id", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn item_stock(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
    ) -> Result<Json<StockView>, AdminError> {
        auth.0.require(Permission::CatalogRead)?;
        Ok(Json(stock_view(&state, auth.0.tenant.id, id.0).await?))
    }

    /// Adds or removes stock at a location, with a reason (a ledger entry).
    #[oai(path = "/adjustments", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn adjust(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: JsonBody<AdjustmentRequest>,
    ) -> Result<Created<StockView>, AdminError> {
        auth.0.require(Permission::CatalogManage)?;
        let b = body.0;
        let tenant = auth.0.tenant.id;
        let warehouse = b.warehouse.as_deref().unwrap_or("MAIN");
        stock::adjust(
            &state.db,
            &state.catalog_changes,
            &auth.0.actor(),
            b.item_id,
            Place {
                warehouse,
                location: &b.location,
            },
            b.quantity,
            &b.reason,
        )
        .await?;
        Ok(Created::Created(Json(
            stock_view(&state, tenant, b.item_id).await?,
        )))
    }

    /// Moves stock between two locations of a warehouse (two ledger entries, one transaction).
    #[oai(path = "/transfers", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn transfer(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: JsonBody<TransferRequest>,
    ) -> Result<Created<StockView>, AdminError> {
        auth.0.require(Permission::CatalogManage)?;
        let b = body.0;
        let tenant = auth.0.tenant.id;
        let warehouse = b.warehouse.as_deref().unwrap_or("MAIN");
        stock::transfer(
            &state.db,
            &state.catalog_changes,
            &auth.0.actor(),
            b.item_id,
            Place {
                warehouse,
                location: &b.from,
            },
            Place {
                warehouse,
                location: &b.to,
            },
            b.quantity,
            &b.reason,
        )
        .await?;
        Ok(Created::Created(Json(
            stock_view(&state, tenant, b.item_id).await?,
        )))
    }
}
