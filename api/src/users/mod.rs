//! Managing a shop's admins: list, invite, change roles, deactivate; and the roles themselves.

use cartwheel_domain::accounts::roles::{self, Permission, Role};
use cartwheel_domain::accounts::{invitations, users};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use crate::auth::{AdminAuth, AdminError, UserView};
use crate::json_body::JsonBody;
use crate::paging::{Page, PageNumber, PageSize};
use crate::responses::Created;
use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// A shop's admin users and roles.
    Users,
}

pub struct UsersApi;

#[derive(Object)]
struct InviteRequest {
    #[oai(validator(max_length = 254))]
    email: String,
    role: Role,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct InvitationView {
    id: uuid::Uuid,
    email: String,
    role: Role,
    expires_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Object)]
struct RoleRequest {
    role: Role,
}

#[derive(Object)]
struct RoleView {
    name: Role,
    permissions: Vec<Permission>,
}

#[derive(Object)]
struct RoleList {
    items: Vec<RoleView>,
}

#[OpenApi(prefix_path = "/api/v1/admin", tag = "ApiTags::Users")]
impl UsersApi {
    /// The shop's admin users, by email.
    #[oai(path = "/users", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn list(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        page: Query<PageNumber>,
        limit: Query<PageSize>,
    ) -> Result<Json<Page<UserView>>, AdminError> {
        auth.0.require(Permission::UsersRead)?;
        let (page, limit) = (page.0, limit.0);
        let (found, total) = users::list(&state.db, auth.0.tenant.id, page.0, limit.0)
            .await
            .map_err(|e| AdminError::internal(&e))?;
        let found = found.into_iter().map(UserView::from).collect();
        Ok(Json(Page::new(found, page, limit, total)))
    }

    /// Invites someone by email with a role; they get a link valid for 7 days. Only an Owner
    /// may invite an Owner.
    #[oai(path = "/invitations", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn invite(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: JsonBody<InviteRequest>,
    ) -> Result<Created<InvitationView>, AdminError> {
        auth.0.require(Permission::UsersManage)?;
        let body = body.0;
        let invitation = invitations::invite(
            &state.db,
            &auth.0.actor(),
            &auth.0.user,
            &body.email,
            body.role,
        )
        .await?;
        Ok(Created::Created(Json(InvitationView {
            id: invitation.id,
            email: invitation.email,
            role: body.role,
            expires_at: invitation.expires_at,
        })))
    }

    /// Changes a user's role. Only an Owner makes or unmakes Owners; the last Owner stays one.
    #[oai(path = "/users/:id/role", method = "put")]
    #[tracing::instrument(skip_all)]
    async fn change_role(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
        body: JsonBody<RoleRequest>,
    ) -> Result<Json<UserView>, AdminError> {
        auth.0.require(Permission::UsersManage)?;
        let user = users::change_role(
            &state.db,
            &auth.0.actor(),
            auth.0.user.role.name,
            id.0,
            body.0.role,
        )
        .await?;
        Ok(Json(user.into()))
    }

    /// Deactivates a user: their tokens stop working at once. The last Owner cannot be
    /// deactivated.
    #[oai(path = "/users/:id/deactivate", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn deactivate(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
    ) -> Result<Json<UserView>, AdminError> {
        set_active(auth, &state, id.0, false).await
    }

    /// Lets a deactivated user log in again.
    #[oai(path = "/users/:id/activate", method = "post")]
    #[tracing::instrument(skip_all)]
    async fn activate(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<uuid::Uuid>,
    ) -> Result<Json<UserView>, AdminError> {
        set_active(auth, &state, id.0, true).await
    }

    /// The shop's roles and what each may do.
    #[oai(path = "/roles", method = "get")]
    #[tracing::instrument(skip_all)]
    async fn roles(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
    ) -> Result<Json<RoleList>, AdminError> {
        auth.0.require(Permission::UsersRead)?;
        let roles = cartwheel_domain::defaults::roles(&state.db, auth.0.tenant.id)
            .await
            .map_err(|e| AdminError::internal(&e))?;
        Ok(Json(RoleList {
            items: roles
                .into_iter()
                .map(|r| RoleView {
                    permissions: roles::permissions(&r.permissions),
                    name: r.name,
                })
                .collect(),
        }))
    }
}

async fn set_active(
    auth: AdminAuth,
    state: &AppState,
    id: uuid::Uuid,
    active: bool,
) -> Result<Json<UserView>, AdminError> {
    auth.0.require(Permission::UsersManage)?;
    let user = users::set_active(
        &state.db,
        &auth.0.actor(),
        auth.0.user.role.name,
        id,
        active,
    )
    .await?;
    Ok(Json(user.into()))
}
