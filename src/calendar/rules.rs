//! Working-day arithmetic for the registry's deadlines (pure: no clock, no I/O, no database).
//!
//! This module owns:
//! - the rule for what a working day (工作日) is: Monday–Friday that is not a statutory
//!   holiday, plus weekend days that the State Council designates as make-up working days
//!   (调休上班);
//! - the data shape of one year's calendar, which is transcribed by hand from that year's
//!   notice 国务院办公厅关于XXXX年部分节假日安排的通知 (it is both the fixture format in
//!   `fixtures/calendar/{year}.json` and the body of the admin `PUT /api/v1/calendar/{year}`),
//!   with its validation;
//! - counting the Nth working day from a date, with a day-by-day explanation and the calendar
//!   years and versions it relied on.
//!
//! The calendar is data, one year at a time. A computation that needs a year that is not
//! loaded fails with [`CalendarError::YearMissing`]; it never falls back to "weekends only",
//! because a silently wrong deadline around 春节 or 国庆节 is worse than a clear refusal.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Earliest calendar year accepted by validation.
pub const MIN_YEAR: i32 = 2000;
/// Latest calendar year accepted by validation.
pub const MAX_YEAR: i32 = 2100;
/// Largest `n` accepted by [`Calendar::nth_working_day`]: a year's worth of days is far beyond
/// any deadline in the product design, and the cap bounds the size of the explanation.
pub const MAX_COUNT: u32 = 366;
/// Longest holiday range accepted, in days. The longest range in the 2024–2026 notices is
/// 9 days (春节 2026); the cap catches typos such as `"to": "2026-12-23"` for `"2026-02-23"`.
pub const MAX_HOLIDAY_DAYS: i64 = 31;
/// Longest holiday / make-up day name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 50;
/// Longest `source` accepted, in characters.
pub const MAX_SOURCE_CHARS: usize = 200;

const DATE_FORMAT: &str = "%Y-%m-%d";

// ---------------------------------------------------------------------------------------------
// Input (fixture file / admin request body)
// ---------------------------------------------------------------------------------------------

/// One year's calendar as transcribed from the State Council notice: the fixture file format
/// and the body of `PUT /api/v1/calendar/{year}`. Not trusted until [`Self::validate`] passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YearCalendarInput {
    /// Calendar year, e.g. 2026. Must equal the year in the URL path.
    pub year: i32,
    /// The notice this was transcribed from, e.g.
    /// "国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）".
    pub source: String,
    /// Holiday ranges (放假调休). Every day of a range is a day off, weekends included.
    pub holidays: Vec<HolidayRangeInput>,
    /// Weekend days designated as working days (调休上班).
    pub makeup_workdays: Vec<MakeupWorkdayInput>,
}

/// One holiday range of the input, dates as `YYYY-MM-DD` strings (both ends inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayRangeInput {
    /// Holiday name as in the notice, e.g. "春节" or "国庆节、中秋节".
    pub name: String,
    /// First day off (inclusive), `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date, example = "2026-02-15")]
    pub from: String,
    /// Last day off (inclusive), `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date, example = "2026-02-23")]
    pub to: String,
}

/// One make-up working day of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MakeupWorkdayInput {
    /// The Saturday or Sunday that is a working day, `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date, example = "2026-02-14")]
    pub date: String,
    /// Explanation shown to users, e.g. "春节调休上班".
    pub name: String,
}

/// One problem found by [`YearCalendarInput::validate`]; all problems are reported together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CalendarFieldError {
    /// JSON path of the offending field, e.g. `holidays[2].to`.
    pub field: String,
    /// Stable snake_case code, e.g. `range_reversed`.
    #[schema(value_type = String, example = "range_reversed")]
    pub code: &'static str,
    /// Message for Chinese-speaking administrators.
    pub message_zh: String,
    /// Message in English.
    pub message_en: String,
}

impl CalendarFieldError {
    fn new(field: impl Into<String>, code: &'static str, zh: String, en: String) -> Self {
        Self {
            field: field.into(),
            code,
            message_zh: zh,
            message_en: en,
        }
    }
}

/// Parses a date strictly as `YYYY-MM-DD` (zero-padded), so that what is stored is exactly
/// what was typed and `2026-2-3` style input is rejected rather than guessed at.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let date = NaiveDate::parse_from_str(text, DATE_FORMAT).ok()?;
    (date.format(DATE_FORMAT).to_string() == text).then_some(date)
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Checks a name (holiday, make-up day or source) for emptiness and length.
fn check_text(
    errors: &mut Vec<CalendarFieldError>,
    field: &str,
    value: &str,
    empty_code: &'static str,
    max_chars: usize,
) {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        errors.push(CalendarFieldError::new(
            field,
            empty_code,
            "不能为空".to_owned(),
            "must not be empty".to_owned(),
        ));
    } else if trimmed.chars().count() > max_chars {
        errors.push(CalendarFieldError::new(
            field,
            "too_long",
            format!("不能超过{max_chars}个字符"),
            format!("must be at most {max_chars} characters"),
        ));
    }
}

/// Parses a date field and checks that it lies in `year`, recording problems.
fn check_date(
    errors: &mut Vec<CalendarFieldError>,
    field: &str,
    text: &str,
    year: i32,
) -> Option<NaiveDate> {
    let Some(date) = parse_date(text) else {
        errors.push(CalendarFieldError::new(
            field,
            "invalid_date",
            format!("日期“{text}”无效，应为YYYY-MM-DD格式的真实日期"),
            format!("\"{text}\" is not a valid YYYY-MM-DD date"),
        ));
        return None;
    };
    if date.year() != year {
        // Each year's notice is stored as one calendar, and a date is looked up in the
        // calendar of its own year; a date of another year would never be consulted.
        errors.push(CalendarFieldError::new(
            field,
            "date_outside_year",
            format!("日期{date}不在{year}年内"),
            format!("{date} is not in {year}"),
        ));
    }
    Some(date)
}

impl YearCalendarInput {
    /// Validates the transcription against the rules of a notice and returns the trusted
    /// calendar, or every problem found (not just the first), each with a JSON path.
    ///
    /// `year_in_path` is the year being set (`PUT /api/v1/calendar/{year}`); dates are
    /// checked against it. Names and source are stored trimmed.
    ///
    /// Codes: `year_out_of_range`, `year_mismatch`, `empty_source`, `empty_name`, `too_long`,
    /// `no_holidays`, `invalid_date`, `date_outside_year`, `range_reversed`, `range_too_long`,
    /// `makeup_not_weekend`, `date_both_holiday_and_makeup`, `duplicate_date`.
    pub fn validate(&self, year_in_path: i32) -> Result<YearCalendar, Vec<CalendarFieldError>> {
        let mut errors = Vec::new();
        let year = year_in_path;

        for (label, value) in [("year", self.year), ("year (path)", year_in_path)] {
            if !(MIN_YEAR..=MAX_YEAR).contains(&value) {
                errors.push(CalendarFieldError::new(
                    "year",
                    "year_out_of_range",
                    format!("年份{value}超出允许范围{MIN_YEAR}–{MAX_YEAR}"),
                    format!("{label} {value} is outside {MIN_YEAR}–{MAX_YEAR}"),
                ));
            }
            if self.year == year_in_path {
                // Same value: one report is enough.
                break;
            }
        }
        if self.year != year_in_path {
            errors.push(CalendarFieldError::new(
                "year",
                "year_mismatch",
                format!(
                    "请求体中的年份{}与路径中的年份{year_in_path}不一致",
                    self.year
                ),
                format!(
                    "year {} in the body differs from year {year_in_path} in the path",
                    self.year
                ),
            ));
        }

        check_text(
            &mut errors,
            "source",
            &self.source,
            "empty_source",
            MAX_SOURCE_CHARS,
        );

        if self.holidays.is_empty() {
            // Every annual notice lists holidays; an empty list is a truncated upload.
            errors.push(CalendarFieldError::new(
                "holidays",
                "no_holidays",
                "节假日列表不能为空".to_owned(),
                "holidays must not be empty".to_owned(),
            ));
        }

        let mut holidays = Vec::with_capacity(self.holidays.len());
        // Ranges that are well-formed, used for the overlap and make-up checks: (index, from, to).
        let mut good_ranges: Vec<(usize, NaiveDate, NaiveDate)> = Vec::new();
        for (i, h) in self.holidays.iter().enumerate() {
            check_text(
                &mut errors,
                &format!("holidays[{i}].name"),
                &h.name,
                "empty_name",
                MAX_NAME_CHARS,
            );
            let from = check_date(&mut errors, &format!("holidays[{i}].from"), &h.from, year);
            let to = check_date(&mut errors, &format!("holidays[{i}].to"), &h.to, year);
            let (Some(from), Some(to)) = (from, to) else {
                continue;
            };
            if to < from {
                errors.push(CalendarFieldError::new(
                    format!("holidays[{i}].to"),
                    "range_reversed",
                    format!("结束日期{to}早于开始日期{from}"),
                    format!("end {to} is before start {from}"),
                ));
                continue;
            }
            let length = to.signed_duration_since(from).num_days() + 1;
            if length > MAX_HOLIDAY_DAYS {
                errors.push(CalendarFieldError::new(
                    format!("holidays[{i}].to"),
                    "range_too_long",
                    format!("放假区间共{length}天，超过{MAX_HOLIDAY_DAYS}天上限"),
                    format!("range of {length} days exceeds the limit of {MAX_HOLIDAY_DAYS}"),
                ));
                continue;
            }
            // A date in two ranges would have two names; the notice never does that.
            if let Some((j, _, _)) = good_ranges.iter().find(|(_, f, t)| from <= *t && *f <= to) {
                errors.push(CalendarFieldError::new(
                    format!("holidays[{i}].from"),
                    "duplicate_date",
                    format!("放假区间与holidays[{j}]重叠"),
                    format!("range overlaps holidays[{j}]"),
                ));
                continue;
            }
            good_ranges.push((i, from, to));
            holidays.push(HolidayRange {
                name: h.name.trim().to_owned(),
                from,
                to,
            });
        }

        let mut makeup_workdays = Vec::with_capacity(self.makeup_workdays.len());
        let mut seen_makeups: HashMap<NaiveDate, usize> = HashMap::new();
        for (k, m) in self.makeup_workdays.iter().enumerate() {
            let field = format!("makeup_workdays[{k}].date");
            check_text(
                &mut errors,
                &format!("makeup_workdays[{k}].name"),
                &m.name,
                "empty_name",
                MAX_NAME_CHARS,
            );
            let Some(date) = check_date(&mut errors, &field, &m.date, year) else {
                continue;
            };
            // 调休上班 only ever turns a Saturday or Sunday into a working day; a weekday
            // "make-up" day is a transcription error (Monday–Friday already work).
            if !is_weekend(date) {
                errors.push(CalendarFieldError::new(
                    field.clone(),
                    "makeup_not_weekend",
                    format!("调休上班日{date}不是周六或周日"),
                    format!("make-up working day {date} is not a Saturday or Sunday"),
                ));
            }
            if let Some((j, _, _)) = good_ranges
                .iter()
                .find(|(_, f, t)| *f <= date && date <= *t)
            {
                errors.push(CalendarFieldError::new(
                    field.clone(),
                    "date_both_holiday_and_makeup",
                    format!("日期{date}同时位于放假区间holidays[{j}]内"),
                    format!("{date} is also inside holiday range holidays[{j}]"),
                ));
            }
            if let Some(first) = seen_makeups.get(&date) {
                errors.push(CalendarFieldError::new(
                    field,
                    "duplicate_date",
                    format!("日期{date}与makeup_workdays[{first}]重复"),
                    format!("{date} repeats makeup_workdays[{first}]"),
                ));
                continue;
            }
            seen_makeups.insert(date, k);
            makeup_workdays.push(MakeupWorkday {
                date,
                name: m.name.trim().to_owned(),
            });
        }

        if errors.is_empty() {
            Ok(YearCalendar {
                year,
                source: self.source.trim().to_owned(),
                holidays,
                makeup_workdays,
            })
        } else {
            Err(errors)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validated calendar
// ---------------------------------------------------------------------------------------------

/// A holiday range of a validated calendar (both ends inclusive, inside the calendar's year).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HolidayRange {
    /// Holiday name as in the notice, e.g. "春节".
    pub name: String,
    /// First day off (inclusive).
    pub from: NaiveDate,
    /// Last day off (inclusive).
    pub to: NaiveDate,
}

/// A make-up working day of a validated calendar (always a Saturday or Sunday).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MakeupWorkday {
    /// The weekend day that is worked.
    pub date: NaiveDate,
    /// Explanation, e.g. "春节调休上班".
    pub name: String,
}

/// One year's calendar that passed [`YearCalendarInput::validate`]. Fields are private so
/// that every value of this type is known to be valid; it serialises to the same JSON shape
/// as [`YearCalendarInput`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct YearCalendar {
    /// Calendar year.
    year: i32,
    /// The notice the calendar was transcribed from.
    source: String,
    /// Holiday ranges (every day off, weekends included).
    holidays: Vec<HolidayRange>,
    /// Weekend days that are worked (调休上班).
    makeup_workdays: Vec<MakeupWorkday>,
}

impl YearCalendar {
    /// Calendar year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The notice the calendar was transcribed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Holiday ranges, in input order.
    pub fn holidays(&self) -> &[HolidayRange] {
        &self.holidays
    }

    /// Make-up working days, in input order.
    pub fn makeup_workdays(&self) -> &[MakeupWorkday] {
        &self.makeup_workdays
    }

    /// The input form (e.g. to store as JSON and re-validate on load).
    pub fn to_input(&self) -> YearCalendarInput {
        YearCalendarInput {
            year: self.year,
            source: self.source.clone(),
            holidays: self
                .holidays
                .iter()
                .map(|h| HolidayRangeInput {
                    name: h.name.clone(),
                    from: h.from.format(DATE_FORMAT).to_string(),
                    to: h.to.format(DATE_FORMAT).to_string(),
                })
                .collect(),
            makeup_workdays: self
                .makeup_workdays
                .iter()
                .map(|m| MakeupWorkdayInput {
                    date: m.date.format(DATE_FORMAT).to_string(),
                    name: m.name.clone(),
                })
                .collect(),
        }
    }
}

impl From<&YearCalendar> for YearCalendarInput {
    fn from(calendar: &YearCalendar) -> Self {
        calendar.to_input()
    }
}

/// Why [`parse_fixture`] rejected a document.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// Not JSON of the expected shape (unknown field, wrong type, ...).
    #[error("calendar JSON is malformed: {0}")]
    Json(#[from] serde_json::Error),
    /// Well-formed JSON that fails validation.
    #[error("calendar is invalid: {}", summarize(.0))]
    Invalid(Vec<CalendarFieldError>),
}

fn summarize(errors: &[CalendarFieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {} ({})", e.field, e.code, e.message_en))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Parses and validates a calendar document (a fixture file or a stored copy), taking the
/// year from the document itself.
pub fn parse_fixture(json: &str) -> Result<YearCalendar, FixtureError> {
    let input: YearCalendarInput = serde_json::from_str(json)?;
    input.validate(input.year).map_err(FixtureError::Invalid)
}

// ---------------------------------------------------------------------------------------------
// Day classification and counting
// ---------------------------------------------------------------------------------------------

/// Day of the week, serialised as `"Mon"` … `"Sun"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum DayOfWeek {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl From<Weekday> for DayOfWeek {
    fn from(weekday: Weekday) -> Self {
        match weekday {
            Weekday::Mon => Self::Mon,
            Weekday::Tue => Self::Tue,
            Weekday::Wed => Self::Wed,
            Weekday::Thu => Self::Thu,
            Weekday::Fri => Self::Fri,
            Weekday::Sat => Self::Sat,
            Weekday::Sun => Self::Sun,
        }
    }
}

/// Why a day is or is not a working day. Serialised with a `kind` tag, e.g.
/// `{"kind":"holiday","name":"春节"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayReason {
    /// Ordinary Monday–Friday: working.
    Weekday,
    /// Ordinary Saturday or Sunday: not working.
    Weekend,
    /// Inside a holiday range of the notice: not working, even on a weekday.
    Holiday {
        /// Holiday name, e.g. "春节".
        name: String,
    },
    /// Weekend day designated 调休上班: working.
    MakeupWorkday {
        /// Make-up day name, e.g. "春节调休上班".
        name: String,
    },
}

impl DayReason {
    /// Whether a day with this reason is a working day.
    pub fn is_working(&self) -> bool {
        matches!(self, Self::Weekday | Self::MakeupWorkday { .. })
    }
}

/// Classification of one date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DayInfo {
    /// The date.
    pub date: NaiveDate,
    /// Its day of the week.
    pub weekday: DayOfWeek,
    /// Whether it is a working day.
    pub working: bool,
    /// Why.
    pub reason: DayReason,
}

/// A calendar year and the version of it that was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CalendarVersion {
    /// Calendar year.
    pub year: i32,
    /// Version of that year's calendar (as stored by the caller).
    pub version: i32,
}

/// Result of [`Calendar::nth_working_day`], with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WorkingDayCount {
    /// The date counting started from.
    pub from: NaiveDate,
    /// N: how many working days were counted.
    pub count: u32,
    /// The first working day (day 1): `from` itself if it is a working day.
    pub start: NaiveDate,
    /// The Nth working day.
    pub end: NaiveDate,
    /// Every date from `from` through `end`, each classified.
    pub days: Vec<DayInfo>,
    /// The calendar years (ascending) and versions the answer depends on.
    pub calendar_versions: Vec<CalendarVersion>,
}

/// Why a working-day computation could not be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The calendar of this year is not loaded, so its holidays are unknown.
    #[error("the working-day calendar for {0} is not loaded")]
    YearMissing(i32),
    /// The requested count is 0 or above [`MAX_COUNT`].
    #[error("working-day count {0} is outside 1..={max}", max = MAX_COUNT)]
    CountOutOfRange(u32),
}

impl CalendarError {
    /// Stable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::YearMissing(_) => "calendar_year_missing",
            Self::CountOutOfRange(_) => "count_out_of_range",
        }
    }

    /// Message for Chinese-speaking users.
    pub fn message_zh(&self) -> String {
        match self {
            Self::YearMissing(year) => format!(
                "尚未载入{year}年的节假日安排（国务院办公厅关于{year}年部分节假日安排的通知），无法计算工作日"
            ),
            Self::CountOutOfRange(n) => {
                format!("工作日天数{n}无效，应在1至{MAX_COUNT}之间")
            }
        }
    }

    /// Message in English.
    pub fn message_en(&self) -> String {
        match self {
            Self::YearMissing(year) => format!(
                "The holiday calendar for {year} (State Council notice on {year} holidays) is not loaded; working days cannot be computed"
            ),
            Self::CountOutOfRange(n) => {
                format!("Working-day count {n} is invalid; it must be between 1 and {MAX_COUNT}")
            }
        }
    }
}

#[derive(Debug, Clone)]
struct LoadedYear {
    version: i32,
    calendar: YearCalendar,
    /// Dates that the notice changes from the plain weekday/weekend rule.
    marks: HashMap<NaiveDate, DayReason>,
}

impl LoadedYear {
    fn new(calendar: YearCalendar, version: i32) -> Self {
        let mut marks = HashMap::new();
        for h in &calendar.holidays {
            // Every day of the range is off and named by the holiday, weekends included.
            for date in h.from.iter_days().take_while(|d| *d <= h.to) {
                marks.insert(
                    date,
                    DayReason::Holiday {
                        name: h.name.clone(),
                    },
                );
            }
        }
        for m in &calendar.makeup_workdays {
            // Validation forbids a make-up day inside a holiday; should one slip through,
            // the day off wins, as a missed deadline is worse than an early one.
            marks
                .entry(m.date)
                .or_insert_with(|| DayReason::MakeupWorkday {
                    name: m.name.clone(),
                });
        }
        Self {
            version,
            calendar,
            marks,
        }
    }

    fn day(&self, date: NaiveDate) -> DayInfo {
        let reason = match self.marks.get(&date) {
            Some(reason) => reason.clone(),
            None if is_weekend(date) => DayReason::Weekend,
            None => DayReason::Weekday,
        };
        DayInfo {
            date,
            weekday: date.weekday().into(),
            working: reason.is_working(),
            reason,
        }
    }
}

/// The working-day calendar: validated years, each with the version it was loaded at.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    years: BTreeMap<i32, LoadedYear>,
}

impl Calendar {
    /// Builds the calendar from `(year calendar, version)` pairs. If a year appears more than
    /// once, the later pair replaces the earlier one.
    pub fn new(years: impl IntoIterator<Item = (YearCalendar, i32)>) -> Self {
        let years = years
            .into_iter()
            .map(|(calendar, version)| (calendar.year, LoadedYear::new(calendar, version)))
            .collect();
        Self { years }
    }

    /// Loaded years with their versions, ascending by year.
    pub fn years(&self) -> Vec<CalendarVersion> {
        self.years
            .iter()
            .map(|(&year, loaded)| CalendarVersion {
                year,
                version: loaded.version,
            })
            .collect()
    }

    /// The loaded calendar of `year` and its version, if any.
    pub fn year_calendar(&self, year: i32) -> Option<(&YearCalendar, i32)> {
        self.years
            .get(&year)
            .map(|loaded| (&loaded.calendar, loaded.version))
    }

    fn loaded(&self, year: i32) -> Result<&LoadedYear, CalendarError> {
        self.years
            .get(&year)
            .ok_or(CalendarError::YearMissing(year))
    }

    /// Classifies one date. Fails with [`CalendarError::YearMissing`] if its year is not
    /// loaded: without the notice we cannot know whether a weekday is a holiday.
    pub fn day(&self, date: NaiveDate) -> Result<DayInfo, CalendarError> {
        Ok(self.loaded(date.year())?.day(date))
    }

    /// Whether `date` is a working day (see [`Self::day`]).
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.day(date)?.working)
    }

    /// The `n`th working day counting `from` as day 1 when it is a working day (otherwise
    /// the first working day after it), with every date from `from` to the answer explained.
    ///
    /// Errors: [`CalendarError::CountOutOfRange`] unless `1 <= n <= MAX_COUNT`;
    /// [`CalendarError::YearMissing`] as soon as the walk reaches a year that is not loaded.
    pub fn nth_working_day(
        &self,
        from: NaiveDate,
        n: u32,
    ) -> Result<WorkingDayCount, CalendarError> {
        if n == 0 || n > MAX_COUNT {
            return Err(CalendarError::CountOutOfRange(n));
        }
        let mut days = Vec::new();
        let mut calendar_versions: Vec<CalendarVersion> = Vec::new();
        let mut found = 0_u32;
        let mut start = from;
        let mut date = from;
        loop {
            let year = date.year();
            let loaded = self.loaded(year)?;
            if calendar_versions.last().map(|v| v.year) != Some(year) {
                calendar_versions.push(CalendarVersion {
                    year,
                    version: loaded.version,
                });
            }
            let info = loaded.day(date);
            if info.working {
                found += 1;
                if found == 1 {
                    start = date;
                }
            }
            days.push(info);
            if found == n {
                return Ok(WorkingDayCount {
                    from,
                    count: n,
                    start,
                    end: date,
                    days,
                    calendar_versions,
                });
            }
            // The walk always ends: every step either finds a working day or moves on, and
            // running past the last loaded year fails with YearMissing above. chrono's date
            // range ends far beyond MAX_YEAR, so the next line only guards the type.
            date = date
                .succ_opt()
                .ok_or(CalendarError::YearMissing(year.saturating_add(1)))?;
        }
    }
}

#[cfg(test)]
// Tests may panic on unexpected values: that is how they fail.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::LazyLock;

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    const FIXTURE_2024: &str = include_str!("../../fixtures/calendar/2024.json");
    const FIXTURE_2025: &str = include_str!("../../fixtures/calendar/2025.json");
    const FIXTURE_2026: &str = include_str!("../../fixtures/calendar/2026.json");

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, DATE_FORMAT).unwrap()
    }

    fn fixture(year: i32) -> YearCalendar {
        let json = match year {
            2024 => FIXTURE_2024,
            2025 => FIXTURE_2025,
            2026 => FIXTURE_2026,
            _ => panic!("no fixture for {year}"),
        };
        parse_fixture(json).unwrap()
    }

    fn calendar_of(years: &[i32]) -> Calendar {
        Calendar::new(years.iter().map(|&y| (fixture(y), 1)))
    }

    static ALL: LazyLock<Calendar> = LazyLock::new(|| calendar_of(&[2024, 2025, 2026]));

    fn working_dates(count: &WorkingDayCount) -> Vec<NaiveDate> {
        count
            .days
            .iter()
            .filter(|day| day.working)
            .map(|day| day.date)
            .collect()
    }

    fn reason(kind: &str, name: &str) -> DayReason {
        match kind {
            "weekday" => DayReason::Weekday,
            "weekend" => DayReason::Weekend,
            "holiday" => DayReason::Holiday {
                name: name.to_owned(),
            },
            "makeup" => DayReason::MakeupWorkday {
                name: name.to_owned(),
            },
            _ => panic!("bad kind {kind}"),
        }
    }

    // ---- fixtures ----------------------------------------------------------------------

    #[test]
    fn fixtures_parse_validate_and_round_trip() {
        for (year, json, notice) in [
            (2024, FIXTURE_2024, "国办发明电〔2023〕7号"),
            (2025, FIXTURE_2025, "国办发明电〔2024〕12号"),
            (2026, FIXTURE_2026, "国办发明电〔2025〕7号"),
        ] {
            let calendar = parse_fixture(json).unwrap();
            assert_eq!(calendar.year(), year);
            assert!(calendar.source().contains(notice), "{year}");
            assert!(
                calendar
                    .source()
                    .contains(&format!("国务院办公厅关于{year}年部分节假日安排的通知"))
            );
            // The validated calendar serialises to exactly the fixture's shape and content.
            let original: Value = serde_json::from_str(json).unwrap();
            assert_eq!(serde_json::to_value(&calendar).unwrap(), original, "{year}");
            let input: YearCalendarInput = serde_json::from_str(json).unwrap();
            assert_eq!(calendar.to_input(), input);
            assert_eq!(YearCalendarInput::from(&calendar), input);
        }
    }

    #[test]
    fn fixture_counts_match_the_notices() {
        // (holiday ranges, make-up days): 2025 merges 国庆节 and 中秋节 into one range.
        for (year, holidays, makeups) in [(2024, 7, 8), (2025, 6, 5), (2026, 7, 6)] {
            let calendar = fixture(year);
            assert_eq!(calendar.holidays().len(), holidays, "{year}");
            assert_eq!(calendar.makeup_workdays().len(), makeups, "{year}");
        }
    }

    // ---- the product design's examples -------------------------------------------------

    #[test]
    fn example_spring_festival_2026() {
        let count = ALL.nth_working_day(d("2026-02-13"), 5).unwrap();
        assert_eq!(count.from, d("2026-02-13"));
        assert_eq!(count.count, 5);
        assert_eq!(count.start, d("2026-02-13"));
        assert_eq!(count.end, d("2026-02-26"));
        assert_eq!(
            working_dates(&count),
            [
                "2026-02-13",
                "2026-02-14",
                "2026-02-24",
                "2026-02-25",
                "2026-02-26"
            ]
            .map(d)
        );
        // Feb 13 through Feb 26 inclusive, every date explained.
        assert_eq!(count.days.len(), 14);
        assert_eq!(count.days[1].weekday, DayOfWeek::Sat);
        assert_eq!(count.days[1].reason, reason("makeup", "春节调休上班"));
        assert_eq!(count.days[2].reason, reason("holiday", "春节"));
        assert_eq!(count.days[10].date, d("2026-02-23"));
        assert_eq!(count.days[10].reason, reason("holiday", "春节"));
        assert_eq!(count.days[11].reason, DayReason::Weekday);
        assert_eq!(
            count.calendar_versions,
            vec![CalendarVersion {
                year: 2026,
                version: 1
            }]
        );
    }

    #[test]
    fn example_national_day_2026() {
        let count = ALL.nth_working_day(d("2026-09-30"), 5).unwrap();
        assert_eq!(count.start, d("2026-09-30"));
        assert_eq!(count.end, d("2026-10-12"));
        assert_eq!(
            working_dates(&count),
            [
                "2026-09-30",
                "2026-10-08",
                "2026-10-09",
                "2026-10-10",
                "2026-10-12"
            ]
            .map(d)
        );
        let oct10 = &count.days[10];
        assert_eq!(oct10.date, d("2026-10-10"));
        assert_eq!(oct10.weekday, DayOfWeek::Sat);
        assert_eq!(oct10.reason, reason("makeup", "国庆节调休上班"));
        let oct11 = &count.days[11];
        assert_eq!(oct11.reason, DayReason::Weekend);
        assert!(!oct11.working);
    }

    // ---- day classification ------------------------------------------------------------

    #[test]
    fn day_table() {
        let table: &[(&str, bool, &str, &str, DayOfWeek)] = &[
            // Ordinary days.
            ("2026-03-02", true, "weekday", "", DayOfWeek::Mon),
            ("2026-03-06", true, "weekday", "", DayOfWeek::Fri),
            ("2026-03-07", false, "weekend", "", DayOfWeek::Sat),
            ("2026-03-08", false, "weekend", "", DayOfWeek::Sun),
            // Holidays on weekdays and on weekends (named by the holiday, not "weekend").
            ("2026-01-01", false, "holiday", "元旦", DayOfWeek::Thu),
            ("2026-01-03", false, "holiday", "元旦", DayOfWeek::Sat),
            ("2026-02-15", false, "holiday", "春节", DayOfWeek::Sun),
            ("2026-02-23", false, "holiday", "春节", DayOfWeek::Mon),
            ("2026-04-06", false, "holiday", "清明节", DayOfWeek::Mon),
            ("2026-05-05", false, "holiday", "劳动节", DayOfWeek::Tue),
            ("2026-06-19", false, "holiday", "端午节", DayOfWeek::Fri),
            ("2026-09-25", false, "holiday", "中秋节", DayOfWeek::Fri),
            ("2026-10-07", false, "holiday", "国庆节", DayOfWeek::Wed),
            (
                "2025-10-06",
                false,
                "holiday",
                "国庆节、中秋节",
                DayOfWeek::Mon,
            ),
            ("2025-05-31", false, "holiday", "端午节", DayOfWeek::Sat),
            ("2024-06-10", false, "holiday", "端午节", DayOfWeek::Mon),
            // 2024's 除夕 (Feb 9) is officially a working day; the holiday starts Feb 10.
            ("2024-02-09", true, "weekday", "", DayOfWeek::Fri),
            ("2024-02-10", false, "holiday", "春节", DayOfWeek::Sat),
            // Make-up Saturdays and Sundays.
            ("2026-01-04", true, "makeup", "元旦调休上班", DayOfWeek::Sun),
            ("2026-02-14", true, "makeup", "春节调休上班", DayOfWeek::Sat),
            ("2026-02-28", true, "makeup", "春节调休上班", DayOfWeek::Sat),
            (
                "2026-05-09",
                true,
                "makeup",
                "劳动节调休上班",
                DayOfWeek::Sat,
            ),
            (
                "2026-09-20",
                true,
                "makeup",
                "国庆节调休上班",
                DayOfWeek::Sun,
            ),
            ("2025-01-26", true, "makeup", "春节调休上班", DayOfWeek::Sun),
            (
                "2025-09-28",
                true,
                "makeup",
                "国庆节、中秋节调休上班",
                DayOfWeek::Sun,
            ),
            ("2024-02-04", true, "makeup", "春节调休上班", DayOfWeek::Sun),
            (
                "2024-05-11",
                true,
                "makeup",
                "劳动节调休上班",
                DayOfWeek::Sat,
            ),
            (
                "2024-09-14",
                true,
                "makeup",
                "中秋节调休上班",
                DayOfWeek::Sat,
            ),
            // The day after a make-up Saturday is an ordinary Sunday.
            ("2026-02-01", false, "weekend", "", DayOfWeek::Sun),
            ("2026-05-10", false, "weekend", "", DayOfWeek::Sun),
        ];
        for &(date, working, kind, name, weekday) in table {
            let info = ALL.day(d(date)).unwrap();
            assert_eq!(info.date, d(date));
            assert_eq!(info.working, working, "{date}");
            assert_eq!(info.reason, reason(kind, name), "{date}");
            assert_eq!(info.weekday, weekday, "{date}");
            assert_eq!(ALL.is_working_day(d(date)).unwrap(), working, "{date}");
        }
    }

    #[test]
    fn day_in_unloaded_year_is_an_error_not_a_weekend_guess() {
        assert_eq!(
            ALL.day(d("2027-01-04")),
            Err(CalendarError::YearMissing(2027))
        );
        assert_eq!(
            ALL.is_working_day(d("2023-12-29")),
            Err(CalendarError::YearMissing(2023))
        );
        assert_eq!(
            Calendar::default().is_working_day(d("2026-03-02")),
            Err(CalendarError::YearMissing(2026))
        );
    }

    // ---- counting ----------------------------------------------------------------------

    #[test]
    fn count_table() {
        // (from, n, start, end)
        let table = [
            // n = 1 on a working day is that day.
            ("2026-03-04", 1, "2026-03-04", "2026-03-04"),
            // n = 1 on a Saturday / Sunday is the next Monday.
            ("2026-03-07", 1, "2026-03-09", "2026-03-09"),
            ("2026-03-08", 1, "2026-03-09", "2026-03-09"),
            // n = 1 on a holiday is the first working day after it.
            ("2026-02-15", 1, "2026-02-24", "2026-02-24"),
            ("2026-10-01", 1, "2026-10-08", "2026-10-08"),
            ("2025-01-28", 1, "2025-02-05", "2025-02-05"),
            // n = 1 on a make-up day is that day.
            ("2026-02-14", 1, "2026-02-14", "2026-02-14"),
            ("2026-09-20", 1, "2026-09-20", "2026-09-20"),
            // A plain week: Mon + 4 = Fri.
            ("2026-03-02", 5, "2026-03-02", "2026-03-06"),
            // Crossing a make-up Sunday: 2024-04-03 (Wed), 04-07 (Sun), 04-08, 04-09.
            ("2024-04-03", 4, "2024-04-03", "2024-04-09"),
            // 2024 Labour Day: 04-28 (Sun make-up), 04-29, 04-30, 05-06, 05-07.
            ("2024-04-27", 5, "2024-04-28", "2024-05-07"),
            // 2025 National Day + Mid-Autumn: 09-30, 10-09, 10-10, 10-11 (Sat make-up).
            ("2025-09-30", 4, "2025-09-30", "2025-10-11"),
            // 2024 除夕 is a working day: 02-08, 02-09, 02-18 (Sun make-up).
            ("2024-02-08", 3, "2024-02-08", "2024-02-18"),
        ];
        for (from, n, start, end) in table {
            let count = ALL.nth_working_day(d(from), n).unwrap();
            assert_eq!(count.start, d(start), "{from} n={n}");
            assert_eq!(count.end, d(end), "{from} n={n}");
            assert_eq!(count.days.first().unwrap().date, d(from));
            assert_eq!(count.days.last().unwrap().date, d(end));
        }
    }

    #[test]
    fn counting_across_new_year_uses_both_years() {
        // 2025-12-29 (Mon), 30, 31, then 2026-01-01..03 元旦, 01-04 (Sun make-up), 01-05.
        let calendar = Calendar::new([(fixture(2025), 3), (fixture(2026), 7)]);
        let count = calendar.nth_working_day(d("2025-12-29"), 5).unwrap();
        assert_eq!(
            working_dates(&count),
            [
                "2025-12-29",
                "2025-12-30",
                "2025-12-31",
                "2026-01-04",
                "2026-01-05"
            ]
            .map(d)
        );
        assert_eq!(
            count.calendar_versions,
            vec![
                CalendarVersion {
                    year: 2025,
                    version: 3
                },
                CalendarVersion {
                    year: 2026,
                    version: 7
                },
            ]
        );
        // The same count with only 2025 loaded must refuse, not assume 元旦 is a weekday.
        let only_2025 = calendar_of(&[2025]);
        assert_eq!(
            only_2025.nth_working_day(d("2025-12-29"), 5),
            Err(CalendarError::YearMissing(2026))
        );
        // ... while a count that stays in 2025 only reports 2025.
        let inside = calendar.nth_working_day(d("2025-12-29"), 3).unwrap();
        assert_eq!(inside.end, d("2025-12-31"));
        assert_eq!(inside.calendar_versions.len(), 1);
    }

    #[test]
    fn counting_into_an_unloaded_year_fails() {
        // 2026-12-28..31 are only 4 working days; the 5th would be in 2027.
        assert_eq!(
            ALL.nth_working_day(d("2026-12-28"), 10),
            Err(CalendarError::YearMissing(2027))
        );
        assert_eq!(
            ALL.nth_working_day(d("2026-12-28"), 4).unwrap().end,
            d("2026-12-31")
        );
        assert_eq!(
            ALL.nth_working_day(d("2026-12-28"), 5),
            Err(CalendarError::YearMissing(2027))
        );
        // Starting in an unloaded year fails at once.
        assert_eq!(
            ALL.nth_working_day(d("2023-12-31"), 1),
            Err(CalendarError::YearMissing(2023))
        );
        // A gap between loaded years is not bridged.
        let gap = calendar_of(&[2024, 2026]);
        assert_eq!(
            gap.nth_working_day(d("2024-12-31"), 2),
            Err(CalendarError::YearMissing(2025))
        );
    }

    #[test]
    fn count_bounds() {
        for n in [0, MAX_COUNT + 1, u32::MAX] {
            assert_eq!(
                ALL.nth_working_day(d("2026-03-02"), n),
                Err(CalendarError::CountOutOfRange(n))
            );
        }
        let longest = ALL.nth_working_day(d("2024-01-01"), MAX_COUNT).unwrap();
        assert_eq!(working_dates(&longest).len(), MAX_COUNT as usize);
        assert!(longest.end.year() == 2025);
    }

    #[test]
    fn years_and_versions() {
        let calendar = Calendar::new([(fixture(2026), 2), (fixture(2024), 1), (fixture(2026), 5)]);
        // Ascending by year; the later pair for 2026 replaced the earlier one.
        assert_eq!(
            calendar.years(),
            vec![
                CalendarVersion {
                    year: 2024,
                    version: 1
                },
                CalendarVersion {
                    year: 2026,
                    version: 5
                },
            ]
        );
        let (year_2026, version) = calendar.year_calendar(2026).unwrap();
        assert_eq!((year_2026.year(), version), (2026, 5));
        assert!(calendar.year_calendar(2025).is_none());
        assert!(Calendar::default().years().is_empty());
    }

    // ---- serialisation -----------------------------------------------------------------

    #[test]
    fn reasons_and_days_serialise_as_documented() {
        assert_eq!(
            serde_json::to_value(DayReason::Weekday).unwrap(),
            json!({"kind": "weekday"})
        );
        assert_eq!(
            serde_json::to_value(DayReason::Weekend).unwrap(),
            json!({"kind": "weekend"})
        );
        assert_eq!(
            serde_json::to_value(reason("holiday", "春节")).unwrap(),
            json!({"kind": "holiday", "name": "春节"})
        );
        assert_eq!(
            serde_json::to_value(reason("makeup", "春节调休上班")).unwrap(),
            json!({"kind": "makeup_workday", "name": "春节调休上班"})
        );
        let count = ALL.nth_working_day(d("2026-02-13"), 2).unwrap();
        let value = serde_json::to_value(&count).unwrap();
        assert_eq!(
            value,
            json!({
                "from": "2026-02-13",
                "count": 2,
                "start": "2026-02-13",
                "end": "2026-02-14",
                "days": [
                    {"date": "2026-02-13", "weekday": "Fri", "working": true,
                     "reason": {"kind": "weekday"}},
                    {"date": "2026-02-14", "weekday": "Sat", "working": true,
                     "reason": {"kind": "makeup_workday", "name": "春节调休上班"}}
                ],
                "calendar_versions": [{"year": 2026, "version": 1}]
            })
        );
        let back: WorkingDayCount = serde_json::from_value(value).unwrap();
        assert_eq!(back, count);
    }

    #[test]
    fn calendar_errors_have_codes_and_messages() {
        let missing = CalendarError::YearMissing(2027);
        assert_eq!(missing.code(), "calendar_year_missing");
        assert!(missing.message_zh().contains("2027年"));
        assert!(missing.message_en().contains("2027"));
        assert!(missing.to_string().contains("2027"));
        let range = CalendarError::CountOutOfRange(0);
        assert_eq!(range.code(), "count_out_of_range");
        assert!(range.message_zh().contains("366"));
        assert!(range.message_en().contains("between 1 and 366"));
        assert!(range.to_string().contains("1..=366"));
    }

    // ---- validation --------------------------------------------------------------------

    fn input(value: Value) -> YearCalendarInput {
        serde_json::from_value(value).unwrap()
    }

    fn codes(errors: &[CalendarFieldError]) -> Vec<(&str, &str)> {
        errors.iter().map(|e| (e.field.as_str(), e.code)).collect()
    }

    #[test]
    fn validation_reports_every_problem_at_once() {
        let body = input(json!({
            "year": 2026,
            "source": "  ",
            "holidays": [
                {"name": "春节", "from": "2026-02-15", "to": "2026-02-23"},
                {"name": "", "from": "2026-05-05", "to": "2026-05-01"},
                {"name": "跨年", "from": "2025-12-31", "to": "2026-01-01"},
                {"name": "元宵", "from": "2026-02-20", "to": "2026-02-21"},
                {"name": "坏日期", "from": "2026-02-30", "to": "2026-3-1"},
                {"name": "全年", "from": "2026-01-01", "to": "2026-12-31"}
            ],
            "makeup_workdays": [
                {"date": "2026-02-14", "name": "春节调休上班"},
                {"date": "2026-02-16", "name": "春节调休上班"},
                {"date": "2026-02-14", "name": "重复"},
                {"date": "2027-01-02", "name": "明年"},
                {"date": "2026-03-03", "name": " "}
            ]
        }));
        let errors = input_errors(&body, 2026);
        assert_eq!(
            codes(&errors),
            vec![
                ("source", "empty_source"),
                ("holidays[1].name", "empty_name"),
                ("holidays[1].to", "range_reversed"),
                ("holidays[2].from", "date_outside_year"),
                ("holidays[3].from", "duplicate_date"),
                ("holidays[4].from", "invalid_date"),
                ("holidays[4].to", "invalid_date"),
                ("holidays[5].to", "range_too_long"),
                ("makeup_workdays[1].date", "makeup_not_weekend"),
                ("makeup_workdays[1].date", "date_both_holiday_and_makeup"),
                ("makeup_workdays[2].date", "duplicate_date"),
                ("makeup_workdays[3].date", "date_outside_year"),
                ("makeup_workdays[4].name", "empty_name"),
                ("makeup_workdays[4].date", "makeup_not_weekend"),
            ]
        );
        for error in &errors {
            assert!(!error.message_zh.is_empty() && !error.message_en.is_empty());
        }
        // Messages name the offending values.
        assert!(errors[2].message_en.contains("2026-05-01"));
        assert!(errors[4].message_en.contains("holidays[0]"));
        assert!(errors[5].message_zh.contains("2026-02-30"));
    }

    fn input_errors(body: &YearCalendarInput, year: i32) -> Vec<CalendarFieldError> {
        match body.validate(year) {
            Ok(calendar) => panic!("expected errors, got {calendar:?}"),
            Err(errors) => errors,
        }
    }

    #[test]
    fn validation_of_year() {
        let good: YearCalendarInput = serde_json::from_str(FIXTURE_2026).unwrap();
        assert!(good.validate(2026).is_ok());

        // Path and body disagree: the dates are checked against the path's year.
        let errors = input_errors(&good, 2027);
        assert_eq!(codes(&errors)[0], ("year", "year_mismatch"));
        assert!(errors.iter().skip(1).all(|e| e.code == "date_outside_year"));

        let mut far = good.clone();
        far.year = 1999;
        let errors = input_errors(&far, 1999);
        assert_eq!(codes(&errors)[0], ("year", "year_out_of_range"));
        assert_eq!(
            errors
                .iter()
                .filter(|e| e.code == "year_out_of_range")
                .count(),
            1
        );

        let mut late = good;
        late.year = 2101;
        let errors = input_errors(&late, 2026);
        assert_eq!(
            codes(&errors),
            vec![("year", "year_out_of_range"), ("year", "year_mismatch")]
        );
    }

    #[test]
    fn validation_of_lists_and_lengths() {
        let errors = input_errors(
            &input(json!({
                "year": 2026, "source": "x".repeat(MAX_SOURCE_CHARS + 1),
                "holidays": [], "makeup_workdays": []
            })),
            2026,
        );
        assert_eq!(
            codes(&errors),
            vec![("source", "too_long"), ("holidays", "no_holidays")]
        );

        let errors = input_errors(
            &input(json!({
                "year": 2026, "source": "通知",
                "holidays": [{"name": "节".repeat(MAX_NAME_CHARS + 1),
                              "from": "2026-01-01", "to": "2026-01-01"}],
                "makeup_workdays": []
            })),
            2026,
        );
        assert_eq!(codes(&errors), vec![("holidays[0].name", "too_long")]);

        // A one-day holiday, no make-up days, names trimmed: valid.
        let ok = input(json!({
            "year": 2025, "source": " 通知 ",
            "holidays": [{"name": " 元旦 ", "from": "2025-01-01", "to": "2025-01-01"}],
            "makeup_workdays": []
        }))
        .validate(2025)
        .unwrap();
        assert_eq!(ok.source(), "通知");
        assert_eq!(ok.holidays()[0].name, "元旦");
        // Exactly MAX_HOLIDAY_DAYS is still accepted.
        assert!(
            input(json!({
                "year": 2025, "source": "通知",
                "holidays": [{"name": "长假", "from": "2025-07-01", "to": "2025-07-31"}],
                "makeup_workdays": []
            }))
            .validate(2025)
            .is_ok()
        );
    }

    #[test]
    fn unknown_or_missing_fields_are_rejected() {
        let extra =
            r#"{"year": 2026, "source": "s", "holidays": [], "makeup_workdays": [], "note": 1}"#;
        assert!(matches!(parse_fixture(extra), Err(FixtureError::Json(_))));
        let nested = r#"{"year": 2026, "source": "s", "makeup_workdays": [],
            "holidays": [{"name": "元旦", "from": "2026-01-01", "to": "2026-01-01", "days": 1}]}"#;
        assert!(matches!(parse_fixture(nested), Err(FixtureError::Json(_))));
        let missing = r#"{"year": 2026, "source": "s", "holidays": []}"#;
        assert!(matches!(parse_fixture(missing), Err(FixtureError::Json(_))));
        let invalid = r#"{"year": 2026, "source": "s", "holidays": [], "makeup_workdays": []}"#;
        match parse_fixture(invalid) {
            Err(FixtureError::Invalid(errors)) => {
                assert_eq!(codes(&errors), vec![("holidays", "no_holidays")]);
            }
            other => panic!("unexpected {other:?}"),
        }
        let message = parse_fixture(invalid).unwrap_err().to_string();
        assert!(message.contains("holidays: no_holidays"), "{message}");
    }

    // ---- independent cross-check ---------------------------------------------------------

    // Typed directly from the three notices, separately from fixtures/calendar/*.json:
    // (year, holiday, every Monday–Friday it takes off, as MM-DD).
    #[rustfmt::skip] // One row per holiday, as the notice lists them.
    const OFF_WEEKDAYS: &[(i32, &str, &[&str])] = &[
        // 国办发明电〔2023〕7号
        (2024, "元旦", &["01-01"]),
        (2024, "春节", &["02-12", "02-13", "02-14", "02-15", "02-16"]),
        (2024, "清明节", &["04-04", "04-05"]),
        (2024, "劳动节", &["05-01", "05-02", "05-03"]),
        (2024, "端午节", &["06-10"]),
        (2024, "中秋节", &["09-16", "09-17"]),
        (2024, "国庆节", &["10-01", "10-02", "10-03", "10-04", "10-07"]),
        // 国办发明电〔2024〕12号
        (2025, "元旦", &["01-01"]),
        (2025, "春节", &["01-28", "01-29", "01-30", "01-31", "02-03", "02-04"]),
        (2025, "清明节", &["04-04"]),
        (2025, "劳动节", &["05-01", "05-02", "05-05"]),
        (2025, "端午节", &["06-02"]),
        (2025, "国庆节、中秋节", &["10-01", "10-02", "10-03", "10-06", "10-07", "10-08"]),
        // 国办发明电〔2025〕7号
        (2026, "元旦", &["01-01", "01-02"]),
        (2026, "春节", &["02-16", "02-17", "02-18", "02-19", "02-20", "02-23"]),
        (2026, "清明节", &["04-06"]),
        (2026, "劳动节", &["05-01", "05-04", "05-05"]),
        (2026, "端午节", &["06-19"]),
        (2026, "中秋节", &["09-25"]),
        (2026, "国庆节", &["10-01", "10-02", "10-05", "10-06", "10-07"]),
    ];
    // (year, holiday, every Saturday/Sunday worked for it, as MM-DD).
    #[rustfmt::skip]
    const WORKING_WEEKENDS: &[(i32, &str, &[&str])] = &[
        (2024, "春节", &["02-04", "02-18"]),
        (2024, "清明节", &["04-07"]),
        (2024, "劳动节", &["04-28", "05-11"]),
        (2024, "中秋节", &["09-14"]),
        (2024, "国庆节", &["09-29", "10-12"]),
        (2025, "春节", &["01-26", "02-08"]),
        (2025, "劳动节", &["04-27"]),
        (2025, "国庆节、中秋节", &["09-28", "10-11"]),
        (2026, "元旦", &["01-04"]),
        (2026, "春节", &["02-14", "02-28"]),
        (2026, "劳动节", &["05-09"]),
        (2026, "国庆节", &["09-20", "10-10"]),
    ];

    /// The independent table as date → (holiday name, is a make-up day).
    fn independent_table() -> HashMap<NaiveDate, (&'static str, bool)> {
        let mut table = HashMap::new();
        for (rows, makeup) in [(OFF_WEEKDAYS, false), (WORKING_WEEKENDS, true)] {
            for &(year, name, dates) in rows {
                for md in dates {
                    let date = d(&format!("{year}-{md}"));
                    assert!(table.insert(date, (name, makeup)).is_none(), "{date} twice");
                }
            }
        }
        table
    }

    #[test]
    fn independent_table_is_self_consistent() {
        let table = independent_table();
        let off: Vec<_> = table.iter().filter(|(_, (_, m))| !m).collect();
        let worked: Vec<_> = table.iter().filter(|(_, (_, m))| *m).collect();
        assert_eq!(off.len(), 19 + 18 + 19);
        assert_eq!(worked.len(), 8 + 5 + 6);
        for (date, _) in off {
            assert!(!is_weekend(*date), "{date} is not Monday–Friday");
        }
        for (date, _) in worked {
            assert!(is_weekend(*date), "{date} is not a weekend day");
        }
    }

    #[test]
    fn fixtures_agree_with_independent_table_for_every_day_2024_to_2026() {
        let table = independent_table();
        let mut checked = 0;
        for date in d("2024-01-01")
            .iter_days()
            .take_while(|x| *x <= d("2026-12-31"))
        {
            let info = ALL.day(date).unwrap();
            match table.get(&date) {
                Some(&(name, false)) => {
                    assert!(!info.working, "{date}");
                    assert_eq!(info.reason, reason("holiday", name), "{date}");
                }
                Some(&(name, true)) => {
                    assert!(info.working, "{date}");
                    let label = format!("{name}调休上班");
                    assert_eq!(info.reason, reason("makeup", &label), "{date}");
                }
                // Not in the table: a weekday works; a weekend day rests, either as an
                // ordinary weekend or as a weekend day inside a holiday range.
                None if is_weekend(date) => {
                    assert!(!info.working, "{date}");
                    assert!(
                        matches!(info.reason, DayReason::Weekend | DayReason::Holiday { .. }),
                        "{date}"
                    );
                }
                None => {
                    assert!(info.working, "{date}");
                    assert_eq!(info.reason, DayReason::Weekday, "{date}");
                }
            }
            checked += 1;
        }
        assert_eq!(checked, 366 + 365 + 365);
    }

    // ---- properties ----------------------------------------------------------------------

    proptest! {
        #[test]
        fn nth_working_day_properties(offset in 0_u64..1096, n in 1_u32..=20) {
            let from = d("2024-01-01") + chrono::Days::new(offset);
            let count = match ALL.nth_working_day(from, n) {
                Ok(count) => count,
                Err(error) => {
                    // Only a count running off the end of 2026 may fail, and only this way.
                    prop_assert_eq!(error, CalendarError::YearMissing(2027));
                    prop_assert!(from >= d("2026-11-01"));
                    return Ok(());
                }
            };
            prop_assert_eq!(count.from, from);
            prop_assert_eq!(count.count, n);
            prop_assert!(ALL.is_working_day(count.end).unwrap());
            prop_assert!(ALL.is_working_day(count.start).unwrap());
            let working = working_dates(&count);
            prop_assert_eq!(working.len(), n as usize);
            prop_assert_eq!(working[0], count.start);
            prop_assert_eq!(*working.last().unwrap(), count.end);
            // days[] is every date from `from` through `end`, in order, each as day() says:
            // so no working day in between was skipped.
            let expected_len = count.end.signed_duration_since(from).num_days() + 1;
            prop_assert_eq!(count.days.len() as i64, expected_len);
            for (i, info) in count.days.iter().enumerate() {
                prop_assert_eq!(info.date, from + chrono::Days::new(i as u64));
                prop_assert_eq!(info, &ALL.day(info.date).unwrap());
            }
            // Nothing before `start` works.
            prop_assert!(count.days.iter().take_while(|x| x.date < count.start).all(|x| !x.working));
            // Counting from the start gives the same end; the answer is a fixed point for n=1.
            prop_assert_eq!(ALL.nth_working_day(count.start, n).unwrap().end, count.end);
            prop_assert_eq!(ALL.nth_working_day(count.end, 1).unwrap().end, count.end);
            // Versions cover exactly the years walked through.
            let years: Vec<i32> = count.calendar_versions.iter().map(|v| v.year).collect();
            let walked: Vec<i32> = (from.year()..=count.end.year()).collect();
            prop_assert_eq!(years, walked);
        }

        #[test]
        fn one_more_working_day_is_strictly_later(offset in 0_u64..1000, n in 1_u32..=20) {
            let from = d("2024-01-01") + chrono::Days::new(offset);
            if let (Ok(a), Ok(b)) = (ALL.nth_working_day(from, n), ALL.nth_working_day(from, n + 1)) {
                prop_assert!(b.end > a.end);
                // Between the two ends lies no working day.
                let between = b.days[a.days.len()..b.days.len() - 1].iter().all(|x| !x.working);
                prop_assert!(between);
            }
        }
    }
}
