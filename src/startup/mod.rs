//! Builds the application — routes, shared state, middleware, the job worker — for `serve`
//! and for the integration tests, which start exactly this on a fresh database.

pub mod job_kinds;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use secrecy::ExposeSecret;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;
use crate::clock::{SettableClock, SharedClock, SystemClock};
use crate::config::Settings;
use crate::error::{ApiError, Msg};
use crate::http::json::JsonLimit;
use crate::http::metrics::Metrics;
use crate::http::routes::RouteTable;
use crate::jobs::registry::{JobEnv, Registry};
use crate::jobs::{scheduler, worker::Worker};
use crate::pdf::PdfExtractor;
use crate::{calendar, db};

/// Everything `serve` needs, ready to run.
pub struct Application {
    server: Server,
    port: u16,
    pub state: AppState,
    pub registry: Arc<Registry>,
}

impl Application {
    /// Prepares storage (pool, migrations, reference data) and binds the listener.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let state = prepare_state(settings)?;
        Self::with_listener(state, listener)
    }

    pub fn with_listener(state: AppState, listener: TcpListener) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let registry = job_kinds::registry().into_shared();
        let metrics = web::Data::new(Metrics::default());
        let data = web::Data::new(state.clone());
        let auth = web::Data::new(state.auth_state());
        let json_limit = web::Data::new(JsonLimit(state.settings.json_body_limit));
        let test_clock = state.clock.settable().is_some();
        // The pool's in-memory read model (searches, entry pages, exports, status look-up).
        let pool_model = web::Data::new(crate::pool::read_model::PoolModel::start(
            state.pool.clone(),
            Duration::from_millis(state.settings.pool_refresh_ms),
        ));
        // The OpenAPI document is built once and served as bytes by every worker (built in
        // each worker's app, utoipa's structures held about 4 MiB per worker at rest, and the
        // collection raised each worker's start-up peak by about 4 MiB more).
        let document = crate::openapi::document();
        let route_table =
            web::Data::new(RouteTable::from_openapi(&document).with(crate::web::ROUTES));
        let document = web::Data::new(crate::openapi::Served::new(&document)?);
        let server = HttpServer::new(move || {
            // `wrap` nests outwards: `Compress` is outermost, so it compresses the final body
            // after `observe` has rendered errors as problem+json.
            App::new()
                // Inside `observe`, so its refusals are rendered in the client's language.
                .wrap(from_fn(crate::http::input::refuse_control_characters))
                .wrap(from_fn(crate::http::middleware::observe))
                .wrap(Compress::default())
                .app_data(data.clone())
                .app_data(auth.clone())
                .app_data(pool_model.clone())
                .app_data(route_table.clone())
                .app_data(document.clone())
                .app_data(metrics.clone())
                .app_data(json_limit.clone())
                .app_data(query_config())
                .app_data(path_config())
                // The same registration as the document's, into actix's own config: utoipa's
                // path structures are collected once, by `openapi::document`, not per worker.
                .configure(crate::routes::root)
                .service(
                    SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::new([
                        crate::openapi::DOCUMENT_PATH,
                    ])),
                )
                .service(crate::openapi::serve)
                .service(web::redirect("/docs", "/docs/"))
                .service(
                    web::scope("/api/v1").configure(|cfg| crate::routes::api_v1(cfg, test_clock)),
                )
                // The public portal's pages (HTML, not in the OpenAPI document).
                .configure(crate::web::configure)
                .default_service(web::to(unmatched))
        })
        .workers(state.settings.http_workers)
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(Self {
            server,
            port,
            state,
            registry,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until stopped, with the job worker and scheduler running beside the server.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        if self.state.settings.run_jobs {
            spawn_worker(self.state.clone(), self.registry.clone());
        }
        self.server.await?;
        Ok(())
    }

    /// Serves without a job worker (tests run jobs themselves, deterministically).
    pub fn into_server(self) -> Server {
        self.server
    }
}

/// Opens the database, applies migrations, loads reference data, and makes the shared state.
pub fn prepare_state(settings: Settings) -> anyhow::Result<AppState> {
    // The data directory holds the database, documents and mail: the service's account only.
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("cannot create {}", settings.data_dir.display()))?;
    db::restrict(&settings.data_dir, 0o700)?;
    let pool = db::build_pool_with(
        &settings.database_url,
        settings.db_pool_size,
        settings.sqlite_synchronous_full,
    )?;
    let signer;
    {
        let mut conn = pool.get().context("cannot open the database")?;
        let applied = db::run_migrations(&mut conn)?;
        if applied > 0 {
            tracing::info!(applied, "applied database migrations");
        }
    }
    let clock: SharedClock = if settings.test_clock {
        tracing::warn!("REGISTRY_TEST_CLOCK is on: admins can set the service clock");
        let clock = SettableClock::default();
        // Every instance on this database lives in the time set on any of them.
        clock.share_through(
            pool.clone(),
            Duration::from_millis(settings.clock_refresh_ms),
        );
        Arc::new(clock)
    } else {
        Arc::new(SystemClock)
    };
    {
        let mut conn = pool.get().context("cannot open the database")?;
        let ctx = crate::auth::Ctx::system(clock.now());
        let loaded = db::write_tx(&mut conn, |c| calendar::store::load_fixtures(c, &ctx))?;
        if loaded > 0 {
            tracing::info!(loaded, "loaded the shipped working-day calendars");
        }
        signer = crate::signing::load(
            &mut conn,
            settings
                .snapshot_signing_key
                .as_ref()
                .map(ExposeSecret::expose_secret),
            clock.now(),
        )?;
        tracing::info!(key_id = %signer.key_id, "open-data snapshots are signed with this key");
    }
    crate::mail::log_transport(&settings);
    let jwt = {
        let mut conn = pool.get().context("cannot open the database")?;
        Arc::new(crate::auth::jwt::load_keys(
            &settings,
            &mut conn,
            clock.now(),
        )?)
    };
    let pdf = match &settings.pdf_program {
        Some(program) => PdfExtractor::with_program(program, settings.pdf_limits.clone()),
        None => PdfExtractor::new(settings.pdf_limits.clone())
            .context("cannot locate this executable for PDF extraction")?,
    };
    tracing::info!(
        extractors = crate::pdf::available_extractors().join(", "),
        "PDF text extractors, the first tried first"
    );
    Ok(AppState {
        pool,
        clock,
        signer: Arc::new(signer),
        settings: Arc::new(settings),
        jwt,
        pdf,
    })
}

/// No route took the request: 405 with `Allow` when the path exists with other methods,
/// otherwise 404.
async fn unmatched(
    req: actix_web::HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, ApiError> {
    match table.allowed(req.path()) {
        Some(methods) if !methods.contains(req.method()) => {
            let allow = methods
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let err = ApiError::new(
                actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                Msg::new(
                    format!("该地址不支持 {} 方法，可用：{allow}。", req.method()),
                    format!("{} is not allowed here; allowed: {allow}.", req.method()),
                ),
            );
            let mut response = actix_web::ResponseError::error_response(&err);
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
                response
                    .headers_mut()
                    .insert(actix_web::http::header::ALLOW, value);
            }
            Ok(response)
        }
        // A browser's address gets the portal's 404 page; the API's, problem+json.
        _ if crate::web::wants_page(&req) => Ok(crate::web::not_found(&req)),
        _ => Err(ApiError::no_route()),
    }
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        let detail = err.to_string();
        ApiError::bad_request(
            "invalid_query",
            "查询参数格式错误。",
            "A query parameter is malformed.",
        )
        .with_errors(vec![crate::error::FieldIssue::new(
            "query",
            "invalid_value",
            Msg::new(format!("查询参数无效：{detail}"), detail),
        )])
        .into()
    })
}

fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _| {
        let detail = err.to_string();
        ApiError::bad_request(
            "invalid_path",
            "路径参数格式错误。",
            "A path parameter is malformed.",
        )
        .with_errors(vec![crate::error::FieldIssue::new(
            "path",
            "invalid_value",
            Msg::new(format!("路径参数无效：{detail}"), detail),
        )])
        .into()
    })
}

/// The worker loop: every poll interval, enqueue periodic jobs and run the due ones.
fn spawn_worker(state: AppState, registry: Arc<Registry>) {
    let worker_id = format!("{}-{}", hostname(), std::process::id());
    let env = JobEnv {
        pool: state.pool.clone(),
        clock: state.clock.clone(),
        settings: state.settings.clone(),
    };
    let worker = Worker::new(worker_id, env, registry);
    let interval = Duration::from_millis(state.settings.job_poll_interval_ms);
    let periodic = job_kinds::periodic();
    std::thread::Builder::new()
        .name("job-worker".into())
        .spawn(move || {
            loop {
                let tick = state
                    .pool
                    .get()
                    .map_err(anyhow::Error::from)
                    .and_then(|mut conn| {
                        db::write_tx(&mut conn, |c| {
                            scheduler::tick(c, &periodic, state.clock.now())
                        })
                        .map_err(anyhow::Error::from)
                    });
                if let Err(e) = tick.and_then(|_| worker.run_until_idle()) {
                    tracing::error!(error = ?e, "job worker tick failed");
                }
                std::thread::sleep(interval);
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::error!(error = %e, "cannot start the job worker"));
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "worker".to_owned())
}
