//! The reviewer's work queue (issue 16): everything waiting on the bureau, ordered by its
//! working-day deadline — returned applications awaiting resubmission, pending objections,
//! statements of defence still due, exit cases to decide, and submitted applications awaiting
//! a decision.
//!
//! Every deadline is one the calendar computed when the thing happened, read back from its
//! capability — never estimated here: a return's correction deadline (the Nth working day after
//! the decision, [`crate::review::decide`]), a notice's last objection day (its 5th working day,
//! DESIGN §1.5), an exit case's statement deadline (5 working days after opening, §1.8). A
//! submitted application has no deadline (no rule sets one for the review): it follows the dated
//! items, oldest submission first. `working_days_left` counts the working days from today to the
//! deadline by the stored calendar, and is absent when a year in between is not loaded.
//!
//! The items come from each capability's own list functions (applications, objections, exit
//! cases, notices, institutions), so the queue holds no SQL of its own.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::applications::service::{self as applications_service, Application, ListFilter};
use crate::applications::status::Status;
use crate::auth::{AuthUser, Ctx};
use crate::calendar::rules::Calendar;
use crate::clock::beijing_date;
use crate::db::DbConn;
use crate::db::columns::UtcTime;
use crate::error::ApiResult;
use crate::exits::status::CaseStatus;
use crate::exits::{self as exits_service, CaseFilter};
use crate::objections::{self, ObjectionFilter};

/// What kind of work an item is, in the order the queue lists kinds sharing a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    /// An objection awaiting resolution; its deadline is the notice's last objection day, after
    /// which the application's admission waits for the reviewer.
    ObjectionPending,
    /// An open exit case whose statement of defence was filed or whose statement deadline has
    /// passed: the reviewer decides (remove or dismiss).
    ExitCaseToDecide,
    /// An open exit case still within its statement deadline, no statement filed yet.
    StatementDue,
    /// An application returned for correction, awaiting the institution's resubmission by its
    /// deadline (missed, it is rejected automatically).
    ReturnDue,
    /// A submitted application awaiting the reviewer's decision (no deadline).
    AwaitingReview,
}

impl QueueKind {
    pub const ALL: [QueueKind; 5] = [
        Self::ObjectionPending,
        Self::ExitCaseToDecide,
        Self::StatementDue,
        Self::ReturnDue,
        Self::AwaitingReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ObjectionPending => "objection_pending",
            Self::ExitCaseToDecide => "exit_case_to_decide",
            Self::StatementDue => "statement_due",
            Self::ReturnDue => "return_due",
            Self::AwaitingReview => "awaiting_review",
        }
    }
}

/// Filters of the work queue.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueFilter {
    /// Only items of this kind.
    pub kind: Option<QueueKind>,
    /// Only items of applications in this round (exit cases belong to no round and are left
    /// out when it is given).
    pub round_id: Option<i64>,
    /// Only items of institutions in this district (as in their profile).
    pub district: Option<String>,
    /// Only items whose deadline has passed (true) or has not (false; undated items included).
    pub overdue: Option<bool>,
}

/// Where an item is handled: the page of the reviewer's workspace and the JSON resource.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueLink {
    /// The workspace page.
    pub page: String,
    /// The API resource.
    pub api: String,
}

/// One piece of work.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueItem {
    pub kind: QueueKind,
    /// The last day (Beijing) of the rule the item waits on, as the calendar computed it; absent
    /// for a submitted application.
    pub deadline: Option<NaiveDate>,
    /// The deadline is before today (Beijing).
    pub overdue: bool,
    /// Working days from today (counted when it is one) to the deadline, inclusive; 0 once it
    /// passed; absent without a deadline or when a year in between has no calendar loaded.
    pub working_days_left: Option<u32>,
    pub institution_id: i64,
    pub institution_name: String,
    pub district: Option<String>,
    pub round_id: Option<i64>,
    pub application_id: Option<i64>,
    pub objection_id: Option<i64>,
    pub exit_case_id: Option<i64>,
    /// When the work arrived: submission, objection, opening of the case, filed statement.
    #[schema(value_type = String, format = DateTime)]
    pub since: UtcTime,
    pub link: QueueLink,
}

/// The work queue: items in deadline order and the count of each kind (before pagination,
/// after the filters).
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkQueue {
    /// Today in Beijing, the day `overdue` and `working_days_left` are counted from.
    pub today: NaiveDate,
    pub items: Vec<QueueItem>,
    pub counts: Vec<QueueCount>,
    pub total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueCount {
    pub kind: QueueKind,
    pub count: i64,
    pub overdue: i64,
}

/// The page of the reviewer's workspace where an application is read and decided.
pub fn application_page(id: i64) -> String {
    format!("/review/applications/{id}")
}

/// The page of an exit case in the reviewer's workspace.
pub fn exit_case_page(id: i64) -> String {
    format!("/review/exit-cases/{id}")
}

/// Working days in `today..=deadline` by the calendar; `Some(0)` once it passed; `None` when a
/// year in between is not loaded (never a guess).
fn working_days_left(calendar: &Calendar, today: NaiveDate, deadline: NaiveDate) -> Option<u32> {
    let mut count = 0;
    let mut day = today;
    while day <= deadline {
        if calendar.is_working_day(day).ok()? {
            count += 1;
        }
        day = day.succ_opt()?;
    }
    Some(count)
}

/// Everything in the queue, all kinds, before filters.
struct Gathered {
    items: Vec<QueueItem>,
}

fn application_item(kind: QueueKind, a: &Application, deadline: Option<NaiveDate>) -> QueueItem {
    QueueItem {
        kind,
        deadline,
        overdue: false,
        working_days_left: None,
        institution_id: a.institution_id,
        institution_name: a.institution_name.clone(),
        district: a.district.clone(),
        round_id: Some(a.round_id),
        application_id: Some(a.id),
        objection_id: None,
        exit_case_id: None,
        since: a.submitted_at.unwrap_or(a.updated_at),
        link: QueueLink {
            page: application_page(a.id),
            api: format!("/api/v1/applications/{}/review", a.id),
        },
    }
}

fn gather(
    conn: &mut DbConn,
    user: &AuthUser,
    filter: &QueueFilter,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<Gathered> {
    let today = beijing_date(now);
    let wants = |k: QueueKind| filter.kind.is_none_or(|f| f == k);
    let mut items = Vec::new();
    for (status, kind) in [
        (Status::Returned, QueueKind::ReturnDue),
        (Status::Submitted, QueueKind::AwaitingReview),
    ] {
        if !wants(kind) {
            continue;
        }
        let list_filter = ListFilter {
            status: Some(status),
            round_id: filter.round_id,
            district: filter.district.clone(),
            ..ListFilter::default()
        };
        let (apps, _) = applications_service::list(conn, user, &list_filter, 0, i64::MAX)?;
        items.extend(apps.iter().map(|a| {
            let deadline = (kind == QueueKind::ReturnDue)
                .then_some(a.return_deadline)
                .flatten();
            application_item(kind, a, deadline)
        }));
    }
    if wants(QueueKind::ObjectionPending) {
        let pending = ObjectionFilter {
            status: Some("pending".to_owned()),
            ..ObjectionFilter::default()
        };
        let (objections, _) = objections::list(conn, &pending, 0, i64::MAX)?;
        let mut ends_on: HashMap<i64, NaiveDate> = HashMap::new();
        for o in objections {
            let a = applications_service::get(conn, user, o.application_id)?;
            if filter.round_id.is_some_and(|r| r != a.round_id)
                || filter
                    .district
                    .as_ref()
                    .is_some_and(|d| a.district.as_ref() != Some(d))
            {
                continue;
            }
            let deadline = match ends_on.get(&o.notice_id) {
                Some(d) => *d,
                None => {
                    let notice = crate::notices::service::get(conn, o.notice_id, now)?;
                    ends_on.insert(o.notice_id, notice.window.ends_on);
                    notice.window.ends_on
                }
            };
            let mut item = application_item(QueueKind::ObjectionPending, &a, Some(deadline));
            item.objection_id = Some(o.id);
            item.since = o.created_at;
            item.link = QueueLink {
                page: format!("{}#objection-{}", application_page(a.id), o.id),
                api: format!("/api/v1/objections?application_id={}", a.id),
            };
            items.push(item);
        }
    }
    if filter.round_id.is_none()
        && (wants(QueueKind::StatementDue) || wants(QueueKind::ExitCaseToDecide))
    {
        let open = CaseFilter {
            status: Some(CaseStatus::Open),
            ..CaseFilter::default()
        };
        let (cases, _) = exits_service::list(conn, user, &open, 0, i64::MAX)?;
        for c in cases {
            let kind = if c.statement_filed_at.is_some() || c.statement_due < today {
                QueueKind::ExitCaseToDecide
            } else {
                QueueKind::StatementDue
            };
            if !wants(kind) {
                continue;
            }
            let district = crate::institutions::profile(conn, c.institution_id, today)?.district;
            if filter
                .district
                .as_ref()
                .is_some_and(|d| district.as_ref() != Some(d))
            {
                continue;
            }
            items.push(QueueItem {
                kind,
                deadline: Some(c.statement_due),
                overdue: false,
                working_days_left: None,
                institution_id: c.institution_id,
                institution_name: c.institution_name.clone(),
                district,
                round_id: None,
                application_id: None,
                objection_id: None,
                exit_case_id: Some(c.id),
                since: c.statement_filed_at.unwrap_or(c.created_at),
                link: QueueLink {
                    page: exit_case_page(c.id),
                    api: format!("/api/v1/exit-cases/{}", c.id),
                },
            });
        }
    }
    Ok(Gathered { items })
}

/// The reviewer's work queue, filtered, in deadline order (undated items last, oldest first),
/// `offset`/`limit` applied after the counts.
pub fn work_queue(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    filter: &QueueFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<WorkQueue> {
    let today = beijing_date(ctx.now);
    let calendar = crate::calendar::store::calendar(conn)?;
    let mut items = gather(conn, user, filter, ctx.now)?.items;
    for item in &mut items {
        if let Some(deadline) = item.deadline {
            item.overdue = deadline < today;
            item.working_days_left = working_days_left(&calendar, today, deadline);
        }
    }
    if let Some(overdue) = filter.overdue {
        items.retain(|i| i.overdue == overdue);
    }
    items.sort_by(|a, b| {
        // Dated items first (earliest deadline first), then the kind, then the oldest.
        (
            a.deadline.is_none(),
            a.deadline,
            a.kind,
            a.since,
            a.id_key(),
        )
            .cmp(&(
                b.deadline.is_none(),
                b.deadline,
                b.kind,
                b.since,
                b.id_key(),
            ))
    });
    let counts = QueueKind::ALL
        .iter()
        .map(|&kind| QueueCount {
            kind,
            count: items.iter().filter(|i| i.kind == kind).count() as i64,
            overdue: items.iter().filter(|i| i.kind == kind && i.overdue).count() as i64,
        })
        .collect();
    let total = items.len() as i64;
    let items = items
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(0))
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    Ok(WorkQueue {
        today,
        items,
        counts,
        total,
    })
}

impl QueueItem {
    fn id_key(&self) -> (Option<i64>, Option<i64>, Option<i64>) {
        (self.application_id, self.objection_id, self.exit_case_id)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn calendar_2026() -> Calendar {
        let json = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/calendar/2026.json"
        ))
        .unwrap();
        Calendar::new([(crate::calendar::rules::parse_fixture(&json).unwrap(), 1)])
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn working_days_left_counts_by_the_calendar_and_never_guesses_a_missing_year() {
        let cal = calendar_2026();
        // Fri 2026-02-13 to Thu 2026-02-26: Feb 13, the Saturday make-up day Feb 14, then
        // the Spring Festival holiday until Feb 23, then Feb 24, 25, 26 (DESIGN §1.5).
        assert_eq!(
            working_days_left(&cal, d("2026-02-13"), d("2026-02-26")),
            Some(5)
        );
        assert_eq!(
            working_days_left(&cal, d("2026-02-15"), d("2026-02-23")),
            Some(0)
        );
        assert_eq!(
            working_days_left(&cal, d("2026-02-27"), d("2026-02-26")),
            Some(0)
        );
        assert_eq!(
            working_days_left(&cal, d("2026-12-30"), d("2027-01-05")),
            None
        );
    }
}
