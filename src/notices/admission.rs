//! Admission to the pool (备选库, DESIGN.md §1.6–§1.7): the one function that moves an
//! application from `in_notice` to `admitted` and creates its active pool entry. Used by the
//! notice's closing job and by the dismissal of an objection after the window closed.
//!
//! Exactly once: the transition is a compare-and-set on `in_notice`, and
//! `pool_entries.application_id` is UNIQUE; both happen in the caller's transaction.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use crate::applications::service as applications_service;
use crate::applications::status::{Event, Status};
use crate::audit::{self, NewEvent};
use crate::auth::Ctx;
use crate::clock::beijing_date;
use crate::db::schema::{applications, objections, pool_entries, pool_items};
use crate::db::{DbConn, JsonText, db_time};
use crate::error::{ApiError, ApiResult};
use crate::notices::objection_status::ObjectionStatus;
use crate::pool::entry::EntryStatus;
use crate::pool::versions::PoolChange;

/// How many ids one statement names at most (SQLite binds each as a parameter).
pub const STATEMENT_IDS: usize = 1000;

/// Whether an objection against the application is pending or was upheld (either keeps it
/// out of the pool).
pub fn has_blocking_objection(conn: &mut DbConn, application_id: i64) -> ApiResult<bool> {
    Ok(!blocking_objections(conn, &[application_id])?.is_empty())
}

/// Which of `application_ids` have a pending or upheld objection, in one statement.
pub fn blocking_objections(conn: &mut DbConn, application_ids: &[i64]) -> ApiResult<HashSet<i64>> {
    let ids: Vec<i64> = objections::table
        .filter(objections::application_id.eq_any(application_ids))
        .filter(
            objections::status.eq_any(
                ObjectionStatus::ALL
                    .into_iter()
                    .filter(|s| s.blocks_admission())
                    .map(ObjectionStatus::as_str)
                    .collect::<Vec<_>>(),
            ),
        )
        .select(objections::application_id)
        .distinct()
        .load(conn)?;
    Ok(ids.into_iter().collect())
}

/// Admits an application that is `in_notice`: the `Admit` transition and an active pool entry
/// with its approved items, valid from the later of the round's pool start and today until
/// the round's pool end. Returns the pool entry's id.
pub fn admit(conn: &mut DbConn, ctx: &Ctx, application_id: i64) -> ApiResult<i64> {
    admit_batch(conn, ctx, &[application_id])?
        .first()
        .map(|&(_, entry_id)| entry_id)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("admission of {application_id} lost")))
}

/// [`admit`] for a bounded batch of applications (a few hundred: every statement names them
/// all), in a constant number of statements: their facts and rounds read at once, one
/// compare-and-set `Admit` transition for all of them (any of them no longer `in_notice`
/// fails the batch), multi-row inserts of the entries and items, the audit events appended
/// with the chain head taken once, the e-mails queued together. Returns `(application,
/// pool entry)` pairs in the order of `application_ids`. The admission e-mails are one outbox
/// record for the whole batch ([`crate::mail::outbox::Event::AdmittedBatch`]).
pub fn admit_batch(
    conn: &mut DbConn,
    ctx: &Ctx,
    application_ids: &[i64],
) -> ApiResult<Vec<(i64, i64)>> {
    if application_ids.is_empty() {
        return Ok(Vec::new());
    }
    type Facts = (i64, i64, i64, Option<JsonText<Vec<String>>>, Option<i64>);
    let facts: Vec<Facts> = applications::table
        .filter(applications::id.eq_any(application_ids))
        .order(applications::id.asc())
        .select((
            applications::id,
            applications::institution_id,
            applications::round_id,
            applications::approved_items,
            applications::notice_id,
        ))
        .load(conn)?;
    if facts.len() != application_ids.len() {
        return Err(ApiError::not_found("申报", "application"));
    }
    let now = db_time(ctx.now);
    applications_service::transition_many(
        conn,
        application_ids,
        Status::InNotice,
        Event::Admit,
        now,
    )?;
    let mut validity = HashMap::new();
    for &(_, _, round_id, _, _) in &facts {
        if let std::collections::hash_map::Entry::Vacant(slot) = validity.entry(round_id) {
            let round = crate::rounds::get(conn, round_id, ctx.now)?;
            let from = round.pool_valid_from.max(beijing_date(ctx.now));
            slot.insert((from, round.pool_valid_until));
        }
    }
    let admitted: Vec<Admitted> = facts
        .into_iter()
        .map(
            |(id, institution_id, round_id, approved, notice_id)| Admitted {
                application_id: id,
                institution_id,
                round_id,
                notice_id,
                items: approved.map(JsonText::into_inner).unwrap_or_default(),
                valid: validity[&round_id],
            },
        )
        .collect();
    let rows: Vec<_> = admitted
        .iter()
        .map(|a| {
            (
                pool_entries::institution_id.eq(a.institution_id),
                pool_entries::application_id.eq(a.application_id),
                pool_entries::round_id.eq(a.round_id),
                pool_entries::notice_id.eq(a.notice_id),
                pool_entries::items.eq(serde_json::to_string(&a.items).unwrap_or_default()),
                pool_entries::status.eq(EntryStatus::Active.as_str()),
                pool_entries::valid_from.eq(a.valid.0),
                pool_entries::valid_until.eq(a.valid.1),
                pool_entries::admitted_at.eq(now),
                pool_entries::updated_at.eq(now),
            )
        })
        .collect();
    crate::insert_rows!(conn, pool_entries::table, rows)?;
    let entry_of: HashMap<i64, i64> = pool_entries::table
        .filter(pool_entries::application_id.eq_any(application_ids))
        .select((pool_entries::application_id, pool_entries::id))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    let mut items = Vec::new();
    let mut events = Vec::with_capacity(admitted.len());
    let mut entry_ids = Vec::with_capacity(admitted.len());
    for a in &admitted {
        let entry_id = entry_of[&a.application_id];
        entry_ids.push(entry_id);
        for code in &a.items {
            items.push((
                pool_items::entry_id.eq(entry_id),
                pool_items::code.eq(code.as_str()),
                pool_items::category.eq(crate::catalogue::category_of(code)),
            ));
        }
        events.push(NewEvent {
            action: "application.admitted".to_owned(),
            entity_type: "application".to_owned(),
            entity_id: a.application_id.to_string(),
            summary: serde_json::json!({
                "pool_entry_id": entry_id, "institution_id": a.institution_id,
                "notice_id": a.notice_id, "items": a.items,
                "valid_from": a.valid.0, "valid_until": a.valid.1,
            }),
        });
    }
    for chunk in items.chunks(1000) {
        crate::insert_rows!(conn, pool_items::table, chunk.to_vec())?;
    }
    crate::mail::outbox::record(
        conn,
        ctx.now,
        crate::mail::outbox::Event::AdmittedBatch {
            pool_entry_ids: entry_ids.clone(),
        },
    )?;
    // What takes the audit chain's head last (the pool versions lock it before their own head,
    // then the events): every other write appends to the chain too, and on PostgreSQL the
    // head's row lock is held from there to the commit, so they wait for this tail only.
    crate::pool::versions::record_many(conn, ctx, PoolChange::Admitted, &entry_ids)?;
    audit::append_many(conn, ctx, events)?;
    let by_app: HashMap<i64, i64> = admitted
        .iter()
        .zip(&entry_ids)
        .map(|(a, &e)| (a.application_id, e))
        .collect();
    Ok(application_ids.iter().map(|id| (*id, by_app[id])).collect())
}

/// An application being admitted, with its round's validity.
struct Admitted {
    application_id: i64,
    institution_id: i64,
    round_id: i64,
    notice_id: Option<i64>,
    items: Vec<String>,
    valid: (chrono::NaiveDate, chrono::NaiveDate),
}
