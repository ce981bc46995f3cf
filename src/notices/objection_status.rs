//! The objection state machine: an objection is filed `pending` and resolved once by a
//! reviewer — `upheld` or `dismissed`. It lives with the notices because the notices' closing
//! job asks which objections keep an application out of the pool, and the objections
//! capability (filing, listing, resolution) sits above the notices it objects to. Statuses are stored as snake_case TEXT under a CHECK
//! constraint; the resolution is a compare-and-set on `pending` done here, so of two
//! reviewers one wins and the other gets 409 `objection_resolved` with nothing audited or sent.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::objections;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectionStatus {
    Pending,
    Upheld,
    Dismissed,
}

/// What can happen to an objection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A reviewer finds it well-founded.
    Uphold,
    /// A reviewer dismisses it.
    Dismiss,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an objection that is {from:?} cannot {event:?}")]
pub struct TransitionError {
    pub from: ObjectionStatus,
    pub event: Event,
}

impl ObjectionStatus {
    pub const ALL: [ObjectionStatus; 3] = [Self::Pending, Self::Upheld, Self::Dismissed];

    pub fn apply(self, event: Event) -> Result<ObjectionStatus, TransitionError> {
        use Event::*;
        use ObjectionStatus::*;
        match (self, event) {
            (Pending, Uphold) => Ok(Upheld),
            (Pending, Dismiss) => Ok(Dismissed),
            (from @ (Upheld | Dismissed), event) => Err(TransitionError { from, event }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Upheld => "upheld",
            Self::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Keeps its application out of the pool (DESIGN §1.6).
    pub fn blocks_admission(self) -> bool {
        matches!(self, Self::Pending | Self::Upheld)
    }
}

impl Event {
    pub const ALL: [Event; 2] = [Self::Uphold, Self::Dismiss];
}

/// 409 `objection_resolved`: the objection has been resolved already.
pub fn already_resolved() -> ApiError {
    ApiError::conflict(
        "objection_resolved",
        "该异议已处理。",
        "The objection has already been resolved.",
    )
}

/// Resolves objection `id` (`event` from `pending`) with the reviewer's reasons: a
/// compare-and-set on `pending` (zero rows: 409 `objection_resolved`). The caller audits and
/// sends only after this succeeded, in the same transaction.
pub fn resolve(
    conn: &mut DbConn,
    id: i64,
    event: Event,
    reasons: &str,
    reviewer_id: i64,
    now: NaiveDateTime,
) -> ApiResult<ObjectionStatus> {
    let from = ObjectionStatus::Pending;
    let to = from.apply(event).map_err(|_| already_resolved())?;
    let changed = diesel::update(
        objections::table
            .find(id)
            .filter(objections::status.eq(from.as_str())),
    )
    .set((
        objections::status.eq(to.as_str()),
        objections::resolution_reasons.eq(Some(reasons)),
        objections::resolved_by.eq(Some(reviewer_id)),
        objections::resolved_at.eq(Some(now)),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(already_resolved());
    }
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::Event::*;
    use super::ObjectionStatus::*;
    use super::*;

    /// The whole ObjectionStatus × Event matrix: every legal pair, and nothing else.
    #[test]
    fn the_transition_matrix_is_exactly_the_designed_one() {
        let legal = [(Pending, Uphold, Upheld), (Pending, Dismiss, Dismissed)];
        crate::machine::assert_transition_matrix(
            &ObjectionStatus::ALL,
            &Event::ALL,
            &legal,
            ObjectionStatus::apply,
            |from, event| TransitionError { from, event },
        );
    }

    #[test]
    fn names_round_trip() {
        for s in ObjectionStatus::ALL {
            assert_eq!(ObjectionStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn pending_and_upheld_objections_block_admission() {
        let blocking: Vec<_> = ObjectionStatus::ALL
            .into_iter()
            .filter(|s| s.blocks_admission())
            .collect();
        assert_eq!(blocking, [Pending, Upheld]);
    }
}
