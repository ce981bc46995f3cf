//! Queries the sweeps and the blacklist import use to find whom to raise grounds against.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::grounds::Source;

use crate::db::DbConn;
use crate::db::schema::{exit_cases, exit_grounds, institutions, pool_entries};
use crate::error::ApiResult;

use crate::pool::entry::EntryStatus;
use crate::sanctions::Ground;

/// Institutions with an active pool entry and this credit code.
pub fn pool_members_with_uscc(conn: &mut DbConn, uscc: &str) -> ApiResult<Vec<i64>> {
    Ok(pool_entries::table
        .inner_join(institutions::table)
        .filter(institutions::uscc.eq(uscc))
        .filter(pool_entries::status.eq(EntryStatus::Active.as_str()))
        .select(institutions::id)
        .distinct()
        .load(conn)?)
}

/// Active pool members (institution ids).
pub fn pool_members(conn: &mut DbConn) -> ApiResult<Vec<i64>> {
    Ok(pool_entries::table
        .filter(pool_entries::status.eq(EntryStatus::Active.as_str()))
        .select(pool_entries::institution_id)
        .distinct()
        .load(conn)?)
}

/// Whether a system `annual_inspection` ground was already raised against the institution
/// since `since` (the sweep raises it once per year, even if a reviewer dismissed the case).
pub fn inspection_ground_since(
    conn: &mut DbConn,
    institution_id: i64,
    since: NaiveDateTime,
) -> ApiResult<bool> {
    let n: i64 = exit_grounds::table
        .inner_join(exit_cases::table)
        .filter(exit_cases::institution_id.eq(institution_id))
        .filter(exit_grounds::ground.eq(Ground::AnnualInspection.as_str()))
        .filter(exit_grounds::source.eq(Source::System.as_str()))
        .filter(exit_grounds::created_at.ge(since))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The start of the Beijing year of `today`, as a stored UTC timestamp.
pub fn beijing_year_start(today: NaiveDate) -> NaiveDateTime {
    let jan1 = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    (jan1.and_hms_opt(0, 0, 0).unwrap_or_default()) - Duration::hours(8)
}
