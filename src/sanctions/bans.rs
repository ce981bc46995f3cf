//! Bans (禁入): a removed institution's credit code may not register, apply or be contracted
//! for 36 months from the decision date (notice §五 "三年内不得参加遴选").
//!
//! The rule, in one place: `ends_on = starts_on + 36 months` by `chrono`'s
//! `checked_add_months`, which clamps to the month's last day (a ban from 2028-02-29 ends on
//! 2031-02-28); a ban is **active while `starts_on <= today < ends_on`** (Beijing dates), so
//! from `ends_on` on everything works again without anyone acting.

use chrono::{Months, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::DbConn;
use crate::db::schema::{bans, institutions, teachers};
use crate::error::{ApiError, ApiResult};
use crate::sanctions::{Ground, GroundRef};

/// Length of a ban (notice §五: 三年).
pub const BAN_MONTHS: u32 = 36;

/// The last day a ban does *not* cover: `starts_on` plus 36 months, clamped to month end.
pub fn ban_end(starts_on: NaiveDate) -> Option<NaiveDate> {
    starts_on.checked_add_months(Months::new(BAN_MONTHS))
}

/// An active ban on a credit code, if there is one today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveBan {
    pub id: i64,
    pub institution_name: String,
    pub grounds: Vec<Ground>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// The grounds of a ban as [`record`] stores them (a JSON array of ground codes).
fn stored_grounds(stored: &str) -> Vec<Ground> {
    serde_json::from_str::<Vec<String>>(stored)
        .unwrap_or_default()
        .iter()
        .filter_map(|g| Ground::parse(g))
        .collect()
}

pub fn active_ban(conn: &mut DbConn, uscc: &str, today: NaiveDate) -> ApiResult<Option<ActiveBan>> {
    let row: Option<(i64, String, String, NaiveDate, NaiveDate)> = bans::table
        .filter(bans::uscc.eq(uscc))
        .filter(bans::starts_on.le(today))
        .filter(bans::ends_on.gt(today))
        .order(bans::ends_on.desc())
        .select((
            bans::id,
            bans::institution_name,
            bans::grounds,
            bans::starts_on,
            bans::ends_on,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(
        |(id, institution_name, grounds, starts_on, ends_on)| ActiveBan {
            id,
            institution_name,
            grounds: stored_grounds(&grounds),
            starts_on,
            ends_on,
        },
    ))
}

/// The problem a banned credit code gets (registration), naming the end date.
pub fn banned_problem(ban: &ActiveBan) -> ApiError {
    ApiError::conflict(
        "uscc_banned",
        format!(
            "该统一社会信用代码因清退处于禁入期，{} 前不得注册或申报。",
            ban.ends_on
        ),
        format!(
            "This credit code is banned after a removal until {} (exclusive).",
            ban.ends_on
        ),
    )
    .with_extra(serde_json::json!({ "ban_ends_on": ban.ends_on, "ban_starts_on": ban.starts_on }))
}

pub struct NewBan<'a> {
    pub institution_id: i64,
    pub uscc: &'a str,
    pub institution_name: &'a str,
    pub exit_case_id: i64,
    pub grounds: &'a [Ground],
    pub starts_on: NaiveDate,
    pub now: NaiveDateTime,
}

/// Records a ban; returns its id and end date. Call inside the removal's transaction.
pub fn record(conn: &mut DbConn, b: &NewBan) -> ApiResult<(i64, NaiveDate)> {
    let ends_on = ban_end(b.starts_on)
        .ok_or_else(|| anyhow::anyhow!("ban end out of range for {}", b.starts_on))?;
    let codes: Vec<&str> = b.grounds.iter().map(|g| g.as_str()).collect();
    let id = diesel::insert_into(bans::table)
        .values((
            bans::institution_id.eq(b.institution_id),
            bans::uscc.eq(b.uscc),
            bans::institution_name.eq(b.institution_name),
            bans::exit_case_id.eq(b.exit_case_id),
            bans::grounds.eq(serde_json::to_string(&codes).unwrap_or_default()),
            bans::starts_on.eq(b.starts_on),
            bans::ends_on.eq(ends_on),
            bans::created_at.eq(b.now),
        ))
        .returning(bans::id)
        .get_result(conn)?;
    Ok((id, ends_on))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BanStatus {
    Active,
    Past,
}

/// A ban as published (no personal data).
#[derive(Debug, Serialize, ToSchema)]
pub struct Ban {
    pub id: i64,
    pub institution_name: String,
    pub uscc: String,
    pub grounds: Vec<GroundRef>,
    pub starts_on: NaiveDate,
    /// The first day the ban no longer applies.
    pub ends_on: NaiveDate,
    pub status: BanStatus,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BanFilter {
    /// `active` or `past` (by today's Beijing date).
    pub status: Option<BanStatus>,
    /// One credit code.
    pub uscc: Option<String>,
}

type BanRow = (i64, String, String, String, NaiveDate, NaiveDate);

/// Bans, newest first.
pub fn list(
    conn: &mut DbConn,
    filter: &BanFilter,
    today: NaiveDate,
    offset: i64,
    limit: i64,
) -> ApiResult<(Vec<Ban>, i64)> {
    let query = || {
        let mut q = bans::table.into_boxed();
        match filter.status {
            Some(BanStatus::Active) => {
                q = q.filter(bans::starts_on.le(today).and(bans::ends_on.gt(today)))
            }
            Some(BanStatus::Past) => q = q.filter(bans::ends_on.le(today)),
            None => {}
        }
        if let Some(u) = &filter.uscc {
            q = q.filter(bans::uscc.eq(u.trim().to_ascii_uppercase()));
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let rows: Vec<BanRow> = query()
        .order((bans::starts_on.desc(), bans::id.desc()))
        .offset(offset)
        .limit(limit)
        .select((
            bans::id,
            bans::institution_name,
            bans::uscc,
            bans::grounds,
            bans::starts_on,
            bans::ends_on,
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(
            |(id, institution_name, uscc, grounds, starts_on, ends_on)| Ban {
                id,
                institution_name,
                uscc,
                grounds: stored_grounds(&grounds)
                    .into_iter()
                    .map(GroundRef::from)
                    .collect(),
                starts_on,
                ends_on,
                status: if starts_on <= today && today < ends_on {
                    BanStatus::Active
                } else {
                    BanStatus::Past
                },
            },
        )
        .collect();
    Ok((items, total))
}

/// Whether a legal representative's or a teacher's identity number appears in the records of
/// another institution under an active ban (re-registration under a new entity, §1.8). Only a
/// yes/no leaves this function: the numbers are never exposed.
pub fn linked_to_banned(
    conn: &mut DbConn,
    institution_id: i64,
    numbers: &[&str],
    today: NaiveDate,
) -> ApiResult<bool> {
    if numbers.is_empty() {
        return Ok(false);
    }
    let banned: Vec<i64> = bans::table
        .filter(bans::starts_on.le(today))
        .filter(bans::ends_on.gt(today))
        .filter(bans::institution_id.ne(institution_id))
        .select(bans::institution_id)
        .load(conn)?;
    if banned.is_empty() {
        return Ok(false);
    }
    let reps: i64 = institutions::table
        .filter(institutions::id.eq_any(&banned))
        .filter(institutions::legal_rep_id_number.eq_any(numbers))
        .count()
        .get_result(conn)?;
    // Removed teachers count too: the roster as it was is the banned institution's record.
    let staff: i64 = teachers::table
        .filter(teachers::institution_id.eq_any(&banned))
        .filter(teachers::id_number.eq_any(numbers))
        .count()
        .get_result(conn)?;
    Ok(reps + staff > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn stored_grounds_are_read_back_as_grounds() {
        assert_eq!(
            stored_grounds(r#"["subcontracting","blacklisted"]"#),
            [Ground::Subcontracting, Ground::Blacklisted]
        );
        assert!(stored_grounds("not json").is_empty());
    }

    #[test]
    fn a_ban_lasts_36_months_clamped_to_month_end() {
        for (start, end) in [
            ("2026-03-02", "2029-03-02"),
            ("2028-02-29", "2031-02-28"),
            ("2027-08-31", "2030-08-31"),
            ("2026-12-31", "2029-12-31"),
        ] {
            assert_eq!(ban_end(d(start)), Some(d(end)), "{start}");
        }
    }
}
