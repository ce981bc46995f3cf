//! Settings, read from the environment (command-line flags override the bind address and the
//! data directory). Every variable the service reads is listed here and in the README:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DATABASE_URL` | `sqlite://<data dir>/registry.db` | `sqlite://path` or `postgres://user:pass@host/db` |
//! | `REGISTRY_DATA_DIR` | `data` | documents, generated secrets, `.eml` files; `--data-dir` |
//! | `REGISTRY_BIND` | `127.0.0.1:8080` | listen address; `--bind` |
//! | `REGISTRY_ENV` | `development` | `production` requires `JWT_SECRET` and `SNAPSHOT_SIGNING_KEY` and forbids the test clock |
//! | `JWT_SECRET` | development: generated once and kept in the database | HS256 key, at least 32 bytes; required in production |
//! | `JWT_PREVIOUS_SECRETS` | unset | comma-separated earlier `JWT_SECRET`s: they still verify the tokens they signed (rotation) |
//! | `SNAPSHOT_SIGNING_KEY` | generated once, kept in the database | Ed25519 private key (PKCS#8 PEM, `openssl genpkey -algorithm ed25519`) signing the open-data snapshots; required in production; a new one rotates (old public keys stay published) |
//! | `SNAPSHOT_SIGNING_KEY_FILE` | unset | a file holding that PEM (used when `SNAPSHOT_SIGNING_KEY` is unset) |
//! | `JWT_TTL_MINUTES` | `480` | lifetime of an access token |
//! | `REGISTRY_TEST_CLOCK` | unset | `1` enables `PUT /api/v1/admin/clock` (never in production) |
//! | `REGISTRY_CLOCK_REFRESH_MS` | `200` | test clock: how often an instance reads the clock setting shared through the database |
//! | `JOB_LEASE_SECONDS` | `300` | how long a claimed job is its worker's (database real time) before another instance may take it over; 5–86400 |
//! | `REGISTRY_LOG_FORMAT` | `text` | `json` for one JSON object per log line |
//! | `RUST_LOG` | `info` | log filter (tracing-subscriber syntax) |
//! | `DB_POOL_SIZE` | `8` | database connections per instance |
//! | `REGISTRY_HTTP_WORKERS` | number of cores | actix-web worker threads |
//! | `REGISTRY_JOBS` | `1` | `0` runs no job worker in this instance |
//! | `JOB_POLL_INTERVAL_MS` | `1000` | how often the job worker looks for due jobs |
//! | `JSON_BODY_LIMIT_BYTES` | `262144` | largest JSON body accepted |
//! | `REGISTRY_TRUSTED_PROXIES` | unset | addresses / CIDR networks of reverse proxies whose `X-Forwarded-For` is believed (e.g. `127.0.0.1,10.0.0.0/8`); unset: the client is the connection's peer |
//! | `UPLOAD_MAX_BYTES` | `20971520` | largest uploaded document (413 past it) |
//! | `PDF_MEMORY_MB` | `512` | address-space limit of a PDF text extraction child |
//! | `PDF_CPU_SECONDS` | `20` | CPU limit of an extraction child |
//! | `PDF_WALL_SECONDS` | `30` | wall-clock limit; the child is killed past it |
//! | `PDF_MAX_CONCURRENT` | `2` | extractions running at once per instance |
//! | `PDF_EXTRACTOR_PROGRAM` | this executable | the binary run as extraction child (tests point it at the built binary) |
//! | `OBJECTION_RATE_LIMIT` | `5` | objections accepted per client IP per hour (429 past it) |
//! | `MAIL_DELIVERY` | `smtp` when `SMTP_URL` is set, else `files` | `files` writes every e-mail as an `.eml` file; production without `SMTP_URL` refuses to start unless this says `files` |
//! | `SQLITE_SYNCHRONOUS` | `full` | SQLite durability: `full` (a commit survives power loss) or `normal` (WAL default; the last commits may be lost) |
//! | `SMTP_URL` | unset | `smtp://user:pass@host:587?tls=starttls` (STARTTLS, the default), `smtps://user:pass@host:465` (implicit TLS), `smtp://host:25?tls=none`; unset: `.eml` files under `<data dir>/mail/` |
//! | `MAIL_FROM` | `课后服务机构备选库 <noreply@registry.invalid>` | sender of every e-mail |
//! | `SMTP_TIMEOUT_SECONDS` | `30` | SMTP command timeout |
//! | `SMTP_CA_FILE` | unset | PEM file of extra root certificates trusted for the SMTP server (a private CA) |
//! | `INSPECTION_REMINDER_DATE` | `06-01` | MM-DD (Beijing) from which institutions lacking last year's annual inspection are reminded |
//! | `INSPECTION_SWEEP_DATE` | `06-30` | `MM-DD`; from the next day on, pool members without a passed inspection for the previous year get an exit case |
//! | `STANDING_FLAG_THRESHOLD` | `3.0` | pool entries whose evaluation standing (mean 1–5, ≥ 3 evaluations) is under it are flagged to reviewers |
//! | `DEMO_POOL_SIZE` | `300` | `serve --demo`: institutions in the demo pool (read by `demo`) |
//! | `POOL_CACHE_TTL_MS` | `1000` | public pool search pages are shared for this long (at most 1000: a change shows within 1 s); `0` turns it off |
//! | `METRICS_TOKEN` | unset | `/metrics` answers only `Authorization: Bearer <token>` (at least 16 characters); unset, `/metrics` is not served (404) |
//! | `PUBLIC_BASE_URL` | `http://<REGISTRY_BIND>` | the address people reach the service at (`https://registry.example.cn`, a path prefix allowed): e-mails link to pages under it, and when it is `https` session cookies are `Secure` |
//! | `REGISTRY_REGION` | `4501` | the bureau's administrative-division prefix (GB/T 2260; 4501 = Nanning); codes registered elsewhere are flagged |

pub mod mail;
pub mod proxies;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use secrecy::SecretString;

use crate::db::DatabaseUrl;

/// Development or production: production refuses unsafe shortcuts at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    /// `None` means: generate one and keep it in the data directory (development only).
    pub jwt_secret: Option<SecretString>,
    /// Earlier secrets that still verify tokens (rotation); only with `jwt_secret`.
    pub jwt_previous_secrets: Vec<SecretString>,
    /// The Ed25519 key (PKCS#8 PEM) that signs the open-data snapshots; `None`: a key generated
    /// once and kept in the database (development only).
    pub snapshot_signing_key: Option<SecretString>,
    pub jwt_ttl_minutes: i64,
    pub test_clock: bool,
    /// SQLite `PRAGMA synchronous`: FULL (default) or NORMAL.
    pub sqlite_synchronous_full: bool,
    /// How often the settable clock reads its shared setting again (milliseconds).
    pub clock_refresh_ms: u64,
    /// How long a claimed job is its worker's before another may take it over (seconds, in
    /// the database's real time).
    pub job_lease_seconds: u64,
    pub log_format: LogFormat,
    pub db_pool_size: u32,
    pub http_workers: usize,
    pub run_jobs: bool,
    pub job_poll_interval_ms: u64,
    pub json_body_limit: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client ([`proxies`]).
    pub trusted_proxies: proxies::TrustedProxies,
    /// The bureau's region: a GB/T 2260 prefix (2, 4 or 6 digits).
    pub region_prefix: String,
    /// (month, day) after which the annual-inspection sweep raises exit cases.
    pub inspection_sweep_date: (u32, u32),
    pub upload_max_bytes: u64,
    pub pdf_limits: crate::pdf::Limits,
    pub pdf_program: Option<PathBuf>,
    /// Objections accepted from one client IP per hour.
    pub objection_rate_limit: u32,
    /// E-mail: transport, sender, reminder date.
    pub mail: crate::config::mail::MailSettings,
    /// Standing under which a pool entry is flagged to reviewers.
    pub standing_flag_threshold: f64,
    /// Lifetime of a cached public pool search page, at most 1000 ms.
    pub pool_cache_ttl_ms: u64,
    /// The bearer token operators' scrapers send to `/metrics`; `None`: not served.
    pub metrics_token: Option<SecretString>,
    /// Where people reach the service (no trailing `/`): e-mails link to pages under it.
    pub public_base_url: String,
}

/// Flags from the command line that take precedence over the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub bind: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
}

impl Settings {
    pub fn from_env(overrides: &Overrides) -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok(), overrides)
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        overrides: &Overrides,
    ) -> anyhow::Result<Self> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let flag = |name: &str| var(name).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));

        let environment = match var("REGISTRY_ENV").as_deref().map(str::trim) {
            None | Some("development") | Some("dev") => Environment::Development,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => {
                bail!("REGISTRY_ENV must be `development` or `production`, not `{other}`")
            }
        };
        let data_dir = overrides
            .data_dir
            .clone()
            .or_else(|| var("REGISTRY_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("data"));
        let bind = match overrides.bind {
            Some(bind) => bind,
            None => var("REGISTRY_BIND")
                .as_deref()
                .unwrap_or("127.0.0.1:8080")
                .parse()
                .context("REGISTRY_BIND must be an address like 127.0.0.1:8080")?,
        };
        let database_url = match var("DATABASE_URL") {
            Some(url) => DatabaseUrl::parse(url.trim()).map_err(anyhow::Error::msg)?,
            None => DatabaseUrl::Sqlite(data_dir.join("registry.db")),
        };
        let jwt_secret = var("JWT_SECRET");
        let snapshot_signing_key = match (
            var("SNAPSHOT_SIGNING_KEY"),
            var("SNAPSHOT_SIGNING_KEY_FILE"),
        ) {
            (Some(pem), _) => Some(pem),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path.trim())
                    .with_context(|| format!("cannot read SNAPSHOT_SIGNING_KEY_FILE {path}"))?,
            ),
            (None, None) => None,
        };
        if environment == Environment::Production && snapshot_signing_key.is_none() {
            bail!(
                "production mode requires SNAPSHOT_SIGNING_KEY or SNAPSHOT_SIGNING_KEY_FILE (an Ed25519 PKCS#8 PEM key)"
            );
        }
        if let Some(pem) = &snapshot_signing_key {
            crate::signing::parse_private_pem(pem)
                .context("SNAPSHOT_SIGNING_KEY must be an Ed25519 private key in PKCS#8 PEM")?;
        }
        let test_clock = flag("REGISTRY_TEST_CLOCK");
        if environment == Environment::Production {
            match &jwt_secret {
                None => bail!("production mode requires JWT_SECRET (at least 32 bytes)"),
                Some(s) if s.len() < 32 => {
                    bail!("JWT_SECRET must be at least 32 bytes (it has {})", s.len())
                }
                Some(_) => {}
            }
            if test_clock {
                bail!("REGISTRY_TEST_CLOCK cannot be enabled in production mode");
            }
        }
        if let Some(s) = &jwt_secret
            && s.len() < 32
        {
            bail!("JWT_SECRET must be at least 32 bytes (it has {})", s.len());
        }
        let jwt_previous_secrets: Vec<String> = var("JWT_PREVIOUS_SECRETS")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if !jwt_previous_secrets.is_empty() && jwt_secret.is_none() {
            bail!("JWT_PREVIOUS_SECRETS needs JWT_SECRET (the key that signs now)");
        }
        if jwt_previous_secrets.iter().any(|s| s.len() < 32) {
            bail!("each of JWT_PREVIOUS_SECRETS must be at least 32 bytes");
        }
        let smtp_configured = var("SMTP_URL").is_some();
        match var("MAIL_DELIVERY").as_deref().map(str::trim) {
            None => {
                if environment == Environment::Production && !smtp_configured {
                    bail!(
                        "production mode sends e-mail over SMTP: set SMTP_URL, or choose .eml \
                         files explicitly with MAIL_DELIVERY=files"
                    );
                }
            }
            Some("smtp") if !smtp_configured => bail!("MAIL_DELIVERY=smtp needs SMTP_URL"),
            Some("smtp") => {}
            Some("files") if smtp_configured => {
                bail!("MAIL_DELIVERY=files and SMTP_URL contradict each other: unset one")
            }
            Some("files") => {}
            Some(other) => bail!("MAIL_DELIVERY must be `smtp` or `files`, not `{other}`"),
        }
        let sqlite_synchronous_full = match var("SQLITE_SYNCHRONOUS")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("full") => true,
            Some("normal") => false,
            Some(other) => bail!("SQLITE_SYNCHRONOUS must be `full` or `normal`, not `{other}`"),
        };
        let log_format = match var("REGISTRY_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("REGISTRY_LOG_FORMAT must be `text` or `json`, not `{other}`"),
        };
        if var("REGISTRY_TRUST_FORWARDED").is_some() {
            // Believing any peer's X-Forwarded-For let clients choose their address.
            bail!(
                "REGISTRY_TRUST_FORWARDED is replaced by REGISTRY_TRUSTED_PROXIES: list the \
                 proxies' addresses or networks (e.g. 127.0.0.1,10.0.0.0/8)"
            );
        }
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            var(name).map_or(Ok(default), |v| {
                v.trim()
                    .parse::<u64>()
                    .with_context(|| format!("{name} must be a whole number"))
            })
        };
        let metrics_token = var("METRICS_TOKEN").map(|t| t.trim().to_owned());
        if let Some(t) = &metrics_token
            && t.chars().count() < 16
        {
            bail!("METRICS_TOKEN must be at least 16 characters");
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            environment,
            bind,
            data_dir,
            database_url,
            jwt_secret: jwt_secret.map(SecretString::from),
            jwt_previous_secrets: jwt_previous_secrets
                .into_iter()
                .map(SecretString::from)
                .collect(),
            snapshot_signing_key: snapshot_signing_key.map(SecretString::from),
            jwt_ttl_minutes: i64::try_from(number("JWT_TTL_MINUTES", 480)?.clamp(1, 60 * 24 * 30))?,
            test_clock,
            sqlite_synchronous_full,
            clock_refresh_ms: number("REGISTRY_CLOCK_REFRESH_MS", 200)?.min(60_000),
            job_lease_seconds: number("JOB_LEASE_SECONDS", 300)?.clamp(5, 86_400),
            log_format,
            db_pool_size: u32::try_from(number("DB_POOL_SIZE", 8)?.clamp(1, 256))?,
            http_workers: usize::try_from(
                number("REGISTRY_HTTP_WORKERS", cores as u64)?.clamp(1, 256),
            )?,
            run_jobs: var("REGISTRY_JOBS").is_none_or(|v| v.trim() != "0"),
            job_poll_interval_ms: number("JOB_POLL_INTERVAL_MS", 1000)?.clamp(10, 60_000),
            json_body_limit: usize::try_from(number("JSON_BODY_LIMIT_BYTES", 256 * 1024)?)?,
            trusted_proxies: trusted_proxies(var("REGISTRY_TRUSTED_PROXIES"))?,
            region_prefix: region_prefix(var("REGISTRY_REGION"))?,
            inspection_sweep_date: match var("INSPECTION_SWEEP_DATE") {
                None => (6, 30),
                Some(v) => parse_month_day(&v).with_context(|| {
                    format!("INSPECTION_SWEEP_DATE must be MM-DD (e.g. 06-30), not `{v}`")
                })?,
            },
            upload_max_bytes: number("UPLOAD_MAX_BYTES", 20 * 1024 * 1024)?.max(1024),
            pdf_limits: crate::pdf::Limits {
                memory_bytes: number("PDF_MEMORY_MB", 512)?.clamp(64, 16 * 1024) * 1024 * 1024,
                cpu_seconds: number("PDF_CPU_SECONDS", 20)?.clamp(1, 600),
                wall: std::time::Duration::from_secs(number("PDF_WALL_SECONDS", 30)?.clamp(1, 600)),
                max_concurrent: usize::try_from(number("PDF_MAX_CONCURRENT", 2)?.clamp(1, 64))?,
            },
            pdf_program: var("PDF_EXTRACTOR_PROGRAM").map(PathBuf::from),
            objection_rate_limit: u32::try_from(
                number("OBJECTION_RATE_LIMIT", 5)?.clamp(1, 10_000),
            )?,
            mail: crate::config::mail::MailSettings::from_vars(
                var("SMTP_URL"),
                var("MAIL_FROM"),
                var("INSPECTION_REMINDER_DATE"),
                number("SMTP_TIMEOUT_SECONDS", 30)?,
                var("SMTP_CA_FILE"),
            )?,
            standing_flag_threshold: match var("STANDING_FLAG_THRESHOLD") {
                None => 3.0,
                Some(v) => v
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|t| (1.0..=5.0).contains(t))
                    .context("STANDING_FLAG_THRESHOLD must be a number from 1 to 5")?,
            },
            pool_cache_ttl_ms: number("POOL_CACHE_TTL_MS", 1000)?.min(1000),
            metrics_token: metrics_token.map(SecretString::from),
            public_base_url: public_base_url(var("PUBLIC_BASE_URL"), bind)?,
        })
    }

    pub fn data_path(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.data_dir.join(relative)
    }
}

/// `PUBLIC_BASE_URL`: an `http`/`https` URL without query or fragment, kept without its
/// trailing `/`; unset, the listen address over `http`.
fn public_base_url(value: Option<String>, bind: SocketAddr) -> anyhow::Result<String> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(format!("http://{bind}"));
    };
    let parsed = url::Url::parse(&value).with_context(|| {
        format!("PUBLIC_BASE_URL must be a URL like https://registry.example.cn, not `{value}`")
    })?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
    {
        bail!(
            "PUBLIC_BASE_URL must be an http or https URL without query or fragment, not `{value}`"
        );
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

fn trusted_proxies(value: Option<String>) -> anyhow::Result<proxies::TrustedProxies> {
    proxies::TrustedProxies::parse(value.as_deref().unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("REGISTRY_TRUSTED_PROXIES: {e}"))
}

fn region_prefix(value: Option<String>) -> anyhow::Result<String> {
    let prefix = value.map_or_else(|| "4501".to_owned(), |v| v.trim().to_owned());
    if !(matches!(prefix.len(), 2 | 4 | 6) && prefix.bytes().all(|b| b.is_ascii_digit())) {
        bail!(
            "REGISTRY_REGION must be 2, 4 or 6 digits of a GB/T 2260 code (e.g. 4501), not `{prefix}`"
        );
    }
    Ok(prefix)
}

/// Parses `MM-DD` (a day that exists in a leap year), as the sweep and reminder dates are given.
pub fn parse_month_day(s: &str) -> Option<(u32, u32)> {
    let (m, d) = s.trim().split_once('-')?;
    let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    chrono::NaiveDate::from_ymd_opt(2000, m, d).map(|_| (m, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A throwaway Ed25519 key (`openssl genpkey -algorithm ed25519`), for these tests only.
    const TEST_SIGNING_KEY: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIIiDPl/CnKPcgU2gDdDVGxUHoNaaw9U2ZFqBgxszb+Nn
-----END PRIVATE KEY-----
";

    fn settings(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned(), &Overrides::default())
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let jwt = "a-signing-secret-of-more-than-32-bytes!";
        let token = "operator-scrape-token-0123456789";
        let s = settings(&[
            ("JWT_SECRET", jwt),
            ("METRICS_TOKEN", token),
            ("SMTP_URL", "smtp://user:smtp-pass-word@mail.example.cn:587"),
        ])
        .unwrap();
        let shown = format!("{s:?}");
        for secret in [jwt, token, "smtp-pass-word"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn defaults_to_sqlite_in_the_data_dir() {
        let s = settings(&[]).unwrap();
        assert_eq!(
            s.database_url,
            DatabaseUrl::Sqlite(PathBuf::from("data/registry.db"))
        );
        assert_eq!(s.environment, Environment::Development);
    }

    #[test]
    fn unknown_database_scheme_is_refused() {
        let err = settings(&[("DATABASE_URL", "mysql://x")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("sqlite:// or postgres://"), "{err}");
    }

    #[test]
    fn production_sends_mail_over_smtp_unless_files_are_chosen() {
        let long = "x".repeat(32);
        let prod = [
            ("REGISTRY_ENV", "production"),
            ("JWT_SECRET", long.as_str()),
            ("SNAPSHOT_SIGNING_KEY", TEST_SIGNING_KEY),
        ];
        let err = settings(&prod).unwrap_err().to_string();
        assert!(err.contains("MAIL_DELIVERY=files"), "{err}");
        let with = |extra: (&'static str, &'static str)| {
            let mut vars = prod.to_vec();
            vars.push(extra);
            settings(&vars)
        };
        assert!(with(("SMTP_URL", "smtp://relay.example.cn:587")).is_ok());
        assert!(with(("MAIL_DELIVERY", "files")).is_ok());
        assert!(with(("MAIL_DELIVERY", "smtp")).is_err());
        assert!(settings(&[("MAIL_DELIVERY", "pigeon")]).is_err());
        assert!(settings(&[("SQLITE_SYNCHRONOUS", "off")]).is_err());
        assert!(
            !settings(&[("SQLITE_SYNCHRONOUS", "normal")])
                .unwrap()
                .sqlite_synchronous_full
        );
        assert!(settings(&[]).unwrap().sqlite_synchronous_full);
    }

    #[test]
    fn production_needs_a_long_secret_and_no_test_clock() {
        assert!(settings(&[("REGISTRY_ENV", "production")]).is_err());
        assert!(settings(&[("REGISTRY_ENV", "production"), ("JWT_SECRET", "short")]).is_err());
        let long = "x".repeat(32);
        assert!(settings(&[("REGISTRY_ENV", "production"), ("JWT_SECRET", &long)]).is_err());
        assert!(
            settings(&[
                ("REGISTRY_ENV", "production"),
                ("JWT_SECRET", &long),
                ("MAIL_DELIVERY", "files"),
                ("SNAPSHOT_SIGNING_KEY", TEST_SIGNING_KEY)
            ])
            .is_ok()
        );
        assert!(
            settings(&[
                ("REGISTRY_ENV", "production"),
                ("JWT_SECRET", &long),
                ("MAIL_DELIVERY", "files"),
                ("SNAPSHOT_SIGNING_KEY", "not a key")
            ])
            .is_err()
        );
        let err = settings(&[
            ("REGISTRY_ENV", "production"),
            ("JWT_SECRET", &long),
            ("MAIL_DELIVERY", "files"),
            ("SNAPSHOT_SIGNING_KEY", TEST_SIGNING_KEY),
            ("REGISTRY_TEST_CLOCK", "1"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("REGISTRY_TEST_CLOCK"), "{err}");
    }
}
