//! `POST /notices/{id}/objections` (public), `GET /objections` and
//! `POST /objections/{id}/resolution` (reviewer).

use actix_web::{HttpRequest, HttpResponse, get, post, web};

use crate::app::AppState;
use crate::auth::{Authed, Ctx, Reviewer};
use crate::error::{ApiResult, ProblemBody};
use crate::http::{Json, Page, PageQuery, client_ip};
use crate::objections::{
    self, NewObjection, Objection, ObjectionFilter, ObjectionReceipt, Resolution, Resolved,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(file).service(list).service(resolve);
}

/// Object to an application in a notice — no account needed, only during the window.
/// The objector's details are visible to reviewers only. At most `OBJECTION_RATE_LIMIT`
/// objections per client IP per hour.
#[utoipa::path(
    tag = "notices",
    params(("id" = i64, Path, description = "notice id")),
    request_body = NewObjection,
    responses(
        (status = 201, body = ObjectionReceipt),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`notice_closed`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`invalid_mobile`, `grounds_too_short`, `application_not_in_notice`"),
        (status = 429, body = ProblemBody, content_type = "application/problem+json", description = "`rate_limited`, with `Retry-After`"),
    )
)]
#[post("/notices/{id}/objections")]
pub async fn file(
    ctx: Ctx,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<NewObjection>,
) -> ApiResult<HttpResponse> {
    let ip = client_ip(&req, state.settings.trust_forwarded);
    let limit = state.settings.objection_rate_limit;
    let (id, body) = (id.into_inner(), body.into_inner());
    let receipt = state
        .write(move |conn| objections::file(conn, &ctx, id, &body, &ip, limit, None))
        .await?;
    Ok(HttpResponse::Created().json(receipt))
}

/// Objections with the objectors' details, newest first (reviewers).
#[utoipa::path(
    tag = "notices",
    params(ObjectionFilter, PageQuery),
    responses(
        (status = 200, body = Page<Objection>),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/objections")]
pub async fn list(
    _reviewer: Authed<Reviewer>,
    state: web::Data<AppState>,
    filter: web::Query<ObjectionFilter>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (filter, page) = (filter.into_inner(), page.into_inner());
    let (items, total) = state
        .run(move |conn| objections::list(conn, &filter, page.offset(), page.per_page()))
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(items, &page, total)))
}

/// Resolve an objection: `upheld` rejects the application; `dismissed` admits it at once if
/// the window is over and nothing else holds it back.
#[utoipa::path(
    tag = "notices",
    params(("id" = i64, Path, description = "objection id")),
    request_body = Resolution,
    responses(
        (status = 200, body = Resolved),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`objection_resolved`, `status_changed`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/objections/{id}/resolution")]
pub async fn resolve(
    reviewer: Authed<Reviewer>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<Resolution>,
) -> ApiResult<HttpResponse> {
    let (u, ctx, id, req) = (
        reviewer.user.clone(),
        reviewer.ctx.clone(),
        id.into_inner(),
        body.into_inner(),
    );
    let resolved = state
        .write(move |conn| objections::resolve(conn, &u, &ctx, id, &req))
        .await?;
    Ok(HttpResponse::Ok().json(resolved))
}
