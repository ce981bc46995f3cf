//! `GET /audit` and `GET /audit/verify` for bureau staff.

use actix_web::{HttpResponse, get, web};

use crate::app::AppState;
use crate::audit::{self, AuditEvent, AuditFilter, Verification};
use crate::auth::{Authed, Staff};
use crate::error::{ApiResult, ProblemBody};
use crate::http::{Page, PageQuery};

/// The audit trail, newest first, with filters.
#[utoipa::path(
    tag = "audit",
    params(AuditFilter, PageQuery),
    responses(
        (status = 200, body = Page<AuditEvent>),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/audit")]
pub async fn list_audit(
    _staff: Authed<Staff>,
    state: web::Data<AppState>,
    filter: web::Query<AuditFilter>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (filter, page) = (filter.into_inner(), page.into_inner());
    let (items, total) = state
        .run(move |conn| Ok(audit::list(conn, &filter, page.offset(), page.per_page())?))
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(items, &page, total)))
}

/// Walks the hash chain and reports the first edited, inserted or deleted event.
#[utoipa::path(
    tag = "audit",
    responses(
        (status = 200, body = Verification),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/audit/verify")]
pub async fn verify_audit(
    _staff: Authed<Staff>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let result = state.run(|conn| Ok(audit::verify(conn)?)).await?;
    Ok(HttpResponse::Ok().json(result))
}
