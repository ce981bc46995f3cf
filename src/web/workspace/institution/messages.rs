//! The e-mails sent to the account's address, as a list of subjects
//! ([`crate::mail::inbox::sent_to`], as `GET /api/v1/me/messages` reads them).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::app::AppState;

use super::{Inst, show};

/// `GET /institution/messages`: the subjects of the e-mails sent to the signed-in address,
/// newest first, with whether each has gone out.
#[get("/institution/messages")]
pub async fn messages_page(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    let email = s.user.email.clone();
    let view = async {
        let messages = state
            .run(move |conn| {
                crate::mail::inbox::sent_to(conn, &email, crate::accounts::routes::MESSAGES_LISTED)
            })
            .await?;
        Ok(json!({ "messages": messages }))
    };
    show(&s, StatusCode::OK, "inst_messages.html", view).await
}
