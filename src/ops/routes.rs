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
        (status = 503, body = ProblemBody, content_type = "application/problem+json", description = "Not ready: the database does not answer or a migration is missing"),
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

/// Prometheus metrics (text exposition format).
#[utoipa::path(
    tag = "ops",
    operation_id = "get_metrics",
    responses((status = 200, description = "Prometheus text exposition format (version 0.0.4).", body = String, content_type = "text/plain"))
)]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
) -> ApiResult<HttpResponse> {
    let counts = state.run(|conn| Ok(crate::jobs::counts(conn)?)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(&counts)))
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
        return Err(ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "not_found",
            crate::error::Msg::new("请求的地址不存在。", "No such resource."),
        ));
    };
    let before = clock.now();
    match body.now {
        Some(now) => clock.set(now),
        None => clock.reset(),
    }
    let after = clock.now();
    let ctx = crate::auth::Ctx {
        now: after,
        ..admin.ctx.clone()
    };
    state
        .write(move |conn| {
            audit::record(
                conn,
                &ctx,
                "clock.set",
                "clock",
                "service",
                serde_json::json!({ "from": before, "to": after }),
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok().json(ClockState {
        now: after,
        today: crate::clock::beijing_date(after),
        overridden: clock.is_set(),
    }))
}
