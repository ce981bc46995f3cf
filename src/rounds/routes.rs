//! `POST /rounds`, `POST /rounds/{id}/close` (admin) and `GET /rounds` (public).

use actix_web::{HttpResponse, get, post, web};

use crate::app::AppState;
use crate::auth::{Admin, Authed, Ctx};
use crate::error::{ApiResult, ProblemBody};
use crate::http::Json;
use crate::http::routes::Register;
use crate::rounds::{self, NewRound, Round};

/// Registers the routes of this module, each once (the app and the OpenAPI document both come
/// from this registration: `crate::routes`).
pub fn configure(cfg: &mut impl Register) {
    cfg.service(create_round)
        .service(close_round)
        .service(list_rounds);
}

/// Open a selection round: its application window and the validity of the pool it forms.
#[utoipa::path(
    tag = "rounds",
    operation_id = "create_round",
    request_body = NewRound,
    responses(
        (status = 201, body = Round, description = "The round."),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `window_reversed`, `validity_reversed`, `invalid_length` (`name`)"),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/rounds")]
pub async fn create_round(
    admin: Authed<Admin>,
    state: web::Data<AppState>,
    body: Json<NewRound>,
) -> ApiResult<HttpResponse> {
    let (req, ctx) = (body.into_inner(), admin.ctx.clone());
    let round = state
        .write(move |conn| rounds::create(conn, &ctx, &req))
        .await?;
    Ok(HttpResponse::Created().json(round))
}

/// Close an open round now: its application window ends at this instant (drafts stay, new
/// submissions are refused with `round_closed`). The same action as the admin's page.
#[utoipa::path(
    tag = "rounds",
    operation_id = "close_round",
    params(("id" = i64, Path, description = "round id")),
    responses(
        (status = 200, body = Round, description = "The round, its window now ended."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such round"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`round_not_open`: the round is not open (not yet, already closed, or changed meanwhile)"),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/rounds/{id}/close")]
pub async fn close_round(
    admin: Authed<Admin>,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, ctx) = (path.into_inner(), admin.ctx.clone());
    let round = state
        .write(move |conn| rounds::close(conn, &ctx, id))
        .await?;
    Ok(HttpResponse::Ok().json(round))
}

/// Selection rounds, newest first, with whether each is open now.
#[utoipa::path(
    tag = "rounds",
    operation_id = "list_rounds",
    responses((status = 200, body = Vec<Round>, description = "Every round, newest first."))
)]
#[get("/rounds")]
pub async fn list_rounds(state: web::Data<AppState>, ctx: Ctx) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(state.run(move |conn| rounds::list(conn, ctx.now)).await?))
}
