//! Admin endpoints of the job queue: list jobs (dead ones in particular) and retry a dead job.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::audit;
use crate::auth::{Admin, Authed, Ctx};
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult, ProblemBody};
use crate::http::{Page, PageQuery};
use crate::jobs::{self, JobView};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// `pending`, `running`, `done` or `dead`.
    pub state: Option<String>,
}

/// List jobs, newest first (e.g. `?state=dead`).
#[utoipa::path(
    tag = "admin",
    operation_id = "list_jobs",
    params(JobsQuery, PageQuery),
    responses(
        (status = 200, body = Page<JobView>, description = "A page of jobs, newest first."),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`invalid_value`: `state` is not `pending`, `running`, `done` or `dead`"),
    ),
    security(("bearer" = ["admin"]))
)]
#[get("/admin/jobs")]
pub async fn list_jobs(
    _admin: Authed<Admin>,
    state: web::Data<AppState>,
    filter: web::Query<JobsQuery>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let wanted = filter.into_inner().state;
    if let Some(s) = &wanted
        && ![jobs::PENDING, jobs::RUNNING, jobs::DONE, jobs::DEAD].contains(&s.as_str())
    {
        return Err(ApiError::validation(vec![crate::error::FieldIssue::new(
            "state",
            "invalid_value",
            crate::error::Msg::new(
                "状态须为 pending、running、done 或 dead。",
                "state must be pending, running, done or dead.",
            ),
        )]));
    }
    let page = state
        .page(page.into_inner(), move |conn, offset, limit| {
            list(conn, wanted.as_deref(), offset, limit)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Put a dead job back in the queue.
#[utoipa::path(
    tag = "admin",
    operation_id = "retry_job",
    params(("id" = i64, Path, description = "job id")),
    responses(
        (status = 204, description = "Queued again."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such job"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`job_not_dead`: only dead jobs are retried"),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/admin/jobs/{id}/retry")]
pub async fn retry_job(
    admin: Authed<Admin>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let ctx = admin.ctx.clone();
    state.write(move |conn| retry(conn, &ctx, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Puts dead job `id` back in the queue, audited `job.retried` (404 no such job, 409
/// `job_not_dead`). `POST /admin/jobs/{id}/retry` and the admin's jobs page.
pub fn retry(conn: &mut DbConn, ctx: &Ctx, id: i64) -> ApiResult<()> {
    if !jobs::retry_dead(conn, id, ctx.now)? {
        use diesel::prelude::*;
        let exists: i64 = crate::db::schema::jobs::table
            .find(id)
            .count()
            .get_result(conn)?;
        return Err(if exists == 0 {
            ApiError::not_found("任务", "job")
        } else {
            ApiError::conflict(
                "job_not_dead",
                "只有失败终止（dead）的任务可以重试。",
                "Only dead jobs can be retried.",
            )
        });
    }
    audit::record(conn, ctx, "job.retried", "job", id, serde_json::json!({}))?;
    Ok(())
}

/// A page of jobs in `state` (all states when absent), newest first, payloads redacted for
/// admins as `GET /admin/jobs` shows them.
pub fn list(
    conn: &mut DbConn,
    state: Option<&str>,
    offset: i64,
    limit: i64,
) -> ApiResult<(Vec<JobView>, i64)> {
    let (mut items, total) = jobs::list(conn, state, offset, limit)?;
    for job in &mut items {
        crate::mail::redact_for_admins(&job.kind, &mut job.payload.0);
    }
    Ok((items, total))
}
