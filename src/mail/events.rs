//! The events wired to e-mail so far. Each function runs in the transaction of the change it
//! reports (call it right after the change's audit event) and derives the event key from the
//! entity and the instant of the change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

use crate::catalogue::Catalogue;
use crate::clock::beijing_date;
use crate::db::DbConn;
use crate::db::schema::{applications, institutions, rounds};
use crate::error::ApiResult;
use crate::mail::{Email, Template, queue, recipients};

/// Chinese names of catalogue item codes (the code itself if it left the catalogue).
pub fn item_names(codes: &[String]) -> Vec<String> {
    let catalogue = Catalogue::get();
    codes
        .iter()
        .map(|c| {
            catalogue
                .activity(c)
                .map_or_else(|_| c.clone(), |i| i.name_zh.clone())
        })
        .collect()
}

/// An application was submitted (or resubmitted after a return): "received" to the
/// institution, "new work" to every reviewer.
pub fn application_submitted(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    application_id: i64,
) -> ApiResult<()> {
    let (institution_id, round_id, proposed): (i64, i64, String) = applications::table
        .find(application_id)
        .select((
            applications::institution_id,
            applications::round_id,
            applications::proposed_items,
        ))
        .first(conn)?;
    let institution_name: String = institutions::table
        .find(institution_id)
        .select(institutions::name)
        .first(conn)?;
    let round_name: String = rounds::table
        .find(round_id)
        .select(rounds::name)
        .first(conn)?;
    let codes: Vec<String> = serde_json::from_str(&proposed).unwrap_or_default();
    let key = format!(
        "application_submitted:{application_id}:{}",
        now.timestamp_micros()
    );
    let institution = recipients::institution(conn, institution_id)?;
    let reviewers = recipients::reviewers(conn)?;
    queue(
        conn,
        now,
        &Email {
            template: Template::ApplicationReceived,
            to: institution,
            vars: json!({
                "institution_name": institution_name,
                "application_id": application_id,
                "round_name": round_name,
                "submitted_on": beijing_date(now).to_string(),
                "items": item_names(&codes),
            }),
            key: key.clone(),
        },
    )?;
    queue(
        conn,
        now,
        &Email {
            template: Template::ReviewerNewWork,
            to: reviewers,
            vars: json!({
                "work": "submission",
                "institution_name": institution_name,
                "reference_id": application_id,
            }),
            key,
        },
    )?;
    Ok(())
}
