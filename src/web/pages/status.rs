//! `/status`: the USCC look-up.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

use crate::auth::Ctx;
use crate::clock::beijing_date;
use crate::error::ApiError;
use crate::pool::read_model::PoolModel;
use crate::pool::status::{self as pool_status, InstitutionStatus};
use crate::web::Page;

#[derive(Debug, Deserialize)]
pub struct StatusPageQuery {
    uscc: Option<String>,
}

/// `/status?uscc=…`: in the pool / banned until … / not listed / invalid with every reason.
#[get("/status")]
pub async fn status_page(
    page: Page,
    ctx: Ctx,
    model: web::Data<PoolModel>,
    query: web::Query<StatusPageQuery>,
) -> HttpResponse {
    let uscc = query
        .into_inner()
        .uscc
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty());
    let Some(code) = uscc else {
        return page.render(
            StatusCode::OK,
            "status.html",
            serde_json::json!({ "uscc": "", "result": null, "reasons": [] }),
        );
    };
    let today = beijing_date(ctx.now);
    let found = match model.read().await {
        Ok(pool) => pool_status::lookup(&pool, &code, today),
        Err(e) => Err(e),
    };
    match found {
        Ok(result) => {
            let grounds: Vec<String> = match &result {
                InstitutionStatus::Banned { grounds, .. } => grounds
                    .iter()
                    .map(|g| page.t(&format!("ground.{g}")))
                    .collect(),
                _ => Vec::new(),
            };
            page.render(
                StatusCode::OK,
                "status.html",
                serde_json::json!({
                    "uscc": code, "result": result, "grounds": grounds, "reasons": [],
                }),
            )
        }
        Err(ApiError::Problem(p)) if p.code == "invalid_uscc" => {
            let reasons: Vec<String> = p.errors.iter().map(|i| page.msg(&i.message)).collect();
            page.render(
                StatusCode::UNPROCESSABLE_ENTITY,
                "status.html",
                serde_json::json!({
                    "uscc": code, "result": {"status": "invalid"}, "reasons": reasons,
                }),
            )
        }
        Err(e) => page.error(&e),
    }
}
