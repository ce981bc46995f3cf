//! Production guards, run as an operator would: the binary with an environment, expecting a
//! non-zero exit and a message that says what to do. And what start-up leaves on disk: a
//! private data directory and database files only the service's account can read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output, Stdio};

const LONG_SECRET: &str = "a-production-signing-secret-of-40-bytes!";
/// The open-data snapshots' Ed25519 key (PKCS#8 PEM), also required in production.
const SNAPSHOT_KEY: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIIiDPl/CnKPcgU2gDdDVGxUHoNaaw9U2ZFqBgxszb+Nn
-----END PRIVATE KEY-----
";

/// A production environment that starts: a signing secret and `.eml` files chosen.
fn production(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut vars = vec![
        ("REGISTRY_ENV", "production"),
        ("JWT_SECRET", LONG_SECRET),
        ("MAIL_DELIVERY", "files"),
        ("SNAPSHOT_SIGNING_KEY", SNAPSHOT_KEY),
    ];
    vars.extend_from_slice(extra);
    vars
}

/// Runs the binary with a clean environment (plus `vars`) on a fresh SQLite data directory.
fn run(dir: &std::path::Path, args: &[&str], vars: &[(&str, &str)], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_provider-registry"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("REGISTRY_DATA_DIR", dir.join("data"))
        .env("RUST_LOG", "info")
        .envs(vars.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn refused(output: &Output, expected: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "started: {stderr}");
    for part in expected {
        assert!(stderr.contains(part), "`{part}` not in: {stderr}");
    }
}

#[test]
fn production_refuses_to_start_without_a_signing_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["serve", "--bind", "127.0.0.1:18301"],
        &[
            ("REGISTRY_ENV", "production"),
            ("MAIL_DELIVERY", "files"),
            ("SNAPSHOT_SIGNING_KEY", SNAPSHOT_KEY),
        ],
        "",
    );
    refused(&out, &["JWT_SECRET"]);
}

#[test]
fn production_without_smtp_refuses_to_start_unless_files_are_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["serve", "--bind", "127.0.0.1:18302"],
        &[
            ("REGISTRY_ENV", "production"),
            ("JWT_SECRET", LONG_SECRET),
            ("SNAPSHOT_SIGNING_KEY", SNAPSHOT_KEY),
        ],
        "",
    );
    refused(&out, &["SMTP_URL", "MAIL_DELIVERY=files"]);
}

#[test]
fn production_refuses_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["serve", "--demo", "--bind", "127.0.0.1:18303"],
        &production(&[]),
        "",
    );
    refused(&out, &["--demo", "production"]);
    assert!(
        !dir.path().join("data").exists(),
        "refused before touching the disk"
    );
}

#[test]
fn production_refuses_the_test_clock() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["serve", "--bind", "127.0.0.1:18304"],
        &production(&[("REGISTRY_TEST_CLOCK", "1")]),
        "",
    );
    refused(&out, &["REGISTRY_TEST_CLOCK"]);
}

/// `create-user` starts the service's storage as `serve` does (and logs), then exits.
fn create_admin(dir: &std::path::Path) -> Output {
    run(
        dir,
        &[
            "create-user",
            "--role",
            "admin",
            "--email",
            "ops@example.cn",
        ],
        &production(&[]),
        "a-long-enough-admin-passphrase\n",
    )
}

#[test]
fn logs_written_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = create_admin(dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("INFO"), "the start-up was logged: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "ANSI escape in: {stderr:?}");
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_the_database_files_are_the_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = create_admin(dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("data"), 0o700, "data directory");
    assert_eq!(mode("data/registry.db"), 0o600, "database");
    for companion in ["data/registry.db-wal", "data/registry.db-shm"] {
        if dir.path().join(companion).exists() {
            assert_eq!(mode(companion), 0o600, "{companion}");
        }
    }
}
