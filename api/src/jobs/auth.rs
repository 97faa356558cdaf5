//! Who may watch and steer jobs: the platform operator (`CARTWHEEL_OPERATOR_TOKEN`) sees every
//! tenant's jobs; a tenant's admins (admin token with `jobs:read`) see only their tenant's.

use cartwheel_domain::accounts::roles::Permission;
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::auth::AdminSession;
use crate::auth::session::{authenticate, unauthorized};
use crate::middleware::request_id::RequestId;
use crate::problem::ProblemJson;
use crate::state::AppState;
use crate::tenant::TenantSlug;
use cartwheel_domain::audit::Actor;

/// `Authorization: Bearer <CARTWHEEL_OPERATOR_TOKEN>`, or a tenant admin's token with
/// `X-Tenant` naming their shop.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_jobs_viewer")]
pub struct JobsAuth(pub JobsViewer);

pub enum JobsViewer {
    /// The operator, in the request with this `X-Request-Id`.
    Operator {
        request_id: Option<String>,
    },
    TenantAdmin(Box<AdminSession>),
}

impl JobsViewer {
    /// The tenant this viewer is limited to; `None` for the operator.
    pub fn tenant_scope(&self) -> Option<cartwheel_entity::TenantId> {
        match self {
            JobsViewer::Operator { .. } => None,
            JobsViewer::TenantAdmin(session) => Some(session.tenant.id),
        }
    }

    /// Who the audit log names for a change to a job of `tenant_id`.
    pub fn actor(&self, tenant_id: cartwheel_entity::TenantId) -> Actor {
        match self {
            JobsViewer::Operator { request_id } => {
                Actor::operator(tenant_id, request_id.as_deref())
            }
            JobsViewer::TenantAdmin(session) => session.actor(),
        }
    }

    /// Retrying and cancelling need `jobs:manage` (the operator may always).
    pub fn require_manage(&self) -> Result<(), ProblemJson> {
        match self {
            JobsViewer::Operator { .. } => Ok(()),
            JobsViewer::TenantAdmin(session) => session.require(Permission::JobsManage),
        }
    }

    /// Platform-wide views (workers) are the operator's only.
    pub fn require_operator(&self) -> Result<(), ProblemJson> {
        match self {
            JobsViewer::Operator { .. } => Ok(()),
            JobsViewer::TenantAdmin(_) => Err(crate::auth::session::forbidden(
                "Only the platform operator sees the workers.",
            )),
        }
    }
}

async fn check_jobs_viewer(req: &Request, bearer: Bearer) -> poem::Result<JobsViewer> {
    let state = req
        .data::<AppState>()
        .expect("AppState is attached to every route");
    if crate::auth::is_operator(state, &bearer.token) {
        return Ok(JobsViewer::Operator {
            request_id: RequestId::of(req),
        });
    }
    if req.extensions().get::<TenantSlug>().is_none() {
        return Err(unauthorized(
            "Not the operator token. Tenant admins send their token with `X-Tenant` naming their shop.",
        )
        .into_error());
    }
    let session = authenticate(req, &bearer.token)
        .await
        .map_err(ProblemJson::into_error)?;
    session
        .require(Permission::JobsRead)
        .map_err(ProblemJson::into_error)?;
    Ok(JobsViewer::TenantAdmin(Box::new(session)))
}
