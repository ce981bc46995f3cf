//! The exit case state machine: a case opens `open`, collects grounds and the statement of
//! defence, and is decided once — `removed` or `dismissed`. Statuses are stored as snake_case
//! TEXT under a CHECK constraint; a decision is a compare-and-set on `open` done here, so of
//! two deciders one wins and the other gets 409 `status_changed` with nothing audited or sent.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::db::schema::exit_cases;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Removed,
    Dismissed,
}

/// What can happen to an exit case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The institution files its statement of defence (the case stays open).
    FileStatement,
    /// A reviewer decides to remove the institution.
    Remove,
    /// A reviewer dismisses the case.
    Dismiss,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an exit case that is {from:?} cannot {event:?}")]
pub struct TransitionError {
    pub from: CaseStatus,
    pub event: Event,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 3] = [Self::Open, Self::Removed, Self::Dismissed];

    pub fn apply(self, event: Event) -> Result<CaseStatus, TransitionError> {
        use CaseStatus::*;
        use Event::*;
        match (self, event) {
            (Open, FileStatement) => Ok(Open),
            (Open, Remove) => Ok(Removed),
            (Open, Dismiss) => Ok(Dismissed),
            (from @ (Removed | Dismissed), event) => Err(TransitionError { from, event }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Removed => "removed",
            Self::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl Event {
    pub const ALL: [Event; 3] = [Self::FileStatement, Self::Remove, Self::Dismiss];
}

/// 409 `exit_case_closed`: the case has been decided.
pub fn case_closed() -> ApiError {
    ApiError::conflict(
        "exit_case_closed",
        "该清退案件已作出决定。",
        "The exit case has already been decided.",
    )
}

/// 409 `status_changed`: another request changed the case first.
pub fn changed_meanwhile() -> ApiError {
    ApiError::conflict(
        "status_changed",
        "案件状态已被他人更改，请刷新后重试。",
        "The case changed meanwhile; reload and retry.",
    )
}

/// The decision `event` on case `id`, which was `from`: the transition (an illegal one is 409
/// `exit_case_closed`), then a compare-and-set on `from` that also stamps `updated_at` (zero
/// rows: 409 `status_changed`). The caller records the decision's details, audits and sends
/// only after this succeeded, in the same transaction.
pub fn transition(
    conn: &mut DbConn,
    id: i64,
    from: CaseStatus,
    event: Event,
    now: NaiveDateTime,
) -> ApiResult<CaseStatus> {
    let to = from.apply(event).map_err(|_| case_closed())?;
    let changed = diesel::update(
        exit_cases::table
            .find(id)
            .filter(exit_cases::status.eq(from.as_str())),
    )
    .set((
        exit_cases::status.eq(to.as_str()),
        exit_cases::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(changed_meanwhile());
    }
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::CaseStatus::*;
    use super::Event::*;
    use super::*;

    /// The whole CaseStatus × Event matrix: every legal pair, and nothing else.
    #[test]
    fn the_transition_matrix_is_exactly_the_designed_one() {
        let legal = [
            (Open, FileStatement, Open),
            (Open, Remove, Removed),
            (Open, Dismiss, Dismissed),
        ];
        crate::machine::assert_transition_matrix(
            &CaseStatus::ALL,
            &Event::ALL,
            &legal,
            CaseStatus::apply,
            |from, event| TransitionError { from, event },
        );
    }

    #[test]
    fn names_round_trip() {
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(s));
        }
    }
}
