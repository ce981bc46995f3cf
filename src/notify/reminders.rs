//! Reminders, run daily by the scheduler:
//!
//! - `mail.inspection_reminder` (09:00 Beijing): from `INSPECTION_REMINDER_DATE` (default
//!   06-01, before the 30 June sweep of §1.8) to the end of the year, every concerned
//!   institution (active pool entry or live application — [`recipients::concerned_institutions`])
//!   without any record for last year is reminded, once a year each.
//! - `mail.credential_expiry` (09:00 Beijing): for the concerned institutions' current rosters,
//!   a teacher credential whose `expires_on` is within 30 days, and a criminal-record check
//!   whose validity (its date + [`CRIMINAL_CHECK_MAX_AGE_DAYS`], the age accepted at
//!   submission) ends within 30 days, are announced to the institution, once per credential
//!   and expiry date (or per check date).
//! - `mail.calendar_missing` (09:00 Beijing): from 1 November, while next year's working-day
//!   calendar is not loaded, every enabled admin is told so, once a year each (working-day
//!   deadlines that reach into a year without its calendar cannot be computed).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::json;

use crate::applications::service::CRIMINAL_CHECK_MAX_AGE_DAYS;
use crate::clock::beijing_date;
use crate::db::DbConn;
use crate::db::schema::{inspections, institutions};
use crate::error::ApiResult;
use crate::institutions as institutions_service;
use crate::jobs::registry::{Handler, JobError, JobInfo, Registry};
use crate::mail::{Email, Template, queue};
use crate::notify::recipients;

pub const INSPECTION_REMINDER: &str = "mail.inspection_reminder";
pub const CREDENTIAL_EXPIRY: &str = "mail.credential_expiry";
pub const CALENDAR_MISSING: &str = "mail.calendar_missing";

/// From this day (month, day; Beijing) admins are told that next year's calendar is missing.
pub const CALENDAR_WARNING_FROM: (u32, u32) = (11, 1);

/// How far ahead expiring credentials and checks are announced.
pub const EXPIRY_NOTICE_DAYS: i64 = 30;

pub fn register(registry: &mut Registry) {
    registry.register(INSPECTION_REMINDER, Handler::Transactional(inspection_job));
    registry.register(
        CREDENTIAL_EXPIRY,
        Handler::Transactional(|conn, job, _| {
            expiring_credentials(conn, job.now).map_err(api_to_job)?;
            Ok(())
        }),
    );
    registry.register(
        CALENDAR_MISSING,
        Handler::Transactional(|conn, job, _| {
            calendar_missing(conn, job.now).map_err(api_to_job)?;
            Ok(())
        }),
    );
}

/// From 1 November, tells every enabled admin (once a year each) that next year's calendar is
/// not loaded; returns how many messages were enqueued.
pub fn calendar_missing(conn: &mut DbConn, now: DateTime<Utc>) -> ApiResult<usize> {
    let today = beijing_date(now);
    let (month, day) = CALENDAR_WARNING_FROM;
    if (today.month(), today.day()) < (month, day) {
        return Ok(0);
    }
    let year = today.year() + 1;
    if crate::calendar::store::get(conn, year)?.is_some() {
        return Ok(0);
    }
    let mut sent = 0;
    for (email, name) in recipients::admins(conn)? {
        sent += queue(
            conn,
            now,
            &Email {
                template: Template::CalendarMissing,
                to: vec![email],
                vars: json!({ "admin_name": name, "year": year }),
                key: format!("calendar_missing:{year}"),
            },
        )?;
    }
    Ok(sent)
}

fn api_to_job(e: crate::error::ApiError) -> JobError {
    JobError::Retry(anyhow::Error::new(e))
}

/// From the configured reminder date on, reminds (once a year, by de-duplication) every
/// concerned institution without last year's record; the sweep date is the due date it names.
fn inspection_job(conn: &mut DbConn, job: &JobInfo, _: &serde_json::Value) -> Result<(), JobError> {
    let today = beijing_date(job.now);
    let starts = job.settings.mail.reminder_date(today.year());
    if starts.is_none_or(|starts| today < starts) {
        return Ok(());
    }
    remind_missing_inspections(
        conn,
        job.now,
        today.year() - 1,
        job.settings.inspection_sweep_date,
    )
    .map_err(api_to_job)?;
    Ok(())
}

/// Reminds every concerned institution without a record for `year`; returns how many
/// messages were enqueued.
pub fn remind_missing_inspections(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    year: i32,
    (due_month, due_day): (u32, u32),
) -> ApiResult<usize> {
    let due_on = NaiveDate::from_ymd_opt(year + 1, due_month, due_day)
        .map(|d| d.to_string())
        .unwrap_or_default();
    let mut sent = 0;
    for id in recipients::concerned_institutions(conn)? {
        let recorded: i64 = inspections::table
            .filter(inspections::institution_id.eq(id))
            .filter(inspections::year.eq(year))
            .count()
            .get_result(conn)?;
        if recorded > 0 {
            continue;
        }
        let name = institution_name(conn, id)?;
        let to = recipients::institution(conn, id)?;
        sent += queue(
            conn,
            now,
            &Email {
                template: Template::InspectionReminder,
                to,
                vars: json!({ "institution_name": name, "year": year, "due_on": due_on }),
                key: format!("inspection_reminder:{id}:{year}"),
            },
        )?;
    }
    Ok(sent)
}

/// Announces credentials and criminal-record checks that run out within
/// [`EXPIRY_NOTICE_DAYS`]; returns how many messages were enqueued.
pub fn expiring_credentials(conn: &mut DbConn, now: DateTime<Utc>) -> ApiResult<usize> {
    let today = beijing_date(now);
    let horizon = today + Duration::days(EXPIRY_NOTICE_DAYS);
    let within = |d: NaiveDate| today <= d && d <= horizon;
    let mut sent = 0;
    for id in recipients::concerned_institutions(conn)? {
        let teachers = institutions_service::active_teachers(conn, id, today)?;
        if teachers.is_empty() {
            continue;
        }
        let name = institution_name(conn, id)?;
        let to = recipients::institution(conn, id)?;
        for teacher in teachers {
            for credential in &teacher.credentials {
                let c = &credential.stored;
                let Some(expires_on) = c.expires_on.filter(|d| within(*d)) else {
                    continue;
                };
                sent += queue(
                    conn,
                    now,
                    &Email {
                        template: Template::CredentialExpiring,
                        to: to.clone(),
                        vars: json!({
                            "institution_name": name,
                            "teacher_name": teacher.name,
                            "credential": credential_label(c.kind.as_str()),
                            "expires_on": expires_on.to_string(),
                            "days_left": (expires_on - today).num_days(),
                        }),
                        key: format!(
                            "credential_expiring:{}:{}:{}:{expires_on}",
                            teacher.id,
                            c.kind.as_str(),
                            c.number
                        ),
                    },
                )?;
            }
            if let Some(check) = &teacher.criminal_check {
                let valid_until = check.date + Duration::days(CRIMINAL_CHECK_MAX_AGE_DAYS);
                if within(valid_until) {
                    sent += queue(
                        conn,
                        now,
                        &Email {
                            template: Template::CriminalCheckExpiring,
                            to: to.clone(),
                            vars: json!({
                                "institution_name": name,
                                "teacher_name": teacher.name,
                                "checked_on": check.date.to_string(),
                                "valid_until": valid_until.to_string(),
                                "days_left": (valid_until - today).num_days(),
                            }),
                            key: format!("criminal_check_expiring:{}:{}", teacher.id, check.date),
                        },
                    )?;
                }
            }
        }
    }
    Ok(sent)
}

fn institution_name(conn: &mut DbConn, id: i64) -> ApiResult<String> {
    Ok(institutions::table
        .find(id)
        .select(institutions::name)
        .first(conn)?)
}

fn credential_label(kind: &str) -> &'static str {
    match kind {
        "teacher_qualification" => "教师资格证书",
        "professional_skill" => "专业技能证书",
        "vocational_qualification" => "职业资格证书",
        "social_sports_instructor" => "社会体育指导员证书",
        "heritage_inheritor" => "非物质文化遗产代表性传承人认定",
        _ => "资质证书",
    }
}
