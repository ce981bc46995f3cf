//! Objections to a notice (异议, DESIGN.md §1.6): filed by anyone without an account during the
//! window, rate-limited per client IP (counted in the database, so the limit holds across
//! instances), resolved by a reviewer — upheld (the application is rejected) or dismissed (the
//! application is admitted at once if the window is over and nothing else holds it back).
//! Objectors' details are shown to reviewers only; the notice board shows counts.

pub mod intake;
pub mod routes;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::applications::facts::app_facts;
use crate::applications::service as applications_service;
use crate::applications::status::{Event, Status};
use crate::audit;
use crate::auth::{AuthUser, Ctx};
use crate::db::columns::UtcTime;
use crate::db::schema::{applications, objections};
use crate::db::{DbConn, db_time};
use crate::documents::store::{self as docs, NewDocument};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::notices::objection_status::{self, ObjectionStatus};
use crate::notices::{admission, service as notices};

mod resolution;

pub use resolution::*;

/// Shortest grounds accepted, in characters after trimming ("at least a sentence").
pub const MIN_GROUNDS_CHARS: usize = 10;

#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct NewObjection {
    /// The application objected to (it must be in this notice).
    pub application_id: i64,
    /// The objector's real name.
    #[validate(length(min = 1, max = 50))]
    pub name: String,
    /// A mainland mobile number (`1[3-9]` and 9 more digits).
    pub mobile: String,
    #[validate(email, length(max = 254))]
    pub email: Option<String>,
    /// At least a sentence (10 characters or more).
    #[validate(length(max = 10000))]
    pub grounds: String,
}

/// An objection as reviewers see it (with the objector's details).
#[derive(Debug, Serialize, ToSchema)]
pub struct Objection {
    pub id: i64,
    pub notice_id: i64,
    pub application_id: i64,
    pub objector_name: String,
    pub objector_mobile: String,
    pub objector_email: Option<String>,
    pub grounds: String,
    pub evidence_document_id: Option<i64>,
    /// `pending`, `upheld` or `dismissed`.
    pub status: String,
    pub resolution_reasons: Option<String>,
    pub resolved_by: Option<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<UtcTime>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
}

/// What the public objector gets back: a receipt, no personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionReceipt {
    pub id: i64,
    pub notice_id: i64,
    pub application_id: i64,
    pub status: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = objections)]
struct Row {
    id: i64,
    notice_id: i64,
    application_id: i64,
    objector_name: String,
    objector_mobile: String,
    objector_email: Option<String>,
    grounds: String,
    evidence_document_id: Option<i64>,
    status: String,
    resolution_reasons: Option<String>,
    resolved_by: Option<i64>,
    resolved_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

impl From<Row> for Objection {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            notice_id: r.notice_id,
            application_id: r.application_id,
            objector_name: r.objector_name,
            objector_mobile: r.objector_mobile,
            objector_email: r.objector_email,
            grounds: r.grounds,
            evidence_document_id: r.evidence_document_id,
            status: r.status,
            resolution_reasons: r.resolution_reasons,
            resolved_by: r.resolved_by,
            resolved_at: r.resolved_at.map(Into::into),
            created_at: r.created_at.into(),
        }
    }
}

/// A mainland mobile number: 11 digits, `1` then `3`–`9`.
pub fn is_mainland_mobile(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
}

fn check_fields(req: &NewObjection) -> ApiResult<()> {
    let mut issues = Vec::new();
    if req.name.trim().is_empty() {
        issues.push(FieldIssue::new(
            "name",
            "name_required",
            Msg::new("请填写真实姓名。", "Your real name is required."),
        ));
    }
    if !is_mainland_mobile(req.mobile.trim()) {
        issues.push(FieldIssue::new(
            "mobile",
            "invalid_mobile",
            Msg::new(
                "请填写有效的中国大陆手机号码（11 位，以 13–19 开头）。",
                "Enter a valid mainland mobile number (11 digits starting 13–19).",
            ),
        ));
    }
    if req.grounds.trim().chars().count() < MIN_GROUNDS_CHARS {
        issues.push(FieldIssue::new(
            "grounds",
            "grounds_too_short",
            Msg::new(
                format!("异议理由至少 {MIN_GROUNDS_CHARS} 个字。"),
                format!("Grounds need at least {MIN_GROUNDS_CHARS} characters."),
            ),
        ));
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(issues))
    }
}

/// The rate limit per client IP: at most `limit` objections in the last hour.
fn check_rate(conn: &mut DbConn, ip: &str, limit: u32, now: DateTime<Utc>) -> ApiResult<()> {
    let since = db_time(now - Duration::hours(1));
    let recent: Vec<NaiveDateTime> = objections::table
        .filter(objections::client_ip.eq(ip))
        .filter(objections::created_at.gt(since))
        .order(objections::created_at.asc())
        .select(objections::created_at)
        .load(conn)?;
    if recent.len() < limit as usize {
        return Ok(());
    }
    // Free again when the oldest counted objection is an hour old.
    let oldest = recent.first().map_or(now, |t| t.and_utc());
    let wait = (oldest + Duration::hours(1) - now).num_seconds().max(1);
    let wait = u64::try_from(wait).unwrap_or(1);
    let mut err = ApiError::new(
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        Msg::new(
            format!("提交异议过于频繁，请在 {wait} 秒后重试。"),
            format!("Too many objections from your address; try again in {wait} seconds."),
        ),
    );
    if let ApiError::Problem(p) = &mut err {
        p.retry_after = Some(wait);
    }
    Err(err)
}

/// Every check of an objection, without writing: the notice exists, the fields, the
/// application is in the notice, the window is open, the client is under the rate limit.
/// (Run before an evidence file is stored, and again inside [`file`]'s transaction.)
pub fn precheck(
    conn: &mut DbConn,
    ctx: &Ctx,
    notice_id: i64,
    req: &NewObjection,
    client_ip: &str,
    rate_limit: u32,
) -> ApiResult<()> {
    let target = notices::objection_window(conn, notice_id, ctx.now)?;
    check_fields(req)?;
    let in_notice: i64 = applications::table
        .filter(applications::id.eq(req.application_id))
        .filter(applications::notice_id.eq(notice_id))
        .count()
        .get_result(conn)?;
    if in_notice == 0 {
        return Err(ApiError::validation(vec![FieldIssue::new(
            "application_id",
            "application_not_in_notice",
            Msg::new(
                "该申报不在本公示中。",
                "The application is not in this notice.",
            ),
        )]));
    }
    if !target.accepting {
        return Err(ApiError::conflict(
            "notice_closed",
            format!(
                "不在公示期内，异议受理截止于 {}（北京时间当日 23:59:59）。",
                crate::clock::beijing_date(target.closes_at)
            ),
            format!(
                "The notice is not accepting objections; the window ends {} (UTC).",
                target.closes_at.to_rfc3339()
            ),
        ));
    }
    check_rate(conn, client_ip, rate_limit, ctx.now)
}

/// Serialises the objections of one client address, so the rate limit's count and the insert
/// cannot interleave: on PostgreSQL a transaction-scoped advisory lock on the address; SQLite's
/// write transaction (`BEGIN IMMEDIATE`) already holds the database lock.
fn lock_client(conn: &mut DbConn, ip: &str) -> ApiResult<()> {
    if matches!(conn, DbConn::Postgres(_)) {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7270, hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(ip)
            .execute(conn)?;
    }
    Ok(())
}

/// Files an objection (public), with its optional evidence document recorded in the same
/// transaction as kind `objection_evidence`. Outside the window: 409 `notice_closed`.
pub fn file(
    conn: &mut DbConn,
    ctx: &Ctx,
    notice_id: i64,
    req: &NewObjection,
    client_ip: &str,
    rate_limit: u32,
    evidence: Option<&NewDocument>,
) -> ApiResult<ObjectionReceipt> {
    lock_client(conn, client_ip)?;
    precheck(conn, ctx, notice_id, req, client_ip, rate_limit)?;
    let evidence_document_id = match evidence {
        Some(doc) => Some(docs::insert(conn, ctx, doc)?.id),
        None => None,
    };
    let now = db_time(ctx.now);
    let id: i64 = diesel::insert_into(objections::table)
        .values((
            objections::notice_id.eq(notice_id),
            objections::application_id.eq(req.application_id),
            objections::objector_name.eq(req.name.trim()),
            objections::objector_mobile.eq(req.mobile.trim()),
            objections::objector_email.eq(req.email.as_deref().map(str::trim)),
            objections::grounds.eq(req.grounds.trim()),
            objections::evidence_document_id.eq(evidence_document_id),
            objections::client_ip.eq(client_ip),
            objections::status.eq(ObjectionStatus::Pending.as_str()),
            objections::created_at.eq(now),
        ))
        .returning(objections::id)
        .get_result(conn)?;
    // No personal data in the audit trail: the objector is identified by the objection id.
    audit::record(
        conn,
        ctx,
        "objection.filed",
        "objection",
        id,
        serde_json::json!({
            "notice_id": notice_id, "application_id": req.application_id,
            "evidence_document_id": evidence_document_id,
        }),
    )?;
    crate::mail::outbox::record(
        conn,
        ctx.now,
        crate::mail::outbox::Event::ObjectionFiled { objection_id: id },
    )?;
    Ok(ObjectionReceipt {
        id,
        notice_id,
        application_id: req.application_id,
        status: ObjectionStatus::Pending.as_str().into(),
        created_at: now.into(),
    })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObjectionFilter {
    /// `pending`, `upheld` or `dismissed`.
    pub status: Option<String>,
    pub notice_id: Option<i64>,
    pub application_id: Option<i64>,
}

/// Objections for reviewers, newest first.
pub fn list(
    conn: &mut DbConn,
    filter: &ObjectionFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(Vec<Objection>, i64)> {
    let query = || {
        let mut q = objections::table.into_boxed();
        if let Some(s) = &filter.status {
            q = q.filter(objections::status.eq(s.clone()));
        }
        if let Some(n) = filter.notice_id {
            q = q.filter(objections::notice_id.eq(n));
        }
        if let Some(a) = filter.application_id {
            q = q.filter(objections::application_id.eq(a));
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let items = query()
        .order(objections::id.desc())
        .offset(offset)
        .limit(limit)
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Objection::from)
        .collect();
    Ok((items, total))
}

/// Every objection against an application, oldest first (the reviewer's dossier).
pub fn of_application(conn: &mut DbConn, application_id: i64) -> ApiResult<Vec<Objection>> {
    Ok(objections::table
        .filter(objections::application_id.eq(application_id))
        .order(objections::id.asc())
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Objection::from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainland_mobile_numbers() {
        for ok in ["13800771234", "19912345678", "15000000000"] {
            assert!(is_mainland_mobile(ok), "{ok}");
        }
        for bad in [
            "12800771234",
            "1380077123",
            "138007712345",
            "+8613800771234",
            "1380077123a",
            "",
        ] {
            assert!(!is_mainland_mobile(bad), "{bad}");
        }
    }
}
