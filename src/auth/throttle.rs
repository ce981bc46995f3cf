//! Login throttling: after 5 failed logins for an account within 15 minutes, further attempts
//! get 429 with `Retry-After` until the oldest of those failures leaves the window. Failures
//! are kept in the database, so every instance sees the same count; they are counted by the
//! e-mail typed, whether or not such an account exists (no enumeration).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::login_failures;
use crate::db::{DbConn, db_time, from_db_time};

pub const MAX_FAILURES: i64 = 5;
pub const WINDOW_MINUTES: i64 = 15;

/// Seconds to wait if the account is locked now, else `None`.
pub fn locked_for(conn: &mut DbConn, email: &str, now: DateTime<Utc>) -> QueryResult<Option<u64>> {
    let since = db_time(now - chrono::Duration::minutes(WINDOW_MINUTES));
    let recent: Vec<chrono::NaiveDateTime> = login_failures::table
        .filter(login_failures::email.eq(email))
        .filter(login_failures::failed_at.gt(since))
        .order(login_failures::failed_at.desc())
        .limit(MAX_FAILURES)
        .select(login_failures::failed_at)
        .load(conn)?;
    if (recent.len() as i64) < MAX_FAILURES {
        return Ok(None);
    }
    // The lock lifts when the oldest of the last MAX_FAILURES failures is WINDOW old.
    let oldest = recent.last().copied().map(from_db_time).unwrap_or(now);
    let unlock_at = oldest + chrono::Duration::minutes(WINDOW_MINUTES);
    let secs = (unlock_at - now).num_seconds().max(1);
    Ok(Some(u64::try_from(secs).unwrap_or(1)))
}

pub fn record_failure(conn: &mut DbConn, email: &str, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::email.eq(email),
            login_failures::failed_at.eq(db_time(now)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn clear(conn: &mut DbConn, email: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::email.eq(email))).execute(conn)?;
    Ok(())
}

/// Deletes failures older than the window (a periodic job).
pub fn purge_expired(conn: &mut DbConn, now: DateTime<Utc>) -> QueryResult<usize> {
    let before = db_time(now - chrono::Duration::minutes(WINDOW_MINUTES));
    diesel::delete(login_failures::table.filter(login_failures::failed_at.le(before))).execute(conn)
}
