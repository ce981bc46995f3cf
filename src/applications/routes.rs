//! Application endpoints: drafts, submission, withdrawal, lists and history.

use actix_web::{HttpResponse, get, post, put, web};

use crate::app::AppState;
use crate::applications::service::{
    self, Application, ApplicationContent, ListFilter, NewApplication,
};
use crate::audit::AuditEvent;
use crate::auth::{AnyRole, Authed, InstitutionRole, Role};
use crate::error::{ApiError, ApiResult, ProblemBody};
use crate::http::routes::Register;
use crate::http::{Json, Page, PageQuery};

/// Registers the routes of this module, each once (the app and the OpenAPI document both come
/// from this registration: `crate::routes`).
pub fn configure(cfg: &mut impl Register) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(submit)
        .service(withdraw)
        .service(history);
}

/// Create a draft application for an open selection round.
#[utoipa::path(
    tag = "applications",
    operation_id = "create_application",
    request_body = NewApplication,
    responses(
        (status = 201, body = Application, description = "The draft."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such round"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`round_closed`: the round is not open for applications now"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: each item, teacher and document (`unknown_category`, `academic_subject_forbidden`, `unknown_teacher`, `unknown_document`), `invalid_length`"),
    ),
    security(("bearer" = ["institution"]))
)]
#[post("/applications")]
pub async fn create(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
    body: Json<NewApplication>,
) -> ApiResult<HttpResponse> {
    let req = body.into_inner();
    let app = state
        .write_as(&user, move |conn, u, ctx| {
            service::create(conn, u, ctx, &req)
        })
        .await?;
    Ok(HttpResponse::Created().json(app))
}

/// Applications: an institution's own, or all (reviewers and admins) with filters.
#[utoipa::path(
    tag = "applications",
    operation_id = "list_applications",
    params(ListFilter, PageQuery),
    responses(
        (status = 200, body = Page<Application>, description = "A page of applications, newest first."),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`unknown_category`"),
    ),
    security(("bearer" = ["institution", "reviewer", "admin"]))
)]
#[get("/applications")]
pub async fn list(
    user: Authed<AnyRole>,
    state: web::Data<AppState>,
    filter: web::Query<ListFilter>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    if user.role() == Role::School {
        return Err(ApiError::forbidden());
    }
    let (u, filter) = (user.user.clone(), filter.into_inner());
    let page = state
        .page(page.into_inner(), move |conn, offset, limit| {
            service::list(conn, &u, &filter, offset, limit)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One application (its owner, or bureau staff).
#[utoipa::path(
    tag = "applications",
    operation_id = "get_application",
    params(("id" = i64, Path, description = "application id")),
    responses(
        (status = 200, body = Application, description = "The application."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such application, or another institution's"),
    ),
    security(("bearer" = []))
)]
#[get("/applications/{id}")]
pub async fn get(
    user: Authed<AnyRole>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (u, id) = (user.user.clone(), id.into_inner());
    Ok(HttpResponse::Ok().json(state.run(move |conn| service::get(conn, &u, id)).await?))
}

/// Edit a draft or returned application (replaces its content).
#[utoipa::path(
    tag = "applications",
    operation_id = "update_application",
    params(("id" = i64, Path, description = "application id")),
    request_body = ApplicationContent,
    responses(
        (status = 200, body = Application, description = "The application with its new content."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such application of this institution"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`application_not_editable` (neither a draft nor returned) or `status_changed`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `unknown_category`, `academic_subject_forbidden`, `unknown_teacher`, `unknown_document`, `invalid_length`"),
    ),
    security(("bearer" = ["institution"]))
)]
#[put("/applications/{id}")]
pub async fn update(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<ApplicationContent>,
) -> ApiResult<HttpResponse> {
    let (id, c) = (id.into_inner(), body.into_inner());
    Ok(HttpResponse::Ok().json(
        state
            .write_as(&user, move |conn, u, ctx| {
                service::update(conn, u, ctx, id, &c)
            })
            .await?,
    ))
}

/// Submit: runs every check. 409 `round_closed` when the round's window is not open (as at
/// draft creation); 422 `submission_blocked` lists all blocking findings (each with code,
/// field and rule, in `errors` and `extra.blocking`); 200 returns the application with the
/// warnings for the reviewer.
#[utoipa::path(
    tag = "applications",
    operation_id = "submit_application",
    params(("id" = i64, Path, description = "application id")),
    responses(
        (status = 200, body = Application, description = "Submitted, with the warnings for the reviewer."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such application of this institution"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`round_closed` (the round's window is not open), `invalid_transition` (neither a draft nor returned), `status_changed`, `duplicate_application` (another live application in the round)"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`submission_blocked`: every blocking finding in `errors` and `extra.blocking`"),
    ),
    security(("bearer" = ["institution"]))
)]
#[post("/applications/{id}/submit")]
pub async fn submit(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, region) = (id.into_inner(), state.settings.region_prefix.clone());
    Ok(HttpResponse::Ok().json(
        state
            .write_as(&user, move |conn, u, ctx| {
                service::submit(conn, u, ctx, id, &region)
            })
            .await?,
    ))
}

/// Withdraw an application before a decision.
#[utoipa::path(
    tag = "applications",
    operation_id = "withdraw_application",
    params(("id" = i64, Path, description = "application id")),
    responses(
        (status = 200, body = Application, description = "Withdrawn."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such application of this institution"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`invalid_transition` (already decided, withdrawn or in the pool) or `status_changed`"),
    ),
    security(("bearer" = ["institution"]))
)]
#[post("/applications/{id}/withdraw")]
pub async fn withdraw(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    Ok(HttpResponse::Ok().json(
        state
            .write_as(&user, move |conn, u, ctx| {
                service::withdraw(conn, u, ctx, id)
            })
            .await?,
    ))
}

/// The application's full history (its audit events, oldest first).
#[utoipa::path(
    tag = "applications",
    operation_id = "list_application_history",
    params(("id" = i64, Path, description = "application id")),
    responses(
        (status = 200, body = Vec<AuditEvent>, description = "Its audit events, oldest first."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such application, or another institution's"),
    ),
    security(("bearer" = []))
)]
#[get("/applications/{id}/history")]
pub async fn history(
    user: Authed<AnyRole>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (u, id) = (user.user.clone(), id.into_inner());
    Ok(HttpResponse::Ok().json(
        state
            .run(move |conn| service::history(conn, &u, id))
            .await?,
    ))
}
