//! The durable job queue under concurrency: several workers, each with its own connection
//! pool (as separate service instances would have), never run a job twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::Utc;
use diesel::prelude::*;
use provider_registry::auth::Ctx;
use provider_registry::clock::{SharedClock, SystemClock};
use provider_registry::db::{self, DatabaseUrl};
use provider_registry::jobs::registry::{Handler, JobEnv, JobError, Registry};
use provider_registry::jobs::worker::Worker;
use provider_registry::jobs::{NewJob, enqueue};
use provider_registry::{audit, jobs};

const COUNTING: &str = "test.count";

/// A transactional job whose effect is an audit event naming the job.
fn counting_registry() -> Arc<Registry> {
    let mut registry = provider_registry::startup::job_kinds::registry();
    registry.register(
        COUNTING,
        Handler::Transactional(|conn, job, _| {
            audit::record(
                conn,
                &Ctx::system(job.now),
                "test.ran",
                "job",
                job.id,
                serde_json::json!({}),
            )?;
            Ok(())
        }),
    );
    registry.into_shared()
}

fn settings(dir: &std::path::Path) -> Arc<provider_registry::config::Settings> {
    Arc::new(crate::common::test_settings(dir, "sqlite://unused.db", &[]))
}

fn setup(dir: &std::path::Path) -> (DatabaseUrl, db::Pool) {
    let url = DatabaseUrl::parse(&crate::common::fresh_database_url(dir)).unwrap();
    let pool = db::build_pool(&url, 2).unwrap();
    db::run_migrations(&mut pool.get().unwrap()).unwrap();
    (url, pool)
}

#[test]
fn two_workers_run_each_of_200_jobs_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (url, pool) = setup(dir.path());
    let now = Utc::now();
    {
        let mut conn = pool.get().unwrap();
        db::write_tx(&mut conn, |c| {
            for i in 0..200 {
                enqueue(
                    c,
                    &NewJob::new(COUNTING, serde_json::json!({ "n": i }), now),
                    now,
                )?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
    }
    let registry = counting_registry();
    let clock: SharedClock = Arc::new(SystemClock);
    let handles: Vec<_> = (0..2)
        .map(|w| {
            // Each worker has its own pool, like a separate service instance.
            let env = JobEnv {
                pool: db::build_pool(&url, 2).unwrap(),
                clock: clock.clone(),
                settings: settings(dir.path()),
            };
            let worker = Worker::new(format!("worker-{w}"), env, registry.clone());
            std::thread::spawn(move || worker.run_until_idle().unwrap())
        })
        .collect();
    let ran: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(ran, 200, "claims across both workers");

    use provider_registry::db::schema::{audit_events, job_runs, jobs as jobs_table};
    let mut conn = pool.get().unwrap();
    let effects: Vec<String> = audit_events::table
        .filter(audit_events::action.eq("test.ran"))
        .select(audit_events::entity_id)
        .load(&mut conn)
        .unwrap();
    let distinct: std::collections::HashSet<_> = effects.iter().collect();
    assert_eq!(
        (effects.len(), distinct.len()),
        (200, 200),
        "every job applied exactly once"
    );
    let runs: i64 = job_runs::table.count().get_result(&mut conn).unwrap();
    assert_eq!(runs, 200);
    let not_done: i64 = jobs_table::table
        .filter(jobs_table::state.ne(jobs::DONE))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(not_done, 0);
    let workers: Vec<String> = job_runs::table
        .select(job_runs::worker)
        .distinct()
        .load(&mut conn)
        .unwrap();
    if crate::common::is_postgres() {
        assert_eq!(workers.len(), 2, "both workers took part: {workers:?}");
    }
    assert!(audit::verify(&mut conn).unwrap().ok);
}

#[test]
fn failing_jobs_retry_with_backoff_then_die() {
    let dir = tempfile::tempdir().unwrap();
    let (_, pool) = setup(dir.path());
    let mut registry = provider_registry::startup::job_kinds::registry();
    registry.register(
        "test.fail",
        Handler::External(|_, _, _| Err(JobError::Retry(anyhow::anyhow!("server down")))),
    );
    registry.register(
        "test.permanent",
        Handler::External(|_, _, _| Err(JobError::Permanent(anyhow::anyhow!("bad address")))),
    );
    let clock = Arc::new(provider_registry::clock::SettableClock::default());
    // Due times are decided in the database's time: the setting goes through it.
    clock.share_through(pool.clone(), std::time::Duration::ZERO);
    let start = Utc::now();
    clock.set(start);
    let env = JobEnv {
        pool: pool.clone(),
        clock: clock.clone(),
        settings: settings(dir.path()),
    };
    let worker = Worker::new("w", env, registry.into_shared());
    let (retrying, permanent) = {
        let mut conn = pool.get().unwrap();
        (
            enqueue(
                &mut conn,
                &NewJob::new("test.fail", serde_json::json!({}), start).max_attempts(3),
                start,
            )
            .unwrap()
            .unwrap(),
            enqueue(
                &mut conn,
                &NewJob::new("test.permanent", serde_json::json!({}), start),
                start,
            )
            .unwrap()
            .unwrap(),
        )
    };
    use provider_registry::db::schema::jobs as t;
    let state = |id: i64| -> (String, i32) {
        t::table
            .find(id)
            .select((t::state, t::attempts))
            .first(&mut pool.get().unwrap())
            .unwrap()
    };
    assert_eq!(worker.run_until_idle().unwrap(), 2);
    assert_eq!(state(retrying), ("pending".into(), 1));
    assert_eq!(
        state(permanent),
        ("dead".into(), 1),
        "a permanent failure dies at once"
    );
    // Not due again until the backoff has passed.
    clock.set(start + chrono::Duration::seconds(20));
    assert_eq!(worker.run_until_idle().unwrap(), 0);
    clock.set(start + chrono::Duration::seconds(31));
    worker.run_until_idle().unwrap();
    assert_eq!(state(retrying), ("pending".into(), 2));
    clock.set(start + chrono::Duration::seconds(31 + 61));
    worker.run_until_idle().unwrap();
    assert_eq!(
        state(retrying),
        ("dead".into(), 3),
        "dead after the last attempt"
    );
}

#[test]
fn periodic_jobs_are_enqueued_once_per_period_however_many_instances_tick() {
    let dir = tempfile::tempdir().unwrap();
    let (_, pool) = setup(dir.path());
    let periodic = provider_registry::startup::job_kinds::periodic();
    let now = Utc::now();
    let mut conn = pool.get().unwrap();
    let first = db::write_tx(&mut conn, |c| {
        provider_registry::jobs::scheduler::tick(c, &periodic, now)
    })
    .unwrap();
    let second = db::write_tx(&mut conn, |c| {
        provider_registry::jobs::scheduler::tick(c, &periodic, now)
    })
    .unwrap();
    assert_eq!((first, second), (periodic.len(), 0));
    let later = now + chrono::Duration::days(1);
    let third = db::write_tx(&mut conn, |c| {
        provider_registry::jobs::scheduler::tick(c, &periodic, later)
    })
    .unwrap();
    assert_eq!(third, periodic.len());
}

#[test]
fn a_job_enqueued_in_a_rolled_back_transaction_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let (_, pool) = setup(dir.path());
    let mut conn = pool.get().unwrap();
    let now = Utc::now();
    let result: Result<(), diesel::result::Error> = db::write_tx(&mut conn, |c| {
        enqueue(c, &NewJob::new(COUNTING, serde_json::json!({}), now), now)?;
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(result.is_err());
    use provider_registry::db::schema::jobs as t;
    let n: i64 = t::table.count().get_result(&mut conn).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn a_job_whose_payload_is_not_json_dies_at_once_without_running() {
    use provider_registry::db::schema::{audit_events, jobs as jobs_table};
    let dir = tempfile::tempdir().unwrap();
    let (url, pool) = setup(dir.path());
    let now = Utc::now();
    let mut conn = pool.get().unwrap();
    let id = db::write_tx(&mut conn, |c| {
        enqueue(c, &NewJob::new(COUNTING, serde_json::json!({}), now), now)
    })
    .unwrap()
    .expect("enqueued");
    // A corrupt row (written by hand, as a bad migration or an operator would).
    diesel::update(jobs_table::table.find(id))
        .set(jobs_table::payload.eq("{not json"))
        .execute(&mut conn)
        .unwrap();
    let env = JobEnv {
        pool: db::build_pool(&url, 2).unwrap(),
        clock: Arc::new(SystemClock),
        settings: settings(dir.path()),
    };
    Worker::new("worker", env, counting_registry())
        .run_until_idle()
        .unwrap();
    let (state, error): (String, Option<String>) = jobs_table::table
        .find(id)
        .select((jobs_table::state, jobs_table::last_error))
        .first(&mut conn)
        .unwrap();
    assert_eq!(state, jobs::DEAD);
    assert!(
        error.as_deref().unwrap_or_default().contains("not JSON"),
        "{error:?}"
    );
    let ran: i64 = audit_events::table
        .filter(audit_events::action.eq("test.ran"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(ran, 0, "the handler never ran");
}
