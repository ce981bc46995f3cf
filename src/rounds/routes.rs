//! `POST /rounds` (admin) and `GET /rounds` (public).

use actix_web::{HttpResponse, get, post, web};

use crate::app::AppState;
use crate::auth::{Admin, Authed, Ctx};
use crate::error::{ApiResult, ProblemBody};
use crate::http::Json;
use crate::rounds::{self, NewRound, Round};

/// Open a selection round: its application window and the validity of the pool it forms.
#[utoipa::path(
    tag = "rounds",
    request_body = NewRound,
    responses((status = 201, body = Round), (status = 422, body = ProblemBody, content_type = "application/problem+json")),
    security(("bearer" = []))
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

/// Selection rounds, newest first, with whether each is open now.
#[utoipa::path(tag = "rounds", responses((status = 200, body = Vec<Round>)))]
#[get("/rounds")]
pub async fn list_rounds(state: web::Data<AppState>, ctx: Ctx) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(state.run(move |conn| rounds::list(conn, ctx.now)).await?))
}
