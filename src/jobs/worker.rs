//! The worker: claims due jobs with a lease and runs them.
//!
//! Claiming is a conditional UPDATE (`… WHERE id = ? AND <still claimable>`): of several
//! workers racing for a job, exactly one changes the row. A transactional job's effects and
//! its `done` mark commit together, and the mark is conditional on still holding the lease,
//! so even a worker whose lease expired cannot apply a job a second time.
//!
//! Time is the database's, not this process's: instances disagree (clock skew, or the settable
//! clock moved on one of them). A job is due when its `run_at` has passed in the service's time
//! (the database's time shifted by the shared clock setting); a lease is taken, and counts as
//! expired, in the database's real time, so moving the settable clock never hands a running
//! job to another worker. A run that loses its lease is recorded (`lease_lost`), never silent.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{job_runs, jobs};
use crate::db::{self, DbConn, db_time};
use crate::jobs::registry::{Handler, JobEnv, JobError, JobInfo, Registry};
use crate::jobs::{DEAD, DONE, PENDING, RUNNING, backoff};

/// How long a claim lasts before another worker may take the job over.
/// The default lease (`JOB_LEASE_SECONDS`).
pub const LEASE_SECONDS: i64 = 300;
/// Due times are compared with the database's clock, which SQLite reads to the millisecond:
/// a job enqueued for "now" by the service clock is due within this margin.
const DUE_MARGIN_MS: i64 = 2;
const BATCH: i64 = 20;

pub struct Worker {
    pub id: String,
    env: JobEnv,
    registry: Arc<Registry>,
}

#[derive(Debug, Queryable)]
struct Claimed {
    id: i64,
    kind: String,
    payload: String,
    attempts: i32,
    max_attempts: i32,
}

enum Outcome {
    Done,
    Retry(String),
    Dead(String),
    /// Another worker owns the job now. `true`: after an external effect (which another
    /// worker may repeat); `false`: the run's transaction was rolled back.
    LeaseLost(bool),
}

impl Worker {
    pub fn new(id: impl Into<String>, env: JobEnv, registry: Arc<Registry>) -> Self {
        Self {
            id: id.into(),
            env,
            registry,
        }
    }

    /// Claims and runs the jobs due now; returns how many ran.
    pub fn run_due(&self) -> anyhow::Result<usize> {
        let mut conn = self.env.pool.get()?;
        let mut ran = 0;
        let now = db_now(&mut conn)?;
        for id in due_ids(&mut conn, now)? {
            // The time again for each claim: the previous job may have run for a while.
            let now = db_now(&mut conn)?;
            if let Some(job) = self.claim(&mut conn, id, now)? {
                self.execute(&mut conn, job, now.service)?;
                ran += 1;
            }
        }
        Ok(ran)
    }

    /// How long a claim lasts (`JOB_LEASE_SECONDS`).
    fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(
            i64::try_from(self.env.settings.job_lease_seconds).unwrap_or(LEASE_SECONDS),
        )
    }

    /// Runs due jobs until none is left (jobs may enqueue further due jobs).
    pub fn run_until_idle(&self) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            let ran = self.run_due()?;
            if ran == 0 {
                return Ok(total);
            }
            total += ran;
        }
    }

    fn claim(&self, conn: &mut DbConn, id: i64, now: DbNow) -> QueryResult<Option<Claimed>> {
        let changed = diesel::update(jobs::table.find(id).filter(claimable(now)))
            .set((
                jobs::state.eq(RUNNING),
                jobs::locked_by.eq(&self.id),
                jobs::locked_until.eq(db_time(now.real + self.lease())),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::updated_at.eq(db_time(now.service)),
            ))
            .execute(conn)?;
        if changed == 0 {
            return Ok(None);
        }
        jobs::table
            .find(id)
            .select((
                jobs::id,
                jobs::kind,
                jobs::payload,
                jobs::attempts,
                jobs::max_attempts,
            ))
            .first(conn)
            .optional()
    }

    /// Runs a claimed job. Its "now" is never earlier than the shared time that made it due
    /// (`due_at`): this instance's clock re-reads the shared setting only every
    /// `REGISTRY_CLOCK_REFRESH_MS`, and a handler that checked its own time against a clock
    /// not yet moved would find nothing due and end the job without doing its work.
    fn execute(
        &self,
        conn: &mut DbConn,
        job: Claimed,
        due_at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let started = self.env.clock.now().max(due_at);
        let info = JobInfo {
            id: job.id,
            kind: job.kind.clone(),
            attempt: job.attempts,
            now: started,
            settings: self.env.settings.clone(),
        };
        // A payload that is not JSON can never run: dead at once, with the reason.
        let payload = serde_json::from_str::<serde_json::Value>(&job.payload);
        let outcome = match (self.registry.get(&job.kind), payload) {
            (None, _) => Outcome::Dead(format!("no handler for job kind `{}`", job.kind)),
            (Some(_), Err(e)) => Outcome::Dead(format!("the payload is not JSON: {e}")),
            (Some(Handler::Transactional(handler)), Ok(payload)) => {
                let result = db::write_tx(conn, |c| -> Result<Outcome, TxAbort> {
                    handler(c, &info, &payload).map_err(TxAbort::Job)?;
                    if self.finish(c, &job, DONE, None, started)? {
                        Ok(Outcome::Done)
                    } else {
                        Err(TxAbort::LeaseLost)
                    }
                });
                match result {
                    Ok(outcome) => outcome,
                    // Rolled back: nothing of this run was applied.
                    Err(TxAbort::LeaseLost) => Outcome::LeaseLost(false),
                    Err(TxAbort::Job(e)) => failure(&job, e),
                    Err(TxAbort::Db(e)) => failure(&job, JobError::Retry(e.into())),
                }
            }
            (Some(Handler::External(handler)), Ok(payload)) => {
                match handler(&self.env, &info, &payload) {
                    Ok(()) => {
                        if db::write_tx(conn, |c| self.finish(c, &job, DONE, None, started))? {
                            Outcome::Done
                        } else {
                            // The effect (an e-mail sent) happened, but another worker holds the
                            // job now and may repeat it.
                            Outcome::LeaseLost(true)
                        }
                    }
                    Err(e) => failure(&job, e),
                }
            }
        };
        match outcome {
            Outcome::Done => {}
            Outcome::LeaseLost(after_effect) => {
                tracing::warn!(
                    job = job.id,
                    kind = %job.kind,
                    attempt = job.attempts,
                    after_effect,
                    "job lost its lease; another worker owns it now"
                );
                let note = if after_effect {
                    "lease lost after the job's external effect; the done mark was refused"
                } else {
                    "lease lost; the run was rolled back"
                };
                db::write_tx(conn, |c| {
                    self.record_run(c, &job, "lease_lost", Some(note), started)
                })?;
            }
            Outcome::Retry(error) => {
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, %error, "job failed; will retry");
                db::write_tx(conn, |c| {
                    self.finish(c, &job, PENDING, Some(&error), started)
                })?;
            }
            Outcome::Dead(error) => {
                tracing::error!(job = job.id, kind = %job.kind, attempt = job.attempts, %error, "job is dead");
                db::write_tx(conn, |c| self.finish(c, &job, DEAD, Some(&error), started))?;
            }
        }
        Ok(())
    }

    /// Moves a job we hold to its next state and records the run; false if we lost the lease.
    fn finish(
        &self,
        conn: &mut DbConn,
        job: &Claimed,
        state: &str,
        error: Option<&str>,
        started: DateTime<Utc>,
    ) -> QueryResult<bool> {
        let now = db_now(conn)?.service;
        let run_at = if state == PENDING {
            now + backoff(job.attempts)
        } else {
            now
        };
        let changed = diesel::update(
            jobs::table
                .find(job.id)
                .filter(jobs::state.eq(RUNNING))
                .filter(jobs::locked_by.eq(&self.id))
                .filter(jobs::attempts.eq(job.attempts)),
        )
        .set((
            jobs::state.eq(state),
            jobs::run_at.eq(db_time(run_at)),
            jobs::locked_by.eq(None::<String>),
            jobs::locked_until.eq(None::<chrono::NaiveDateTime>),
            jobs::last_error.eq(error),
            jobs::updated_at.eq(db_time(now)),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Ok(false);
        }
        let outcome = match state {
            DONE => "done",
            PENDING => "retry",
            _ => "dead",
        };
        self.record_run(conn, job, outcome, error, started)?;
        Ok(true)
    }

    /// One row of `job_runs`: who ran which attempt, when, and how it ended.
    fn record_run(
        &self,
        conn: &mut DbConn,
        job: &Claimed,
        outcome: &str,
        error: Option<&str>,
        started: DateTime<Utc>,
    ) -> QueryResult<()> {
        let now = db_now(conn)?.service;
        diesel::insert_into(job_runs::table)
            .values((
                job_runs::job_id.eq(job.id),
                job_runs::worker.eq(&self.id),
                job_runs::attempt.eq(job.attempts),
                job_runs::started_at.eq(db_time(started)),
                job_runs::finished_at.eq(db_time(now)),
                job_runs::outcome.eq(outcome),
                job_runs::error.eq(error),
            ))
            .execute(conn)?;
        Ok(())
    }
}

enum TxAbort {
    Job(JobError),
    LeaseLost,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for TxAbort {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
    }
}

fn failure(job: &Claimed, err: JobError) -> Outcome {
    match err {
        JobError::Permanent(e) => Outcome::Dead(format!("{e:#}")),
        JobError::Retry(e) if job.attempts >= job.max_attempts => Outcome::Dead(format!("{e:#}")),
        JobError::Retry(e) => Outcome::Retry(format!("{e:#}")),
    }
}

/// The database's time: `real` for leases, `service` (shifted by the shared clock setting)
/// for due times.
#[derive(Debug, Clone, Copy)]
struct DbNow {
    real: DateTime<Utc>,
    service: DateTime<Utc>,
}

fn db_now(conn: &mut DbConn) -> QueryResult<DbNow> {
    let t = db::shared_clock::read(conn)?;
    Ok(DbNow {
        real: t.real,
        service: t.service,
    })
}

/// Pending jobs whose time has come (in the service's time), and running jobs whose lease has
/// expired (in the database's real time).
fn claimable(
    now: DbNow,
) -> Box<dyn BoxableExpression<jobs::table, db::MultiBackend, SqlType = diesel::sql_types::Bool>> {
    let due = db_time(now.service + chrono::Duration::milliseconds(DUE_MARGIN_MS));
    let real = db_time(now.real);
    Box::new(
        jobs::state
            .eq(PENDING)
            .and(jobs::run_at.le(due))
            .or(jobs::state
                .eq(RUNNING)
                .and(jobs::locked_until.lt(real).assume_not_null())),
    )
}

fn due_ids(conn: &mut DbConn, now: DbNow) -> QueryResult<Vec<i64>> {
    jobs::table
        .filter(claimable(now))
        .order((jobs::run_at.asc(), jobs::id.asc()))
        .limit(BATCH)
        .select(jobs::id)
        .load(conn)
}
