//! Open data (issue 18): the published lists — the pool and the bans — as numbered versions.
//!
//! Every change to a list appends one row to `open_data_changes` with the list's next version,
//! in the transaction of the change ([`append`]). The row carries the public record of the entry
//! or ban (canonical JSON, RFC 8785) as it stands after the change, so any version of a list can
//! be rebuilt from the rows alone (`snapshot`), and the same rows are the change feed.
//!
//! **Ordering.** A writer first updates its list's row in `open_data_heads`: the write lock on
//! SQLite, a row lock on PostgreSQL, held to the commit. Two writers of one list therefore run
//! one after the other, so versions are gap-free and commit in version order: a reader never
//! sees version N+1 without N. The audit head is locked before the list head
//! ([`crate::audit::lock_head`]), so every transaction that takes both takes them in the same
//! order (no deadlock between, say, an admission and a removal).
//!
//! This module knows no capability: the pool and the sanctions capabilities build their records
//! and call [`append`] through their own one-line hooks (`pool::versions`, `sanctions::bans`).

pub mod feed;
pub mod routes;
pub mod snapshot;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{open_data_changes, open_data_heads};
use crate::db::{DbConn, db_time};

/// A published list, with its own sequence of versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum List {
    Pool,
    Bans,
}

impl List {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pool => "pool",
            Self::Bans => "bans",
        }
    }
}

/// One change to a list, about to be recorded.
#[derive(Debug)]
pub struct NewChange<'a, R: Serialize> {
    pub list: List,
    /// `admitted`, `removed`, `expired`, `items_changed` (pool) or
    /// `recorded` (bans); the table's CHECK constraint holds the list.
    pub kind: &'a str,
    pub institution_id: i64,
    /// The pool entry's id or the ban's id.
    pub subject_id: i64,
    pub at: DateTime<Utc>,
    /// The public record after the change (for a removal: as it stood).
    pub record: &'a R,
}

/// Records a change as the list's next version, in the caller's transaction; returns the
/// version.
pub fn append<R: Serialize>(conn: &mut DbConn, change: &NewChange<R>) -> QueryResult<i64> {
    let record = serde_json_canonicalizer::to_string(change.record)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    crate::audit::lock_head(conn)?;
    let list = change.list.as_str();
    diesel::update(open_data_heads::table.find(list))
        .set(open_data_heads::version.eq(open_data_heads::version + 1))
        .execute(conn)?;
    let version = current_version(conn, change.list)?;
    diesel::insert_into(open_data_changes::table)
        .values((
            open_data_changes::list.eq(list),
            open_data_changes::version.eq(version),
            open_data_changes::kind.eq(change.kind),
            open_data_changes::institution_id.eq(change.institution_id),
            open_data_changes::subject_id.eq(change.subject_id),
            open_data_changes::occurred_at.eq(db_time(change.at)),
            open_data_changes::record.eq(record),
        ))
        .execute(conn)?;
    Ok(version)
}

/// [`append`] for many changes of one list at once (a notice's admission batch): the heads
/// are locked and the version moved once, the rows inserted several per statement, numbered
/// in the order given. Returns the last version (the current one when `changes` is empty).
pub fn append_many<R: Serialize>(
    conn: &mut DbConn,
    list: List,
    changes: &[NewChange<R>],
) -> QueryResult<i64> {
    /// Rows per INSERT (7 parameters each, well under either backend's limit).
    const INSERT_CHUNK: usize = 500;
    if changes.is_empty() {
        return current_version(conn, list);
    }
    let records = changes
        .iter()
        .map(|c| {
            serde_json_canonicalizer::to_string(c.record)
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
        })
        .collect::<QueryResult<Vec<String>>>()?;
    crate::audit::lock_head(conn)?;
    let count = changes.len() as i64;
    diesel::update(open_data_heads::table.find(list.as_str()))
        .set(open_data_heads::version.eq(open_data_heads::version + count))
        .execute(conn)?;
    let last = current_version(conn, list)?;
    let rows: Vec<_> = (last - count + 1..)
        .zip(changes.iter().zip(&records))
        .map(|(version, (change, record))| {
            (
                open_data_changes::list.eq(list.as_str()),
                open_data_changes::version.eq(version),
                open_data_changes::kind.eq(change.kind),
                open_data_changes::institution_id.eq(change.institution_id),
                open_data_changes::subject_id.eq(change.subject_id),
                open_data_changes::occurred_at.eq(db_time(change.at)),
                open_data_changes::record.eq(record.as_str()),
            )
        })
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        crate::insert_rows!(conn, open_data_changes::table, chunk.to_vec())?;
    }
    Ok(last)
}

/// The list's newest version (0 before its first change): one primary-key read.
pub fn current_version(conn: &mut DbConn, list: List) -> QueryResult<i64> {
    open_data_heads::table
        .find(list.as_str())
        .select(open_data_heads::version)
        .first(conn)
}

/// A recorded change.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = open_data_changes)]
pub struct Change {
    pub version: i64,
    pub kind: String,
    pub institution_id: i64,
    pub subject_id: i64,
    pub occurred_at: NaiveDateTime,
    /// Canonical JSON.
    pub record: String,
    pub sha256: Option<String>,
}

/// The changes after version `since`, oldest first, at most `limit`.
pub fn changes_after(
    conn: &mut DbConn,
    list: List,
    since: i64,
    limit: i64,
) -> QueryResult<Vec<Change>> {
    open_data_changes::table
        .filter(open_data_changes::list.eq(list.as_str()))
        .filter(open_data_changes::version.gt(since))
        .order(open_data_changes::version.asc())
        .limit(limit)
        .select(Change::as_select())
        .load(conn)
}
