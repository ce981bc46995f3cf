//! `GET /bans` (public), `PUT /blacklist` and `GET /blacklist` (reviewer).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::auth::{Authed, Ctx, Reviewer};
use crate::clock::beijing_date;
use crate::error::{ApiError, ApiResult, FieldIssue, Msg, ProblemBody};
use crate::http::{Page, PageQuery};
use crate::sanctions::bans::{self, Ban, BanFilter};
use crate::sanctions::blacklist::{self, Entry, EntryFilter, ImportOutcome};

/// Registers the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_bans)
        .service(import_blacklist)
        .service(list_blacklist);
}

/// Bans, active and past (public; no personal data): institution, credit code, grounds, the
/// decision date, the last banned day and the first day it may apply again.
#[utoipa::path(
    tag = "sanctions",
    operation_id = "list_bans",
    params(BanFilter, PageQuery),
    responses((status = 200, body = Page<Ban>, description = "A page of bans."))
)]
#[get("/bans")]
pub async fn list_bans(
    ctx: Ctx,
    state: web::Data<AppState>,
    filter: web::Query<BanFilter>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (filter, page, today) = (
        filter.into_inner(),
        page.into_inner(),
        beijing_date(ctx.now),
    );
    let (items, total) = state
        .run(move |conn| bans::list(conn, &filter, today, page.offset(), page.per_page()))
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(items, &page, total)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The list's source (e.g. `国家企业信用信息公示系统`); every row's `source` must equal it,
    /// and the import replaces this source's previous list.
    pub source: String,
}

/// Import a blacklist (reviewer): `text/csv` with the header `uscc,name,source,listed_on,reason`
/// (`application/octet-stream` is read as the same CSV, for clients that cannot send CSV).
/// All or nothing: any bad line gives 422 `blacklist_malformed` listing every problem by line
/// and field. Pool members on the list get an exit case (ground `blacklisted`).
#[utoipa::path(
    tag = "sanctions",
    operation_id = "import_blacklist",
    params(ImportQuery),
    request_body(
        description = "The CSV file, sent as `text/csv` (this media type is left out of the map \
                       because generated clients cannot send it) or `application/octet-stream`.",
        content((inline(crate::documents::routes::FileBytes) = "application/octet-stream"))
    ),
    responses(
        (status = 200, body = ImportOutcome, description = "The list imported, and the exit cases it opened."),
        (status = 415, body = ProblemBody, content_type = "application/problem+json", description = "`unsupported_media_type`: neither `text/csv` nor `application/octet-stream`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`blacklist_malformed` (every problem by line and field) or `invalid_source`"),
    ),
    security(("bearer" = ["reviewer"]))
)]
#[put("/blacklist")]
pub async fn import_blacklist(
    user: Authed<Reviewer>,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ImportQuery>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let is_csv = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            // `application/octet-stream` too: generated clients cannot send `text/csv`.
            let v = v.trim().to_ascii_lowercase();
            v.starts_with("text/csv") || v.starts_with("application/octet-stream")
        });
    if !is_csv {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            Msg::new(
                "请以 text/csv 上传黑名单。",
                "Send the blacklist as text/csv.",
            ),
        ));
    }
    let source = query.into_inner().source.trim().to_owned();
    if source.is_empty() || source.chars().count() > 100 {
        return Err(ApiError::validation(vec![FieldIssue::new(
            "source",
            "invalid_source",
            Msg::new(
                "来源不能为空，且不超过 100 字。",
                "The source must be 1–100 characters.",
            ),
        )]));
    }
    let ctx = user.ctx.clone();
    let outcome = state
        .write(move |conn| blacklist::import(conn, &ctx, &source, &body))
        .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

/// Blacklist entries (reviewer), by source.
#[utoipa::path(
    tag = "sanctions",
    operation_id = "list_blacklist",
    params(EntryFilter, PageQuery),
    responses((status = 200, body = Page<Entry>, description = "A page of entries.")),
    security(("bearer" = ["reviewer"]))
)]
#[get("/blacklist")]
pub async fn list_blacklist(
    _user: Authed<Reviewer>,
    state: web::Data<AppState>,
    filter: web::Query<EntryFilter>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (filter, page) = (filter.into_inner(), page.into_inner());
    let (items, total) = state
        .run(move |conn| blacklist::list(conn, &filter, page.offset(), page.per_page()))
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(items, &page, total)))
}
