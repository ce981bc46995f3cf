//! Who is told what (DESIGN §1.9). Capabilities record events in their transactions
//! ([`crate::mail::outbox`]); this module, above every capability, handles each
//! `notify.<event>` record: [`events`] reads the rows the event names, decides the recipients
//! ([`recipients`]) and queues the messages through [`crate::mail::queue`], in the record's
//! job transaction, so each record's messages are queued exactly once. [`reminders`] are the
//! daily annual-inspection and expiring-credential reminders.

pub mod events;
pub mod links;
pub mod recipients;
pub mod reminders;

use crate::db::DbConn;
use crate::jobs::registry::{Handler, JobError, JobInfo, Registry};
use crate::mail::outbox::{Event, KINDS, Record};

/// Registers the handler of every `notify.<event>` record and the reminder jobs.
pub fn register(registry: &mut Registry) {
    for kind in KINDS {
        registry.register(kind, Handler::Transactional(handle));
    }
    reminders::register(registry);
}

fn handle(conn: &mut DbConn, _: &JobInfo, payload: &serde_json::Value) -> Result<(), JobError> {
    let Record { at, event } = serde_json::from_value(payload.clone())
        .map_err(|e| JobError::Permanent(anyhow::anyhow!("malformed notification record: {e}")))?;
    match event {
        Event::ApplicationSubmitted { application_id } => {
            events::application_submitted(conn, at, application_id)
        }
        Event::ApplicationDecided { decision_id } => {
            events::application_decided(conn, at, decision_id)
        }
        Event::ApplicationRejected {
            application_id,
            reasons,
            cause,
        } => events::application_rejected(conn, at, application_id, &reasons, &cause),
        Event::NoticePublished { notice_id } => events::notice_published(conn, at, notice_id),
        Event::ObjectionFiled { objection_id } => events::objection_filed(conn, at, objection_id),
        Event::ObjectionResolved { objection_id } => {
            events::objection_resolved(conn, at, objection_id)
        }
        Event::Admitted { pool_entry_id } => events::admitted(conn, at, pool_entry_id),
        Event::ExitCaseOpened { case_id } => events::exit_case_opened(conn, at, case_id),
        Event::StatementReceived { case_id } => events::statement_received(conn, at, case_id),
        Event::RemovedAndBanned { ban_id } => events::removed_and_banned(conn, at, ban_id),
        Event::ContractCreated { contract_id } => events::contract_created(conn, at, contract_id),
        Event::ContractEnded { contract_id } => events::contract_ended(conn, at, contract_id),
        Event::AdmittedBatch { pool_entry_ids } => events::admitted_many(conn, at, &pool_entry_ids),
    }?;
    Ok(())
}
