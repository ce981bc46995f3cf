//! Public calendar endpoints and the admin's replacement of a year.

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;

use crate::calendar::rules::{CalendarError, WorkingDayCount, YearCalendarInput};
use crate::calendar::store::{self, StoredYear};
use crate::error::{ApiError, ApiResult, ProblemBody};
use crate::http::routes::Register;

/// Registers the routes of this module, each once (the app and the OpenAPI document both come
/// from this registration: `crate::routes`).
pub fn configure(cfg: &mut impl Register) {
    cfg.service(list_years)
        .service(working_days)
        .service(get_year);
}

/// A calendar failure as a problem (422, naming the missing year).
pub fn calendar_problem(err: CalendarError) -> ApiError {
    let extra = match err {
        CalendarError::YearMissing(year) => serde_json::json!({ "year": year }),
        CalendarError::CountOutOfRange(n) => serde_json::json!({ "count": n }),
    };
    ApiError::rule(err.code(), err.message_zh(), err.message_en()).with_extra(extra)
}

/// The years loaded, with their versions.
#[utoipa::path(
    tag = "calendar",
    operation_id = "list_calendar_years",
    responses((status = 200, body = Vec<StoredYear>, description = "Every year loaded, in order."))
)]
#[get("/calendar")]
pub async fn list_years(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(state.run(store::all).await?))
}

/// A year's statutory holidays and make-up working days, with its version.
#[utoipa::path(
    tag = "calendar",
    operation_id = "get_calendar_year",
    params(("year" = i32, Path, minimum = 0, description = "calendar year (digits)")),
    responses(
        (status = 200, body = StoredYear, description = "The year with its version."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: the year is not loaded (or `year` is not digits)"),
    )
)]
#[get("/calendar/{year:\\d+}")]
pub async fn get_year(state: web::Data<AppState>, year: web::Path<i32>) -> ApiResult<HttpResponse> {
    let year = year.into_inner();
    let stored = state.run(move |conn| store::get(conn, year)).await?;
    let stored = stored.ok_or_else(|| {
        ApiError::not_found(
            &format!("{year} 年的工作日历"),
            &format!("calendar of {year}"),
        )
    })?;
    Ok(HttpResponse::Ok().json(stored))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkingDaysQuery {
    /// The date counting starts from (`YYYY-MM-DD`); day 1 if it is a working day.
    pub from: NaiveDate,
    /// N, 1–366.
    pub count: u32,
}

/// The Nth working day counting `from` as day 1 when it is a working day (otherwise the first
/// working day after it), explained day by day, with the calendar versions used.
#[utoipa::path(
    tag = "calendar",
    operation_id = "count_working_days",
    params(WorkingDaysQuery),
    responses(
        (status = 200, body = WorkingDayCount, description = "The Nth working day, explained day by day."),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`calendar_year_missing` (naming the year in `extra`) or `count_out_of_range`"),
    )
)]
#[get("/calendar/working-days")]
pub async fn working_days(
    state: web::Data<AppState>,
    query: web::Query<WorkingDaysQuery>,
) -> ApiResult<HttpResponse> {
    let WorkingDaysQuery { from, count } = query.into_inner();
    let calendar = state.run(store::calendar).await?;
    let result = calendar
        .nth_working_day(from, count)
        .map_err(calendar_problem)?;
    Ok(HttpResponse::Ok().json(result))
}

/// The body's rules need the year of the path, so they run in [`YearCalendarInput::validate`]
/// (reporting every problem with its JSON path) rather than in the extractor.
impl validator::Validate for YearCalendarInput {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}
