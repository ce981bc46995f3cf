//! `POST /notices` (reviewer), `GET /notices` and `GET /notices/{id}` (public notice board).

use actix_web::{HttpResponse, get, post, put, web};

use crate::app::AppState;
use crate::auth::{Admin, Authed, Ctx, Reviewer};
use crate::calendar::rules::YearCalendarInput;
use crate::calendar::store::StoredYear;
use crate::error::{ApiResult, ProblemBody};
use crate::http::routes::Register;
use crate::http::{Json, Page, PageQuery};
use crate::notices::service::{self, NewNotice, Notice};

pub fn configure(cfg: &mut impl Register) {
    cfg.service(put_year)
        .service(publish)
        .service(list)
        .service(get);
}

/// Publish a notice (公示) for approved applications of one round. The window (start, end on
/// the 5th working day, closing at 23:59:59 Beijing time) is computed from the calendar.
#[utoipa::path(
    tag = "notices",
    operation_id = "publish_notice",
    request_body = NewNotice,
    responses(
        (status = 201, body = Notice, description = "The notice, its window computed from the calendar."),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`status_changed`: an application changed meanwhile"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `publication_backdated`, `duplicate_application`, `unknown_application`, `application_not_approved`, `mixed_rounds`, `invalid_length`; `calendar_year_missing` for the window"),
    ),
    security(("bearer" = ["reviewer"]))
)]
#[post("/notices")]
pub async fn publish(
    reviewer: Authed<Reviewer>,
    state: web::Data<AppState>,
    body: Json<NewNotice>,
) -> ApiResult<HttpResponse> {
    let (u, ctx, req) = (
        reviewer.user.clone(),
        reviewer.ctx.clone(),
        body.into_inner(),
    );
    let notice = state
        .write(move |conn| service::publish(conn, &u, &ctx, &req))
        .await?;
    Ok(HttpResponse::Created().json(notice))
}

/// The public notice board, newest first.
#[utoipa::path(
    tag = "notices",
    operation_id = "list_notices",
    params(PageQuery),
    responses((status = 200, body = Page<Notice>, description = "A page of notices, newest first."))
)]
#[get("/notices")]
pub async fn list(
    ctx: Ctx,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = page.into_inner();
    let (items, total) = state
        .run(move |conn| service::list(conn, ctx.now, page.offset(), page.per_page()))
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(items, &page, total)))
}

/// One notice: institutions, approved items, the window (and earlier windows after a calendar
/// change), its day-by-day explanation and how to object.
#[utoipa::path(
    tag = "notices",
    operation_id = "get_notice",
    params(("id" = i64, Path, description = "notice id")),
    responses(
        (status = 200, body = Notice, description = "The notice."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such notice"),
    )
)]
#[get("/notices/{id}")]
pub async fn get(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    Ok(HttpResponse::Ok().json(
        state
            .run(move |conn| service::get(conn, id, ctx.now))
            .await?,
    ))
}

// Here with the notices, not in `calendar`: saving a year recomputes, in the same transaction,
// every open notice whose window used it.
/// Replace (or add) a year from the State Council notice; bumps its version.
#[utoipa::path(
    tag = "calendar",
    operation_id = "put_calendar_year",
    params(("year" = i32, Path, minimum = 0, description = "calendar year (digits)")),
    request_body = YearCalendarInput,
    responses(
        (status = 200, body = StoredYear, description = "The year as stored, with its new version; open notices that used it are recomputed."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: `year` is not digits (no such route)"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`calendar_changed`: another admin saved the year meanwhile"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: every problem of the calendar, by JSON path; `calendar_year_missing` when recomputing an open notice needs a year not loaded"),
    ),
    security(("bearer" = ["admin"]))
)]
#[put("/calendar/{year:\\d+}")]
pub async fn put_year(
    admin: Authed<Admin>,
    state: web::Data<AppState>,
    year: web::Path<i32>,
    body: Json<YearCalendarInput>,
) -> ApiResult<HttpResponse> {
    let (year, input, ctx) = (year.into_inner(), body.into_inner(), admin.ctx.clone());
    let (stored, _) = state
        .write(move |conn| service::save_calendar(conn, &ctx, year, &input))
        .await?;
    Ok(HttpResponse::Ok().json(stored))
}
