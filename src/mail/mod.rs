//! E-mail notifications (DESIGN §1.9): every party is told what concerns them, reliably.
//!
//! - [`queue`] — the one way to send mail: renders an event's [`Template`] for each recipient
//!   and enqueues one `email.send` job per recipient **in the caller's transaction**, so a
//!   change without its e-mail, or an e-mail for a change that rolled back, cannot happen.
//!   Each job carries a de-duplication key `email:<template>:<event key>:<address>`: one
//!   message per event, template and recipient however many instances or retries there are.
//! - The `email.send` job runs outside any transaction ([`Handler::External`]) and delivers
//!   through [`transport::Mailer`]: SMTP over rustls (`SMTP_URL`) or `.eml` files under
//!   `<data dir>/mail/`. 4xx replies and connection failures retry with the queue's backoff;
//!   5xx replies (a refused address) are dead at once, and admins retry dead jobs through
//!   `POST /api/v1/admin/jobs/{id}/retry`. Admins see the recipient, subject and template of
//!   an e-mail job; the body stays out of the job list.
//! - [`templates`] — one template per event (Chinese, text + HTML); its module docs list each
//!   template's variables.
//! - [`outbox`] — how capabilities say what happened (`notify.<event>` records in their
//!   transaction); the `notify` module above every capability decides who is told and calls
//!   [`queue`]. This module knows nothing of capabilities: it renders, queues and delivers.
//!
//! Delivery is at least once: if an instance dies between the SMTP server accepting a
//! message and the job's `done` mark, the job runs again after its lease; the Message-ID is
//! derived from the de-duplication key, so such a duplicate carries the same Message-ID.

pub mod inbox;
pub mod outbox;
pub mod templates;
pub mod transport;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::DbConn;
use crate::error::ApiResult;
use crate::jobs::registry::{Handler, JobEnv, JobError, JobInfo, Registry};
use crate::jobs::{NewJob, enqueue};
pub use templates::Template;

/// The job kind of one message to one recipient.
pub const SEND: &str = "email.send";

/// How many times a message is tried before it is dead (with the queue's backoff, 30 s
/// doubling up to one hour: the last try comes about 5 hours after the first).
pub const MAX_ATTEMPTS: i32 = 12;

/// An event's message to its recipients.
#[derive(Debug, Clone)]
pub struct Email {
    pub template: Template,
    /// Addresses; duplicates (case-insensitive) and blanks are dropped.
    pub to: Vec<String>,
    /// The template's variables, a JSON object (see [`templates`]).
    pub vars: serde_json::Value,
    /// Identifies the event, e.g. `application_submitted:42:2026-02-13T02:00:00Z` (an entity
    /// and the instant of its change): a message is sent once per key and recipient.
    pub key: String,
}

/// The payload of an `email.send` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outgoing {
    pub template: Template,
    pub to: String,
    pub subject: String,
    pub key: String,
    pub text: String,
    pub html: String,
}

/// Renders `email` and enqueues one job per recipient in the caller's transaction; returns
/// how many jobs were added (a recipient already sent this event's message is skipped).
/// A template error is an internal error, and rolls the caller's change back.
pub fn queue(conn: &mut DbConn, now: DateTime<Utc>, email: &Email) -> ApiResult<usize> {
    let mut added = 0;
    for (dedup_key, payload) in outgoing(email)? {
        let job = NewJob::new(SEND, payload, now)
            .dedup(dedup_key)
            .max_attempts(MAX_ATTEMPTS);
        if enqueue(conn, &job, now)?.is_some() {
            added += 1;
        }
    }
    Ok(added)
}

/// Renders `email` for each recipient: the de-duplication key and payload of each job.
fn outgoing(email: &Email) -> ApiResult<Vec<(String, serde_json::Value)>> {
    let rendered = templates::render(email.template, &email.vars)?;
    dedup(email.to.clone())
        .into_iter()
        .map(|to| {
            let dedup_key = format!(
                "email:{}:{}:{}",
                email.template.name(),
                email.key,
                to.to_lowercase()
            );
            let payload = Outgoing {
                template: email.template,
                to,
                subject: rendered.subject.clone(),
                key: email.key.clone(),
                text: rendered.text.clone(),
                html: rendered.html.clone(),
            };
            let payload = serde_json::to_value(&payload).map_err(anyhow::Error::from)?;
            Ok((dedup_key, payload))
        })
        .collect()
}

/// [`queue`] for many events at once (a notice's admissions): keys already queued are read
/// in one statement per chunk and the new jobs inserted several per statement. For events
/// whose keys name rows created in the caller's transaction: a concurrent transaction
/// queuing the same key would make this one fail (and its retry skip the key), not wait.
pub fn queue_many(conn: &mut DbConn, now: DateTime<Utc>, emails: &[Email]) -> ApiResult<usize> {
    const CHUNK: usize = 500;
    let mut jobs = Vec::new();
    for email in emails {
        jobs.extend(outgoing(email)?);
    }
    let mut added = 0;
    for chunk in jobs.chunks(CHUNK) {
        let keys: Vec<&str> = chunk.iter().map(|(k, _)| k.as_str()).collect();
        let mut seen: std::collections::HashSet<String> =
            crate::jobs::existing_dedup_keys(conn, &keys)?
                .into_iter()
                .collect();
        let fresh: Vec<NewJob> = chunk
            .iter()
            .filter(|(key, _)| seen.insert(key.clone()))
            .map(|(key, payload)| {
                NewJob::new(SEND, payload.clone(), now)
                    .dedup(key.clone())
                    .max_attempts(MAX_ATTEMPTS)
            })
            .collect();
        added += crate::jobs::insert_many(conn, &fresh, now)?;
    }
    Ok(added)
}

/// What administrators see of an e-mail job's payload: recipient, subject, template, event.
pub fn redact_for_admins(kind: &str, payload: &mut serde_json::Value) {
    if kind == SEND
        && let Some(obj) = payload.as_object_mut()
    {
        obj.retain(|k, _| matches!(k.as_str(), "to" | "subject" | "template" | "key"));
    }
}

/// Says at start-up where e-mail goes (never the SMTP password).
pub fn log_transport(settings: &crate::config::Settings) {
    match &settings.mail.smtp {
        Some(url) => tracing::info!(
            host = %url.host, port = url.port, tls = ?url.tls, "e-mail is sent over SMTP"
        ),
        None => tracing::info!(
            dir = %transport::mail_dir(&settings.data_dir).display(),
            "SMTP_URL is not set: e-mail is written as .eml files"
        ),
    }
}

/// Registers the delivery job kind.
pub fn register(registry: &mut Registry) {
    registry.register(SEND, Handler::External(send));
}

fn send(env: &JobEnv, job: &JobInfo, payload: &serde_json::Value) -> Result<(), JobError> {
    let out: Outgoing = serde_json::from_value(payload.clone())
        .map_err(|e| JobError::Permanent(anyhow::anyhow!("malformed e-mail job payload: {e}")))?;
    let digest = hex::encode(Sha256::digest(
        format!(
            "{}\n{}\n{}",
            out.template.name(),
            out.key,
            out.to.to_lowercase()
        )
        .as_bytes(),
    ));
    let rendered = templates::with_base_url(
        templates::Rendered {
            subject: out.subject,
            text: out.text,
            html: out.html,
        },
        &env.settings.public_base_url,
    );
    let message = transport::build_message(
        &env.settings.mail.from,
        &out.to,
        &rendered,
        job.now,
        &digest[..32],
    )
    .map_err(job_error)?;
    let mailer = transport::Mailer::from_settings(&env.settings).map_err(job_error)?;
    mailer
        .send(&message, &format!("{:08}-{}", job.id, out.template.name()))
        .map_err(job_error)?;
    tracing::info!(
        job = job.id,
        template = out.template.name(),
        "e-mail delivered"
    );
    Ok(())
}

fn job_error(e: transport::SendError) -> JobError {
    match e {
        transport::SendError::Permanent(m) => JobError::Permanent(anyhow::anyhow!(m)),
        transport::SendError::Transient(m) => JobError::Retry(anyhow::anyhow!(m)),
    }
}

/// Trims, drops empties and case-insensitive duplicates, keeping the first spelling.
pub fn dedup(addresses: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    addresses
        .into_iter()
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty() && seen.insert(a.to_lowercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dedup_ignores_case_and_blanks() {
        let got = super::dedup(vec![
            "A@x.cn".into(),
            " a@X.cn ".into(),
            "".into(),
            "b@x.cn".into(),
        ]);
        assert_eq!(got, vec!["A@x.cn", "b@x.cn"]);
    }
}
