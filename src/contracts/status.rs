//! The contract state machine: one pure function decides every transition, and one function
//! ([`end`]) ends a contract, whoever ends it (the end-date job, the school's termination, an
//! institution's removal). Statuses are stored as snake_case TEXT under a CHECK constraint; the
//! change is a compare-and-set on `active`, so of two enders one wins and the other changes,
//! audits and sends nothing.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use crate::audit;
use crate::auth::Ctx;
use crate::db::schema::contracts;
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    Active,
    /// Ended on its end date, or because the institution was removed from the pool.
    Ended,
    /// Terminated by the school with exit grounds.
    Terminated,
}

/// What can happen to a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Its end date passed (the daily job).
    Expire,
    /// The school terminated it with exit grounds.
    TerminateBySchool,
    /// The institution was removed from the pool (an exit case's removal).
    RemoveInstitution,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a contract that is {from:?} cannot {event:?}")]
pub struct TransitionError {
    pub from: ContractStatus,
    pub event: Event,
}

impl ContractStatus {
    pub const ALL: [ContractStatus; 3] = [Self::Active, Self::Ended, Self::Terminated];

    pub fn apply(self, event: Event) -> Result<ContractStatus, TransitionError> {
        use ContractStatus::*;
        use Event::*;
        match (self, event) {
            (Active, Expire | RemoveInstitution) => Ok(Ended),
            (Active, TerminateBySchool) => Ok(Terminated),
            (from @ (Ended | Terminated), event) => Err(TransitionError { from, event }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Ended => "ended",
            Self::Terminated => "terminated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl Event {
    pub const ALL: [Event; 3] = [
        Self::Expire,
        Self::TerminateBySchool,
        Self::RemoveInstitution,
    ];

    /// The `end_reason` stored with the ended contract.
    pub fn end_reason(self) -> EndReason {
        match self {
            Self::Expire => EndReason::Expired,
            Self::TerminateBySchool => EndReason::TerminatedBySchool,
            Self::RemoveInstitution => EndReason::InstitutionRemoved,
        }
    }
}

/// Why a contract ended (`contracts.end_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Expired,
    TerminatedBySchool,
    InstitutionRemoved,
}

impl EndReason {
    pub const ALL: [EndReason; 3] = [
        Self::Expired,
        Self::TerminatedBySchool,
        Self::InstitutionRemoved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::TerminatedBySchool => "terminated_by_school",
            Self::InstitutionRemoved => "institution_removed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How a contract ends, with what its audit event records.
#[derive(Debug, Clone, Copy)]
pub enum Ending<'a> {
    /// Its end date passed: ended on that date.
    Expired { ends_on: NaiveDate },
    /// The school terminated it citing `grounds` (exit ground codes): ended today.
    TerminatedBySchool { grounds: &'a [&'a str] },
    /// The institution was removed by exit case `exit_case_id`: ended today.
    InstitutionRemoved { exit_case_id: i64 },
}

impl Ending<'_> {
    fn event(&self) -> Event {
        match self {
            Self::Expired { .. } => Event::Expire,
            Self::TerminatedBySchool { .. } => Event::TerminateBySchool,
            Self::InstitutionRemoved { .. } => Event::RemoveInstitution,
        }
    }
}

/// 409 `contract_not_active`: the contract has already ended.
pub fn not_active() -> ApiError {
    ApiError::conflict(
        "contract_not_active",
        "该合同已结束，不能再终止。",
        "The contract is no longer active.",
    )
}

/// What [`end`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    pub status: ContractStatus,
    pub ended_on: NaiveDate,
    pub reason: EndReason,
}

/// Ends active contract `id` of `school_id` and `institution_id`: the transition, a
/// compare-and-set on `active` (lost: 409 `contract_not_active`, nothing audited or sent), its
/// audit event and the notification of both parties, in the caller's transaction.
pub fn end(
    conn: &mut DbConn,
    ctx: &Ctx,
    id: i64,
    parties: (i64, i64),
    ending: Ending<'_>,
) -> ApiResult<Ended> {
    try_end(conn, ctx, id, parties, ending)?.ok_or_else(not_active)
}

/// [`end`], with `None` when the contract was no longer active (for the job, which skips it).
fn try_end(
    conn: &mut DbConn,
    ctx: &Ctx,
    id: i64,
    (school_id, institution_id): (i64, i64),
    ending: Ending<'_>,
) -> ApiResult<Option<Ended>> {
    let event = ending.event();
    let status = ContractStatus::Active
        .apply(event)
        .map_err(|_| not_active())?;
    let reason = event.end_reason();
    let ended_on = match ending {
        Ending::Expired { ends_on } => ends_on,
        Ending::TerminatedBySchool { .. } | Ending::InstitutionRemoved { .. } => {
            crate::clock::beijing_date(ctx.now)
        }
    };
    let changed = diesel::update(
        contracts::table
            .find(id)
            .filter(contracts::status.eq(ContractStatus::Active.as_str())),
    )
    .set((
        contracts::status.eq(status.as_str()),
        contracts::ended_on.eq(Some(ended_on)),
        contracts::end_reason.eq(Some(reason.as_str())),
        contracts::updated_at.eq(db_time(ctx.now)),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    let (action, details) = match ending {
        Ending::Expired { ends_on } => (
            "contract.ended",
            serde_json::json!({
                "school_id": school_id,
                "institution_id": institution_id,
                "ended_on": ends_on,
                "end_reason": reason.as_str(),
            }),
        ),
        Ending::TerminatedBySchool { grounds } => (
            "contract.terminated",
            serde_json::json!({ "school_id": school_id, "institution_id": institution_id, "grounds": grounds, "ended_on": ended_on }),
        ),
        Ending::InstitutionRemoved { exit_case_id } => (
            "contract.ended",
            serde_json::json!({ "reason": reason.as_str(), "exit_case_id": exit_case_id, "school_id": school_id, "ended_on": ended_on }),
        ),
    };
    audit::record(conn, ctx, action, "contract", id, details)?;
    crate::mail::outbox::record(
        conn,
        ctx.now,
        crate::mail::outbox::Event::ContractEnded { contract_id: id },
    )?;
    Ok(Some(Ended {
        status,
        ended_on,
        reason,
    }))
}

/// Ends every active contract whose end date has passed (Beijing): status `ended`, `ended_on`
/// its end date, reason `expired`; one audited compare-and-set each. Returns the ended ids
/// (for notifications).
pub fn end_expired(conn: &mut DbConn, ctx: &Ctx) -> ApiResult<Vec<i64>> {
    let today = crate::clock::beijing_date(ctx.now);
    let due: Vec<(i64, i64, i64, NaiveDate)> = contracts::table
        .filter(contracts::status.eq(ContractStatus::Active.as_str()))
        .filter(contracts::ends_on.lt(today))
        .select((
            contracts::id,
            contracts::school_id,
            contracts::institution_id,
            contracts::ends_on,
        ))
        .load(conn)?;
    let mut ended = Vec::new();
    for (id, school_id, institution_id, ends_on) in due {
        let parties = (school_id, institution_id);
        if try_end(conn, ctx, id, parties, Ending::Expired { ends_on })?.is_some() {
            ended.push(id);
        }
    }
    Ok(ended)
}

/// Active contracts of an institution: (contract id, school id).
pub fn active_of_institution(conn: &mut DbConn, institution_id: i64) -> ApiResult<Vec<(i64, i64)>> {
    Ok(contracts::table
        .filter(contracts::institution_id.eq(institution_id))
        .filter(contracts::status.eq(ContractStatus::Active.as_str()))
        .select((contracts::id, contracts::school_id))
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::ContractStatus::*;
    use super::Event::*;
    use super::*;

    /// The whole ContractStatus × Event matrix: every legal pair, and nothing else.
    #[test]
    fn the_transition_matrix_is_exactly_the_designed_one() {
        let legal = [
            (Active, Expire, Ended),
            (Active, RemoveInstitution, Ended),
            (Active, TerminateBySchool, Terminated),
        ];
        crate::machine::assert_transition_matrix(
            &ContractStatus::ALL,
            &Event::ALL,
            &legal,
            ContractStatus::apply,
            |from, event| TransitionError { from, event },
        );
    }

    #[test]
    fn names_round_trip() {
        for s in ContractStatus::ALL {
            assert_eq!(ContractStatus::parse(s.as_str()), Some(s));
        }
        for r in EndReason::ALL {
            assert_eq!(EndReason::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn every_ending_event_stores_its_reason() {
        assert_eq!(Expire.end_reason().as_str(), "expired");
        assert_eq!(
            TerminateBySchool.end_reason().as_str(),
            "terminated_by_school"
        );
        assert_eq!(
            RemoveInstitution.end_reason().as_str(),
            "institution_removed"
        );
    }
}
