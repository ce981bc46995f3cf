//! The notification outbox. A capability records what happened — an event naming the rows it
//! concerns, never who must hear of it — in the transaction of the change, right after the
//! change's audit event. Each record is one `notify.<event>` job; the `notify` module (above
//! every capability) handles those jobs: it decides the recipients and queues the messages.
//! A change that rolls back leaves no record, and a record is handled exactly once (the
//! handler's e-mail jobs commit with the job's `done` mark).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::DbConn;
use crate::error::ApiResult;
use crate::jobs::{NewJob, enqueue};

/// Something that happened that people must be told about, by the ids of its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// An application was submitted (or resubmitted after a return).
    ApplicationSubmitted {
        application_id: i64,
    },
    /// A reviewer's decision row (approve / reject / return) was inserted.
    ApplicationDecided {
        decision_id: i64,
    },
    /// An application was rejected without a reviewer's decision (a missed correction
    /// deadline, an upheld objection, the institution's removal); `cause` names the event.
    ApplicationRejected {
        application_id: i64,
        reasons: String,
        cause: String,
    },
    /// A notice was published (its applications carry its `notice_id`).
    NoticePublished {
        notice_id: i64,
    },
    ObjectionFiled {
        objection_id: i64,
    },
    /// An objection was upheld or dismissed.
    ObjectionResolved {
        objection_id: i64,
    },
    /// A pool entry was created. Nothing records this any more: admissions record
    /// [`Event::AdmittedBatch`]; it stays so that records queued before that change (in the
    /// outbox of a running deployment) are still handled.
    Admitted {
        pool_entry_id: i64,
    },
    /// An exit case was opened (its grounds inserted).
    ExitCaseOpened {
        case_id: i64,
    },
    StatementReceived {
        case_id: i64,
    },
    /// A ban was recorded (the institution was removed).
    RemovedAndBanned {
        ban_id: i64,
    },
    ContractCreated {
        contract_id: i64,
    },
    /// A contract ended (terminated, expired, institution removed).
    ContractEnded {
        contract_id: i64,
    },
    /// Pool entries were created together (one batch of a notice's closing, or one admission
    /// after an objection's dismissal): one record, one notify job for the batch.
    AdmittedBatch {
        pool_entry_ids: Vec<i64>,
    },
}

/// Every kind of record, so the handler registers each one.
pub const KINDS: [&str; 13] = [
    "notify.application_submitted",
    "notify.application_decided",
    "notify.application_rejected",
    "notify.notice_published",
    "notify.objection_filed",
    "notify.objection_resolved",
    "notify.admitted",
    "notify.exit_case_opened",
    "notify.statement_received",
    "notify.removed_and_banned",
    "notify.contract_created",
    "notify.contract_ended",
    "notify.admitted_batch",
];

/// How many times a record is handled before it is dead (a template or a read that keeps
/// failing is a bug an admin sees in the dead jobs).
pub const MAX_ATTEMPTS: i32 = 8;

impl Event {
    /// The job kind of this event's record.
    pub fn kind(&self) -> &'static str {
        let index = match self {
            Self::ApplicationSubmitted { .. } => 0,
            Self::ApplicationDecided { .. } => 1,
            Self::ApplicationRejected { .. } => 2,
            Self::NoticePublished { .. } => 3,
            Self::ObjectionFiled { .. } => 4,
            Self::ObjectionResolved { .. } => 5,
            Self::Admitted { .. } => 6,
            Self::ExitCaseOpened { .. } => 7,
            Self::StatementReceived { .. } => 8,
            Self::RemovedAndBanned { .. } => 9,
            Self::ContractCreated { .. } => 10,
            Self::ContractEnded { .. } => 11,
            Self::AdmittedBatch { .. } => 12,
        };
        KINDS[index]
    }
}

/// A record as stored in its job: the event and the instant of the change it reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// When the change happened (its messages are dated and keyed by it, not by the time the
    /// record is handled).
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub event: Event,
}

/// Records `event` in the caller's transaction.
pub fn record(conn: &mut DbConn, now: DateTime<Utc>, event: Event) -> ApiResult<()> {
    let kind = event.kind();
    let payload = serde_json::to_value(Record { at: now, event }).map_err(anyhow::Error::from)?;
    enqueue(
        conn,
        &NewJob::new(kind, payload, now).max_attempts(MAX_ATTEMPTS),
        now,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_has_its_own_kind_named_after_its_tag() {
        let events = [
            Event::ApplicationSubmitted { application_id: 1 },
            Event::ApplicationDecided { decision_id: 1 },
            Event::ApplicationRejected {
                application_id: 1,
                reasons: "r".into(),
                cause: "c".into(),
            },
            Event::NoticePublished { notice_id: 1 },
            Event::ObjectionFiled { objection_id: 1 },
            Event::ObjectionResolved { objection_id: 1 },
            Event::Admitted { pool_entry_id: 1 },
            Event::ExitCaseOpened { case_id: 1 },
            Event::StatementReceived { case_id: 1 },
            Event::RemovedAndBanned { ban_id: 1 },
            Event::ContractCreated { contract_id: 1 },
            Event::ContractEnded { contract_id: 1 },
            Event::AdmittedBatch {
                pool_entry_ids: vec![1, 2],
            },
        ];
        let kinds: std::collections::BTreeSet<_> = events.iter().map(Event::kind).collect();
        assert_eq!(kinds.len(), KINDS.len());
        for event in events {
            let record = Record {
                at: DateTime::UNIX_EPOCH,
                event: event.clone(),
            };
            let json = serde_json::to_value(&record).unwrap();
            assert_eq!(
                format!("notify.{}", json["event"].as_str().unwrap()),
                event.kind()
            );
            assert_eq!(serde_json::from_value::<Record>(json).unwrap(), record);
        }
    }
}
