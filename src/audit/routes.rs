//! `GET /audit` and `GET /audit/verify` for bureau staff.

use actix_web::{HttpResponse, get, web};

use crate::app::AppState;
use crate::audit::{self, AuditEvent, AuditFilter, Verification};
use crate::auth::{Authed, Staff};
use crate::error::ApiResult;
use crate::http::routes::Register;
use crate::http::{Page, PageQuery};

/// Registers the routes of this module, each once (the app and the OpenAPI document both come
/// from this registration: `crate::routes`).
pub fn configure(cfg: &mut impl Register) {
    cfg.service(list_audit).service(verify_audit);
}

/// The audit trail, newest first, with filters.
#[utoipa::path(
    tag = "audit",
    operation_id = "list_audit_events",
    params(AuditFilter, PageQuery),
    responses((status = 200, body = Page<AuditEvent>, description = "A page of events, newest first.")),
    security(("bearer" = ["reviewer", "admin"]))
)]
#[get("/audit")]
pub async fn list_audit(
    _staff: Authed<Staff>,
    state: web::Data<AppState>,
    filter: web::Query<AuditFilter>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let filter = filter.into_inner();
    let page = state
        .page(page.into_inner(), move |conn, offset, limit| {
            Ok(audit::list(conn, &filter, offset, limit)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Walks the hash chain and reports the first edited, inserted or deleted event.
#[utoipa::path(
    tag = "audit",
    operation_id = "verify_audit_chain",
    responses((status = 200, body = Verification, description = "The result of the walk: `ok`, or the first break.")),
    security(("bearer" = ["reviewer", "admin"]))
)]
#[get("/audit/verify")]
pub async fn verify_audit(
    _staff: Authed<Staff>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let result = state.run(|conn| Ok(audit::verify(conn)?)).await?;
    Ok(HttpResponse::Ok().json(result))
}
