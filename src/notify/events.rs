//! One function per event: it reads what it needs from the workflow tables (migration
//! 000004) and queues the event's messages. Call it in the transaction of the change it
//! reports, right after the change's audit event. Keys are derived from the row the event
//! created (a decision, an objection, a ban …), so a message goes out once per event.
//!
//! Wired so far: [`application_submitted`] (in `applications::service::submit`). The others
//! are ready for the capabilities that own those rows:
//!
//! | call after | function |
//! |---|---|
//! | a review decision row is inserted | [`application_decided`]`(conn, now, decision_id)` |
//! | a notice is published (applications have their `notice_id`) | [`notice_published`]`(conn, now, notice_id)` |
//! | an objection is filed | [`objection_filed`]`(conn, now, objection_id)` |
//! | an objection is upheld or dismissed | [`objection_resolved`]`(conn, now, objection_id)` |
//! | pool entries are created (an admission batch) | [`admitted_many`]`(conn, now, pool_entry_ids)` |
//! | an exit case is opened (its grounds inserted) | [`exit_case_opened`]`(conn, now, case_id)` |
//! | a statement of defence is filed | [`statement_received`]`(conn, now, case_id)` |
//! | a ban is recorded | [`removed_and_banned`]`(conn, now, ban_id)` |
//! | a contract is created | [`contract_created`]`(conn, now, contract_id)` |
//! | a contract ends (terminated, expired, institution removed) | [`contract_ended`]`(conn, now, contract_id)` |

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

use crate::catalogue::Catalogue;
use crate::clock::beijing_date;
use crate::contracts::status::EndReason;
use crate::db::schema::{
    applications, bans, contracts, decisions, exit_cases, exit_grounds, institutions, notices,
    objections, pool_entries, rounds, schools,
};
use crate::db::{DbConn, JsonText};
use crate::error::ApiResult;
use crate::mail::{Email, Template, queue};
use crate::notices::objection_status::ObjectionStatus;
use crate::notify::links;
use crate::notify::recipients;

/// Chinese names of catalogue item codes (the code itself if it left the catalogue).
pub fn item_names(codes: &[String]) -> Vec<String> {
    let catalogue = Catalogue::get();
    codes
        .iter()
        .map(|c| {
            catalogue
                .activity(c)
                .map_or_else(|_| c.clone(), |i| i.name_zh.clone())
        })
        .collect()
}

/// An application was submitted (or resubmitted after a return): "received" to the
/// institution, "new work" to every reviewer.
pub fn application_submitted(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    application_id: i64,
) -> ApiResult<()> {
    let (institution_id, round_id, proposed): (i64, i64, JsonText<Vec<String>>) =
        applications::table
            .find(application_id)
            .select((
                applications::institution_id,
                applications::round_id,
                applications::proposed_items,
            ))
            .first(conn)?;
    let institution_name: String = institutions::table
        .find(institution_id)
        .select(institutions::name)
        .first(conn)?;
    let round_name: String = rounds::table
        .find(round_id)
        .select(rounds::name)
        .first(conn)?;
    let codes = proposed.into_inner();
    let key = format!(
        "application_submitted:{application_id}:{}",
        now.timestamp_micros()
    );
    let institution = recipients::institution(conn, institution_id)?;
    let reviewers = recipients::reviewers(conn)?;
    queue(
        conn,
        now,
        &Email {
            template: Template::ApplicationReceived,
            to: institution,
            vars: json!({
                "institution_name": institution_name,
                "application_id": application_id, "link": links::application(application_id),
                "round_name": round_name,
                "submitted_on": beijing_date(now).to_string(),
                "items": item_names(&codes),
            }),
            key: key.clone(),
        },
    )?;
    queue(
        conn,
        now,
        &Email {
            template: Template::ReviewerNewWork,
            to: reviewers,
            vars: json!({
                "work": "submission",
                "institution_name": institution_name,
                "reference_id": application_id,
            }),
            key,
        },
    )?;
    Ok(())
}

/// A TEXT column holding a JSON list of strings, or a plain text (one element).
fn list_or_text(raw: &str) -> Vec<String> {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .filter(|s| !s.trim().is_empty())
            .collect(),
        Ok(serde_json::Value::String(s)) => vec![s],
        _ if raw.trim().is_empty() => Vec::new(),
        _ => vec![raw.to_owned()],
    }
}

/// The Chinese name of an exit ground (§1.8).
pub fn ground_label(code: &str) -> String {
    crate::sanctions::Ground::parse(code)
        .map_or_else(|| code.to_owned(), |g| g.name_zh().to_owned())
}

fn institution_name(conn: &mut DbConn, id: i64) -> ApiResult<String> {
    Ok(institutions::table
        .find(id)
        .select(institutions::name)
        .first(conn)?)
}

/// The institution that made an application: its id and name.
fn applicant(conn: &mut DbConn, application_id: i64) -> ApiResult<(i64, String)> {
    let institution_id: i64 = applications::table
        .find(application_id)
        .select(applications::institution_id)
        .first(conn)?;
    Ok((institution_id, institution_name(conn, institution_id)?))
}

fn to_institution(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    institution_id: i64,
    template: Template,
    vars: serde_json::Value,
    key: String,
) -> ApiResult<usize> {
    let to = recipients::institution(conn, institution_id)?;
    queue(
        conn,
        now,
        &Email {
            template,
            to,
            vars,
            key,
        },
    )
}

fn to_reviewers(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    template: Template,
    vars: serde_json::Value,
    key: String,
) -> ApiResult<usize> {
    let to = recipients::reviewers(conn)?;
    queue(
        conn,
        now,
        &Email {
            template,
            to,
            vars,
            key,
        },
    )
}

/// A reviewer approved, rejected or returned an application: approved / rejected / returned
/// to the institution.
pub fn application_decided(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    decision_id: i64,
) -> ApiResult<()> {
    let (application_id, kind, approved, reasons, deadline): (
        i64,
        String,
        Option<String>,
        String,
        Option<NaiveDate>,
    ) = decisions::table
        .find(decision_id)
        .select((
            decisions::application_id,
            decisions::kind,
            decisions::approved_items,
            decisions::reasons,
            decisions::deadline,
        ))
        .first(conn)?;
    let (institution_id, name) = applicant(conn, application_id)?;
    let reasons = list_or_text(&reasons);
    let (template, vars) = match kind.as_str() {
        "approve" => (
            Template::ApplicationApproved,
            json!({"institution_name": name, "application_id": application_id, "link": links::application(application_id),
                   "items": item_names(&list_or_text(approved.as_deref().unwrap_or("[]")))}),
        ),
        "return" => (
            Template::ApplicationReturned,
            json!({"institution_name": name, "application_id": application_id, "link": links::application(application_id),
                   "reasons": reasons,
                   "deadline": deadline.map(|d| d.to_string()).unwrap_or_default()}),
        ),
        _ => (
            Template::ApplicationRejected,
            json!({"institution_name": name, "application_id": application_id, "link": links::application(application_id),
                   "reasons": reasons}),
        ),
    };
    to_institution(
        conn,
        now,
        institution_id,
        template,
        vars,
        format!("decision:{decision_id}"),
    )?;
    Ok(())
}

/// An application was rejected without a reviewer's decision row (a missed correction
/// deadline, an upheld objection, the institution's removal); `cause` names the event.
pub fn application_rejected(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    application_id: i64,
    reasons: &str,
    cause: &str,
) -> ApiResult<()> {
    let (institution_id, name) = applicant(conn, application_id)?;
    to_institution(
        conn,
        now,
        institution_id,
        Template::ApplicationRejected,
        json!({"institution_name": name, "application_id": application_id, "link": links::application(application_id),
               "reasons": [reasons]}),
        format!("rejected:{application_id}:{cause}"),
    )?;
    Ok(())
}

/// A notice was published: each institution in it is told the window.
pub fn notice_published(conn: &mut DbConn, now: DateTime<Utc>, notice_id: i64) -> ApiResult<()> {
    let (title, starts_on, ends_on): (String, NaiveDate, NaiveDate) = notices::table
        .find(notice_id)
        .select((notices::title, notices::starts_on, notices::ends_on))
        .first(conn)?;
    let listed: Vec<(i64, i64)> = applications::table
        .filter(applications::notice_id.eq(notice_id))
        .order(applications::id.asc())
        .select((applications::id, applications::institution_id))
        .load(conn)?;
    for (application_id, institution_id) in listed {
        let name = institution_name(conn, institution_id)?;
        to_institution(
            conn,
            now,
            institution_id,
            Template::NoticePublished,
            json!({"institution_name": name, "notice_title": title,
                   "starts_on": starts_on.to_string(), "ends_on": ends_on.to_string(),
                   "link": links::notice(notice_id)}),
            format!("notice_published:{notice_id}:{application_id}"),
        )?;
    }
    Ok(())
}

/// notice, application, grounds, objector e-mail, resolution reasons, status, filed at.
type ObjectionRow = (
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    NaiveDateTime,
);

fn objection_row(conn: &mut DbConn, objection_id: i64) -> ApiResult<ObjectionRow> {
    Ok(objections::table
        .find(objection_id)
        .select((
            objections::notice_id,
            objections::application_id,
            objections::grounds,
            objections::objector_email,
            objections::resolution_reasons,
            objections::status,
            objections::created_at,
        ))
        .first(conn)?)
}

/// An objection was filed: the institution is told (grounds only, nothing about the objector)
/// and the reviewers get new work.
pub fn objection_filed(conn: &mut DbConn, now: DateTime<Utc>, objection_id: i64) -> ApiResult<()> {
    let (notice_id, application_id, grounds, _, _, _, created_at) =
        objection_row(conn, objection_id)?;
    let title: String = notices::table
        .find(notice_id)
        .select(notices::title)
        .first(conn)?;
    let (institution_id, name) = applicant(conn, application_id)?;
    to_institution(
        conn,
        now,
        institution_id,
        Template::ObjectionFiled,
        json!({"institution_name": name, "notice_title": title,
               "filed_on": beijing_date(created_at.and_utc()).to_string(), "grounds": grounds}),
        format!("objection_filed:{objection_id}"),
    )?;
    to_reviewers(
        conn,
        now,
        Template::ReviewerNewWork,
        json!({"work": "objection", "institution_name": name, "reference_id": objection_id}),
        format!("objection_filed:{objection_id}"),
    )?;
    Ok(())
}

/// An objection was upheld or dismissed: the objector is told, if they gave an e-mail.
pub fn objection_resolved(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    objection_id: i64,
) -> ApiResult<()> {
    let (_, application_id, _, email, reasons, status, _) = objection_row(conn, objection_id)?;
    let to = recipients::objector(email.as_deref());
    if to.is_empty() {
        return Ok(());
    }
    let (_, name) = applicant(conn, application_id)?;
    queue(
        conn,
        now,
        &Email {
            template: Template::ObjectionResolved,
            to,
            vars: json!({"institution_name": name, "upheld": ObjectionStatus::parse(&status) == Some(ObjectionStatus::Upheld),
                         "reasons": reasons.unwrap_or_default()}),
            key: format!("objection_resolved:{objection_id}"),
        },
    )?;
    Ok(())
}

/// An application entered the pool.
pub fn admitted(conn: &mut DbConn, now: DateTime<Utc>, pool_entry_id: i64) -> ApiResult<()> {
    admitted_many(conn, now, &[pool_entry_id])
}

/// Applications entered the pool (a notice's batch): the entries, their institutions and
/// recipients are read in one statement each, the jobs inserted several per statement.
pub fn admitted_many(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    pool_entry_ids: &[i64],
) -> ApiResult<()> {
    type Entry = (i64, i64, String, NaiveDate, NaiveDate, String);
    let entries: Vec<Entry> = pool_entries::table
        .inner_join(institutions::table)
        .filter(pool_entries::id.eq_any(pool_entry_ids))
        .order(pool_entries::id.asc())
        .select((
            pool_entries::id,
            pool_entries::institution_id,
            pool_entries::items,
            pool_entries::valid_from,
            pool_entries::valid_until,
            institutions::name,
        ))
        .load(conn)?;
    let institution_ids: Vec<i64> = entries.iter().map(|e| e.1).collect();
    let to = recipients::institutions(conn, &institution_ids)?;
    let emails: Vec<Email> = entries
        .into_iter()
        .map(|(id, institution_id, items, valid_from, valid_until, name)| Email {
            template: Template::Admitted,
            to: to.get(&institution_id).cloned().unwrap_or_default(),
            vars: json!({"institution_name": name, "items": item_names(&list_or_text(&items)),
                         "valid_from": valid_from.to_string(), "valid_until": valid_until.to_string()}),
            key: format!("admitted:{id}"),
        })
        .collect();
    crate::mail::queue_many(conn, now, &emails)?;
    Ok(())
}

/// An exit case was opened: the institution (grounds, statement deadline) and the reviewers.
pub fn exit_case_opened(conn: &mut DbConn, now: DateTime<Utc>, case_id: i64) -> ApiResult<()> {
    let (institution_id, statement_due): (i64, NaiveDate) = exit_cases::table
        .find(case_id)
        .select((exit_cases::institution_id, exit_cases::statement_due))
        .first(conn)?;
    let mut grounds: Vec<String> = exit_grounds::table
        .filter(exit_grounds::case_id.eq(case_id))
        .order(exit_grounds::id.asc())
        .select(exit_grounds::ground)
        .load(conn)?;
    grounds.dedup();
    let name = institution_name(conn, institution_id)?;
    to_institution(
        conn,
        now,
        institution_id,
        Template::ExitCaseOpened,
        json!({"institution_name": name, "case_id": case_id,
               "grounds": grounds.iter().map(|g| ground_label(g)).collect::<Vec<_>>(),
               "statement_due": statement_due.to_string()}),
        format!("exit_case_opened:{case_id}"),
    )?;
    to_reviewers(
        conn,
        now,
        Template::ReviewerNewWork,
        json!({"work": "exit_case", "institution_name": name, "reference_id": case_id}),
        format!("exit_case_opened:{case_id}"),
    )?;
    Ok(())
}

/// The institution filed its statement of defence: the reviewers are told.
pub fn statement_received(conn: &mut DbConn, now: DateTime<Utc>, case_id: i64) -> ApiResult<()> {
    let (institution_id, filed_at): (i64, Option<NaiveDateTime>) = exit_cases::table
        .find(case_id)
        .select((exit_cases::institution_id, exit_cases::statement_filed_at))
        .first(conn)?;
    let filed_at = filed_at.map_or(now, |t| t.and_utc());
    let name = institution_name(conn, institution_id)?;
    to_reviewers(
        conn,
        now,
        Template::StatementReceived,
        json!({"institution_name": name, "case_id": case_id,
               "filed_on": beijing_date(filed_at).to_string()}),
        format!(
            "statement_received:{case_id}:{}",
            filed_at.timestamp_micros()
        ),
    )?;
    Ok(())
}

/// The institution was removed from the pool and banned.
pub fn removed_and_banned(conn: &mut DbConn, now: DateTime<Utc>, ban_id: i64) -> ApiResult<()> {
    let (institution_id, name, grounds, decided_on, last_day, may_apply_from): (
        i64,
        String,
        String,
        NaiveDate,
        NaiveDate,
        NaiveDate,
    ) = bans::table
        .find(ban_id)
        .select((
            bans::institution_id,
            bans::institution_name,
            bans::grounds,
            bans::decided_on,
            bans::last_day,
            bans::may_apply_from,
        ))
        .first(conn)?;
    to_institution(
        conn,
        now,
        institution_id,
        Template::RemovedAndBanned,
        json!({"institution_name": name,
               "grounds": list_or_text(&grounds).iter().map(|g| ground_label(g)).collect::<Vec<_>>(),
               "decided_on": decided_on.to_string(), "last_day": last_day.to_string(),
               "may_apply_from": may_apply_from.to_string()}),
        format!("ban:{ban_id}"),
    )?;
    Ok(())
}

type ContractRow = (
    i64,
    i64,
    String,
    NaiveDate,
    NaiveDate,
    Option<NaiveDate>,
    Option<String>,
);

fn contract_parties(
    conn: &mut DbConn,
    contract_id: i64,
) -> ApiResult<(ContractRow, String, String, Vec<String>)> {
    let row: ContractRow = contracts::table
        .find(contract_id)
        .select((
            contracts::school_id,
            contracts::institution_id,
            contracts::items,
            contracts::starts_on,
            contracts::ends_on,
            contracts::ended_on,
            contracts::end_reason,
        ))
        .first(conn)?;
    let school_name: String = schools::table
        .find(row.0)
        .select(schools::name)
        .first(conn)?;
    let institution_name = institution_name(conn, row.1)?;
    let mut to = recipients::school(conn, row.0)?;
    to.extend(recipients::institution(conn, row.1)?);
    Ok((row, school_name, institution_name, to))
}

/// A school and an institution signed a contract: both are told.
pub fn contract_created(conn: &mut DbConn, now: DateTime<Utc>, contract_id: i64) -> ApiResult<()> {
    let ((_, _, items, starts_on, ends_on, _, _), school_name, institution_name, to) =
        contract_parties(conn, contract_id)?;
    queue(
        conn,
        now,
        &Email {
            template: Template::ContractCreated,
            to,
            vars: json!({"school_name": school_name, "institution_name": institution_name,
                         "contract_id": contract_id, "items": item_names(&list_or_text(&items)),
                         "starts_on": starts_on.to_string(), "ends_on": ends_on.to_string()}),
            key: format!("contract_created:{contract_id}"),
        },
    )?;
    Ok(())
}

/// A contract ended (terminated by the school, expired, or the institution was removed):
/// both parties are told.
pub fn contract_ended(conn: &mut DbConn, now: DateTime<Utc>, contract_id: i64) -> ApiResult<()> {
    let ((_, _, _, _, ends_on, ended_on, reason), school_name, institution_name, to) =
        contract_parties(conn, contract_id)?;
    let reason = match reason.as_deref().and_then(EndReason::parse) {
        Some(EndReason::TerminatedBySchool) => "学校依据退出情形提前终止协议",
        Some(EndReason::InstitutionRemoved) => "机构已被移出备选库",
        Some(EndReason::Expired) => "服务期届满",
        None => "协议终止",
    };
    queue(
        conn,
        now,
        &Email {
            template: Template::ContractEnded,
            to,
            vars: json!({"school_name": school_name, "institution_name": institution_name,
                         "contract_id": contract_id,
                         "ended_on": ended_on.unwrap_or(ends_on).to_string(), "reason": reason}),
            key: format!("contract_ended:{contract_id}"),
        },
    )?;
    Ok(())
}
