//! `POST /applications/{id}/decisions`, the reviewer's dossier `GET /applications/{id}/review`
//! and the work queue `GET /review/queue`.

use actix_web::{HttpResponse, get, post, web};

use crate::app::AppState;
use crate::applications::service::Application;
use crate::auth::{Authed, Reviewer, Staff};
use crate::error::{ApiResult, ProblemBody};
use crate::http::routes::Register;
use crate::http::{Json, PageQuery};
use crate::review::queue::{self, QueueFilter, WorkQueue};
use crate::review::{self, DecisionRequest, Dossier};

pub fn configure(cfg: &mut impl Register) {
    cfg.service(decide).service(dossier).service(work_queue);
}

/// Decide a submitted application: approve (some of the proposed items), reject, or return
/// for correction with a deadline in working days. 409 `status_changed` when the application
/// is no longer awaiting a decision — another reviewer decided first (of two deciding at once
/// exactly one wins) or it was withdrawn; 409 `invalid_transition` for a draft never submitted.
#[utoipa::path(
    tag = "review",
    operation_id = "decide_application",
    params(("id" = i64, Path, description = "application id")),
    request_body = DecisionRequest,
    responses(
        (status = 200, body = Application, description = "The application after the decision."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such application"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`invalid_transition` (not submitted) or `status_changed` (another reviewer decided first)"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `approved_items_required`, `item_not_proposed`, `duplicate_item`, `reasons_required`, `out_of_range` (`deadline_working_days`, 1–60), `invalid_length`; `calendar_year_missing` for a return's deadline"),
    ),
    security(("bearer" = ["reviewer"]))
)]
#[post("/applications/{id}/decisions")]
pub async fn decide(
    reviewer: Authed<Reviewer>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<DecisionRequest>,
) -> ApiResult<HttpResponse> {
    let (u, ctx, id, req) = (
        reviewer.user.clone(),
        reviewer.ctx.clone(),
        id.into_inner(),
        body.into_inner(),
    );
    let app = state
        .write(move |conn| review::decide(conn, &u, &ctx, id, &req))
        .await?;
    Ok(HttpResponse::Ok().json(app))
}

/// Everything a reviewer reads before deciding: findings and flags, the merged PDF's page
/// text, the teachers' records, inspections, earlier decisions and objections.
#[utoipa::path(
    tag = "review",
    operation_id = "get_application_dossier",
    params(("id" = i64, Path, description = "application id")),
    responses(
        (status = 200, body = Dossier, description = "The dossier."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such application"),
    ),
    security(("bearer" = ["reviewer", "admin"]))
)]
#[get("/applications/{id}/review")]
pub async fn dossier(
    staff: Authed<Staff>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (u, ctx, id) = (staff.user.clone(), staff.ctx.clone(), id.into_inner());
    let d = state
        .run(move |conn| review::dossier(conn, &u, &ctx, id))
        .await?;
    Ok(HttpResponse::Ok().json(d))
}

/// The reviewer's work queue, ordered by working-day deadline: pending objections, exit cases
/// to decide, statements of defence due, returned applications awaiting resubmission, then
/// submitted applications awaiting a decision (no deadline), each with the deadline the
/// calendar computed for it and the page and resource where it is handled.
#[utoipa::path(
    tag = "review",
    operation_id = "get_review_queue",
    params(QueueFilter, PageQuery),
    responses(
        (status = 200, body = WorkQueue, description = "The queue page, with the count of each kind."),
        (status = 400, body = ProblemBody, content_type = "application/problem+json", description = "`invalid_query`: an unknown `kind` or a malformed parameter"),
    ),
    security(("bearer" = ["reviewer", "admin"]))
)]
#[get("/review/queue")]
pub async fn work_queue(
    staff: Authed<Staff>,
    state: web::Data<AppState>,
    filter: web::Query<QueueFilter>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (u, ctx, filter, page) = (
        staff.user.clone(),
        staff.ctx.clone(),
        filter.into_inner(),
        page.into_inner(),
    );
    let q = state
        .run(move |conn| queue::work_queue(conn, &u, &ctx, &filter, page.offset(), page.per_page()))
        .await?;
    Ok(HttpResponse::Ok().json(q))
}
