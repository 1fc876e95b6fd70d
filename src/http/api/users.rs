use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{HttpResponse, get, patch, post};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::respond::{created, versioned};
use crate::access::{Actor, Role};
use crate::config::Secret;
use crate::db::users::UserFilter;
use crate::error::{AppResult, Problem};
use crate::http::extract::{ApiJson, IfMatch};
use crate::identity::users::{self, NewAccount, User, UserUpdate};
use crate::identity::{DisplayName, Email};
use crate::ids::{OrganisationId, UserId};
use crate::pagination::{Page, Paginated};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(min_length = 3, max_length = 254, format = Email)]
    pub email: String,
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: String,
    pub role: Role,
    /// Required for every role but admin; a programme manager's default is their own.
    pub organisation_id: Option<OrganisationId>,
    /// An initial password (8 to 128 characters, not a common one).
    #[schema(value_type = Option<String>, format = Password, min_length = 8, max_length = 128)]
    pub password: Option<Secret>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: Option<String>,
    pub role: Option<Role>,
    /// `false` deactivates the account and ends its sessions at once.
    pub active: Option<bool>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    pub organisation_id: Option<OrganisationId>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Create a user account.
///
/// Admins create any account; programme managers create supervisors and peer workers of
/// their own organisation.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried POST safe")),
    responses(
        (status = 201, description = "Created", body = User, headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Malformed JSON or Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not create this account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Organisation not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email already used", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: Data<AppState>,
    actor: Actor,
    body: ApiJson<CreateUserRequest>,
) -> AppResult<HttpResponse> {
    let request = body.value;
    let account = NewAccount {
        email: Email::parse(&request.email)?,
        display_name: DisplayName::parse(&request.display_name)?,
        role: request.role,
        organisation_id: request.organisation_id,
        password: request.password,
    };
    let user = users::create_user(
        &state.identity,
        &state.db,
        &state.notifications,
        &actor,
        account,
    )
    .await?;
    Ok(created(
        format!("/api/v1/users/{}", user.id),
        user.version,
        &user,
    ))
}

/// List user accounts: all for admins, your organisation's for programme managers.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(UserListQuery),
    responses(
        (status = 200, description = "A page of users", body = Paginated<User>),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not list users", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list_users(
    state: Data<AppState>,
    actor: Actor,
    query: Query<UserListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::from_query(q.limit, q.cursor.as_deref())?;
    let filter = UserFilter {
        organisation_id: q.organisation_id.map(|o| o.to_db()),
        role: q.role.map(|r| r.as_str().to_string()),
        active: q.active,
    };
    let list = users::list_users(&state.db, &actor, filter, page).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Read a user account.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "The user", body = User, headers(("ETag" = String))),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
) -> AppResult<HttpResponse> {
    let user = users::get_user(&state.db, &actor, id.into_inner()).await?;
    Ok(versioned(StatusCode::OK, user.version, &user))
}

/// Update a user: display name, role, active flag. Needs `If-Match`.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "Updated", body = User, headers(("ETag" = String))),
        (status = 403, description = "Not allowed (for example your own role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    if_match: IfMatch,
    body: ApiJson<UpdateUserRequest>,
) -> AppResult<HttpResponse> {
    let request = body.value;
    let update = UserUpdate {
        display_name: request
            .display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose()?,
        role: request.role,
        active: request.active,
    };
    let user = users::update_user(&state.db, &actor, id.into_inner(), if_match.0, update).await?;
    Ok(versioned(StatusCode::OK, user.version, &user))
}

/// Your own account.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "You", body = User, headers(("ETag" = String))),
    )
)]
#[get("/me")]
pub async fn get_me(state: Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    let user = users::get_user(&state.db, &actor, actor.user_id).await?;
    Ok(versioned(StatusCode::OK, user.version, &user))
}
