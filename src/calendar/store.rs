//! Stored calendar years. Each row keeps one year's notice as JSON and a version that every
//! change bumps; a computation records the versions it used.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit;
use crate::auth::Ctx;
use crate::calendar::rules::{Calendar, YearCalendar, YearCalendarInput, parse_fixture};
use crate::db::columns::UtcTime;
use crate::db::schema::calendar_years;
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};

/// The calendars shipped with the service (State Council notices), loaded on first start.
pub const FIXTURES: [&str; 3] = [
    include_str!("../../fixtures/calendar/2024.json"),
    include_str!("../../fixtures/calendar/2025.json"),
    include_str!("../../fixtures/calendar/2026.json"),
];

/// A stored year as served by `GET /calendar/{year}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredYear {
    /// Bumped by every change of this year.
    pub version: i32,
    #[serde(flatten)]
    pub calendar: YearCalendar,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: UtcTime,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = calendar_years)]
struct Row {
    year: i32,
    version: i32,
    data: String,
    updated_at: NaiveDateTime,
}

fn parse_row(row: Row) -> ApiResult<StoredYear> {
    let calendar = parse_fixture(&row.data)
        .map_err(|e| anyhow::anyhow!("stored calendar {} is invalid: {e}", row.year))?;
    Ok(StoredYear {
        version: row.version,
        calendar,
        updated_at: row.updated_at.into(),
    })
}

/// Inserts the shipped years that are not stored yet (first start); returns how many.
pub fn load_fixtures(conn: &mut DbConn, ctx: &Ctx) -> anyhow::Result<usize> {
    let mut loaded = 0;
    for json in FIXTURES {
        let calendar = parse_fixture(json)?;
        let exists: i64 = calendar_years::table
            .find(calendar.year())
            .count()
            .get_result(conn)?;
        if exists > 0 {
            continue;
        }
        insert(conn, &calendar, 1, ctx)?;
        audit::record(
            conn,
            ctx,
            "calendar.loaded",
            "calendar_year",
            calendar.year(),
            serde_json::json!({
                "version": 1, "source": calendar.source(),
            }),
        )?;
        loaded += 1;
    }
    Ok(loaded)
}

fn insert(conn: &mut DbConn, calendar: &YearCalendar, version: i32, ctx: &Ctx) -> QueryResult<()> {
    let data = serde_json::to_string(&calendar.to_input()).unwrap_or_default();
    diesel::insert_into(calendar_years::table)
        .values((
            calendar_years::year.eq(calendar.year()),
            calendar_years::version.eq(version),
            calendar_years::source.eq(calendar.source()),
            calendar_years::data.eq(data),
            calendar_years::updated_at.eq(db_time(ctx.now)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConn, year: i32) -> ApiResult<Option<StoredYear>> {
    calendar_years::table
        .find(year)
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(parse_row)
        .transpose()
}

/// Every stored year (there are only a few).
pub fn all(conn: &mut DbConn) -> ApiResult<Vec<StoredYear>> {
    calendar_years::table
        .order(calendar_years::year.asc())
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(parse_row)
        .collect()
}

/// The calendar over every stored year, for computations.
pub fn calendar(conn: &mut DbConn) -> ApiResult<Calendar> {
    Ok(Calendar::new(
        all(conn)?.into_iter().map(|y| (y.calendar, y.version)),
    ))
}

/// The `n`th working day *after* `date` (the count starts the next day), by the stored calendar:
/// the deadline of a return for correction and of a statement of defence. A year that is not
/// loaded is the calendar's `calendar_year_missing` problem.
pub fn nth_working_day_after(
    conn: &mut DbConn,
    date: chrono::NaiveDate,
    n: u32,
) -> ApiResult<chrono::NaiveDate> {
    let next = date
        .succ_opt()
        .ok_or_else(|| anyhow::anyhow!("date out of range: {date}"))?;
    let count = calendar(conn)?
        .nth_working_day(next, n)
        .map_err(crate::calendar::routes::calendar_problem)?;
    Ok(count.end)
}

/// A year's calendar as uploaded, checked: every problem as a field issue by JSON path.
pub fn validated(year: i32, input: &YearCalendarInput) -> ApiResult<YearCalendar> {
    input.validate(year).map_err(|errors| {
        ApiError::validation(
            errors
                .into_iter()
                .map(|e| FieldIssue::new(e.field, e.code, Msg::new(e.message_zh, e.message_en)))
                .collect(),
        )
    })
}

/// Replaces a year (or adds a new one) and bumps its version; audited with both versions.
pub fn replace(
    conn: &mut DbConn,
    ctx: &Ctx,
    year: i32,
    input: &YearCalendarInput,
) -> ApiResult<StoredYear> {
    let calendar = validated(year, input)?;
    let previous = get(conn, year)?;
    let version = match &previous {
        Some(p) => {
            let data = serde_json::to_string(&calendar.to_input()).unwrap_or_default();
            // Compare-and-set on the version: two admins saving at once cannot both win.
            let changed = diesel::update(
                calendar_years::table
                    .find(year)
                    .filter(calendar_years::version.eq(p.version)),
            )
            .set((
                calendar_years::version.eq(p.version + 1),
                calendar_years::source.eq(calendar.source()),
                calendar_years::data.eq(data),
                calendar_years::updated_at.eq(db_time(ctx.now)),
            ))
            .execute(conn)?;
            if changed == 0 {
                return Err(ApiError::conflict(
                    "calendar_changed",
                    "该年度日历已被他人修改，请刷新后重试。",
                    "The calendar was changed meanwhile; reload and retry.",
                ));
            }
            p.version + 1
        }
        None => {
            insert(conn, &calendar, 1, ctx)?;
            1
        }
    };
    audit::record(
        conn,
        ctx,
        "calendar.updated",
        "calendar_year",
        year,
        serde_json::json!({
            "from_version": previous.as_ref().map(|p| p.version),
            "to_version": version,
            "source": calendar.source(),
            "holidays": calendar.holidays().len(),
            "makeup_workdays": calendar.makeup_workdays().len(),
        }),
    )?;
    get(conn, year)?.ok_or_else(|| anyhow::anyhow!("calendar year {year} vanished").into())
}
