//! `/notices` (the board) and `/notices/{id}` (one notice, from the notice board's kept read,
//! its page cached while the notice stays the same).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};

use super::cache::PageCache;
use super::{Pager, page_query};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::calendar::rules::{DayInfo, DayReason};
use crate::notices::board::NoticeBoard;
use crate::notices::service::{self as notices, Notice};
use crate::web::Page;

/// A notice as listed on the board.
pub(super) fn notice_summary(n: &Notice) -> serde_json::Value {
    serde_json::json!({
        "id": n.id,
        "title": n.title,
        "publication_date": n.publication_date,
        "starts_on": n.window.starts_on,
        "ends_on": n.window.ends_on,
        "accepting": n.accepting_objections,
        "institutions": n.applications.len(),
    })
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    page: Option<i64>,
}

/// `/notices`: the notice board, newest first.
#[get("/notices")]
pub async fn notice_board(
    page: Page,
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    let q = page_query(query.page);
    let now = ctx.now;
    match state
        .run(move |conn| notices::list(conn, now, q.offset(), q.per_page()))
        .await
    {
        Ok((items, total)) => page.render(
            StatusCode::OK,
            "notices.html",
            serde_json::json!({
                "notices": items.iter().map(notice_summary).collect::<Vec<_>>(),
                "pager": Pager::new("/notices", &[], q.page(), total),
            }),
        ),
        Err(e) => page.error(&e),
    }
}

/// One day of a notice's count, as the page shows it.
#[derive(Serialize)]
struct DayRow {
    date: chrono::NaiveDate,
    weekday: String,
    working: bool,
    /// `weekday`, `weekend`, `holiday`, `makeup_workday`.
    kind: &'static str,
    /// The holiday's or make-up day's name.
    name: Option<String>,
    /// Which working day of the window this is (1…5).
    nth: Option<usize>,
}

fn day_rows(page: &Page, days: &[DayInfo], starts_on: chrono::NaiveDate) -> Vec<DayRow> {
    let mut nth = 0;
    days.iter()
        .map(|d| {
            let (kind, name) = match &d.reason {
                DayReason::Weekday => ("weekday", None),
                DayReason::Weekend => ("weekend", None),
                DayReason::Holiday { name } => ("holiday", Some(name.clone())),
                DayReason::MakeupWorkday { name } => ("makeup_workday", Some(name.clone())),
            };
            let counted = d.working && d.date >= starts_on;
            if counted {
                nth += 1;
            }
            let weekday = serde_json::to_value(d.weekday)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            DayRow {
                date: d.date,
                weekday: page.t(&format!("weekday.{weekday}")),
                working: d.working,
                kind,
                name,
                nth: counted.then_some(nth),
            }
        })
        .collect()
}

/// `/notices/{id}`: one notice — institutions, approved items, the window explained day by
/// day, and the way to object while it is open.
#[get("/notices/{id:\\d+}")]
pub async fn notice_page(
    page: Page,
    ctx: Ctx,
    state: web::Data<AppState>,
    board: web::Data<NoticeBoard>,
    cache: web::Data<PageCache>,
    id: web::Path<i64>,
) -> HttpResponse {
    let (id, now) = (id.into_inner(), ctx.now);
    let kept = match board.notice(&state, id, now).await {
        Ok(kept) => kept,
        Err(e) => return page.error(&e),
    };
    let accepting = kept.accepting(now);
    let stamp = [kept.generation, u64::from(accepting)];
    if let Some(cached) = page.from_cache(&cache, &stamp) {
        return cached;
    }
    let notice = &kept.notice;
    let days = day_rows(&page, &notice.explanation, notice.window.starts_on);
    page.render_cached(
        &cache,
        stamp,
        StatusCode::OK,
        "notice.html",
        serde_json::json!({ "notice": notice, "accepting": accepting, "days": days }),
    )
}
