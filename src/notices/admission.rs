//! Admission to the pool (备选库, DESIGN.md §1.6–§1.7): the one function that moves an
//! application from `in_notice` to `admitted` and creates its active pool entry. Used by the
//! notice's closing job and by the dismissal of an objection after the window closed.
//!
//! Exactly once: the transition is a compare-and-set on `in_notice`, and
//! `pool_entries.application_id` is UNIQUE; both happen in the caller's transaction.

use diesel::prelude::*;

use crate::applications::facts::app_facts;
use crate::applications::service as applications_service;
use crate::applications::status::{Event, Status};
use crate::audit;
use crate::auth::Ctx;
use crate::clock::beijing_date;
use crate::db::schema::{objections, pool_entries, pool_items};
use crate::db::{DbConn, db_time};
use crate::error::ApiResult;
use crate::notices::objection_status::ObjectionStatus;
use crate::pool::entry::EntryStatus;
use crate::pool::versions::PoolChange;

/// Whether an objection against the application is pending or was upheld (either keeps it
/// out of the pool).
pub fn has_blocking_objection(conn: &mut DbConn, application_id: i64) -> ApiResult<bool> {
    let n: i64 = objections::table
        .filter(objections::application_id.eq(application_id))
        .filter(
            objections::status.eq_any(
                ObjectionStatus::ALL
                    .into_iter()
                    .filter(|s| s.blocks_admission())
                    .map(ObjectionStatus::as_str)
                    .collect::<Vec<_>>(),
            ),
        )
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The top-level catalogue category of an item code (`sports` for `sports.basketball`).
pub fn category_of(code: &str) -> &str {
    code.split('.').next().unwrap_or(code)
}

/// Admits an application that is `in_notice`: the `Admit` transition and an active pool entry
/// with its approved items, valid from the later of the round's pool start and today until
/// the round's pool end. Returns the pool entry's id.
pub fn admit(conn: &mut DbConn, ctx: &Ctx, application_id: i64) -> ApiResult<i64> {
    let app = app_facts(conn, application_id)?;
    let now = db_time(ctx.now);
    applications_service::transition(conn, application_id, Status::InNotice, Event::Admit, now)?;
    let round = crate::rounds::get(conn, app.round_id, ctx.now)?;
    let valid_from = round.pool_valid_from.max(beijing_date(ctx.now));
    let entry_id: i64 = diesel::insert_into(pool_entries::table)
        .values((
            pool_entries::institution_id.eq(app.institution_id),
            pool_entries::application_id.eq(application_id),
            pool_entries::round_id.eq(app.round_id),
            pool_entries::notice_id.eq(app.notice_id),
            pool_entries::items.eq(serde_json::to_string(&app.approved_items).unwrap_or_default()),
            pool_entries::status.eq(EntryStatus::Active.as_str()),
            pool_entries::valid_from.eq(valid_from),
            pool_entries::valid_until.eq(round.pool_valid_until),
            pool_entries::admitted_at.eq(now),
            pool_entries::updated_at.eq(now),
        ))
        .returning(pool_entries::id)
        .get_result(conn)?;
    for code in &app.approved_items {
        diesel::insert_into(pool_items::table)
            .values((
                pool_items::entry_id.eq(entry_id),
                pool_items::code.eq(code),
                pool_items::category.eq(category_of(code)),
            ))
            .execute(conn)?;
    }
    audit::record(
        conn,
        ctx,
        "application.admitted",
        "application",
        application_id,
        serde_json::json!({
            "pool_entry_id": entry_id, "institution_id": app.institution_id,
            "notice_id": app.notice_id, "items": app.approved_items,
            "valid_from": valid_from, "valid_until": round.pool_valid_until,
        }),
    )?;
    crate::pool::versions::record(conn, ctx, PoolChange::Admitted, entry_id)?;
    crate::mail::outbox::record(
        conn,
        ctx.now,
        crate::mail::outbox::Event::Admitted {
            pool_entry_id: entry_id,
        },
    )?;
    Ok(entry_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_belongs_to_its_top_level_category() {
        assert_eq!(category_of("sports.basketball"), "sports");
        assert_eq!(category_of("arts.music.choir"), "arts");
        assert_eq!(category_of("sports"), "sports");
    }
}
