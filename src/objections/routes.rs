//! `POST /notices/{id}/objections` (public), `GET /objections` and
//! `POST /objections/{id}/resolution` (reviewer).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use futures_util::StreamExt;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::{Authed, Ctx, Reviewer};
use crate::error::{ApiError, ApiResult, Msg, ProblemBody};
use crate::http::json::{JsonLimit, parse_json};
use crate::http::routes::Register;
use crate::http::{Json, Page, PageQuery, client_ip};
use crate::objections::{
    self, NewObjection, Objection, ObjectionFilter, ObjectionReceipt, Resolution, Resolved, intake,
};

pub fn configure(cfg: &mut impl Register) {
    cfg.service(file).service(list).service(resolve);
}

/// The multipart form of an objection with evidence (documentation only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ObjectionForm {
    application_id: i64,
    name: String,
    mobile: String,
    email: Option<String>,
    grounds: String,
    /// Optional evidence: PDF, JPEG or PNG (recognised by content), up to `UPLOAD_MAX_BYTES`.
    #[schema(value_type = Option<String>, format = Binary)]
    evidence: Option<Vec<u8>>,
}

/// Object to an application in a notice — no account needed, only during the window. Send
/// JSON, or `multipart/form-data` with the same fields as text parts plus an optional
/// `evidence` file (stored as an `objection_evidence` document, visible to reviewers). The
/// objector's details are visible to reviewers only. At most `OBJECTION_RATE_LIMIT`
/// objections per client IP per hour.
#[utoipa::path(
    tag = "notices",
    operation_id = "file_objection",
    params(("id" = i64, Path, description = "notice id")),
    request_body(content(
        (NewObjection = "application/json"),
        (ObjectionForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, body = ObjectionReceipt, description = "Received (a receipt without personal data)."),
        (status = 400, body = ProblemBody, content_type = "application/problem+json", description = "`malformed_multipart`, `form_field_too_large`, `invalid_utf8` (a form field)"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such notice"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`notice_closed`: the window is over (or not yet open)"),
        (status = 413, body = ProblemBody, content_type = "application/problem+json", description = "`file_too_large` (the evidence)"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json", description = "`unsupported_file_type`: the evidence is not a PDF, JPEG or PNG"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `name_required`, `invalid_mobile`, `grounds_too_short`, `application_not_in_notice`, `invalid_email`, `invalid_length`, `invalid_value` (a form's `application_id` not a number); `pdf_encrypted`, `pdf_unreadable` (the evidence)"),
        (status = 429, body = ProblemBody, content_type = "application/problem+json", description = "`rate_limited`: more than `OBJECTION_RATE_LIMIT` objections from this address in an hour",
            headers(("Retry-After" = u64, description = "Seconds until another objection is accepted."))),
    )
)]
#[post("/notices/{id}/objections")]
pub async fn file(
    ctx: Ctx,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let ip = client_ip(&req, &state.settings.trusted_proxies);
    let (body, evidence) = if is_multipart(&req) {
        let received = intake::read_multipart(&state, &req, payload).await?;
        (received.objection, received.evidence)
    } else {
        (read_json(&req, payload).await?, None)
    };
    let receipt = intake::receive(&state, ctx, id.into_inner(), body, evidence, ip).await?;
    Ok(HttpResponse::Created().json(receipt))
}

fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Reads a JSON body with the configured limit (the same rules as the JSON extractor).
async fn read_json(req: &HttpRequest, mut payload: web::Payload) -> ApiResult<NewObjection> {
    let essence = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            Msg::new(
                "请求体须为 JSON 或 multipart/form-data。",
                "The body must be JSON or multipart/form-data.",
            ),
        ));
    }
    let limit = req
        .app_data::<web::Data<JsonLimit>>()
        .map_or(256 * 1024, |l| l.0);
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request(
                "body_read_failed",
                "读取请求体失败。",
                "The request body could not be read.",
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                Msg::new(
                    format!("请求体超过 {limit} 字节上限。"),
                    format!("The body exceeds the limit of {limit} bytes."),
                ),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    parse_json(&body)
}

/// Objections with the objectors' details, newest first (reviewers).
#[utoipa::path(
    tag = "notices",
    operation_id = "list_objections",
    params(ObjectionFilter, PageQuery),
    responses((status = 200, body = Page<Objection>, description = "A page of objections, newest first.")),
    security(("bearer" = ["reviewer"]))
)]
#[get("/objections")]
pub async fn list(
    _reviewer: Authed<Reviewer>,
    state: web::Data<AppState>,
    filter: web::Query<ObjectionFilter>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let filter = filter.into_inner();
    let page = state
        .page(page.into_inner(), move |conn, offset, limit| {
            objections::list(conn, &filter, offset, limit)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Resolve an objection: `upheld` rejects the application; `dismissed` admits it at once if
/// the window is over and nothing else holds it back.
#[utoipa::path(
    tag = "notices",
    operation_id = "resolve_objection",
    params(("id" = i64, Path, description = "objection id")),
    request_body = Resolution,
    responses(
        (status = 200, body = Resolved, description = "The objection and what it did to the application."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such objection"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`objection_resolved` (already resolved) or `status_changed`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `reasons_required`, `invalid_length`"),
    ),
    security(("bearer" = ["reviewer"]))
)]
#[post("/objections/{id}/resolution")]
pub async fn resolve(
    reviewer: Authed<Reviewer>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<Resolution>,
) -> ApiResult<HttpResponse> {
    let (u, ctx, id, req) = (
        reviewer.user.clone(),
        reviewer.ctx.clone(),
        id.into_inner(),
        body.into_inner(),
    );
    let resolved = state
        .write(move |conn| objections::resolve(conn, &u, &ctx, id, &req))
        .await?;
    Ok(HttpResponse::Ok().json(resolved))
}
