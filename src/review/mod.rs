//! Review (DESIGN.md §1.4): a reviewer's decision on a submitted application — approve some
//! of the proposed items, reject with reasons, or return it for correction (退回补正) with a
//! deadline in working days — and the dossier a reviewer reads before deciding.
//!
//! Every decision is a compare-and-set transition of the application's state machine, so of
//! two reviewers deciding at once one wins and the other gets 409 `status_changed` (DESIGN
//! §1.4) — whether it read the application before the winner committed (PostgreSQL: its
//! compare-and-set changes no row) or after (SQLite serialises the two write transactions, so
//! it finds the application already decided). A decision on an application that is no longer
//! awaiting one (decided, withdrawn, in notice, …) is the same `status_changed`; a draft that
//! was never submitted is `invalid_transition`.
//!
//! Return deadline convention: the deadline is the Nth working day *after* the decision date
//! (Beijing), i.e. the count starts on the next day; the institution may resubmit until
//! 23:59:59 Beijing time on that day. A job due one second later rejects the application if it
//! is still `returned` with that same deadline (a resubmission clears the deadline).

pub mod queue;
pub mod routes;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::applications::checks::Outcome;
use crate::applications::facts::app_facts;
use crate::applications::service::{self as applications_service, Application};
use crate::applications::status::{Event, Status};
use crate::audit;
use crate::auth::{AuthUser, Ctx};
use crate::clock::{beijing_date, end_of_beijing_day};
use crate::db::columns::UtcTime;
use crate::db::schema::{applications, decisions};
use crate::db::{DbConn, JsonText, db_time};
use crate::documents::store as docs;
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::institutions::{self as institutions_service, Inspection, Teacher};
use crate::jobs::registry::{Handler, JobError, JobInfo, Registry};
use crate::jobs::{self, NewJob};
use crate::pdf::PageText;

mod dossier;

pub use dossier::*;

/// Job kind: reject an application whose correction deadline passed.
pub const RETURN_EXPIRED: &str = "review.return_expired";

/// Default correction deadline, in working days (DESIGN.md §1.4).
pub const DEFAULT_RETURN_DAYS: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ApplicationDecisionKind)]
pub enum DecisionKind {
    Approve,
    Reject,
    Return,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Return => "return",
        }
    }
}

/// A reviewer's decision. `approve` takes `approved_items` (a non-empty subset of the proposed
/// items) and an optional `note`; `reject` and `return` take `reasons`; `return` also takes
/// `deadline_working_days` (1–60, default 5).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(as = ApplicationDecisionRequest)]
pub struct DecisionRequest {
    pub decision: DecisionKind,
    #[validate(length(max = 30))]
    pub approved_items: Option<Vec<String>>,
    #[validate(length(max = 5000))]
    pub note: Option<String>,
    #[validate(length(max = 5000))]
    pub reasons: Option<String>,
    #[validate(range(min = 1, max = 60))]
    pub deadline_working_days: Option<u32>,
}

/// A recorded decision.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ApplicationDecision)]
pub struct Decision {
    pub id: i64,
    pub application_id: i64,
    pub reviewer_id: i64,
    pub kind: DecisionKind,
    pub approved_items: Option<Vec<String>>,
    /// Reasons (reject, return) or the note (approve).
    pub reasons: String,
    /// The correction deadline of a return (resubmit by 23:59:59 Beijing time that day).
    pub deadline: Option<NaiveDate>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
}

type DecisionRow = (
    i64,
    i64,
    i64,
    String,
    Option<JsonText<Vec<String>>>,
    String,
    Option<NaiveDate>,
    NaiveDateTime,
);

fn decision_view(r: DecisionRow) -> Decision {
    Decision {
        id: r.0,
        application_id: r.1,
        reviewer_id: r.2,
        kind: match r.3.as_str() {
            "approve" => DecisionKind::Approve,
            "reject" => DecisionKind::Reject,
            _ => DecisionKind::Return,
        },
        approved_items: r.4.map(JsonText::into_inner),
        reasons: r.5,
        deadline: r.6,
        created_at: r.7.into(),
    }
}

fn required_reasons(reasons: &Option<String>) -> ApiResult<String> {
    match reasons.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => Ok(r.to_owned()),
        _ => Err(ApiError::validation(vec![FieldIssue::new(
            "reasons",
            "reasons_required",
            Msg::new("请填写理由。", "Reasons are required."),
        )])),
    }
}

fn approved_subset(req: &DecisionRequest, proposed: &[String]) -> ApiResult<Vec<String>> {
    let items = req.approved_items.clone().unwrap_or_default();
    let mut issues = Vec::new();
    if items.is_empty() {
        issues.push(FieldIssue::new(
            "approved_items",
            "approved_items_required",
            Msg::new(
                "批准时须至少选择一个申报的活动项目。",
                "Approve at least one of the proposed items.",
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, code) in items.iter().enumerate() {
        if !proposed.contains(code) {
            issues.push(FieldIssue::new(
                format!("approved_items[{i}]"),
                "item_not_proposed",
                Msg::new(
                    format!("“{code}”不在该申报的申报项目中。"),
                    format!("“{code}” is not among the proposed items."),
                ),
            ));
        } else if !seen.insert(code.clone()) {
            issues.push(FieldIssue::new(
                format!("approved_items[{i}]"),
                "duplicate_item",
                Msg::new(
                    format!("“{code}”重复。"),
                    format!("“{code}” is listed twice."),
                ),
            ));
        }
    }
    if issues.is_empty() {
        Ok(items)
    } else {
        Err(ApiError::validation(issues))
    }
}

/// Records a reviewer's decision: the transition (compare-and-set), the decision row, the
/// application's decision columns, the audit event and, for a return, the deadline job.
pub fn decide(
    conn: &mut DbConn,
    reviewer: &AuthUser,
    ctx: &Ctx,
    id: i64,
    req: &DecisionRequest,
) -> ApiResult<Application> {
    let app = app_facts(conn, id)?;
    // A reviewer decides only submitted applications (a rejection of an approved or noticed
    // one goes through objections or exit cases, not here).
    match app.status {
        Status::Submitted => {}
        Status::Draft => {
            return Err(ApiError::conflict(
                "invalid_transition",
                "草稿尚未提交，不能作出审核决定。",
                "The application is a draft that was never submitted; there is nothing to decide.",
            ));
        }
        // It left `submitted` since the reviewer opened it: another reviewer decided first, or
        // the institution withdrew it. The loser of a race lands here on SQLite.
        other => return Err(decided_meanwhile(other)),
    }
    let now = db_time(ctx.now);
    let (event, approved, reasons, deadline) = match req.decision {
        DecisionKind::Approve => {
            let approved = approved_subset(req, &app.proposed_items)?;
            let note = req
                .note
                .as_deref()
                .map(str::trim)
                .unwrap_or_default()
                .to_owned();
            (Event::Approve, Some(approved), note, None)
        }
        DecisionKind::Reject => (Event::Reject, None, required_reasons(&req.reasons)?, None),
        DecisionKind::Return => {
            let reasons = required_reasons(&req.reasons)?;
            let n = req.deadline_working_days.unwrap_or(DEFAULT_RETURN_DAYS);
            let deadline =
                crate::calendar::store::nth_working_day_after(conn, beijing_date(ctx.now), n)?;
            (Event::Return, None, reasons, Some(deadline))
        }
    };
    let to = match applications_service::transition(conn, id, app.status, event, now) {
        // Read before the winner committed (PostgreSQL): the compare-and-set changed nothing.
        // This statement sees the committed winner, so the loser hears where it stands.
        Err(e) if e.code() == "status_changed" => {
            return Err(decided_meanwhile(app_facts(conn, id)?.status));
        }
        result => result?,
    };
    let approved_json = approved
        .as_ref()
        .map(|a| serde_json::to_string(a).unwrap_or_default());
    let decision_id: i64 = diesel::insert_into(decisions::table)
        .values((
            decisions::application_id.eq(id),
            decisions::reviewer_id.eq(reviewer.id),
            decisions::kind.eq(req.decision.as_str()),
            decisions::approved_items.eq(&approved_json),
            decisions::reasons.eq(&reasons),
            decisions::deadline.eq(deadline),
            decisions::created_at.eq(now),
        ))
        .returning(decisions::id)
        .get_result(conn)?;
    diesel::update(applications::table.find(id))
        .set((
            applications::approved_items.eq(&approved_json),
            applications::decision_note.eq((!reasons.is_empty()).then_some(&reasons)),
            applications::return_deadline.eq(deadline),
            applications::decided_at.eq(Some(now)),
            applications::decided_by.eq(Some(reviewer.id)),
        ))
        .execute(conn)?;
    if let Some(deadline) = deadline {
        // Due one second after the last instant of the deadline day.
        let run_at = end_of_beijing_day(deadline) + Duration::seconds(1);
        jobs::enqueue(
            conn,
            &NewJob::new(
                RETURN_EXPIRED,
                serde_json::json!({ "application_id": id, "deadline": deadline }),
                run_at,
            )
            .dedup(format!("{RETURN_EXPIRED}:{id}:{deadline}")),
            ctx.now,
        )?;
    }
    audit::record(
        conn,
        ctx,
        match req.decision {
            DecisionKind::Approve => "application.approved",
            DecisionKind::Reject => "application.rejected",
            DecisionKind::Return => "application.returned",
        },
        "application",
        id,
        serde_json::json!({
            "to": to.as_str(), "approved_items": approved, "reasons": reasons,
            "deadline": deadline, "institution_id": app.institution_id,
        }),
    )?;
    crate::mail::outbox::record(
        conn,
        ctx.now,
        crate::mail::outbox::Event::ApplicationDecided { decision_id },
    )?;
    applications_service::get(conn, reviewer, id)
}

/// 409 `status_changed`: the application is no longer awaiting a decision (its current status
/// in `extra.status`).
fn decided_meanwhile(now: Status) -> ApiError {
    ApiError::conflict(
        "status_changed",
        format!(
            "该申报已不在待审核状态（当前：{}），可能已由其他审核员作出决定，请刷新后查看。",
            now.as_str()
        ),
        format!(
            "The application is no longer awaiting a decision (now {}): another reviewer may have decided first; reload it.",
            now.as_str()
        ),
    )
    .with_extra(serde_json::json!({ "status": now.as_str() }))
}

/// The job: rejects a returned application whose correction deadline passed unresubmitted.
fn return_expired(
    conn: &mut DbConn,
    job: &JobInfo,
    payload: &serde_json::Value,
) -> Result<(), JobError> {
    let id = payload["application_id"]
        .as_i64()
        .ok_or_else(|| JobError::Permanent(anyhow::anyhow!("payload without application_id")))?;
    let deadline: NaiveDate = serde_json::from_value(payload["deadline"].clone())
        .map_err(|e| JobError::Permanent(e.into()))?;
    let app = match app_facts(conn, id) {
        Ok(app) => app,
        Err(e) => return Err(JobError::Permanent(anyhow::anyhow!("{e}"))),
    };
    if app.status != Status::Returned
        || app.return_deadline != Some(deadline)
        || job.now < end_of_beijing_day(deadline) + Duration::seconds(1)
    {
        return Ok(());
    }
    let ctx = Ctx::system(job.now);
    applications_service::transition(conn, id, Status::Returned, Event::Reject, db_time(job.now))
        .map_err(|e| JobError::Retry(anyhow::anyhow!("{e}")))?;
    diesel::update(applications::table.find(id))
        .set(applications::decided_at.eq(Some(db_time(job.now))))
        .execute(conn)?;
    audit::record(
        conn,
        &ctx,
        "application.rejected",
        "application",
        id,
        serde_json::json!({
            "reason": "return_deadline_missed", "deadline": deadline,
            "institution_id": app.institution_id,
        }),
    )?;
    crate::mail::outbox::record(
        conn,
        job.now,
        crate::mail::outbox::Event::ApplicationRejected {
            application_id: id,
            reasons: format!("未在补正期限（{deadline}）内重新提交，申报自动不予通过。"),
            cause: "return_deadline_missed".to_owned(),
        },
    )
    .map_err(|e| JobError::Retry(anyhow::anyhow!("{e}")))?;
    Ok(())
}

/// Registers the review jobs.
pub fn register(registry: &mut Registry) {
    registry.register(RETURN_EXPIRED, Handler::Transactional(return_expired));
}
