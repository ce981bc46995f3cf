//! Several instances behind a load balancer on one database: they live in one time (the
//! settable clock is shared through the database, leases are decided in the database's time),
//! agree on the signing keys, and never run a job twice because their clocks differ.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, Utc};
use provider_registry::auth::Role;
use provider_registry::jobs::registry::{Handler, JobEnv, Registry};
use provider_registry::jobs::worker::Worker;
use provider_registry::jobs::{NewJob, enqueue};
use reqwest::{Method, StatusCode};

use crate::common::{TestApp, assert_problem};

/// Every instance reads the shared clock setting on each use, so a test needs no waiting.
const SHARED: &[(&str, &str)] = &[("REGISTRY_CLOCK_REFRESH_MS", "0")];

async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.get("/api/v1/me")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn worker(app: &TestApp, name: &str, registry: Registry) -> Worker {
    let env = JobEnv {
        pool: app.state.pool.clone(),
        clock: app.state.clock.clone(),
        settings: app.state.settings.clone(),
    };
    Worker::new(name, env, registry.into_shared())
}

#[tokio::test]
async fn a_clock_moved_on_one_instance_moves_on_the_other_and_tokens_work_on_both() {
    let a = TestApp::spawn_with(SHARED).await;
    let b = a.spawn_peer(SHARED).await;
    let early = a.token(Role::Admin).await;
    assert_eq!(
        me(&b, &early).await.status(),
        StatusCode::OK,
        "A's token on B"
    );

    a.set_clock("2031-03-02T08:00:00Z").await;
    let set: DateTime<Utc> = "2031-03-02T08:00:00Z".parse().unwrap();
    let on_b = b.state.clock.now();
    assert!(
        on_b >= set - Duration::milliseconds(2) && on_b < set + Duration::seconds(10),
        "B lives in A's time: {on_b}"
    );
    assert!(b.state.clock.settable().unwrap().is_set());
    // A token issued at the new time is good on both; the one from years ago expired on both.
    let fresh = a.token(Role::Admin).await;
    assert_eq!(me(&a, &fresh).await.status(), StatusCode::OK);
    assert_eq!(
        me(&b, &fresh).await.status(),
        StatusCode::OK,
        "A's token on B"
    );
    assert_problem(
        me(&b, &early).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    )
    .await;

    // Back to real time, set on B this time.
    let res = b
        .request(Method::PUT, "/api/v1/admin/clock")
        .bearer_auth(&fresh)
        .json(&serde_json::json!({ "now": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!a.state.clock.settable().unwrap().is_set());
    assert!((a.state.clock.now() - Utc::now()).num_seconds().abs() < 5);
}

static SENDS: AtomicUsize = AtomicUsize::new(0);
/// What the job does in the middle of its run (after its "e-mail" went out), once.
type Hook = Box<dyn FnOnce() + Send>;
static DURING_RUN: Mutex<Option<Hook>> = Mutex::new(None);
const SEND: &str = "test.send";

/// A job with an external effect: counts a "sent e-mail", then runs the test's hook.
fn sending_registry() -> Registry {
    let mut registry = provider_registry::startup::job_kinds::registry();
    registry.register(
        SEND,
        Handler::External(|_, _, _| {
            SENDS.fetch_add(1, Ordering::SeqCst);
            let hook = DURING_RUN.lock().unwrap().take();
            if let Some(hook) = hook {
                hook();
            }
            Ok(())
        }),
    );
    registry
}

async fn enqueue_send(app: &TestApp) -> i64 {
    let pool = app.state.pool.clone();
    let now = app.state.clock.now();
    tokio::task::spawn_blocking(move || {
        enqueue(
            &mut pool.get().unwrap(),
            &NewJob::new(SEND, serde_json::json!({}), now),
            now,
        )
        .unwrap()
        .unwrap()
    })
    .await
    .unwrap()
}

async fn runs(app: &TestApp, job: i64) -> Vec<(String, String)> {
    use diesel::prelude::*;
    use provider_registry::db::schema::job_runs as r;
    let pool = app.state.pool.clone();
    tokio::task::spawn_blocking(move || {
        r::table
            .filter(r::job_id.eq(job))
            .order(r::id)
            .select((r::worker, r::outcome))
            .load(&mut pool.get().unwrap())
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_job_leased_by_one_instance_is_not_taken_by_the_other_when_the_clock_moves() {
    let a = TestApp::spawn_with(SHARED).await;
    let b = a.spawn_peer(SHARED).await;
    a.set_clock("2030-05-01T01:00:00Z").await;
    let job = enqueue_send(&a).await;
    let worker_a = worker(&a, "instance-a", sending_registry());
    let worker_b = worker(&b, "instance-b", sending_registry());
    let clock_b = b.state.clock.clone();
    let taken_by_b = std::sync::Arc::new(AtomicUsize::new(0));
    let taken = taken_by_b.clone();
    // While A is sending, an admin moves the clock two days on (through B), and B's worker
    // looks for work: in the service's time A's lease ended long ago, in the database's it
    // has not.
    *DURING_RUN.lock().unwrap() = Some(Box::new(move || {
        let t: DateTime<Utc> = "2030-05-03T01:00:00Z".parse().unwrap();
        clock_b.settable().unwrap().set(t);
        taken.store(worker_b.run_until_idle().unwrap(), Ordering::SeqCst);
    }));
    let ran = tokio::task::spawn_blocking(move || worker_a.run_until_idle().unwrap())
        .await
        .unwrap();
    assert_eq!(ran, 1);
    assert_eq!(taken_by_b.load(Ordering::SeqCst), 0, "B left A's job alone");
    assert_eq!(SENDS.load(Ordering::SeqCst), 1, "sent exactly once");
    assert_eq!(
        runs(&a, job).await,
        vec![("instance-a".to_owned(), "done".to_owned())]
    );
    assert!(a.state.clock.now() > "2030-05-02T00:00:00Z".parse::<DateTime<Utc>>().unwrap());
}

#[tokio::test]
async fn a_lease_that_ran_out_in_database_time_passes_to_the_other_instance_and_the_loss_is_recorded()
 {
    let a = TestApp::spawn_with(SHARED).await;
    let b = a.spawn_peer(SHARED).await;
    let job = enqueue_send(&a).await;
    let worker_a = worker(&a, "instance-a", sending_registry());
    let worker_b = worker(&b, "instance-b", sending_registry());
    let pool = a.state.pool.clone();
    let taken_by_b = std::sync::Arc::new(AtomicUsize::new(0));
    let taken = taken_by_b.clone();
    // A is slow: its lease runs out (in the database's time) before it is done.
    *DURING_RUN.lock().unwrap() = Some(Box::new(move || {
        use diesel::connection::SimpleConnection;
        pool.get()
            .unwrap()
            .batch_execute("UPDATE jobs SET locked_until = '2000-01-01 00:00:00'")
            .unwrap();
        taken.store(worker_b.run_until_idle().unwrap(), Ordering::SeqCst);
    }));
    tokio::task::spawn_blocking(move || worker_a.run_until_idle().unwrap())
        .await
        .unwrap();
    assert_eq!(taken_by_b.load(Ordering::SeqCst), 1, "B took the job over");
    assert_eq!(SENDS.load(Ordering::SeqCst), 2);
    assert_eq!(
        runs(&a, job).await,
        vec![
            ("instance-b".to_owned(), "done".to_owned()),
            ("instance-a".to_owned(), "lease_lost".to_owned()),
        ],
        "A's run after its effect is on record, not silent"
    );
}

#[tokio::test]
async fn after_a_key_rotation_old_tokens_verify_until_they_expire_and_unknown_keys_are_refused() {
    let a = TestApp::spawn_with(SHARED).await;
    let old = a.token(Role::Admin).await;
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    // `provider-registry rotate-key`, then a new instance starts.
    let pool = a.state.pool.clone();
    let now = a.state.clock.now();
    let new_kid = tokio::task::spawn_blocking(move || {
        provider_registry::db::write_tx(&mut pool.get().unwrap(), |c| {
            provider_registry::auth::jwt::rotate_database_key(c, now)
        })
        .unwrap()
    })
    .await
    .unwrap();
    assert_ne!(new_kid, kid(&old));
    let b = a.spawn_peer(SHARED).await;
    let new = b.login("admin@test.local", crate::common::PASSWORD).await;
    assert_eq!(kid(&new), new_kid, "B signs with the new key");
    assert_eq!(me(&b, &old).await.status(), StatusCode::OK, "old key on B");
    assert_eq!(me(&a, &new).await.status(), StatusCode::OK, "new key on A");

    // A token naming a key nobody has: 401 with its own code.
    use base64::Engine as _;
    let payload = new.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("0123456789abcdef".into());
    let foreign = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&[5u8; 32]),
    )
    .unwrap();
    assert_problem(
        me(&a, &foreign).await,
        StatusCode::UNAUTHORIZED,
        "unknown_signing_key",
    )
    .await;

    // The old token still expires as always.
    let later = (now + Duration::hours(9)).to_rfc3339();
    a.set_clock(&later).await;
    assert_problem(
        me(&b, &old).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    )
    .await;
}

/// The pool's total as instance `app` answers it.
async fn pool_total(app: &TestApp) -> i64 {
    app.get_value("/api/v1/pool").await["total"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_pool_change_committed_elsewhere_shows_in_both_instances_searches_within_one_second() {
    use provider_registry::demo::pool_seed::{self as seed, SeedPlan};
    let a = TestApp::spawn_with(SHARED).await;
    let b = a.spawn_peer(SHARED).await;
    a.set_clock("2026-06-01T10:00:00+08:00").await;
    let round = a.open_round().await;
    let state = a.state.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.pool.get().unwrap();
        let ctx = provider_registry::auth::Ctx::system(state.clock.now());
        let plan = SeedPlan {
            round_id: round,
            count: 5,
            first: 1,
            valid_from: "2026-09-01".parse().unwrap(),
            valid_until: "2028-08-31".parse().unwrap(),
        };
        seed::seed(&mut conn, &ctx, &plan).unwrap();
    })
    .await
    .unwrap();
    a.set_clock("2026-09-10T10:00:00+08:00").await;
    assert_eq!(pool_total(&a).await, 5);
    assert_eq!(pool_total(&b).await, 5);
    let first = b.get_value("/api/v1/pool?per_page=1").await;
    let institution = first["items"][0]["institution_id"].as_i64().unwrap();

    // The removal is committed as another process would: the service's own function (which
    // bumps the pool version) in a plain transaction, so neither instance hears of the write
    // and only their refresh threads can notice it.
    let writes_before = provider_registry::db::writes_committed();
    let state = a.state.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        let mut conn = state.pool.get().unwrap();
        let ctx = provider_registry::auth::Ctx::system(state.clock.now());
        conn.transaction(|c| {
            provider_registry::pool::entry::remove_institution(c, &ctx, institution, 0)
        })
        .unwrap();
    })
    .await
    .unwrap();
    let committed = std::time::Instant::now();
    let deadline = std::time::Duration::from_secs(1);
    for (name, app) in [("A", &a), ("B", &b)] {
        loop {
            if pool_total(app).await == 4 {
                break;
            }
            assert!(
                committed.elapsed() < deadline,
                "{name} still lists the removed entry after one second"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    assert!(committed.elapsed() < deadline);
    assert_eq!(
        provider_registry::db::writes_committed(),
        writes_before,
        "no write went through this process's transaction helper meanwhile"
    );
}

static SEEN_NOW: Mutex<Option<DateTime<Utc>>> = Mutex::new(None);
const SEE_NOW: &str = "test.see_now";

#[tokio::test]
async fn a_job_runs_in_the_shared_time_that_made_it_due_on_an_instance_whose_clock_lags() {
    let a = TestApp::spawn_with(SHARED).await;
    // B re-reads the shared clock setting once a minute: a move made through A reaches its
    // own clock late, but its worker decides what is due in the database's shared time.
    let b = a
        .spawn_peer(&[("REGISTRY_CLOCK_REFRESH_MS", "60000")])
        .await;
    let _ = b.state.clock.now();
    let moved: DateTime<Utc> = "2031-03-01T08:00:00Z".parse().unwrap();
    a.set_clock("2031-03-01T08:00:00Z").await;
    assert!(
        b.state.clock.now() < moved,
        "B has not re-read the clock yet"
    );

    let pool = a.state.pool.clone();
    let due = a.state.clock.now();
    tokio::task::spawn_blocking(move || {
        enqueue(
            &mut pool.get().unwrap(),
            &NewJob::new(SEE_NOW, serde_json::json!({}), due),
            due,
        )
        .unwrap()
        .unwrap()
    })
    .await
    .unwrap();
    let mut registry = provider_registry::startup::job_kinds::registry();
    registry.register(
        SEE_NOW,
        Handler::External(|_, job, _| {
            *SEEN_NOW.lock().unwrap() = Some(job.now);
            Ok(())
        }),
    );
    let worker_b = worker(&b, "instance-b", registry);
    tokio::task::spawn_blocking(move || worker_b.run_until_idle().unwrap())
        .await
        .unwrap();
    let seen = SEEN_NOW.lock().unwrap().expect("B ran the job");
    assert!(
        seen >= moved,
        "the job ran at {seen}, before the time that made it due ({moved})"
    );
}
