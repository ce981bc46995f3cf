//! The application state machine (DESIGN.md §2): one pure function decides every transition.
//! Statuses are stored as snake_case TEXT under a CHECK constraint; every change is a
//! compare-and-set on the expected current status, so of two concurrent deciders one wins.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ApplicationStatus)]
pub enum Status {
    Draft,
    Submitted,
    Returned,
    Approved,
    InNotice,
    Admitted,
    Rejected,
    Withdrawn,
}

/// What can happen to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The institution submits (a draft, or a returned application after correction).
    Submit,
    /// The institution withdraws before a decision.
    Withdraw,
    /// A reviewer approves some of the proposed items.
    Approve,
    /// A reviewer rejects; also an upheld objection, a missed correction deadline, a removal.
    Reject,
    /// A reviewer returns it for correction (退回补正).
    Return,
    /// The application is published in a public notice.
    Publish,
    /// Its notice window closed without a pending or upheld objection (or one was dismissed).
    Admit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an application that is {from:?} cannot {event:?}")]
pub struct TransitionError {
    pub from: Status,
    pub event: Event,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Self::Draft,
        Self::Submitted,
        Self::Returned,
        Self::Approved,
        Self::InNotice,
        Self::Admitted,
        Self::Rejected,
        Self::Withdrawn,
    ];

    pub fn apply(self, event: Event) -> Result<Status, TransitionError> {
        use Event::*;
        use Status::*;
        match (self, event) {
            (Draft | Returned, Submit) => Ok(Submitted),
            (Draft | Submitted | Returned, Withdraw) => Ok(Withdrawn),
            (Submitted, Approve) => Ok(Approved),
            (Submitted, Return) => Ok(Returned),
            // A rejection ends any application still in flight: a reviewer's decision, a
            // missed correction deadline, an upheld objection, or the institution's removal.
            (Submitted | Returned | Approved | InNotice, Reject) => Ok(Rejected),
            (Approved, Publish) => Ok(InNotice),
            (InNotice, Admit) => Ok(Admitted),
            (from, event) => Err(TransitionError { from, event }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Returned => "returned",
            Self::Approved => "approved",
            Self::InNotice => "in_notice",
            Self::Admitted => "admitted",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Counts against "one live application per institution and round".
    pub fn is_live(self) -> bool {
        matches!(
            self,
            Self::Submitted | Self::Returned | Self::Approved | Self::InNotice | Self::Admitted
        )
    }

    /// The institution may still edit it.
    pub fn is_editable(self) -> bool {
        matches!(self, Self::Draft | Self::Returned)
    }
}

#[cfg(test)]
mod tests {
    use super::Event::*;
    use super::Status::*;
    use super::*;

    /// The whole Status × Event matrix: every legal pair, and nothing else.
    #[test]
    fn the_transition_matrix_is_exactly_the_designed_one() {
        let legal = [
            (Draft, Submit, Submitted),
            (Returned, Submit, Submitted),
            (Draft, Withdraw, Withdrawn),
            (Submitted, Withdraw, Withdrawn),
            (Returned, Withdraw, Withdrawn),
            (Submitted, Approve, Approved),
            (Submitted, Return, Returned),
            (Submitted, Reject, Rejected),
            (Returned, Reject, Rejected),
            (Approved, Reject, Rejected),
            (InNotice, Reject, Rejected),
            (Approved, Publish, InNotice),
            (InNotice, Admit, Admitted),
        ];
        crate::machine::assert_transition_matrix(
            &Status::ALL,
            &[Submit, Withdraw, Approve, Reject, Return, Publish, Admit],
            &legal,
            Status::apply,
            |from, event| TransitionError { from, event },
        );
    }

    #[test]
    fn final_states_accept_nothing() {
        for from in [Admitted, Rejected, Withdrawn] {
            for event in [Submit, Withdraw, Approve, Reject, Return, Publish, Admit] {
                assert!(from.apply(event).is_err());
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }
}
