//! The pool entry state machine: an entry is created `active` by admission (the notices
//! capability), and leaves the pool either when its validity lapses (the daily expiry job) or
//! when an exit case removes its institution. Statuses are stored as snake_case TEXT under a
//! CHECK constraint; every change is a compare-and-set on `active` done here, so of two
//! enders one wins and the other changes, audits and sends nothing.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::audit;
use crate::auth::Ctx;
use crate::db::schema::pool_entries;
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryStatus {
    Active,
    /// Its validity lapsed.
    Expired,
    /// Its institution was removed by an exit case.
    Removed,
}

/// What can happen to a pool entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Its `valid_until` passed (the daily job).
    Expire,
    /// An exit case removed its institution.
    Remove,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a pool entry that is {from:?} cannot {event:?}")]
pub struct TransitionError {
    pub from: EntryStatus,
    pub event: Event,
}

impl EntryStatus {
    pub const ALL: [EntryStatus; 3] = [Self::Active, Self::Expired, Self::Removed];

    pub fn apply(self, event: Event) -> Result<EntryStatus, TransitionError> {
        use EntryStatus::*;
        use Event::*;
        match (self, event) {
            (Active, Expire) => Ok(Expired),
            (Active, Remove) => Ok(Removed),
            (from @ (Expired | Removed), event) => Err(TransitionError { from, event }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl Event {
    pub const ALL: [Event; 2] = [Self::Expire, Self::Remove];
}

/// The transition `event` of active entry `id`: a compare-and-set on `active` that also
/// records when and why it ended. `Ok(false)`: the entry was no longer active, nothing changed.
#[must_use = "a lost compare-and-set must not be audited"]
fn end(conn: &mut DbConn, ctx: &Ctx, id: i64, event: Event, end_reason: &str) -> ApiResult<bool> {
    let to = EntryStatus::Active
        .apply(event)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("pool entry {id}: {e}")))?;
    let now = db_time(ctx.now);
    let changed = diesel::update(
        pool_entries::table
            .find(id)
            .filter(pool_entries::status.eq(EntryStatus::Active.as_str())),
    )
    .set((
        pool_entries::status.eq(to.as_str()),
        pool_entries::ended_at.eq(Some(now)),
        pool_entries::end_reason.eq(Some(end_reason)),
        pool_entries::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Marks every active entry whose `valid_until` is before today (Beijing) as `expired`, one
/// audited compare-and-set per entry. The search filters by date as well, so the pool never
/// depends on this job having run; the job makes the stored status agree.
pub fn expire_entries(conn: &mut DbConn, ctx: &Ctx) -> ApiResult<usize> {
    let today = crate::clock::beijing_date(ctx.now);
    let due: Vec<(i64, i64, NaiveDate)> = pool_entries::table
        .filter(pool_entries::status.eq(EntryStatus::Active.as_str()))
        .filter(pool_entries::valid_until.lt(today))
        .select((
            pool_entries::id,
            pool_entries::institution_id,
            pool_entries::valid_until,
        ))
        .load(conn)?;
    let mut expired = 0;
    for (id, institution_id, valid_until) in due {
        if end(conn, ctx, id, Event::Expire, "expired")? {
            audit::record(
                conn,
                ctx,
                "pool_entry.expired",
                "pool_entry",
                id,
                serde_json::json!({
                    "institution_id": institution_id,
                    "valid_until": valid_until,
                }),
            )?;
            crate::pool::versions::record(
                conn,
                ctx,
                crate::pool::versions::PoolChange::Expired,
                id,
            )?;
            expired += 1;
        }
    }
    Ok(expired)
}

/// Removes every active entry of institution `institution_id` (exit case `exit_case_id`
/// decided its removal), each audited. An entry that stops being active meanwhile is a lost
/// compare-and-set: 409 `status_changed`, and the caller's transaction rolls back. Returns the
/// removed entries' ids.
pub fn remove_institution(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    exit_case_id: i64,
) -> ApiResult<Vec<i64>> {
    let ids: Vec<i64> = active_ids_of(conn, institution_id)?;
    for &entry in &ids {
        if !end(
            conn,
            ctx,
            entry,
            Event::Remove,
            &format!("exit_case:{exit_case_id}"),
        )? {
            return Err(ApiError::conflict(
                "status_changed",
                "备选库条目状态已被更改，请刷新后重试。",
                "A pool entry changed meanwhile; reload and retry.",
            ));
        }
        audit::record(
            conn,
            ctx,
            "pool_entry.removed",
            "pool_entry",
            entry,
            serde_json::json!({ "exit_case_id": exit_case_id, "institution_id": institution_id }),
        )?;
        crate::pool::versions::record(
            conn,
            ctx,
            crate::pool::versions::PoolChange::Removed,
            entry,
        )?;
    }
    Ok(ids)
}

/// The ids of the institution's active entries.
pub fn active_ids_of(conn: &mut DbConn, institution_id: i64) -> ApiResult<Vec<i64>> {
    Ok(pool_entries::table
        .filter(pool_entries::institution_id.eq(institution_id))
        .filter(pool_entries::status.eq(EntryStatus::Active.as_str()))
        .select(pool_entries::id)
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::EntryStatus::*;
    use super::Event::*;
    use super::*;

    /// The whole EntryStatus × Event matrix: every legal pair, and nothing else.
    #[test]
    fn the_transition_matrix_is_exactly_the_designed_one() {
        let legal = [(Active, Expire, Expired), (Active, Remove, Removed)];
        crate::machine::assert_transition_matrix(
            &EntryStatus::ALL,
            &Event::ALL,
            &legal,
            EntryStatus::apply,
            |from, event| TransitionError { from, event },
        );
    }

    #[test]
    fn names_round_trip() {
        for s in EntryStatus::ALL {
            assert_eq!(EntryStatus::parse(s.as_str()), Some(s));
        }
    }
}
