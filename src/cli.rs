//! The command line: `serve [--demo]`, `migrate`, `create-user`, `rotate-key`, `verify-audit`,
//! `verify-snapshot`, `backup`, `restore`.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::auth::{Ctx, Role};
use crate::config::{Overrides, Settings};
use crate::{accounts, audit, db, pdf, startup};

#[derive(Debug, Parser)]
#[command(
    name = "provider-registry",
    version,
    about = "Registry of third-party institutions for schools' after-school services"
)]
pub struct Cli {
    /// Data directory (documents, generated secrets, SQLite file); overrides REGISTRY_DATA_DIR.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service and its job worker.
    Serve {
        /// Listen address; overrides REGISTRY_BIND.
        #[arg(long)]
        bind: Option<SocketAddr>,
        /// On an empty database, load the demo data and print how to sign in as each role.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations, move document files of the data directory (the
    /// storage before documents moved into the database) into the database, and exit.
    Migrate,
    /// SQLite: write an online backup (the database, documents included, and the data
    /// directory's secret files) into the empty or new directory DEST.
    Backup { dest: PathBuf },
    /// SQLite: restore a backup made by `backup` into an empty data directory.
    Restore { src: PathBuf },
    /// Create a reviewer, school or admin account; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        role: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        /// For school accounts: the school record's id.
        #[arg(long)]
        school_id: Option<i64>,
    },
    /// Development keys: add a new token-signing key to the database (instances sign with it
    /// from the moment they meet it; the previous key verifies its tokens until they expire).
    /// With `JWT_SECRET` set, rotate by moving the old secret to `JWT_PREVIOUS_SECRETS`.
    RotateKey,
    /// Walk the audit chain; exit status 1 and the first broken event if it was tampered with.
    VerifyAudit,
    /// Verify a snapshot file (`GET /pool/snapshots/{version}` or `/bans/snapshots/{version}`)
    /// offline: its Ed25519 signature and its canonical form; exit status 1 if either fails.
    VerifySnapshot {
        /// The snapshot, exactly as served.
        file: PathBuf,
        /// The signature (`…/signature`: 64 raw bytes, or their base64); default FILE.sig.
        #[arg(long)]
        signature: Option<PathBuf>,
        /// PEM file of the public key(s) (`GET /pool/keys.pem`); default: the keys in the
        /// database of DATABASE_URL.
        #[arg(long)]
        key: Option<PathBuf>,
        /// The snapshot of the version before: its SHA-256 must be FILE's `previous_sha256`.
        #[arg(long)]
        previous: Option<PathBuf>,
    },
    /// Internal: extract a PDF's text under resource limits and print it as JSON. The service
    /// runs this in a child process of its own (see `pdf`); `main` dispatches it
    /// before logging or a runtime start.
    #[command(name = "extract-pdf-text", hide = true)]
    ExtractPdfText { path: PathBuf },
}

impl Cli {
    /// The PDF to extract when this process is a PDF extraction child.
    pub fn pdf_child(&self) -> Option<&std::path::Path> {
        match &self.command {
            Command::ExtractPdfText { path } => Some(path),
            _ => None,
        }
    }

    pub fn settings(&self) -> anyhow::Result<Settings> {
        let bind = match &self.command {
            Command::Serve { bind, .. } => *bind,
            _ => None,
        };
        Settings::from_env(&Overrides {
            bind,
            data_dir: self.data_dir.clone(),
        })
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(path) = cli.pdf_child() {
        // Normally dispatched by `main` before this point; kept working when called directly.
        if pdf::child_main(path) != std::process::ExitCode::SUCCESS {
            bail!("PDF text extraction failed");
        }
        return Ok(());
    }
    let settings = cli.settings()?;
    match cli.command {
        Command::Serve { demo, .. } => {
            if demo && settings.environment == crate::config::Environment::Production {
                bail!(
                    "serve --demo loads demo accounts with published passwords: refused in \
                     production mode (REGISTRY_ENV=production)"
                );
            }
            let bind = settings.bind;
            let app = startup::Application::build(settings)?;
            if demo {
                let state = app.state.clone();
                actix_web::web::block(move || crate::demo::load(&state)).await??;
            }
            tracing::info!(%bind, "serving; API at /api/v1, docs at /docs");
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let pool = db::build_pool(&settings.database_url, 1)?;
            let mut conn = pool.get().context("cannot open the database")?;
            let applied = db::run_migrations(&mut conn)?;
            println!("applied {applied} migration(s)");
            let now = crate::clock::Clock::now(&crate::clock::SystemClock);
            let moved = crate::documents::blobs::move_files_in(&mut conn, &settings.data_dir, now)?;
            println!(
                "document files moved into the database: {} stored, {} already stored, {} left in place",
                moved.stored,
                moved.already_stored,
                moved.skipped.len()
            );
            for path in &moved.skipped {
                println!("  left in place (content does not match its name): {path}");
            }
            Ok(())
        }
        Command::Backup { dest } => {
            let manifest =
                crate::ops::backup::backup(&settings.database_url, &settings.data_dir, &dest)?;
            println!("{}", serde_json::to_string_pretty(&manifest)?);
            Ok(())
        }
        Command::Restore { src } => {
            let manifest =
                crate::ops::backup::restore(&settings.database_url, &settings.data_dir, &src)?;
            println!("{}", serde_json::to_string_pretty(&manifest)?);
            Ok(())
        }
        Command::CreateUser {
            role,
            email,
            name,
            school_id,
        } => {
            let role = Role::parse(&role)
                .with_context(|| format!("unknown role `{role}` (reviewer, school, admin)"))?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let state = startup::prepare_state(settings)?;
            let mut conn = state.pool.get()?;
            let display_name = if name.is_empty() { email.clone() } else { name };
            let req = accounts::CreateUserRequest {
                email,
                password,
                role,
                display_name,
                school_id,
            };
            let ctx = Ctx::system(state.clock.now());
            let user = accounts::prepare_user(&req).map_err(|e| anyhow::anyhow!(describe(&e)))?;
            let id = db::write_tx(&mut conn, |c| accounts::create_user(c, &ctx, &user))
                .map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("created {} account {} (id {id})", role.as_str(), req.email);
            Ok(())
        }
        Command::RotateKey => {
            if settings.jwt_secret.is_some() {
                bail!(
                    "JWT_SECRET is set, so keys come from the environment: put the new secret in \
                     JWT_SECRET and the old one in JWT_PREVIOUS_SECRETS"
                );
            }
            let pool = db::build_pool(&settings.database_url, 1)?;
            let mut conn = pool.get().context("cannot open the database")?;
            db::run_migrations(&mut conn)?;
            let now = chrono::Utc::now();
            let kid = db::write_tx(&mut conn, |c| crate::auth::jwt::rotate_database_key(c, now))?;
            println!(
                "new signing key {kid}: instances sign with it after their next start, and accept its tokens at once"
            );
            Ok(())
        }
        // Returned above, before the settings are read.
        Command::ExtractPdfText { .. } => Ok(()),
        Command::VerifySnapshot {
            file,
            signature,
            key,
            previous,
        } => verify_snapshot(&settings, &file, signature, key, previous),
        Command::VerifyAudit => {
            let pool = db::build_pool(&settings.database_url, 1)?;
            let mut conn = pool.get().context("cannot open the database")?;
            let result = audit::verify(&mut conn)?;
            println!("{}", serde_json::to_string_pretty(&result)?);
            if !result.ok {
                bail!("the audit chain is broken");
            }
            Ok(())
        }
    }
}

fn read(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn verify_snapshot(
    settings: &Settings,
    file: &std::path::Path,
    signature: Option<PathBuf>,
    key: Option<PathBuf>,
    previous: Option<PathBuf>,
) -> anyhow::Result<()> {
    use crate::opendata::snapshot;
    use crate::signing;
    let bytes = read(file)?;
    let signature = read(&signature.unwrap_or_else(|| {
        let mut name = file.as_os_str().to_owned();
        name.push(".sig");
        PathBuf::from(name)
    }))?;
    let keys = match key {
        Some(pem) => signing::parse_public_pems(&String::from_utf8_lossy(&read(&pem)?)),
        None => {
            let pool = db::build_pool(&settings.database_url, 1)?;
            let mut conn = pool.get().context("cannot open the database")?;
            signing::published(&mut conn)?
                .iter()
                .flat_map(|k| signing::parse_public_pems(&k.public_key_pem))
                .collect()
        }
    };
    if keys.is_empty() {
        bail!("no Ed25519 public key to verify with");
    }
    let found = snapshot::verify(&bytes, &signature, &keys)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if let Some(prev) = previous {
        let hash = snapshot::file_sha256(&read(&prev)?);
        if found.previous_sha256.as_deref() != Some(hash.as_str()) {
            bail!(
                "{}: previous_sha256 is {:?}, but {} hashes to {hash}",
                file.display(),
                found.previous_sha256,
                prev.display()
            );
        }
    }
    println!(
        "ok: {} version {} (sha256 {}) signed by key {}",
        found.list, found.version, found.sha256, found.key_id
    );
    Ok(())
}

/// A service error as one line for the terminal.
fn describe(err: &crate::error::ApiError) -> String {
    let problem = err.problem();
    let mut text = format!("{}: {}", problem.code, problem.detail.en);
    for e in &problem.errors {
        text.push_str(&format!("\n  {}: {} ({})", e.field, e.message.en, e.code));
    }
    text
}
