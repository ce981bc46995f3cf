//! `/`: what the registry is, the current round, the latest notices.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::clock::beijing_date;
use crate::notices::service as notices;
use crate::web::Page;
use crate::web::pages::notices::notice_summary;

/// `/`: what the registry is, the current round, the latest notices, links to everything.
#[get("/")]
pub async fn home(page: Page, ctx: Ctx, state: web::Data<AppState>) -> HttpResponse {
    let now = ctx.now;
    let result = state
        .run(move |conn| {
            let rounds = crate::rounds::list(conn, now)?;
            let (latest, _) = notices::list(conn, now, 0, 3)?;
            Ok((rounds, latest))
        })
        .await;
    match result {
        Ok((rounds, latest)) => {
            let current = rounds
                .iter()
                .find(|r| r.open_now)
                .or(rounds.first())
                .cloned();
            page.render(
                StatusCode::OK,
                "home.html",
                serde_json::json!({
                    "round_opens_on": current.as_ref().map(|r| beijing_date(r.opens_at.0)),
                    "round_closes_on": current.as_ref().map(|r| beijing_date(r.closes_at.0)),
                    "round": current,
                    "notices": latest.iter().map(notice_summary).collect::<Vec<_>>(),
                    "today": beijing_date(now),
                }),
            )
        }
        Err(e) => page.error(&e),
    }
}
