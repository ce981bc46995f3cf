//! Bans (禁入): a removed institution's credit code may not register, apply or be contracted
//! for 36 months after the removal decision (notice §五 "三年内不得参加遴选").
//!
//! The rule, in one place ([`BanPeriod::after_decision`]), counts the 36 months as the Civil
//! Code counts periods (arts. 201–202): the decision day is not counted, the period runs from
//! the next day, and its **last day** is the day of the decision's number in the month 36
//! months later, or that month's last day where there is none (decided 2028-02-29 → last
//! banned day 2031-02-28). The institution may register and apply again from the day after
//! the last day (`may_apply_from`). A ban is **active while `decided_on <= today <=
//! last_day`** (Beijing dates): it applies from the decision on, and from `may_apply_from` on
//! everything works again without anyone acting. All three dates are stored with the ban and
//! published with it.

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

/// The dates of a ban.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BanPeriod {
    /// The removal decision date (Beijing). The ban applies from this day; the 36 months are
    /// counted from the next day (Civil Code art. 201).
    pub decided_on: NaiveDate,
    /// The last banned day: the corresponding day 36 months after `decided_on`, or that
    /// month's last day where there is none (Civil Code art. 202).
    pub last_day: NaiveDate,
    /// The first day the institution may register and apply again (the day after `last_day`).
    pub may_apply_from: NaiveDate,
}

impl BanPeriod {
    /// The ban of a removal decided on `decided_on`; `None` only past chrono's date range.
    pub fn after_decision(decided_on: NaiveDate) -> Option<Self> {
        // `checked_add_months` keeps the day of the month and clamps to the month's last day
        // where that day does not exist: exactly art. 202's corresponding day.
        let last_day = decided_on.checked_add_months(Months::new(BAN_MONTHS))?;
        Some(Self {
            decided_on,
            last_day,
            may_apply_from: last_day.succ_opt()?,
        })
    }

    /// Whether the ban covers `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.decided_on <= day && day <= self.last_day
    }

    /// The period as the facts of a problem or finding (`extra` / `detail`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "decided_on": self.decided_on,
            "last_day": self.last_day,
            "may_apply_from": self.may_apply_from,
        })
    }
}

/// An active ban on a credit code, if there is one today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveBan {
    pub id: i64,
    pub institution_name: String,
    pub grounds: Vec<Ground>,
    pub period: BanPeriod,
}

/// The grounds of a ban as [`record`] stores them (a JSON array of ground codes).
fn stored_grounds(stored: &str) -> Vec<Ground> {
    serde_json::from_str::<Vec<String>>(stored)
        .unwrap_or_default()
        .iter()
        .filter_map(|g| Ground::parse(g))
        .collect()
}

/// The stored dates of a ban, in [`BanPeriod`] order.
type PeriodColumns = (bans::decided_on, bans::last_day, bans::may_apply_from);
const PERIOD: PeriodColumns = (bans::decided_on, bans::last_day, bans::may_apply_from);
type PeriodRow = (NaiveDate, NaiveDate, NaiveDate);

fn period((decided_on, last_day, may_apply_from): PeriodRow) -> BanPeriod {
    BanPeriod {
        decided_on,
        last_day,
        may_apply_from,
    }
}

/// The active ban on `uscc` today (the one that lasts longest, if several).
pub fn active_ban(conn: &mut DbConn, uscc: &str, today: NaiveDate) -> ApiResult<Option<ActiveBan>> {
    let row: Option<(i64, String, String, PeriodRow)> = bans::table
        .filter(bans::uscc.eq(uscc))
        .filter(bans::decided_on.le(today))
        .filter(bans::last_day.ge(today))
        .order((bans::last_day.desc(), bans::id.desc()))
        .select((bans::id, bans::institution_name, bans::grounds, PERIOD))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, institution_name, grounds, dates)| ActiveBan {
        id,
        institution_name,
        grounds: stored_grounds(&grounds),
        period: period(dates),
    }))
}

/// Every ban ever recorded with its credit code, whatever its dates (the pool's in-memory read
/// model keeps them and applies [`BanPeriod::covers`] on the day asked, as [`active_ban`] does).
pub fn all_bans(conn: &mut DbConn) -> ApiResult<Vec<(String, ActiveBan)>> {
    let rows: Vec<(i64, String, String, String, PeriodRow)> = bans::table
        .select((
            bans::id,
            bans::uscc,
            bans::institution_name,
            bans::grounds,
            PERIOD,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, uscc, institution_name, grounds, dates)| {
            (
                uscc,
                ActiveBan {
                    id,
                    institution_name,
                    grounds: stored_grounds(&grounds),
                    period: period(dates),
                },
            )
        })
        .collect())
}

/// The ban recorded by an exit case's removal, if any.
pub fn of_exit_case(conn: &mut DbConn, exit_case_id: i64) -> ApiResult<Option<BanPeriod>> {
    Ok(bans::table
        .filter(bans::exit_case_id.eq(exit_case_id))
        .select(PERIOD)
        .first(conn)
        .optional()?
        .map(period))
}

/// The refusal message of a banned credit code (registration, submission), naming the
/// decision date, the last banned day and the day it may apply again.
pub fn banned_message(p: &BanPeriod) -> crate::error::Msg {
    crate::error::Msg::new(
        format!(
            "该统一社会信用代码因 {} 被清退处于禁入期，禁入期最后一日为 {}，自 {} 起方可重新注册、申报。",
            p.decided_on, p.last_day, p.may_apply_from
        ),
        format!(
            "This credit code is banned after a removal decided on {}: the last banned day is {}; it may register and apply again from {}.",
            p.decided_on, p.last_day, p.may_apply_from
        ),
    )
}

/// The problem a banned credit code gets at registration: 409 `uscc_banned` with the dates in
/// `extra` (`decided_on`, `last_day`, `may_apply_from`).
pub fn banned_problem(ban: &ActiveBan) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::CONFLICT,
        "uscc_banned",
        banned_message(&ban.period),
    )
    .with_extra(ban.period.to_json())
}

pub struct NewBan<'a> {
    pub institution_id: i64,
    pub uscc: &'a str,
    pub institution_name: &'a str,
    pub exit_case_id: i64,
    pub grounds: &'a [Ground],
    pub decided_on: NaiveDate,
    pub now: NaiveDateTime,
}

/// Records a ban; returns its id and dates. Call inside the removal's transaction.
pub fn record(conn: &mut DbConn, b: &NewBan) -> ApiResult<(i64, BanPeriod)> {
    let p = BanPeriod::after_decision(b.decided_on)
        .ok_or_else(|| anyhow::anyhow!("ban end out of range for {}", b.decided_on))?;
    let codes: Vec<&str> = b.grounds.iter().map(|g| g.as_str()).collect();
    let id = diesel::insert_into(bans::table)
        .values((
            bans::institution_id.eq(b.institution_id),
            bans::uscc.eq(b.uscc),
            bans::institution_name.eq(b.institution_name),
            bans::exit_case_id.eq(b.exit_case_id),
            bans::grounds.eq(serde_json::to_string(&codes).unwrap_or_default()),
            bans::decided_on.eq(p.decided_on),
            bans::last_day.eq(p.last_day),
            bans::may_apply_from.eq(p.may_apply_from),
            bans::created_at.eq(b.now),
        ))
        .returning(bans::id)
        .get_result(conn)?;
    Ok((id, p))
}

/// A ban as published in the signed ban-list snapshots and the bans' change feed: what
/// `GET /bans` shows, without the status of the day (it is read from the dates).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicBan {
    pub ban_id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub uscc: String,
    pub grounds: Vec<GroundRef>,
    #[serde(flatten)]
    pub period: BanPeriod,
}

/// Records ban `ban_id` as the ban list's next version (open data, issue 18), in the removal's
/// transaction after its audit event; returns the version.
pub fn record_version(conn: &mut DbConn, ctx: &crate::auth::Ctx, ban_id: i64) -> ApiResult<i64> {
    let (institution_id, institution_name, uscc, grounds, dates): (
        i64,
        String,
        String,
        String,
        PeriodRow,
    ) = bans::table
        .find(ban_id)
        .select((
            bans::institution_id,
            bans::institution_name,
            bans::uscc,
            bans::grounds,
            PERIOD,
        ))
        .first(conn)?;
    let record = PublicBan {
        ban_id,
        institution_id,
        institution_name,
        uscc,
        grounds: stored_grounds(&grounds)
            .into_iter()
            .map(GroundRef::from)
            .collect(),
        period: period(dates),
    };
    Ok(crate::opendata::append(
        conn,
        &crate::opendata::NewChange {
            list: crate::opendata::List::Bans,
            kind: "recorded",
            institution_id,
            subject_id: ban_id,
            at: ctx.now,
            record: &record,
        },
    )?)
}

/// The ban list's newest version (0 before the first ban).
pub fn current_version(conn: &mut DbConn) -> QueryResult<i64> {
    crate::opendata::current_version(conn, crate::opendata::List::Bans)
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
    /// The removal decision date: banned from this day on.
    pub decided_on: NaiveDate,
    /// The last banned day (Civil Code arts. 201–202: the corresponding day 36 months after
    /// the decision date, or that month's last day).
    pub last_day: NaiveDate,
    /// The first day it may register and apply again.
    pub may_apply_from: NaiveDate,
    /// `active` while `decided_on <= today <= last_day`, else `past`.
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

type BanRow = (
    i64,
    String,
    String,
    String,
    (NaiveDate, NaiveDate, NaiveDate),
);

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
                q = q.filter(bans::decided_on.le(today).and(bans::last_day.ge(today)))
            }
            Some(BanStatus::Past) => q = q.filter(bans::last_day.lt(today)),
            None => {}
        }
        if let Some(u) = &filter.uscc {
            q = q.filter(bans::uscc.eq(u.trim().to_ascii_uppercase()));
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let rows: Vec<BanRow> = query()
        .order((bans::decided_on.desc(), bans::id.desc()))
        .offset(offset)
        .limit(limit)
        .select((
            bans::id,
            bans::institution_name,
            bans::uscc,
            bans::grounds,
            PERIOD,
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|(id, institution_name, uscc, grounds, dates)| {
            let p = period(dates);
            Ban {
                id,
                institution_name,
                uscc,
                grounds: stored_grounds(&grounds)
                    .into_iter()
                    .map(GroundRef::from)
                    .collect(),
                decided_on: p.decided_on,
                last_day: p.last_day,
                may_apply_from: p.may_apply_from,
                status: if p.covers(today) {
                    BanStatus::Active
                } else {
                    BanStatus::Past
                },
            }
        })
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
        .filter(bans::decided_on.le(today))
        .filter(bans::last_day.ge(today))
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

/// How a person of an application matched a banned institution's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchedAs {
    /// The banned institution's legal representative.
    LegalRepresentative,
    /// A teacher on the banned institution's roster (removed teachers included).
    Teacher,
}

/// A person of an application whose identity number is in the records of an institution under
/// an active ban (re-registration under a new entity, DESIGN §1.8), for the reviewer. The
/// number itself is not part of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BanLink {
    /// Who in the application: the applicant's legal representative or a teacher (by name).
    pub person: String,
    /// `legal_representative` or `teacher` of the applicant.
    pub person_role: MatchedAs,
    /// What the person was in the banned institution's records.
    pub matched_as: MatchedAs,
    pub banned_institution_id: i64,
    pub banned_institution_name: String,
    pub banned_uscc: String,
    pub ban_last_day: NaiveDate,
}

/// A person of an application to look up in banned institutions' records: name, role in the
/// application, identity number.
pub struct Person<'a> {
    pub name: &'a str,
    pub role: MatchedAs,
    pub number: &'a str,
}

/// Every match of `people` in the records of institutions (other than `institution_id`) under
/// an active ban: which banned institution, and whether as its legal representative or as one
/// of its teachers. [`linked_to_banned`] is the yes/no of the same look-up.
pub fn banned_links(
    conn: &mut DbConn,
    institution_id: i64,
    people: &[Person<'_>],
    today: NaiveDate,
) -> ApiResult<Vec<BanLink>> {
    if people.is_empty() {
        return Ok(Vec::new());
    }
    let banned: Vec<(i64, String, String, NaiveDate)> = bans::table
        .filter(bans::decided_on.le(today))
        .filter(bans::last_day.ge(today))
        .filter(bans::institution_id.ne(institution_id))
        .order(bans::id.asc())
        .select((
            bans::institution_id,
            bans::institution_name,
            bans::uscc,
            bans::last_day,
        ))
        .load(conn)?;
    if banned.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = banned.iter().map(|b| b.0).collect();
    let numbers: Vec<&str> = people.iter().map(|p| p.number).collect();
    let reps: Vec<(i64, Option<String>)> = institutions::table
        .filter(institutions::id.eq_any(&ids))
        .filter(institutions::legal_rep_id_number.eq_any(&numbers))
        .select((institutions::id, institutions::legal_rep_id_number))
        .load(conn)?;
    let staff: Vec<(i64, String)> = teachers::table
        .filter(teachers::institution_id.eq_any(&ids))
        .filter(teachers::id_number.eq_any(&numbers))
        .select((teachers::institution_id, teachers::id_number))
        .load(conn)?;
    let hits = reps
        .into_iter()
        .filter_map(|(id, n)| n.map(|n| (id, n, MatchedAs::LegalRepresentative)))
        .chain(staff.into_iter().map(|(id, n)| (id, n, MatchedAs::Teacher)));
    let mut links = Vec::new();
    for (banned_id, number, matched_as) in hits {
        let Some(ban) = banned.iter().find(|b| b.0 == banned_id) else {
            continue;
        };
        for person in people.iter().filter(|p| p.number == number) {
            let link = BanLink {
                person: person.name.to_owned(),
                person_role: person.role,
                matched_as,
                banned_institution_id: ban.0,
                banned_institution_name: ban.1.clone(),
                banned_uscc: ban.2.clone(),
                ban_last_day: ban.3,
            };
            if !links.iter().any(|l: &BanLink| {
                l.person == link.person
                    && l.person_role == link.person_role
                    && l.matched_as == link.matched_as
                    && l.banned_institution_id == link.banned_institution_id
            }) {
                links.push(link);
            }
        }
    }
    Ok(links)
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

    /// (decision date, last banned day): Civil Code arts. 201–202.
    const TABLE: [(&str, &str); 16] = [
        // The issue's examples.
        ("2026-10-20", "2029-10-20"),
        ("2028-02-29", "2031-02-28"),
        // An ordinary day keeps its number.
        ("2026-03-02", "2029-03-02"),
        ("2026-01-01", "2029-01-01"),
        // 31st days: months with 31 days keep them, the year-end rolls over cleanly.
        ("2027-08-31", "2030-08-31"),
        ("2026-12-31", "2029-12-31"),
        ("2026-01-31", "2029-01-31"),
        ("2026-05-31", "2029-05-31"),
        // Month ends that exist in the target month.
        ("2026-02-28", "2029-02-28"),
        ("2026-04-30", "2029-04-30"),
        ("2026-06-30", "2029-06-30"),
        // Into a leap February: the 28th stays the 28th, not that month's end (the 29th).
        ("2025-02-28", "2028-02-28"),
        ("2029-02-28", "2032-02-28"),
        // From a leap day to years without one: the month's last day.
        ("2024-02-29", "2027-02-28"),
        ("2032-02-29", "2035-02-28"),
        // A 29th that every January has.
        ("2025-01-29", "2028-01-29"),
    ];

    #[test]
    fn the_last_day_is_the_corresponding_day_36_months_on_and_it_may_apply_the_next_day() {
        for (decided, last) in TABLE {
            let p = BanPeriod::after_decision(d(decided));
            assert_eq!(p.map(|p| p.last_day), Some(d(last)), "{decided}");
            assert_eq!(p.map(|p| p.decided_on), Some(d(decided)), "{decided}");
            assert_eq!(p.map(|p| p.may_apply_from), d(last).succ_opt(), "{decided}");
        }
        // The issue's examples, spelled out.
        let p = BanPeriod::after_decision(d("2026-10-20"));
        assert_eq!(p.map(|p| p.may_apply_from), Some(d("2029-10-21")));
        let p = BanPeriod::after_decision(d("2028-02-29"));
        assert_eq!(p.map(|p| p.may_apply_from), Some(d("2031-03-01")));
    }

    #[test]
    fn a_ban_covers_the_decision_day_through_the_last_day_and_no_other() {
        let Some(p) = BanPeriod::after_decision(d("2028-02-29")) else {
            panic!("in range");
        };
        assert!(!p.covers(d("2028-02-28")));
        assert!(p.covers(d("2028-02-29")));
        assert!(p.covers(d("2031-02-28")));
        assert!(!p.covers(d("2031-03-01")));
    }

    use proptest::prelude::*;

    proptest! {
        /// For any decision date: the last day is 36 calendar months on, carries the
        /// decision's day number unless that month is too short (then it is the month's last
        /// day), and the institution may apply exactly one day later.
        #[test]
        fn the_period_follows_articles_201_and_202(days in 0i64..(200 * 366)) {
            use chrono::Datelike;
            let decided = d("1950-01-01") + chrono::Duration::days(days);
            let p = BanPeriod::after_decision(decided).ok_or_else(|| TestCaseError::fail("range"))?;
            let months = |x: NaiveDate| x.year() * 12 + x.month0() as i32;
            prop_assert_eq!(months(p.last_day) - months(decided), 36);
            let month_end = p.last_day.succ_opt().is_some_and(|n| n.day() == 1);
            if p.last_day.day() != decided.day() {
                prop_assert!(month_end && p.last_day.day() < decided.day());
            }
            prop_assert_eq!(p.may_apply_from, p.last_day + chrono::Duration::days(1));
            prop_assert!(p.covers(decided) && p.covers(p.last_day));
            prop_assert!(!p.covers(p.may_apply_from));
            prop_assert!(!p.covers(decided - chrono::Duration::days(1)));
            // Three years of days: 1,095, or 1,096 across a 29 February.
            let span = (p.last_day - decided).num_days();
            prop_assert!((1095..=1096).contains(&span), "{} days", span);
        }
    }
}
