//! The e-mails of one address as a message list: what an account's "messages" page shows.
//! Read from the `email.send` jobs ([`super::SEND`]): each holds one recipient's rendered
//! message; the list shows the subject, the template, when it was queued and whether it has
//! gone out — never the body.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Outgoing, SEND, Template};
use crate::db::schema::jobs;
use crate::db::{DbConn, JsonText};
use crate::error::ApiResult;

/// One e-mail to the address.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageSummary {
    pub id: i64,
    pub subject: String,
    /// The event's template (`application_submitted`, `exit_case_opened`, …).
    #[schema(value_type = String)]
    pub template: Template,
    #[schema(value_type = String, format = DateTime)]
    pub queued_at: DateTime<Utc>,
    /// `sent` (delivered to the mail server), `queued` (waiting or being retried) or `failed`
    /// (given up; an administrator may retry it).
    #[schema(value_type = String)]
    pub delivery: &'static str,
}

/// The newest `limit` e-mails queued for `address` (case-insensitive), newest first.
pub fn sent_to(conn: &mut DbConn, address: &str, limit: i64) -> ApiResult<Vec<MessageSummary>> {
    let address = address.trim().to_lowercase();
    // The de-duplication key ends in `:<address, lower case>`; the payload's recipient is
    // compared exactly below (`_` in an address matches any character in LIKE).
    let rows: Vec<(i64, JsonText<Outgoing>, String, NaiveDateTime)> = jobs::table
        .filter(jobs::kind.eq(SEND))
        .filter(jobs::dedup_key.like(format!("%:{address}")))
        .order(jobs::id.desc())
        .limit(limit)
        .select((jobs::id, jobs::payload, jobs::state, jobs::created_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, JsonText(mail), state, created_at)| {
            (mail.to.to_lowercase() == address).then(|| MessageSummary {
                id,
                subject: mail.subject,
                template: mail.template,
                queued_at: created_at.and_utc(),
                delivery: match state.as_str() {
                    crate::jobs::DONE => "sent",
                    crate::jobs::DEAD => "failed",
                    _ => "queued",
                },
            })
        })
        .collect())
}
