//! The durable job queue: jobs are rows, enqueued inside the caller's transaction, claimed
//! with a lease by a conditional UPDATE (portable, and safe across threads, processes and
//! instances), retried with exponential backoff, and dead after their last attempt.
//!
//! - [`enqueue`] — add a job in the current transaction (optionally de-duplicated by key).
//! - [`worker::Worker`] — claims and runs due jobs; runs inside `serve`.
//! - [`scheduler`] — enqueues periodic jobs, one per period across all instances.
//! - [`registry`] — which function runs each kind of job.

pub mod registry;
pub mod scheduler;
pub mod worker;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::columns::UtcTime;
use crate::db::schema::jobs;
use crate::db::{DbConn, db_time};

/// Job states, stored as TEXT with a CHECK constraint.
pub const PENDING: &str = "pending";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const DEAD: &str = "dead";

pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;

/// A job to add to the queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: &'static str,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
    /// Jobs with the same key are enqueued once (periodic jobs, one email per event).
    pub dedup_key: Option<String>,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn new(kind: &'static str, payload: serde_json::Value, run_at: DateTime<Utc>) -> Self {
        Self {
            kind,
            payload,
            run_at,
            dedup_key: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    pub fn dedup(mut self, key: impl Into<String>) -> Self {
        self.dedup_key = Some(key.into());
        self
    }

    pub fn max_attempts(mut self, n: i32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
}

/// Adds a job; returns its id, or `None` when a job with the same de-duplication key exists.
pub fn enqueue(conn: &mut DbConn, job: &NewJob, now: DateTime<Utc>) -> QueryResult<Option<i64>> {
    let payload = job.payload.to_string();
    match &job.dedup_key {
        None => diesel::insert_into(jobs::table)
            .values((
                jobs::kind.eq(job.kind),
                jobs::payload.eq(&payload),
                jobs::state.eq(PENDING),
                jobs::attempts.eq(0),
                jobs::max_attempts.eq(job.max_attempts),
                jobs::run_at.eq(db_time(job.run_at)),
                jobs::created_at.eq(db_time(now)),
                jobs::updated_at.eq(db_time(now)),
            ))
            .returning(jobs::id)
            .get_result(conn)
            .map(Some),
        Some(key) => {
            // MultiBackend cannot express `on_conflict`; both engines accept this statement.
            // (A unique violation would instead abort the caller's PostgreSQL transaction.)
            let inserted = diesel::sql_query(
                "INSERT INTO jobs (kind, payload, dedup_key, state, attempts, max_attempts, \
                 run_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'pending', 0, $4, $5, $6, $7) \
                 ON CONFLICT (dedup_key) DO NOTHING",
            )
            .bind::<Text, _>(job.kind)
            .bind::<Text, _>(&payload)
            .bind::<Nullable<Text>, _>(Some(key.as_str()))
            .bind::<Integer, _>(job.max_attempts)
            .bind::<Timestamp, _>(db_time(job.run_at))
            .bind::<Timestamp, _>(db_time(now))
            .bind::<Timestamp, _>(db_time(now))
            .execute(conn)?;
            if inserted == 0 {
                return Ok(None);
            }
            jobs::table
                .filter(jobs::dedup_key.eq(key))
                .select(jobs::id)
                .first(conn)
                .map(Some)
        }
    }
}

/// Which of `keys` name jobs already queued.
pub fn existing_dedup_keys(conn: &mut DbConn, keys: &[&str]) -> QueryResult<Vec<String>> {
    jobs::table
        .filter(jobs::dedup_key.eq_any(keys))
        .select(jobs::dedup_key.assume_not_null())
        .load(conn)
}

/// Adds `new` jobs several rows per statement, without the `ON CONFLICT` of [`enqueue`]: the
/// caller has left out the keys already queued ([`existing_dedup_keys`]). Returns how many.
pub fn insert_many(conn: &mut DbConn, new: &[NewJob], now: DateTime<Utc>) -> QueryResult<usize> {
    if new.is_empty() {
        return Ok(0);
    }
    let rows: Vec<_> = new
        .iter()
        .map(|job| {
            (
                jobs::kind.eq(job.kind),
                jobs::payload.eq(job.payload.to_string()),
                jobs::dedup_key.eq(job.dedup_key.as_deref()),
                jobs::state.eq(PENDING),
                jobs::attempts.eq(0),
                jobs::max_attempts.eq(job.max_attempts),
                jobs::run_at.eq(db_time(job.run_at)),
                jobs::created_at.eq(db_time(now)),
                jobs::updated_at.eq(db_time(now)),
            )
        })
        .collect();
    crate::insert_rows!(conn, jobs::table, rows)
}

/// A job as shown to administrators.
#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobView {
    pub id: i64,
    pub kind: String,
    #[diesel(deserialize_as = String)]
    #[schema(value_type = Object)]
    pub payload: crate::db::columns::JsonText,
    pub dedup_key: Option<String>,
    /// `pending`, `running`, `done` or `dead`.
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    #[diesel(deserialize_as = chrono::NaiveDateTime)]
    #[schema(value_type = String, format = DateTime)]
    pub run_at: UtcTime,
    pub last_error: Option<String>,
    #[diesel(deserialize_as = chrono::NaiveDateTime)]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: UtcTime,
}

pub fn list(
    conn: &mut DbConn,
    state: Option<&str>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<JobView>, i64)> {
    let query = || {
        let mut q = jobs::table.into_boxed();
        if let Some(state) = state {
            q = q.filter(jobs::state.eq(state.to_owned()));
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let items: Vec<JobView> = query()
        .order(jobs::id.desc())
        .offset(offset)
        .limit(limit)
        .select(JobView::as_select())
        .load(conn)?;
    Ok((items, total))
}

/// Puts a dead job back in the queue with a fresh set of attempts; false if it is not dead.
pub fn retry_dead(conn: &mut DbConn, id: i64, now: DateTime<Utc>) -> QueryResult<bool> {
    let changed = diesel::update(jobs::table.find(id).filter(jobs::state.eq(DEAD)))
        .set((
            jobs::state.eq(PENDING),
            jobs::attempts.eq(0),
            jobs::run_at.eq(db_time(now)),
            jobs::locked_by.eq(None::<String>),
            jobs::locked_until.eq(None::<chrono::NaiveDateTime>),
            jobs::updated_at.eq(db_time(now)),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Queue depth by state (for `/metrics`).
pub fn counts(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    jobs::table
        .filter(jobs::state.ne(DONE))
        .group_by(jobs::state)
        .select((jobs::state, diesel::dsl::count_star()))
        .load(conn)
}

/// Backoff before attempt `attempt + 1`: 30 s doubling, capped at one hour.
pub fn backoff(attempt: i32) -> chrono::Duration {
    let exp = u32::try_from(attempt.clamp(1, 8) - 1).unwrap_or(0);
    chrono::Duration::seconds((30i64 << exp).min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1).num_seconds(), 30);
        assert_eq!(backoff(2).num_seconds(), 60);
        assert_eq!(backoff(5).num_seconds(), 480);
        assert_eq!(backoff(20).num_seconds(), 3600);
    }
}
