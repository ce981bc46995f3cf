//! The closing job of a notice (DESIGN.md §1.6): due one second after `closes_at`, it admits
//! every application of the notice still `in_notice` without a pending or upheld objection
//! ([`admission::admit_batch`]), in batches that each commit on their own, then marks the
//! notice closed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::applications::status::Status;
use crate::audit;
use crate::auth::Ctx;
use crate::db::schema::applications;
use crate::db::{self, DbConn, db_time};
use crate::jobs::registry::{JobEnv, JobError, JobInfo};
use crate::notices::admission;
use crate::notices::service::{is_past, load_row};
use crate::notices::status::{self, NoticeStatus};

/// How many applications one transaction of the closing job admits: small enough that other
/// writes (which queue behind the audit chain's head) wait a few milliseconds, not seconds.
pub const ADMISSION_BATCH: i64 = 200;

/// The closing job: once `closes_at` has passed, admits every application of the notice still
/// `in_notice` without a pending or upheld objection, and marks the notice closed. Applications
/// with a pending objection wait for the reviewer's resolution.
///
/// Admissions commit in batches of [`ADMISSION_BATCH`], each in its own transaction, so the
/// job's transactions stay short however large the notice. Exactly once: each batch moves its
/// applications out of `in_notice` with a compare-and-set, so a job that stopped between
/// batches (a crash, a lost lease) runs again and admits only those still `in_notice`; the
/// notice is closed, with its `notice.closed` event, by a last compare-and-set on `open`.
pub fn close_job(env: &JobEnv, job: &JobInfo, payload: &serde_json::Value) -> Result<(), JobError> {
    let id = payload["notice_id"]
        .as_i64()
        .ok_or_else(|| JobError::Permanent(anyhow::anyhow!("payload without notice_id")))?;
    let mut conn = env.pool.get().map_err(|e| JobError::Retry(e.into()))?;
    let ctx = Ctx::system(job.now);
    let mut after = 0;
    loop {
        match db::write_tx(&mut conn, |c| admit_next_batch(c, &ctx, id, after))? {
            Batch::NotDue => return Ok(()),
            Batch::Admitted { last } => after = last,
            Batch::Finished => break,
        }
    }
    db::write_tx(&mut conn, |c| finish_closing(c, &ctx, id))
}

/// What one transaction of the closing job did.
enum Batch {
    /// The notice is closed already, or its window moved later (a job for the new instant
    /// exists).
    NotDue,
    /// Applications up to this id were dealt with.
    Admitted { last: i64 },
    /// No application is left to look at.
    Finished,
}

fn closing_due(conn: &mut DbConn, id: i64, now: DateTime<Utc>) -> Result<bool, JobError> {
    let row = load_row(conn, id).map_err(|e| JobError::Permanent(anyhow::anyhow!("{e}")))?;
    Ok(NoticeStatus::parse(&row.status) == Some(NoticeStatus::Open)
        && is_past(row.closes_at.and_utc(), now))
}

/// Admits the next batch of the notice's applications still `in_notice` after id `after`
/// (those with a blocking objection stay).
fn admit_next_batch(conn: &mut DbConn, ctx: &Ctx, id: i64, after: i64) -> Result<Batch, JobError> {
    if !closing_due(conn, id, ctx.now)? {
        return Ok(Batch::NotDue);
    }
    let batch: Vec<i64> = applications::table
        .filter(applications::notice_id.eq(id))
        .filter(applications::status.eq(Status::InNotice.as_str()))
        .filter(applications::id.gt(after))
        .order(applications::id.asc())
        .limit(ADMISSION_BATCH)
        .select(applications::id)
        .load(conn)?;
    let Some(&last) = batch.last() else {
        return Ok(Batch::Finished);
    };
    let blocked = admission::blocking_objections(conn, &batch)?;
    let admit: Vec<i64> = batch.into_iter().filter(|a| !blocked.contains(a)).collect();
    admission::admit_batch(conn, ctx, &admit)?;
    Ok(Batch::Admitted { last })
}

/// Marks the notice closed once every admissible application is admitted; the event lists
/// the notice's admitted applications and those awaiting an objection's resolution.
fn finish_closing(conn: &mut DbConn, ctx: &Ctx, id: i64) -> Result<(), JobError> {
    if !closing_due(conn, id, ctx.now)? {
        return Ok(());
    }
    let statuses: Vec<(i64, String)> = applications::table
        .filter(applications::notice_id.eq(id))
        .filter(applications::status.eq_any([Status::Admitted.as_str(), Status::InNotice.as_str()]))
        .order(applications::id.asc())
        .select((applications::id, applications::status))
        .load(conn)?;
    let (admitted, waiting): (Vec<_>, Vec<_>) = statuses
        .into_iter()
        .partition(|(_, status)| status == Status::Admitted.as_str());
    let ids = |v: Vec<(i64, String)>| v.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    status::transition(
        conn,
        id,
        NoticeStatus::Open,
        status::Event::Close,
        db_time(ctx.now),
    )
    .map_err(|e| JobError::Retry(anyhow::anyhow!("notice {id}: {e}")))?;
    audit::record(
        conn,
        ctx,
        "notice.closed",
        "notice",
        id,
        serde_json::json!({ "admitted": ids(admitted), "awaiting_objection_resolution": ids(waiting) }),
    )?;
    Ok(())
}
