//! `GET /bans` (public) and `GET /blacklist` (reviewer); the import (`PUT /blacklist`) is an
//! exit trigger, in [`crate::exits::routes`].

use actix_web::{HttpResponse, get, web};

use crate::app::AppState;
use crate::auth::{Authed, Ctx, Reviewer};
use crate::clock::beijing_date;
use crate::error::ApiResult;
use crate::http::routes::Register;
use crate::http::{Page, PageQuery};
use crate::sanctions::bans::{self, Ban, BanFilter};
use crate::sanctions::blacklist::{self, Entry, EntryFilter};

/// Registers the routes of this module.
pub fn configure(cfg: &mut impl Register) {
    cfg.service(list_bans).service(list_blacklist);
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
    let (filter, today) = (filter.into_inner(), beijing_date(ctx.now));
    let page = state
        .page(page.into_inner(), move |conn, offset, limit| {
            bans::list(conn, &filter, today, offset, limit)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
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
    let filter = filter.into_inner();
    let page = state
        .page(page.into_inner(), move |conn, offset, limit| {
            blacklist::list(conn, &filter, offset, limit)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
