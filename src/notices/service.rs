//! Notice services: publish, the public board and recomputation after a calendar change (the
//! closing job is in [`crate::notices::closing`]).
//!
//! Window (DESIGN.md §1.5): the notice starts on its publication date if that is a working day,
//! otherwise on the next working day, and ends on the 5th working day counting the start as the
//! 1st; objections are accepted until 23:59:59 Asia/Shanghai on the end date (`closes_at`,
//! stored as UTC). The closing job is due one second after `closes_at`.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::applications::facts::item_refs;
use crate::applications::service::{self as applications_service, ItemRef};
use crate::applications::status::{Event, Status};
use crate::audit;
use crate::auth::{AuthUser, Ctx};
use crate::calendar::routes::calendar_problem;
use crate::calendar::rules::{Calendar, CalendarVersion, DayInfo, YearCalendarInput};
use crate::calendar::store::{self as calendar_store, StoredYear};
use crate::clock::{beijing_date, beijing_instant, end_of_beijing_day};
use crate::db::columns::UtcTime;
use crate::db::schema::{applications, institutions, notices, objections};
use crate::db::{DbConn, JsonText, db_time};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::jobs::{self, NewJob};
use crate::notices::status::{self, NoticeStatus};
use crate::notices::{CLOSE_NOTICE, admission};

/// The length of a notice, in working days (selection notice §三).
pub const NOTICE_WORKING_DAYS: u32 = 5;

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct NewNotice {
    /// Defaults to "<date> 课后服务第三方机构备选库入库公示".
    #[validate(length(min = 1, max = 200))]
    pub title: Option<String>,
    /// Today or later (Beijing time); never backdated.
    pub publication_date: NaiveDate,
    /// Approved applications of one round (up to 20,000: every approved application of a
    /// round).
    #[validate(length(min = 1, max = 20000))]
    pub application_ids: Vec<i64>,
}

/// A notice window.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Window {
    /// The first working day of the notice.
    pub starts_on: NaiveDate,
    /// The 5th working day counting the start as the 1st.
    pub ends_on: NaiveDate,
    /// 23:59:59 Asia/Shanghai on the end date: the last instant objections are accepted.
    #[schema(value_type = String, format = DateTime)]
    pub closes_at: DateTime<Utc>,
    /// The calendar years and versions this window was computed with.
    pub calendar_versions: Vec<CalendarVersion>,
}

/// An earlier window, replaced when a calendar change recomputed the notice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EarlierWindow {
    #[serde(flatten)]
    pub window: Window,
    /// When it was replaced.
    #[schema(value_type = String, format = DateTime)]
    pub replaced_at: DateTime<Utc>,
}

/// How the public objects to an application in the notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionRoute {
    pub method: &'static str,
    pub path: String,
    /// Objections are accepted until this instant.
    #[schema(value_type = String, format = DateTime)]
    pub deadline: DateTime<Utc>,
    pub instructions_zh: &'static str,
    pub instructions_en: &'static str,
}

/// An institution on the notice board (no personal data).
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticedApplication {
    pub application_id: i64,
    pub institution_name: String,
    pub uscc: String,
    pub district: Option<String>,
    pub approved_items: Vec<ItemRef>,
    /// `in_notice`, `admitted` or `rejected`.
    pub status: Status,
    /// Objections received against it.
    pub objection_count: i64,
}

/// A public notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notice {
    pub id: i64,
    pub title: String,
    pub round_id: i64,
    pub publication_date: NaiveDate,
    /// `open` or `closed`.
    pub status: String,
    /// The current window.
    pub window: Window,
    /// Whether objections are accepted at this moment.
    pub accepting_objections: bool,
    /// The count day by day, from the publication date to the end date.
    pub explanation: Vec<DayInfo>,
    /// Windows replaced by recomputations after calendar changes, oldest first.
    pub earlier_windows: Vec<EarlierWindow>,
    pub applications: Vec<NoticedApplication>,
    pub objection_route: ObjectionRoute,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<UtcTime>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = notices)]
pub(super) struct Row {
    id: i64,
    title: String,
    round_id: i64,
    publication_date: NaiveDate,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    pub(super) closes_at: NaiveDateTime,
    calendar_versions: JsonText<Vec<CalendarVersion>>,
    explanation: JsonText<Vec<DayInfo>>,
    window_history: JsonText<Vec<EarlierWindow>>,
    pub(super) status: String,
    closed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

impl Row {
    fn window(&self) -> Window {
        Window {
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            closes_at: self.closes_at.and_utc(),
            calendar_versions: self.calendar_versions.0.clone(),
        }
    }

    fn history(&self) -> Vec<EarlierWindow> {
        self.window_history.0.clone()
    }
}

/// The computed window of a publication date, with its explanation.
struct Computed {
    window: Window,
    days: Vec<DayInfo>,
}

fn compute(conn: &mut DbConn, publication_date: NaiveDate) -> ApiResult<Computed> {
    compute_with(&crate::calendar::store::calendar(conn)?, publication_date)
}

fn compute_with(calendar: &Calendar, publication_date: NaiveDate) -> ApiResult<Computed> {
    let count = calendar
        .nth_working_day(publication_date, NOTICE_WORKING_DAYS)
        .map_err(calendar_problem)?;
    Ok(Computed {
        window: Window {
            starts_on: count.start,
            ends_on: count.end,
            closes_at: end_of_beijing_day(count.end),
            calendar_versions: count.calendar_versions,
        },
        days: count.days,
    })
}

fn closing_job(notice_id: i64, closes_at: DateTime<Utc>) -> NewJob {
    NewJob::new(
        CLOSE_NOTICE,
        serde_json::json!({ "notice_id": notice_id }),
        closes_at + Duration::seconds(1),
    )
    .dedup(format!(
        "{CLOSE_NOTICE}:{notice_id}:{}",
        closes_at.timestamp()
    ))
}

pub(super) fn load_row(conn: &mut DbConn, id: i64) -> ApiResult<Row> {
    notices::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("公示", "notice"))
}

/// What publication checks of an application.
struct PublicationFacts {
    id: i64,
    institution_id: i64,
    round_id: i64,
    status: Status,
}

/// The publication facts of `ids` that exist, read a chunk of ids per statement.
fn publication_facts(conn: &mut DbConn, ids: &[i64]) -> ApiResult<HashMap<i64, PublicationFacts>> {
    let mut facts = HashMap::new();
    for chunk in ids.chunks(admission::STATEMENT_IDS) {
        let rows: Vec<(i64, i64, i64, String)> = applications::table
            .filter(applications::id.eq_any(chunk))
            .select((
                applications::id,
                applications::institution_id,
                applications::round_id,
                applications::status,
            ))
            .load(conn)?;
        for (id, institution_id, round_id, status) in rows {
            let status = Status::parse(&status)
                .ok_or_else(|| anyhow::anyhow!("bad status in applications.{id}"))?;
            facts.insert(
                id,
                PublicationFacts {
                    id,
                    institution_id,
                    round_id,
                    status,
                },
            );
        }
    }
    Ok(facts)
}

/// Publishes a notice for approved applications of one round.
pub fn publish(
    conn: &mut DbConn,
    reviewer: &AuthUser,
    ctx: &Ctx,
    req: &NewNotice,
) -> ApiResult<Notice> {
    let today = beijing_date(ctx.now);
    if req.publication_date < today {
        return Err(ApiError::validation(vec![FieldIssue::new(
            "publication_date",
            "publication_backdated",
            Msg::new(
                format!("公示发布日期不得早于今天（{today}，北京时间）。"),
                format!("The publication date cannot be before today ({today}, Beijing time)."),
            ),
        )]));
    }
    let facts = publication_facts(conn, &req.application_ids)?;
    let mut issues = Vec::new();
    let mut apps = Vec::new();
    let mut listed = std::collections::HashSet::new();
    for (i, id) in req.application_ids.iter().enumerate() {
        if !listed.insert(*id) {
            issues.push(FieldIssue::new(
                format!("application_ids[{i}]"),
                "duplicate_application",
                Msg::new(
                    format!("申报 {id} 重复。"),
                    format!("Application {id} is listed twice."),
                ),
            ));
            continue;
        }
        match facts.get(id) {
            Some(app) if app.status == Status::Approved => apps.push(app),
            Some(app) => issues.push(FieldIssue::new(
                format!("application_ids[{i}]"),
                "application_not_approved",
                Msg::new(
                    format!(
                        "申报 {id} 的状态为 {}，只有已批准的申报可以公示。",
                        app.status.as_str()
                    ),
                    format!(
                        "Application {id} is {}; only approved applications can be published.",
                        app.status.as_str()
                    ),
                ),
            )),
            None => issues.push(FieldIssue::new(
                format!("application_ids[{i}]"),
                "unknown_application",
                Msg::new(
                    format!("申报 {id} 不存在。"),
                    format!("Application {id} does not exist."),
                ),
            )),
        }
    }
    if let Some(first) = apps.first() {
        let round_id = first.round_id;
        for (i, app) in apps.iter().enumerate() {
            if app.round_id != round_id {
                issues.push(FieldIssue::new(
                    format!("application_ids[{i}]"),
                    "mixed_rounds",
                    Msg::new(
                        "同一公示中的申报须属于同一遴选批次。",
                        "The applications of one notice must belong to one round.",
                    ),
                ));
            }
        }
    }
    if !issues.is_empty() {
        return Err(ApiError::validation(issues));
    }
    let round_id = apps.first().map(|a| a.round_id).unwrap_or_default();
    let computed = compute(conn, req.publication_date)?;
    let w = &computed.window;
    let title = req
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map_or_else(
            || format!("{} 课后服务第三方机构备选库入库公示", req.publication_date),
            str::to_owned,
        );
    let now = db_time(ctx.now);
    let id: i64 = diesel::insert_into(notices::table)
        .values((
            notices::title.eq(&title),
            notices::round_id.eq(round_id),
            notices::published_by.eq(Some(reviewer.id)),
            notices::publication_date.eq(req.publication_date),
            notices::starts_on.eq(w.starts_on),
            notices::ends_on.eq(w.ends_on),
            notices::closes_at.eq(db_time(w.closes_at)),
            notices::calendar_versions
                .eq(serde_json::to_string(&w.calendar_versions).unwrap_or_default()),
            notices::explanation.eq(serde_json::to_string(&computed.days).unwrap_or_default()),
            notices::window_history.eq("[]"),
            notices::status.eq(NoticeStatus::Open.as_str()),
            notices::created_at.eq(now),
            notices::updated_at.eq(now),
        ))
        .returning(notices::id)
        .get_result(conn)?;
    let app_ids: Vec<i64> = apps.iter().map(|a| a.id).collect();
    for chunk in app_ids.chunks(admission::STATEMENT_IDS) {
        applications_service::transition_many(conn, chunk, Status::Approved, Event::Publish, now)?;
        diesel::update(applications::table.filter(applications::id.eq_any(chunk)))
            .set(applications::notice_id.eq(Some(id)))
            .execute(conn)?;
    }
    let events = apps
        .iter()
        .map(|app| audit::NewEvent {
            action: "application.published".to_owned(),
            entity_type: "application".to_owned(),
            entity_id: app.id.to_string(),
            summary: serde_json::json!({ "notice_id": id, "institution_id": app.institution_id }),
        })
        .collect();
    audit::append_many(conn, ctx, events)?;
    jobs::enqueue(conn, &closing_job(id, w.closes_at), ctx.now)?;
    audit::record(
        conn,
        ctx,
        "notice.published",
        "notice",
        id,
        serde_json::json!({
            "publication_date": req.publication_date, "starts_on": w.starts_on,
            "ends_on": w.ends_on, "closes_at": w.closes_at,
            "calendar_versions": w.calendar_versions, "application_ids": req.application_ids,
        }),
    )?;
    crate::mail::outbox::record(
        conn,
        ctx.now,
        crate::mail::outbox::Event::NoticePublished { notice_id: id },
    )?;
    get(conn, id, ctx.now)
}

/// The public views of `rows`: their applications and objection counts in one query each,
/// however many notices the page holds.
fn views(conn: &mut DbConn, rows: Vec<Row>, now: DateTime<Utc>) -> ApiResult<Vec<Notice>> {
    type Listed = (
        i64,
        i64,
        String,
        Option<JsonText<Vec<String>>>,
        String,
        String,
        Option<String>,
    );
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let listed: Vec<Listed> = applications::table
        .inner_join(institutions::table)
        .filter(applications::notice_id.eq_any(&ids))
        .order(applications::id.asc())
        .select((
            applications::notice_id.assume_not_null(),
            applications::id,
            applications::status,
            applications::approved_items,
            institutions::name,
            institutions::uscc,
            institutions::district,
        ))
        .load(conn)?;
    let counts: HashMap<i64, i64> = objections::table
        .filter(objections::notice_id.eq_any(&ids))
        .group_by(objections::application_id)
        .select((objections::application_id, diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    let mut by_notice: HashMap<i64, Vec<NoticedApplication>> = HashMap::new();
    for (notice_id, id, status, approved, name, uscc, district) in listed {
        by_notice
            .entry(notice_id)
            .or_default()
            .push(NoticedApplication {
                application_id: id,
                institution_name: name,
                uscc,
                district,
                approved_items: item_refs(&approved.map(JsonText::into_inner).unwrap_or_default()),
                status: Status::parse(&status).unwrap_or(Status::InNotice),
                objection_count: counts.get(&id).copied().unwrap_or(0),
            });
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let applications = by_notice.remove(&row.id).unwrap_or_default();
            view(row, applications, now)
        })
        .collect())
}

fn view(row: Row, applications: Vec<NoticedApplication>, now: DateTime<Utc>) -> Notice {
    let window = row.window();
    let accepting = accepting_objections(&row.status, &window, now);
    Notice {
        id: row.id,
        objection_route: ObjectionRoute {
            method: "POST",
            path: format!("/api/v1/notices/{}/objections", row.id),
            deadline: window.closes_at,
            instructions_zh: "公示期内任何人均可无需账号提出异议：填写所异议的申报（application_id）、真实姓名、中国大陆手机号码、异议理由（至少一句话），可附证据文件。",
            instructions_en: "Anyone may object during the notice window without an account: the application objected to (application_id), real name, mainland mobile number, grounds (at least a sentence), and optionally an evidence file.",
        },
        explanation: row.explanation.0.clone(),
        earlier_windows: row.history(),
        accepting_objections: accepting,
        window,
        title: row.title,
        round_id: row.round_id,
        publication_date: row.publication_date,
        status: row.status,
        applications,
        closed_at: row.closed_at.map(Into::into),
        created_at: row.created_at.into(),
    }
}

/// Objections are accepted from the start of the first day through the whole last second
/// `closes_at` (23:59:59.999… Beijing time): the window is over from the next midnight.
pub(crate) fn accepting_objections(status: &str, window: &Window, now: DateTime<Utc>) -> bool {
    NoticeStatus::parse(status) == Some(NoticeStatus::Open)
        && beijing_instant(window.starts_on, NaiveTime::MIN) <= now
        && !is_past(window.closes_at, now)
}

/// Whether `now` is after the whole second `closes_at` (the clock may carry fractions).
pub(super) fn is_past(closes_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= closes_at + Duration::seconds(1)
}

pub fn get(conn: &mut DbConn, id: i64, now: DateTime<Utc>) -> ApiResult<Notice> {
    let row = load_row(conn, id)?;
    let mut notices = views(conn, vec![row], now)?;
    notices
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("notice {id} vanished")))
}

/// The notice board, newest first.
pub fn list(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    offset: i64,
    limit: i64,
) -> ApiResult<(Vec<Notice>, i64)> {
    let total = notices::table.count().get_result(conn)?;
    let rows: Vec<Row> = notices::table
        .order((notices::publication_date.desc(), notices::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(Row::as_select())
        .load(conn)?;
    Ok((views(conn, rows, now)?, total))
}

/// What an objection needs to know about the notice of an application.
pub struct ObjectionTarget {
    pub notice_id: i64,
    pub accepting: bool,
    pub closes_at: DateTime<Utc>,
}

/// Whether notice `id` accepts objections now (404 if there is no such notice).
pub fn objection_window(
    conn: &mut DbConn,
    id: i64,
    now: DateTime<Utc>,
) -> ApiResult<ObjectionTarget> {
    let row = load_row(conn, id)?;
    let window = row.window();
    Ok(ObjectionTarget {
        notice_id: id,
        accepting: accepting_objections(&row.status, &window, now),
        closes_at: window.closes_at,
    })
}

/// Whether the window of notice `id` has ended (closed, or past `closes_at`).
pub fn window_over(conn: &mut DbConn, id: i64, now: DateTime<Utc>) -> ApiResult<bool> {
    let row = load_row(conn, id)?;
    Ok(
        NoticeStatus::parse(&row.status) == Some(NoticeStatus::Closed)
            || is_past(row.closes_at.and_utc(), now),
    )
}

/// The open notices whose window used calendar `year`, each with its window counted again by
/// `calendar`: what saving the year changes (the preview) and changed (the save).
fn windows_by(
    conn: &mut DbConn,
    calendar: &Calendar,
    year: i32,
) -> ApiResult<Vec<(Row, Computed)>> {
    let open: Vec<Row> = notices::table
        .filter(notices::status.eq(NoticeStatus::Open.as_str()))
        .order(notices::id.asc())
        .select(Row::as_select())
        .load(conn)?;
    open.into_iter()
        .filter(|row| row.calendar_versions.0.iter().any(|v| v.year == year))
        .map(|row| {
            let computed = compute_with(calendar, row.publication_date)?;
            Ok((row, computed))
        })
        .collect()
}

/// What saving a year's calendar would do, computed without writing anything.
#[derive(Debug, Serialize)]
pub struct CalendarPreview {
    pub year: i32,
    /// The stored version the preview was computed against (absent for a year not loaded).
    pub from_version: Option<i32>,
    /// Every open notice whose window used the year, old window → new window.
    pub changes: Vec<WindowChange>,
}

/// One open notice's window before and after a calendar change.
#[derive(Debug, Serialize)]
pub struct WindowChange {
    pub notice_id: i64,
    pub title: String,
    pub publication_date: NaiveDate,
    pub from: Window,
    pub to: Window,
    /// Whether the dates move (a notice that used the year may keep its window).
    pub changed: bool,
}

/// The preview of `PUT /calendar/{year}`: the year checked as the save checks it, then every
/// open notice that used the year counted again over the stored years with this one in its
/// place — the same count the save runs ([`recompute_for_calendar`]) — and nothing written.
pub fn preview_calendar(
    conn: &mut DbConn,
    year: i32,
    input: &YearCalendarInput,
) -> ApiResult<CalendarPreview> {
    let proposed = calendar_store::validated(year, input)?;
    let stored = calendar_store::all(conn)?;
    let from_version = stored
        .iter()
        .find(|y| y.calendar.year() == year)
        .map(|y| y.version);
    let calendar = Calendar::new(
        stored
            .into_iter()
            .filter(|y| y.calendar.year() != year)
            .map(|y| (y.calendar, y.version))
            .chain([(proposed, from_version.map_or(1, |v| v + 1))]),
    );
    let changes = windows_by(conn, &calendar, year)?
        .into_iter()
        .map(|(row, computed)| {
            let (from, to) = (row.window(), computed.window);
            WindowChange {
                notice_id: row.id,
                title: row.title,
                publication_date: row.publication_date,
                changed: (from.starts_on, from.ends_on, from.closes_at)
                    != (to.starts_on, to.ends_on, to.closes_at),
                from,
                to,
            }
        })
        .collect();
    Ok(CalendarPreview {
        year,
        from_version,
        changes,
    })
}

/// `PUT /calendar/{year}`: stores the year (a new version) and recomputes the open notices
/// that used it, in the caller's transaction. Returns the stored year and how many notices
/// were recomputed.
pub fn save_calendar(
    conn: &mut DbConn,
    ctx: &Ctx,
    year: i32,
    input: &YearCalendarInput,
) -> ApiResult<(StoredYear, usize)> {
    let stored = calendar_store::replace(conn, ctx, year, input)?;
    let recomputed = recompute_for_calendar(conn, ctx, year)?;
    Ok((stored, recomputed))
}

/// After an admin changed calendar `year`: recomputes every open notice whose window used that
/// year, keeps the earlier window in its history, audits `notice.recomputed` and schedules the
/// closing job at the new closing instant. Runs in the calendar change's transaction.
pub fn recompute_for_calendar(conn: &mut DbConn, ctx: &Ctx, year: i32) -> ApiResult<usize> {
    let calendar = calendar_store::calendar(conn)?;
    let mut recomputed = 0;
    for (row, computed) in windows_by(conn, &calendar, year)? {
        let old = row.window();
        let new = computed.window;
        let mut history = row.history();
        history.push(EarlierWindow {
            window: old.clone(),
            replaced_at: ctx.now,
        });
        let now = db_time(ctx.now);
        status::transition(
            conn,
            row.id,
            NoticeStatus::Open,
            status::Event::Recompute,
            now,
        )?;
        diesel::update(notices::table.find(row.id))
            .set((
                notices::starts_on.eq(new.starts_on),
                notices::ends_on.eq(new.ends_on),
                notices::closes_at.eq(db_time(new.closes_at)),
                notices::calendar_versions
                    .eq(serde_json::to_string(&new.calendar_versions).unwrap_or_default()),
                notices::explanation.eq(serde_json::to_string(&computed.days).unwrap_or_default()),
                notices::window_history.eq(serde_json::to_string(&history).unwrap_or_default()),
            ))
            .execute(conn)?;
        // The job of the old closing instant finds the notice not yet due and does nothing.
        jobs::enqueue(conn, &closing_job(row.id, new.closes_at), ctx.now)?;
        audit::record(
            conn,
            ctx,
            "notice.recomputed",
            "notice",
            row.id,
            serde_json::json!({
                "calendar_year": year,
                "from": { "starts_on": old.starts_on, "ends_on": old.ends_on, "closes_at": old.closes_at, "calendar_versions": old.calendar_versions },
                "to": { "starts_on": new.starts_on, "ends_on": new.ends_on, "closes_at": new.closes_at, "calendar_versions": new.calendar_versions },
            }),
        )?;
        recomputed += 1;
    }
    Ok(recomputed)
}
