//! `/healthz`, `/readyz`, `/metrics`, and `PUT /api/v1/admin/clock` (test clock only).

use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::AppState;
use crate::audit;
use crate::auth::{Admin, Authed};
use crate::clock::Clock;
use crate::error::{ApiError, ApiResult, ProblemBody};
use crate::http::Json;
use crate::ops::metrics::Metrics;

/// Liveness: the process answers. Does no work.
#[utoipa::path(
    tag = "ops",
    operation_id = "get_health",
    responses((status = 200, description = "Alive: the body is `ok`.", body = String, content_type = "text/plain"))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub database: bool,
    pub migrations: bool,
}

/// Readiness: the database answers and every migration is applied.
#[utoipa::path(
    tag = "ops",
    operation_id = "get_readiness",
    responses(
        (status = 200, body = Readiness, description = "Ready: the database answers and every migration is applied."),
        (status = 503, body = Readiness, description = "Not ready: the database does not answer or a migration is missing (the same report, not a problem)."),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let result = state
        .run(|conn| {
            use diesel::connection::SimpleConnection;
            let database = conn.batch_execute("SELECT 1").is_ok();
            Ok(Readiness {
                database,
                migrations: database && crate::db::migrations_complete(conn),
            })
        })
        .await
        .unwrap_or(Readiness {
            database: false,
            migrations: false,
        });
    if result.database && result.migrations {
        HttpResponse::Ok().json(result)
    } else {
        HttpResponse::ServiceUnavailable().json(result)
    }
}

/// Prometheus metrics (text exposition format), for operators only: the scraper sends
/// `Authorization: Bearer <METRICS_TOKEN>`; without that setting the endpoint is not served.
#[utoipa::path(
    tag = "ops",
    operation_id = "get_metrics",
    responses(
        (status = 200, description = "Prometheus text exposition format (version 0.0.4).", body = String, content_type = "text/plain"),
        (status = 401, description = "`metrics_token_required`: no or a wrong operator token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: `METRICS_TOKEN` is not set, so the endpoint is not served", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("metrics_token" = []))
)]
#[get("/metrics")]
pub async fn metrics(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
) -> ApiResult<HttpResponse> {
    let Some(expected) = state
        .settings
        .metrics_token
        .as_ref()
        .map(secrecy::ExposeSecret::expose_secret)
    else {
        return Err(ApiError::no_route());
    };
    let presented = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::unauthenticated(
            "metrics_token_required",
            "指标接口仅供运维使用，请提供正确的运维令牌。",
            "Metrics are for operators: send the operator token.",
        ));
    }
    let counts = state.run(|conn| Ok(crate::jobs::counts(conn)?)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(&counts)))
}

/// Compares two secrets in time independent of where they differ (the lengths may leak).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct SetClockRequest {
    /// The instant the service should believe it is (RFC 3339); `null` returns to real time.
    pub now: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockState {
    pub now: DateTime<Utc>,
    /// Today's date in Beijing.
    pub today: chrono::NaiveDate,
    pub overridden: bool,
}

/// Set the service clock (only when started with `REGISTRY_TEST_CLOCK=1`; 404 otherwise).
#[utoipa::path(
    tag = "admin",
    operation_id = "set_clock",
    request_body = SetClockRequest,
    responses(
        (status = 200, body = ClockState, description = "The service clock now."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: the service was started without `REGISTRY_TEST_CLOCK=1`, so the route does not exist"),
    ),
    security(("bearer" = ["admin"]))
)]
#[put("/admin/clock")]
pub async fn set_clock(
    admin: Authed<Admin>,
    state: web::Data<AppState>,
    body: Json<SetClockRequest>,
) -> ApiResult<HttpResponse> {
    let Some(clock) = state.clock.settable() else {
        return Err(ApiError::no_route());
    };
    let before = clock.now();
    let to = body.now;
    let shared = state.clock.clone();
    let ctx = admin.ctx.clone();
    // The setting is written to the database with its audit event: every instance adopts it.
    let after = state
        .write(move |conn| {
            let Some(clock) = shared.settable() else {
                return Err(ApiError::no_route());
            };
            clock.store_in(conn, to)?;
            let after = clock.now();
            let ctx = crate::auth::Ctx { now: after, ..ctx };
            audit::record(
                conn,
                &ctx,
                "clock.set",
                "clock",
                "service",
                serde_json::json!({ "from": before, "to": after }),
            )?;
            Ok(after)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ClockState {
        now: after,
        today: crate::clock::beijing_date(after),
        overridden: clock.is_set(),
    }))
}
