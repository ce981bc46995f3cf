//! Account endpoints: register, login, me, and the admin's users and schools.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::accounts::{
    self as service, Account, CreateSchoolRequest, CreateUserRequest, LoginRequest,
    RegisterRequest, School,
};
use crate::app::AppState;
use crate::auth::{Admin, AnyRole, Authed, Ctx, Role};
use crate::error::{ApiResult, ProblemBody};
use crate::http::routes::Register;
use crate::http::{Json, Page, PageQuery};

/// Registers the routes of this module, each once (the app and the OpenAPI document both come
/// from this registration: `crate::routes`).
pub fn configure(cfg: &mut impl Register) {
    cfg.service(register)
        .service(login)
        .service(me)
        .service(my_messages)
        .service(create_user)
        .service(list_users)
        .service(disable_user)
        .service(enable_user)
        .service(create_school)
        .service(list_schools);
}

/// A signed-in session.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// When the token stops working (RFC 3339).
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub account: Account,
}

async fn token_for(
    state: &web::Data<AppState>,
    ctx: &Ctx,
    user_id: i64,
    role: Role,
) -> ApiResult<TokenResponse> {
    let (access_token, expires_at) = state.jwt.issue(user_id, role, ctx.now)?;
    let account = state
        .run(move |conn| service::account(conn, user_id))
        .await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_at,
        account,
    })
}

/// Register an institution account (public).
#[utoipa::path(
    tag = "accounts",
    operation_id = "register_institution",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = TokenResponse, description = "The institution and its account exist; signed in as it."),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`email_taken`, `uscc_taken`, or `uscc_banned` (with `extra.decided_on`, `extra.last_day` — the last banned day — and `extra.may_apply_from`)"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `password_too_short`, `password_too_common`, `password_too_long`, the credit code's reasons (e.g. `bad_check_character`), `entity_type_mismatch`, `invalid_email`, `invalid_length`"),
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    ctx: Ctx,
    body: Json<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.into_inner();
    // The password is hashed before the write transaction, never inside it.
    let registration = web::block(move || service::prepare_registration(&req)).await??;
    let c = ctx.clone();
    let user_id = state
        .write(move |conn| service::register(conn, &c, &registration))
        .await?;
    Ok(HttpResponse::Created().json(token_for(&state, &ctx, user_id, Role::Institution).await?))
}

/// Sign in with e-mail and password; returns a JWT access token.
#[utoipa::path(
    tag = "accounts",
    operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse, description = "Signed in."),
        (status = 401, body = ProblemBody, content_type = "application/problem+json", description = "`invalid_credentials` or `account_disabled`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`invalid_length`: an empty or over-long e-mail or password"),
        (status = 429, body = ProblemBody, content_type = "application/problem+json", description = "`too_many_requests`: too many failed logins for this e-mail",
            headers(("Retry-After" = u64, description = "Seconds until another attempt is accepted."))),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    ctx: Ctx,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.into_inner();
    let c = ctx.clone();
    // The password is verified outside the write transaction that records the outcome.
    let attempt = state
        .run(move |conn| service::check_login(conn, &c, &req))
        .await?;
    let c = ctx.clone();
    let (user_id, role) = state
        .write(move |conn| service::login(conn, &c, &attempt))
        .await??;
    tracing::info!(user_id, "signed in");
    Ok(HttpResponse::Ok().json(token_for(&state, &ctx, user_id, role).await?))
}

/// The signed-in account.
#[utoipa::path(
    tag = "accounts",
    operation_id = "get_me",
    responses((status = 200, body = Account, description = "The signed-in account.")),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me(user: Authed<AnyRole>, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let id = user.id;
    Ok(HttpResponse::Ok().json(state.run(move |conn| service::account(conn, id)).await?))
}

/// The e-mails sent to the signed-in account's address, newest first (at most 200): subject,
/// template, when it was queued, whether it has gone out. Bodies are not listed.
#[utoipa::path(
    tag = "accounts",
    operation_id = "list_my_messages",
    responses((status = 200, body = Vec<crate::mail::inbox::MessageSummary>, description = "The account's e-mails, newest first.")),
    security(("bearer" = []))
)]
#[get("/me/messages")]
pub async fn my_messages(
    user: Authed<AnyRole>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let email = user.email.clone();
    let messages = state
        .run(move |conn| crate::mail::inbox::sent_to(conn, &email, MESSAGES_LISTED))
        .await?;
    Ok(HttpResponse::Ok().json(messages))
}

/// How many of the newest e-mails `GET /me/messages` lists.
pub const MESSAGES_LISTED: i64 = 200;

/// Create a reviewer, school or admin account.
#[utoipa::path(
    tag = "admin",
    operation_id = "create_user",
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = Account, description = "The account."),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`email_taken`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `password_too_short`, `password_too_common`, `password_too_long`, `role_not_allowed` (institutions register themselves), `school_required`, `school_not_allowed`, `unknown_school`, `invalid_email`, `invalid_length`"),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/admin/users")]
pub async fn create_user(
    admin: Authed<Admin>,
    state: web::Data<AppState>,
    body: Json<CreateUserRequest>,
) -> ApiResult<HttpResponse> {
    let (req, ctx) = (body.into_inner(), admin.ctx.clone());
    // The password is hashed before the write transaction, never inside it.
    let user = web::block(move || service::prepare_user(&req)).await??;
    let account = state
        .write(move |conn| {
            let id = service::create_user(conn, &ctx, &user)?;
            service::account(conn, id)
        })
        .await?;
    Ok(HttpResponse::Created().json(account))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    pub role: Option<Role>,
}

/// List accounts.
#[utoipa::path(
    tag = "admin",
    operation_id = "list_users",
    params(UsersQuery, PageQuery),
    responses((status = 200, body = Page<Account>, description = "A page of accounts, by id.")),
    security(("bearer" = ["admin"]))
)]
#[get("/admin/users")]
pub async fn list_users(
    _admin: Authed<Admin>,
    state: web::Data<AppState>,
    filter: web::Query<UsersQuery>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (role, page) = (filter.role, page.into_inner());
    let (items, total) = state
        .run(move |conn| service::list_users(conn, role, page.offset(), page.per_page()))
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(items, &page, total)))
}

/// Disable an account: it can no longer sign in and its tokens are refused.
#[utoipa::path(
    tag = "admin",
    operation_id = "disable_user",
    params(("id" = i64, Path, description = "user id")),
    responses(
        (status = 200, body = Account, description = "The account, disabled."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such account"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`cannot_disable_self`"),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/admin/users/{id}/disable")]
pub async fn disable_user(
    admin: Authed<Admin>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    set_disabled(admin, state, id.into_inner(), true).await
}

/// Re-enable a disabled account.
#[utoipa::path(
    tag = "admin",
    operation_id = "enable_user",
    params(("id" = i64, Path, description = "user id")),
    responses(
        (status = 200, body = Account, description = "The account, enabled."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such account"),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/admin/users/{id}/enable")]
pub async fn enable_user(
    admin: Authed<Admin>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    set_disabled(admin, state, id.into_inner(), false).await
}

async fn set_disabled(
    admin: Authed<Admin>,
    state: web::Data<AppState>,
    id: i64,
    disabled: bool,
) -> ApiResult<HttpResponse> {
    let ctx = admin.ctx.clone();
    let account = state
        .write(move |conn| {
            service::set_disabled(conn, &ctx, id, disabled)?;
            service::account(conn, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(account))
}

/// Create a school record (school accounts belong to one).
#[utoipa::path(
    tag = "admin",
    operation_id = "create_school",
    request_body = CreateSchoolRequest,
    responses(
        (status = 201, body = School, description = "The school."),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`school_code_taken`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`invalid_length` (`name`, `code`, `district`)"),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/admin/schools")]
pub async fn create_school(
    admin: Authed<Admin>,
    state: web::Data<AppState>,
    body: Json<CreateSchoolRequest>,
) -> ApiResult<HttpResponse> {
    let (req, ctx) = (body.into_inner(), admin.ctx.clone());
    let school = state
        .write(move |conn| service::create_school(conn, &ctx, &req))
        .await?;
    Ok(HttpResponse::Created().json(school))
}

/// List school records.
#[utoipa::path(
    tag = "admin",
    operation_id = "list_schools",
    responses((status = 200, body = Vec<School>, description = "Every school, by name.")),
    security(("bearer" = ["admin"]))
)]
#[get("/admin/schools")]
pub async fn list_schools(
    _admin: Authed<Admin>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(state.run(service::list_schools).await?))
}
