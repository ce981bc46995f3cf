//! The institution's contracts with schools, each with its evaluations, and its evaluation
//! standing (read-only: schools sign and evaluate).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::app::AppState;
use crate::contracts;

use super::{Inst, own, show};

/// `GET /institution/contracts`: contracts (newest first) with their evaluations, and the
/// standing the pool shows (once there are enough evaluations).
#[get("/institution/contracts")]
pub async fn contracts_page(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    let user = s.user.clone();
    let view = async {
        let id = own(&s.user)?;
        let (list, standing) = state
            .run(move |conn| {
                let (list, _) = contracts::list(conn, &user, &Default::default(), 0, 100)?;
                let list = list
                    .into_iter()
                    .map(|c| contracts::get(conn, &user, c.id))
                    .collect::<Result<Vec<_>, _>>()?;
                let standing = crate::pool::search::standing_of(conn, id)?;
                Ok((list, standing))
            })
            .await?;
        Ok(json!({
            "contracts": list,
            "standing": standing,
            "min_evaluations": crate::pool::search::MIN_EVALUATIONS,
        }))
    };
    show(&s, StatusCode::OK, "inst_contracts.html", view).await
}
