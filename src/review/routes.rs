//! `POST /applications/{id}/decisions` and the reviewer's dossier `GET /applications/{id}/review`.

use actix_web::{HttpResponse, get, post, web};

use crate::app::AppState;
use crate::applications::service::Application;
use crate::auth::{Authed, Reviewer, Staff};
use crate::error::{ApiResult, ProblemBody};
use crate::http::Json;
use crate::review::{self, DecisionRequest, Dossier};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(decide).service(dossier);
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
