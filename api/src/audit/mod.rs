//! The shop's audit log (admin, `audit:read`): who changed what, when, newest first.

use cartwheel_domain::accounts::roles::Permission;
use cartwheel_domain::audit::{self, Action, Entity, Filter};
use cartwheel_entity::audit_log;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use crate::auth::{AdminAuth, AdminError};
use crate::paging::{Page, PageNumber, PageSize};
use crate::problem::ProblemJson;
use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// Every admin change of the shop, written with the change (admin).
    Audit,
}

pub struct AuditApi;

/// One admin change.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct AuditEntryView {
    id: uuid::Uuid,
    at: chrono::DateTime<chrono::Utc>,
    /// The admin user; null for the shop's own processes (the demo shop's seed) and the
    /// platform operator.
    #[oai(nullable)]
    actor_id: Option<uuid::Uuid>,
    /// The admin's email, `operator` (the platform operator, on the shop's jobs), or
    /// `system:<process>`.
    actor_email: String,
    /// The `X-Request-Id` of the request that made the change.
    #[oai(nullable)]
    request_id: Option<String>,
    entity: Entity,
    /// The changed thing's id (`csv-import` for an import's summary).
    entity_id: String,
    action: Action,
    /// The fields that changed: `{"price": {"before": 100, "after": 120}}`; a created thing
    /// has only `after`, a deleted one only `before`. Long text is cut at 200 characters;
    /// secrets are never recorded.
    diff: std::collections::BTreeMap<String, serde_json::Value>,
}

#[OpenApi(prefix_path = "/api/v1/admin", tag = "ApiTags::Audit")]
impl AuditApi {
    /// The audit log, newest first: of one kind of thing (`entity`) or one thing (`entity`
    /// and `entityId`), by one admin (`actorId`), from `from` (inclusive) and before `before`.
    #[oai(path = "/audit", method = "get")]
    #[tracing::instrument(skip_all)]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        entity: Query<Option<Entity>>,
        #[oai(name = "entityId", validator(max_length = 64))] entity_id: Query<Option<String>>,
        #[oai(name = "actorId")] actor_id: Query<Option<uuid::Uuid>>,
        from: Query<Option<chrono::DateTime<chrono::Utc>>>,
        before: Query<Option<chrono::DateTime<chrono::Utc>>>,
        page: Query<PageNumber>,
        limit: Query<PageSize>,
    ) -> Result<Json<Page<AuditEntryView>>, AdminError> {
        auth.0.require(Permission::AuditRead)?;
        let filter = Filter {
            entity: entity.0,
            entity_id: entity_id.0,
            actor_id: actor_id.0,
            from: from.0,
            before: before.0,
        };
        let (page, limit) = (page.0, limit.0);
        let (rows, total) = audit::list(&state.db, auth.0.tenant.id, &filter, page.0, limit.0)
            .await
            .map_err(|e| AdminError::Internal(ProblemJson::internal(&e)))?;
        let rows = rows.into_iter().filter_map(AuditEntryView::of).collect();
        Ok(Json(Page::new(rows, page, limit, total)))
    }
}

impl AuditEntryView {
    /// A stored row as the API shows it (`None` for a name this version does not know).
    pub fn of(row: audit_log::Model) -> Option<Self> {
        Some(AuditEntryView {
            entity: Entity::parse(&row.entity)?,
            action: Action::parse(&row.action)?,
            diff: serde_json::from_str(&row.diff).unwrap_or_default(),
            id: row.id,
            at: row.at,
            actor_id: row.actor_id,
            actor_email: row.actor_email,
            request_id: row.request_id,
            entity_id: row.entity_id,
        })
    }
}
