//! `/bans`: active and past bans.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

use super::{Pager, page_query};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::clock::beijing_date;
use crate::sanctions::bans::{self, Ban, BanFilter, BanStatus};
use crate::web::Page;

#[derive(Debug, Deserialize)]
pub struct BansQuery {
    status: Option<BanStatus>,
    page: Option<i64>,
}

/// `/bans`: active bans (default) or past ones, with the last banned day and the day the
/// institution may apply again.
#[get("/bans")]
pub async fn bans_page(
    page: Page,
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<BansQuery>,
) -> HttpResponse {
    let status = query.status.unwrap_or(BanStatus::Active);
    let q = page_query(query.page);
    let today = beijing_date(ctx.now);
    let filter = BanFilter {
        status: Some(status),
        uscc: None,
    };
    let found = state
        .run(move |conn| bans::list(conn, &filter, today, q.offset(), q.per_page()))
        .await;
    let (items, total): (Vec<Ban>, i64) = match found {
        Ok(r) => r,
        Err(e) => return page.error(&e),
    };
    let status_code = match status {
        BanStatus::Active => "active",
        BanStatus::Past => "past",
    };
    page.render(
        StatusCode::OK,
        "bans.html",
        serde_json::json!({
            "status": status_code,
            "bans": items,
            "pager": Pager::new("/bans", &[("status", status_code)], q.page(), total),
        }),
    )
}
