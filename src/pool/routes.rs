//! Pool endpoints (public): the search, one institution's entry, the exports, and the status
//! look-up of a USCC. `configure` registers them; the fixed paths (`export.csv`) come before
//! `{institution_id}`, which only matches digits anyway.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::auth::{Authed, Staff};
use crate::clock::beijing_date;
use crate::error::{ApiError, ApiResult, ProblemBody};
use crate::http::routes::Register;
use crate::http::{Page, PageQuery};
use crate::pool::detail::{self, PoolEntryDetail};
use crate::pool::export::{self, PoolExport};
use crate::pool::read_model::PoolModel;
use crate::pool::search::{self as pool_search, PoolEntry, PoolQuery, Viewer};
use crate::pool::status::{self, InstitutionStatus};

/// Registers the pool's routes (one line in `startup::routes`).
pub fn configure(cfg: &mut impl Register) {
    cfg.service(export_csv)
        .service(export_xlsx)
        .service(export_json)
        .service(search)
        .service(entry)
        .service(institution_status);
}

fn viewer(state: &AppState, staff: bool) -> Viewer {
    Viewer {
        staff,
        flag_threshold: state.settings.standing_flag_threshold,
    }
}

/// Search the pool (备选库): active entries valid today (Beijing), filtered by activity category
/// (a top-level code such as `sports` matches all its items), district and name substring,
/// sorted by institution name then entry id, paginated. Public; reviewers and admins also see
/// the `flagged` mark and may filter `flagged=true`.
#[utoipa::path(
    tag = "pool",
    operation_id = "search_pool",
    params(PoolQuery, PageQuery),
    responses(
        (status = 200, body = Page<PoolEntry>, description = "A page of entries."),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`forbidden`: `flagged` without a reviewer's or admin's token"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`unknown_category`, `academic_subject_forbidden`, `too_long` (`q`)"),
    ),
    security((), ("bearer" = ["reviewer", "admin"]))
)]
#[get("/pool")]
pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    model: web::Data<PoolModel>,
) -> ApiResult<HttpResponse> {
    let today = beijing_date(state.clock.now());
    let is_staff = req.headers().contains_key(header::AUTHORIZATION)
        && Authed::<Staff>::from_request(&req, &mut Payload::None)
            .await
            .is_ok();
    let query = web::Query::<PoolQuery>::from_query(req.query_string()).map_err(bad_query)?;
    let page = web::Query::<PageQuery>::from_query(req.query_string())
        .map_err(bad_query)?
        .into_inner();
    let filter = query.parse(is_staff)?;
    let pool = model.read().await?;
    let viewer = viewer(&state, is_staff);
    let (found, total) = pool_search::matching(
        &pool,
        &filter,
        today,
        viewer,
        Some((page.offset(), page.per_page())),
    );
    let body = pool_search::page_json(&found, viewer, page.page(), page.per_page(), total);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(body))
}

/// The same problem as the service's query extractor configuration gives (400 `invalid_query`).
fn bad_query(err: actix_web::error::QueryPayloadError) -> ApiError {
    let detail = err.to_string();
    ApiError::bad_request(
        "invalid_query",
        "查询参数格式错误。",
        "A query parameter is malformed.",
    )
    .with_errors(vec![crate::error::FieldIssue::new(
        "query",
        "invalid_value",
        crate::error::Msg::new(format!("查询参数无效：{detail}"), detail),
    )])
}

/// The pool entry as exported (CSV and JSON): all matching entries, not one page.
async fn all_entries(
    state: &web::Data<AppState>,
    model: &PoolModel,
    query: &PoolQuery,
    is_staff: bool,
) -> ApiResult<(NaiveDate, Vec<PoolEntry>, i64)> {
    let filter = query.parse(is_staff)?;
    let today = beijing_date(state.clock.now());
    let viewer = viewer(state, is_staff);
    let pool = model.read().await?;
    let (items, total) = pool_search::search(&pool, &filter, today, viewer, None);
    Ok((today, items, total))
}

/// Export the pool as CSV (UTF-8 with BOM and a header row, so Excel shows Chinese text);
/// the same filters as the search, every matching entry.
#[utoipa::path(
    tag = "pool",
    operation_id = "export_pool_csv",
    params(PoolQuery),
    responses(
        (status = 200, content_type = "text/csv", body = String, description = "UTF-8 CSV with a byte-order mark and a header row, as an attachment."),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`forbidden`: `flagged` without a reviewer's or admin's token"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`unknown_category`, `academic_subject_forbidden`, `too_long` (`q`)"),
    ),
    security((), ("bearer" = ["reviewer", "admin"]))
)]
#[get("/pool/export.csv")]
pub async fn export_csv(
    state: web::Data<AppState>,
    model: web::Data<PoolModel>,
    query: web::Query<PoolQuery>,
    staff: Option<Authed<Staff>>,
) -> ApiResult<HttpResponse> {
    let filter = query.parse(staff.is_some())?;
    let today = beijing_date(state.clock.now());
    let viewer = viewer(&state, staff.is_some());
    let pool = model.read().await?;
    let (found, _) = pool_search::matching(&pool, &filter, today, viewer, None);
    let body = export::csv_document(found.iter().map(|s| s.csv_row()));
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"pool-{today}.csv\""),
        ))
        .body(body))
}

/// Export the pool as an Excel workbook (XLSX): the same filters as the search, every matching
/// entry; credit codes and telephones are text cells, the validity's start and end date cells.
#[utoipa::path(
    tag = "pool",
    operation_id = "export_pool_xlsx",
    params(PoolQuery),
    responses(
        (status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = inline(crate::documents::routes::FileBytes), description = "One sheet with a header row, as an attachment."),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`forbidden`: `flagged` without a reviewer's or admin's token"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`unknown_category`, `academic_subject_forbidden`, `too_long` (`q`)"),
    ),
    security((), ("bearer" = ["reviewer", "admin"]))
)]
#[get("/pool/export.xlsx")]
pub async fn export_xlsx(
    state: web::Data<AppState>,
    model: web::Data<PoolModel>,
    query: web::Query<PoolQuery>,
    staff: Option<Authed<Staff>>,
) -> ApiResult<HttpResponse> {
    let (today, items, _) = all_entries(&state, &model, &query, staff.is_some()).await?;
    let body = web::block(move || export::xlsx(&items))
        .await?
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"pool-{today}.xlsx\""),
        ))
        .body(body))
}

/// Export the pool as JSON: the same filters as the search, every matching entry.
#[utoipa::path(
    tag = "pool",
    operation_id = "export_pool_json",
    params(PoolQuery),
    responses(
        (status = 200, body = PoolExport, description = "Every matching entry, as an attachment."),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`forbidden`: `flagged` without a reviewer's or admin's token"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`unknown_category`, `academic_subject_forbidden`, `too_long` (`q`)"),
    ),
    security((), ("bearer" = ["reviewer", "admin"]))
)]
#[get("/pool/export.json")]
pub async fn export_json(
    state: web::Data<AppState>,
    model: web::Data<PoolModel>,
    query: web::Query<PoolQuery>,
    staff: Option<Authed<Staff>>,
) -> ApiResult<HttpResponse> {
    let (as_of, items, total) = all_entries(&state, &model, &query, staff.is_some()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"pool-{as_of}.json\""),
        ))
        .json(PoolExport {
            as_of,
            total,
            items,
        }))
}

/// One institution's entry in the pool today, with its teachers (names, credential kinds and
/// specialities — never identity numbers) and the notice it came from.
#[utoipa::path(
    tag = "pool",
    operation_id = "get_pool_entry",
    params(("institution_id" = i64, Path, minimum = 0, description = "institution id")),
    responses(
        (status = 200, body = PoolEntryDetail, description = "The entry."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: the institution is not in the pool today"),
    ),
    security((), ("bearer" = ["reviewer", "admin"]))
)]
#[get("/pool/{institution_id:\\d+}")]
pub async fn entry(
    state: web::Data<AppState>,
    model: web::Data<PoolModel>,
    id: web::Path<i64>,
    staff: Option<Authed<Staff>>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let today = beijing_date(state.clock.now());
    let viewer = viewer(&state, staff.is_some());
    let entry = detail::entry(&*model.read().await?, id, today, viewer)?;
    let detail = state
        .run(move |conn| detail::entry_detail(conn, entry, today))
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// The unified social credit code to look up.
    pub uscc: String,
}

/// Look up a USCC: `in_pool` (items and validity), `banned` (decision date, last banned day,
/// first day it may apply again, grounds) or `not_listed`; a malformed code is refused with
/// every reason it is invalid.
#[utoipa::path(
    tag = "pool",
    operation_id = "get_institution_status",
    params(StatusQuery),
    responses(
        (status = 200, body = InstitutionStatus, description = "`in_pool`, `banned` or `not_listed`."),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`invalid_uscc`: every reason in `errors`"),
    )
)]
#[get("/institutions/status")]
pub async fn institution_status(
    state: web::Data<AppState>,
    model: web::Data<PoolModel>,
    query: web::Query<StatusQuery>,
) -> ApiResult<HttpResponse> {
    let uscc = query.into_inner().uscc;
    let today = beijing_date(state.clock.now());
    let found = status::lookup(&*model.read().await?, &uscc, today)?;
    Ok(HttpResponse::Ok().json(found))
}
