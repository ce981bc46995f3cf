//! The notice state machine: a notice is published `open`, may have its window recomputed
//! while open (a calendar change), and is closed once by its closing job. Statuses are stored
//! as snake_case TEXT under a CHECK constraint; every change is a compare-and-set on the
//! expected status done here, so a lost race changes, audits and schedules nothing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::notices;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeStatus {
    Open,
    Closed,
}

/// What can happen to a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A calendar change moved its window (it stays open).
    Recompute,
    /// Its window is over and the closing job ran.
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a notice that is {from:?} cannot {event:?}")]
pub struct TransitionError {
    pub from: NoticeStatus,
    pub event: Event,
}

impl NoticeStatus {
    pub const ALL: [NoticeStatus; 2] = [Self::Open, Self::Closed];

    pub fn apply(self, event: Event) -> Result<NoticeStatus, TransitionError> {
        use Event::*;
        use NoticeStatus::*;
        match (self, event) {
            (Open, Recompute) => Ok(Open),
            (Open, Close) => Ok(Closed),
            (from @ Closed, event) => Err(TransitionError { from, event }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl Event {
    pub const ALL: [Event; 2] = [Self::Recompute, Self::Close];
}

/// 409 `status_changed`: the notice changed meanwhile.
fn changed_meanwhile() -> ApiError {
    ApiError::conflict(
        "status_changed",
        "公示状态已被更改，请刷新后重试。",
        "The notice changed meanwhile; reload and retry.",
    )
}

/// The transition `event` of notice `id`, which was `from`: a compare-and-set on `from` that
/// stamps `updated_at` (and `closed_at` when it closes). An illegal transition is an internal
/// error (callers only ask for legal ones); zero rows is 409 `status_changed`. The caller
/// audits only after this succeeded, in the same transaction.
pub fn transition(
    conn: &mut DbConn,
    id: i64,
    from: NoticeStatus,
    event: Event,
    now: NaiveDateTime,
) -> ApiResult<NoticeStatus> {
    let to = from
        .apply(event)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("notice {id}: {e}")))?;
    let target = notices::table
        .find(id)
        .filter(notices::status.eq(from.as_str()));
    let changed = match to {
        NoticeStatus::Closed => diesel::update(target)
            .set((
                notices::status.eq(to.as_str()),
                notices::closed_at.eq(Some(now)),
                notices::updated_at.eq(now),
            ))
            .execute(conn)?,
        NoticeStatus::Open => diesel::update(target)
            .set((notices::status.eq(to.as_str()), notices::updated_at.eq(now)))
            .execute(conn)?,
    };
    if changed == 0 {
        return Err(changed_meanwhile());
    }
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::Event::*;
    use super::NoticeStatus::*;
    use super::*;

    /// The whole NoticeStatus × Event matrix: every legal pair, and nothing else.
    #[test]
    fn the_transition_matrix_is_exactly_the_designed_one() {
        let legal = [(Open, Recompute, Open), (Open, Close, Closed)];
        crate::machine::assert_transition_matrix(
            &NoticeStatus::ALL,
            &Event::ALL,
            &legal,
            NoticeStatus::apply,
            |from, event| TransitionError { from, event },
        );
    }

    #[test]
    fn names_round_trip() {
        for s in NoticeStatus::ALL {
            assert_eq!(NoticeStatus::parse(s.as_str()), Some(s));
        }
    }
}
