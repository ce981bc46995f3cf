//! `/healthz`, `/readyz`, `/metrics`, and `PUT /api/v1/admin/clock` (test clock only).

use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::AppState;
use crate::audit;
use crate::auth::{Admin, Authed};
use crate::clock::Clock;
use crate::error::{ApiError, ApiResult, ProblemBody};
use crate::http::Json;
use crate::http::metrics::Metrics;
use crate::http::routes::Register;

/// Registers the operators' routes outside `/api/v1`: health, readiness, metrics.
pub fn configure_root(cfg: &mut impl Register) {
    cfg.service(healthz).service(readyz).service(metrics);
}

/// Registers the operators' routes under `/api/v1`: the job queue, and the settable clock
/// when the service runs one (`REGISTRY_TEST_CLOCK`; without it the route does not exist at
/// all, 404, while the OpenAPI document always lists it).
pub fn configure(cfg: &mut impl Register, test_clock: bool) {
    cfg.service(super::jobs::list_jobs)
        .service(super::jobs::retry_job);
    if test_clock {
        cfg.service(set_clock);
    }
}

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

/// One named readiness check.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessCheck {
    /// `database`, `migrations`, `pdf_extractors`, `calendar`, …
    pub name: String,
    pub ok: bool,
    /// A failed required check makes the instance not ready (503); an optional one is a warning.
    pub required: bool,
    /// What was found, for an operator.
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// Every required check passed.
    pub ready: bool,
    pub checks: Vec<ReadinessCheck>,
}

impl ReadinessCheck {
    fn new(name: &str, required: bool, ok: bool, detail: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            ok,
            required,
            detail: detail.into(),
        }
    }
}

/// Readiness: a list of named checks — the database answers, every migration is applied,
/// the document store (in the database) answers, the PDF text extractors present (pdf-extract, built in; poppler's `pdftotext` when on
/// `PATH`, optional), and this year's and next year's working-day calendars (this year's
/// required; next year's a warning, loaded once the State Council publishes it).
#[utoipa::path(
    tag = "ops",
    operation_id = "get_readiness",
    responses(
        (status = 200, body = Readiness, description = "Ready: every required check passed (optional ones may warn)."),
        (status = 503, body = Readiness, description = "Not ready: a required check failed (the same report, not a problem)."),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let year = state.clock.today().year();
    let mut checks = state
        .run(move |conn| Ok(database_checks(conn, year)))
        .await
        .unwrap_or_else(|_| {
            vec![ReadinessCheck::new(
                "database",
                true,
                false,
                "no database connection",
            )]
        });
    checks.push(pdf_check(&state.pdf));
    let ready = checks.iter().all(|c| c.ok || !c.required);
    let report = Readiness { ready, checks };
    if ready {
        HttpResponse::Ok().json(report)
    } else {
        HttpResponse::ServiceUnavailable().json(report)
    }
}

fn database_checks(conn: &mut crate::db::DbConn, year: i32) -> Vec<ReadinessCheck> {
    use diesel::connection::SimpleConnection;
    let database = conn.batch_execute("SELECT 1").is_ok();
    let mut checks = vec![ReadinessCheck::new(
        "database",
        true,
        database,
        if database {
            "answers"
        } else {
            "does not answer"
        },
    )];
    if !database {
        return checks;
    }
    let migrations = crate::db::migrations_complete(conn);
    checks.push(ReadinessCheck::new(
        "migrations",
        true,
        migrations,
        if migrations {
            "all applied"
        } else {
            "some are not applied"
        },
    ));
    // The document store is a table (documents::blobs); the platform names it without
    // importing the capability.
    let storage = migrations
        && conn
            .batch_execute("SELECT sha256 FROM document_blobs LIMIT 1")
            .is_ok();
    checks.push(ReadinessCheck::new(
        "storage",
        true,
        storage,
        if storage {
            "the document store answers"
        } else {
            "the document store does not answer"
        },
    ));
    for (name, year, required) in [
        ("calendar", year, true),
        ("calendar_next_year", year + 1, false),
    ] {
        let loaded = matches!(crate::calendar::store::get(conn, year), Ok(Some(_)));
        let detail = if loaded {
            format!("{year} loaded")
        } else {
            format!("{year} not loaded")
        };
        checks.push(ReadinessCheck::new(name, required, loaded, detail));
    }
    checks
}

/// pdf-extract is built into the extraction child, which must exist; `pdftotext` is optional.
fn pdf_check(pdf: &crate::pdf::PdfExtractor) -> ReadinessCheck {
    let child = pdf.program().is_file();
    let detail = match (child, pdf.pdftotext()) {
        (false, _) => format!(
            "the extraction child {} is missing",
            pdf.program().display()
        ),
        (true, Some(path)) => format!("pdf-extract; pdftotext at {}", path.display()),
        (true, None) => {
            "pdf-extract; pdftotext not on PATH (pages pdf-extract cannot read stay unread)".into()
        }
    };
    ReadinessCheck::new("pdf_extractors", true, child, detail)
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
    let count = |state: &str| {
        counts
            .iter()
            .find(|(s, _)| s == state)
            .map_or(0, |(_, n)| *n)
    };
    let queued = [
        crate::jobs::PENDING,
        crate::jobs::RUNNING,
        crate::jobs::DEAD,
    ]
    .map(|state| (state, count(state)));
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(&queued, count(crate::jobs::DEAD))))
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
