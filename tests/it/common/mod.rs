//! The integration-test harness: starts the real application on a fresh database — a temp
//! SQLite file by default, a new PostgreSQL database when `TEST_DATABASE_URL` is set — and
//! talks HTTP to it. Jobs do not run in the background: `run_pending_jobs` runs them, and the
//! settable clock (`set_clock`) drives every time-dependent rule.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod flow;
pub mod smtp;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use provider_registry::app::AppState;
use provider_registry::auth::{Ctx, Role};
use provider_registry::config::{Overrides, Settings};
use provider_registry::jobs::registry::{JobEnv, Registry};
use provider_registry::jobs::worker::Worker;
use provider_registry::{accounts, db, startup};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

pub const PASSWORD: &str = "test-password-123";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub registry: Arc<Registry>,
    pub database_url: String,
    pub dir: tempfile::TempDir,
    tokens: std::sync::Mutex<HashMap<Role, String>>,
    /// False for a second instance on another app's database (it must not drop it).
    owns_database: bool,
}

/// A test's PostgreSQL database is dropped when the test passes (a failing test's is kept to
/// be inspected); SQLite files go with the temporary directory.
impl Drop for TestApp {
    fn drop(&mut self) {
        if !is_postgres() || std::thread::panicking() || !self.owns_database {
            return;
        }
        let (Ok(server), Some((_, name))) = (
            std::env::var("TEST_DATABASE_URL"),
            self.database_url.rsplit_once('/'),
        ) else {
            return;
        };
        if let Ok(pool) = db::build_pool(&db::DatabaseUrl::parse(&server).unwrap(), 1)
            && let Ok(mut conn) = pool.get()
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A fresh database URL: a file in `dir`, or a new database on the test PostgreSQL server,
/// cloned from the migrated template (see [`postgres_template`]).
pub fn fresh_database_url(dir: &std::path::Path) -> String {
    new_database_url(dir, true)
}

/// A fresh database without any migration applied (for tests of the migrations themselves).
pub fn empty_database_url(dir: &std::path::Path) -> String {
    new_database_url(dir, false)
}

fn new_database_url(dir: &std::path::Path, migrated: bool) -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(server) if !server.is_empty() => {
            let name = format!("test_{}", uuid::Uuid::new_v4().simple());
            let create = if migrated {
                format!(
                    "CREATE DATABASE {name} TEMPLATE {}",
                    postgres_template(&server)
                )
            } else {
                format!("CREATE DATABASE {name}")
            };
            let pool = db::build_pool(&db::DatabaseUrl::parse(&server).unwrap(), 1).unwrap();
            let mut conn = pool.get().unwrap();
            conn.batch_execute(&create).unwrap();
            let (prefix, _) = server.rsplit_once('/').unwrap();
            format!("{prefix}/{name}")
        }
        _ => format!("sqlite://{}", dir.join("registry.db").display()),
    }
}

/// The name of a PostgreSQL database holding every migration, to clone test databases from
/// (`CREATE DATABASE … TEMPLATE`, a file copy) instead of migrating each one. Its name carries
/// a hash of the PostgreSQL migrations, so a changed migration builds a new template.
///
/// nextest runs every test in its own process, many at once: the first to get the session
/// advisory lock builds the template under a temporary name and renames it when complete
/// (a process killed half-way leaves no half-migrated template), the others wait for the
/// lock and find it. Within one process the answer is remembered.
fn postgres_template(server: &str) -> String {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let name = format!("tmpl_{}", migrations_hash());
            let pool = db::build_pool(&db::DatabaseUrl::parse(server).unwrap(), 1).unwrap();
            let mut conn = pool.get().unwrap();
            conn.batch_execute("SELECT pg_advisory_lock(727002)")
                .unwrap();
            if !database_exists(&mut conn, &name) {
                let building = format!("{name}_building");
                // One statement per call: PostgreSQL runs neither in a multi-statement string.
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                    .unwrap();
                conn.batch_execute(&format!("CREATE DATABASE {building}"))
                    .unwrap();
                {
                    use diesel::Connection;
                    let (prefix, _) = server.rsplit_once('/').unwrap();
                    let url = format!("{prefix}/{building}");
                    let mut migrate =
                        db::DbConn::Postgres(diesel::PgConnection::establish(&url).unwrap());
                    db::run_migrations(&mut migrate).unwrap();
                }
                // Nobody connects to a template: cloning needs it idle.
                conn.batch_execute(&format!(
                    "ALTER DATABASE {building} WITH ALLOW_CONNECTIONS false"
                ))
                .unwrap();
                conn.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .unwrap();
            }
            conn.batch_execute("SELECT pg_advisory_unlock(727002)")
                .unwrap();
            name
        })
        .clone()
}

fn database_exists(conn: &mut db::DbConn, name: &str) -> bool {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result::<Count>(conn)
        .unwrap()
        .n
        > 0
}

/// A short hash of the PostgreSQL migrations (file names and contents, in order).
fn migrations_hash() -> String {
    use sha2::{Digest, Sha256};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<std::path::PathBuf> = walk(&root);
    files.sort();
    let mut hasher = Sha256::new();
    for f in files {
        hasher.update(f.strip_prefix(&root).unwrap().to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&f).unwrap());
    }
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

pub fn is_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty())
}

/// Settings for a test instance, with extra environment variables.
pub fn test_settings(
    dir: &std::path::Path,
    database_url: &str,
    extra: &[(&str, &str)],
) -> Settings {
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("REGISTRY_TEST_CLOCK", "1"),
        ("REGISTRY_JOBS", "0"),
        ("DB_POOL_SIZE", "4"),
        ("REGISTRY_HTTP_WORKERS", "1"),
        ("REGISTRY_BIND", "127.0.0.1:0"),
        // The test binary is not the service: the PDF extraction child is the built binary.
        (
            "PDF_EXTRACTOR_PROGRAM",
            env!("CARGO_BIN_EXE_provider-registry"),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    Settings::from_lookup(
        |k| vars.get(k).cloned(),
        &Overrides {
            bind: None,
            data_dir: Some(dir.to_path_buf()),
        },
    )
    .unwrap()
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(extra: &[(&str, &str)]) -> Self {
        provider_registry::telemetry::init();
        let dir = tempfile::tempdir().unwrap();
        let database_url = fresh_database_url(dir.path());
        Self::start(dir, database_url, extra, true).await
    }

    /// A second instance of the service on this app's database (its own data directory,
    /// connection pool and settable clock), as behind a load balancer.
    pub async fn spawn_peer(&self, extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::start(dir, self.database_url.clone(), extra, false).await
    }

    async fn start(
        dir: tempfile::TempDir,
        database_url: String,
        extra: &[(&str, &str)],
        owns_database: bool,
    ) -> Self {
        let settings = test_settings(dir.path(), &database_url, extra);
        let state = tokio::task::spawn_blocking(move || startup::prepare_state(settings))
            .await
            .unwrap()
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let app = startup::Application::with_listener(state.clone(), listener).unwrap();
        let port = app.port();
        let registry = app.registry.clone();
        tokio::spawn(app.into_server());
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            // Like a browser: `Accept-Encoding: gzip, br, deflate`, bodies decoded.
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .gzip(true)
                .brotli(true)
                .deflate(true)
                .build()
                .unwrap(),
            state,
            registry,
            database_url,
            dir,
            tokens: Default::default(),
            owns_database,
        }
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.base, path))
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    /// GETs `path` without credentials and decodes the JSON answer, whatever its status.
    pub async fn get_value(&self, path: &str) -> Value {
        self.get(path).send().await.unwrap().json().await.unwrap()
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> RequestBuilder {
        self.request(Method::PUT, path)
    }

    /// Creates (once) an account of the role and returns its bearer token.
    pub async fn token(&self, role: Role) -> String {
        if let Some(t) = self.tokens.lock().unwrap().get(&role) {
            return t.clone();
        }
        let email = format!("{}@test.local", role.as_str());
        if role == Role::Institution {
            self.register_institution(&email, "测试培训中心", "91450103MA5L123454")
                .await;
        } else {
            let state = self.state.clone();
            let email2 = email.clone();
            tokio::task::spawn_blocking(move || {
                let mut conn = state.pool.get().unwrap();
                let ctx = Ctx::system(state.clock.now());
                db::write_tx(&mut conn, |c| {
                    let school_id = if role == Role::School {
                        Some(
                            accounts::create_school(
                                c,
                                &ctx,
                                &accounts::CreateSchoolRequest {
                                    name: "测试小学".into(),
                                    code: format!("S{}", uuid::Uuid::new_v4().simple()),
                                    district: "青秀区".into(),
                                },
                            )?
                            .id,
                        )
                    } else {
                        None
                    };
                    let user = accounts::prepare_user(&accounts::CreateUserRequest {
                        email: email2,
                        password: PASSWORD.into(),
                        role,
                        display_name: format!("test {}", role.as_str()),
                        school_id,
                    })?;
                    accounts::create_user(c, &ctx, &user)
                })
                .unwrap();
            })
            .await
            .unwrap();
        }
        let token = self.login(&email, PASSWORD).await;
        self.tokens.lock().unwrap().insert(role, token.clone());
        token
    }

    /// Registers an institution through the API; returns the response body.
    pub async fn register_institution(&self, email: &str, name: &str, uscc: &str) -> Value {
        let res = self
            .post("/api/v1/auth/register")
            .json(&json!({
                "email": email, "password": PASSWORD, "display_name": "联系人",
                "institution_name": name, "uscc": uscc, "entity_type": match &uscc[..2] {
                    "52" => "private_non_enterprise_unit",
                    "51" => "social_organisation",
                    _ => "enterprise",
                },
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap()
        );
        res.json().await.unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let res = self
            .post("/api/v1/auth/login")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "login failed: {}",
            res.text().await.unwrap()
        );
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A request with the bearer token of a role.
    pub async fn as_role(&self, role: Role, method: Method, path: &str) -> RequestBuilder {
        let token = self.token(role).await;
        self.request(method, path).bearer_auth(token)
    }

    /// Disables an account through the admin API.
    pub async fn disable_user(&self, id: i64) {
        let res = self
            .as_role(
                Role::Admin,
                Method::POST,
                &format!("/api/v1/admin/users/{id}/disable"),
            )
            .await
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }

    /// Sets the service clock (through the admin API).
    pub async fn set_clock(&self, now: &str) {
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339(now)
            .unwrap()
            .with_timezone(&Utc);
        let res = self
            .as_role(Role::Admin, Method::PUT, "/api/v1/admin/clock")
            .await
            .json(&json!({"now": now}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{}",
            res.text().await.unwrap()
        );
        // Cached role tokens are signed in again at the new time, so jumps of days or weeks
        // do not expire them (a test's own token strings are left alone).
        self.refresh_tokens().await;
    }

    /// Signs every cached role in again at the service clock's time (tokens expire 8 hours
    /// after the clock time they were issued at).
    pub async fn refresh_tokens(&self) {
        let roles: Vec<Role> = self.tokens.lock().unwrap().keys().copied().collect();
        for role in roles {
            let token = self
                .login(&format!("{}@test.local", role.as_str()), PASSWORD)
                .await;
            self.tokens.lock().unwrap().insert(role, token);
        }
    }

    /// Enqueues the periodic jobs of the current period at the service clock's time, as the
    /// worker's tick does (run them with `run_pending_jobs`).
    pub async fn tick_periodic(&self) {
        let state = self.state.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = state.pool.get().unwrap();
            db::write_tx(&mut conn, |c| {
                provider_registry::jobs::scheduler::tick(
                    c,
                    &provider_registry::startup::job_kinds::periodic(),
                    state.clock.now(),
                )
            })
            .unwrap();
        })
        .await
        .unwrap();
    }

    /// Runs every job that is due now (as the service's worker would), until none is left.
    pub async fn run_pending_jobs(&self) -> usize {
        let env = JobEnv {
            pool: self.state.pool.clone(),
            clock: self.state.clock.clone(),
            settings: self.state.settings.clone(),
        };
        let worker = Worker::new("test-worker", env, self.registry.clone());
        tokio::task::spawn_blocking(move || worker.run_until_idle().unwrap())
            .await
            .unwrap()
    }

    /// Runs raw SQL against the app's database (to play an attacker or set up a state).
    pub async fn sql(&self, statement: &str) {
        let pool = self.state.pool.clone();
        let statement = statement.to_owned();
        tokio::task::spawn_blocking(move || pool.get().unwrap().batch_execute(&statement).unwrap())
            .await
            .unwrap();
        // Raw SQL bypasses the versions the in-memory read models watch.
        provider_registry::db::note_raw_write();
    }
}

/// Asserts a problem+json response and returns its body.
pub async fn assert_problem(res: Response, status: StatusCode, code: &str) -> Value {
    let got = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    assert_eq!(content_type, "application/problem+json", "body: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["code"], code, "body: {text}");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].as_str().unwrap().ends_with(code));
    assert!(!body["title"].as_str().unwrap().is_empty());
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

/// A file of `fixtures/`.
pub fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(path),
    )
    .unwrap()
}

impl TestApp {
    /// Uploads a document as the given token's institution.
    pub async fn upload(
        &self,
        token: &str,
        kind: &str,
        filename: &str,
        bytes: Vec<u8>,
    ) -> Response {
        let form = reqwest::multipart::Form::new()
            .text("kind", kind.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()),
            );
        self.post("/api/v1/documents")
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Creates a selection round open now (by the service clock) as admin; returns its id.
    pub async fn open_round(&self) -> i64 {
        let now = self.state.clock.now();
        let body = json!({
            "name": "2026年课后服务第三方机构遴选",
            "opens_at": now - chrono::Duration::days(1),
            "closes_at": now + chrono::Duration::days(30),
            "pool_valid_from": "2026-09-01",
            "pool_valid_until": "2028-08-31",
        });
        let res = self
            .as_role(Role::Admin, Method::POST, "/api/v1/rounds")
            .await
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap()
        );
        res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }
}

#[derive(diesel::QueryableByName)]
struct Scalar {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    value: i64,
}

impl TestApp {
    /// One integer from the database (`SELECT … AS value`), to find what a test set up.
    pub async fn sql_i64(&self, query: &str) -> i64 {
        use diesel::RunQueryDsl;
        let pool = self.state.pool.clone();
        let query = query.to_owned();
        tokio::task::spawn_blocking(move || {
            let rows: Vec<Scalar> = diesel::sql_query(query)
                .load(&mut pool.get().unwrap())
                .unwrap();
            rows[0].value
        })
        .await
        .unwrap()
    }
}
