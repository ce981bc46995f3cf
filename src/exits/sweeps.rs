//! The daily annual-inspection sweep (DESIGN.md §1.8): from the day after the configured date
//! (`INSPECTION_SWEEP_DATE`, `MM-DD`, default `06-30`), every active pool member without a
//! `passed` inspection record for the previous year gets an `annual_inspection` exit case
//! (上年度不按时参加年检或年检不合格). The ground is raised once per institution and year: a
//! case a reviewer dismissed is not reopened by the next day's sweep.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use crate::auth::Ctx;
use crate::clock::beijing_date;
use crate::db::DbConn;
use crate::db::schema::inspections;
use crate::error::ApiResult;
use crate::exits;
use crate::jobs::registry::{Handler, JobError, Registry};
use crate::sanctions::Ground;

pub const INSPECTION_SWEEP: &str = "sanctions.inspection_sweep";

/// The sweep's date in `year` (29 February falls back to the 28th in common years).
fn sweep_day(year: i32, (m, d): (u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, m, d)
        .or_else(|| NaiveDate::from_ymd_opt(year, m, d.saturating_sub(1)))
        .unwrap_or_default()
}

/// Registers the sweep's job kind.
pub fn register(r: &mut Registry) {
    r.register(
        INSPECTION_SWEEP,
        Handler::Transactional(|conn, job, _| {
            let opened = sweep(
                conn,
                &Ctx::system(job.now),
                job.settings.inspection_sweep_date,
            )
            .map_err(|e| JobError::Retry(anyhow::Error::new(e)))?;
            if opened > 0 {
                tracing::info!(opened, "annual-inspection sweep raised exit grounds");
            }
            Ok(())
        }),
    );
}

/// Runs the sweep for today, acting from the day after `sweep_date` (month, day); returns how
/// many grounds it raised.
pub fn sweep(conn: &mut DbConn, ctx: &Ctx, sweep_date: (u32, u32)) -> ApiResult<usize> {
    let today = beijing_date(ctx.now);
    if today <= sweep_day(today.year(), sweep_date) {
        return Ok(0);
    }
    let previous = today.year() - 1;
    let year_start = exits::beijing_year_start(today);
    let mut raised = 0;
    for institution_id in exits::pool_members(conn)? {
        let passed: i64 = inspections::table
            .filter(inspections::institution_id.eq(institution_id))
            .filter(inspections::year.eq(previous))
            .filter(inspections::result.eq("passed"))
            .count()
            .get_result(conn)?;
        if passed > 0 || exits::inspection_ground_since(conn, institution_id, year_start)? {
            continue;
        }
        let ground = exits::NewGround {
            ground: Ground::AnnualInspection,
            source: exits::Source::System,
            contract_id: None,
            statement: format!(
                "截至 {today}，未见 {previous} 年度年检合格记录（上年度不按时参加年检或年检不合格）。"
            ),
            document_ids: Vec::new(),
            reported_by: None,
        };
        raised +=
            exits::open_or_join(conn, ctx, institution_id, exits::Source::System, &[ground])?.added;
    }
    Ok(raised)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_dates_parse() {
        assert_eq!(crate::config::parse_month_day("06-30"), Some((6, 30)));
        assert_eq!(crate::config::parse_month_day("02-29"), Some((2, 29)));
        assert_eq!(crate::config::parse_month_day("02-30"), None);
        assert_eq!(crate::config::parse_month_day("6/30"), None);
        assert_eq!(
            sweep_day(2027, (2, 29)),
            NaiveDate::from_ymd_opt(2027, 2, 28).unwrap_or_default()
        );
    }
}
