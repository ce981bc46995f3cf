//! Exit-case services. Each runs in the caller's write transaction with its audit events.
//!
//! Conventions:
//! - **One open case per institution**: the partial unique index `exit_cases_one_open`
//!   arbitrates; a ground arriving while a case is open joins it (a unique violation on insert
//!   means another transaction opened one first, and the ground joins that one).
//! - **Statement window**: `statement_due` is the 5th working day *after* the day the case
//!   opened (Beijing date; the working-day calendar decides, holidays do not count); the
//!   institution may file until 23:59:59 Beijing time that day. A ground joining an open case
//!   before the statement is filed moves `statement_due` to that ground's own due date if later,
//!   so the institution always has 5 working days to answer every ground.
//! - **Pool members only**: a reviewer-opened case or a credential found false needs an
//!   institution with an active pool entry (else 409 `not_in_pool`); a school's termination
//!   always opens or joins a case (its contract proves the membership).

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::applications::service as applications_service;
use crate::applications::status::{Event, Status as AppStatus};
use crate::audit::{self, UtcTime};
use crate::auth::{AuthUser, Ctx, Role};
use crate::calendar::store as calendar_store;
use crate::clock::{beijing_date, end_of_beijing_day};
use crate::db::schema::{
    applications, contracts, documents, exit_cases, exit_grounds, inspections, institutions,
    pool_entries, teachers,
};
use crate::db::{DbConn, db_time, is_unique_violation};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::pool::versions::PoolChange;
use crate::sanctions::bans::{self, BanPeriod, NewBan};
use crate::sanctions::{Ground, GroundRef};

/// Working days an institution has for its statement of defence (notice §五).
pub const STATEMENT_WORKING_DAYS: u32 = 5;

/// Who brought a ground (and who opened a case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    School,
    Reviewer,
    System,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::School => "school",
            Self::Reviewer => "reviewer",
            Self::System => "system",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        [Self::School, Self::Reviewer, Self::System]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Removed,
    Dismissed,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Removed => "removed",
            Self::Dismissed => "dismissed",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Removed, Self::Dismissed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A ground to add to an institution's case.
#[derive(Debug, Clone)]
pub struct NewGround {
    pub ground: Ground,
    pub source: Source,
    pub contract_id: Option<i64>,
    pub statement: String,
    pub document_ids: Vec<i64>,
    pub reported_by: Option<i64>,
}

/// The statement due date of a case opened on `opened_on`: the 5th working day after it.
pub fn statement_due(conn: &mut DbConn, opened_on: NaiveDate) -> ApiResult<NaiveDate> {
    calendar_store::nth_working_day_after(conn, opened_on, STATEMENT_WORKING_DAYS)
}

fn open_case_id(conn: &mut DbConn, institution_id: i64) -> QueryResult<Option<i64>> {
    exit_cases::table
        .filter(exit_cases::institution_id.eq(institution_id))
        .filter(exit_cases::status.eq(CaseStatus::Open.as_str()))
        .select(exit_cases::id)
        .first(conn)
        .optional()
}

/// What [`open_or_join`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Joined {
    pub case_id: i64,
    /// A new case was opened (else the grounds joined the open one).
    pub opened: bool,
    /// Grounds actually added (system grounds already on the open case are skipped).
    pub added: usize,
}

/// Adds `grounds` to the institution's open case, opening one if there is none. A system
/// ground already on the open case is not added twice.
pub fn open_or_join(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    opened_by: Source,
    grounds: &[NewGround],
) -> ApiResult<Joined> {
    let today = beijing_date(ctx.now);
    let due = statement_due(conn, today)?;
    let now = db_time(ctx.now);
    let (case_id, opened) = match open_case_id(conn, institution_id)? {
        Some(id) => (id, false),
        None => {
            let insert = |c: &mut DbConn| {
                diesel::insert_into(exit_cases::table)
                    .values((
                        exit_cases::institution_id.eq(institution_id),
                        exit_cases::status.eq(CaseStatus::Open.as_str()),
                        exit_cases::opened_by.eq(opened_by.as_str()),
                        exit_cases::statement_due.eq(due),
                        exit_cases::created_at.eq(now),
                        exit_cases::updated_at.eq(now),
                    ))
                    .returning(exit_cases::id)
                    .get_result::<i64>(c)
            };
            // On PostgreSQL a savepoint, so that losing the race to another opener leaves our
            // transaction usable (a failed statement aborts the whole transaction). SQLite's
            // write transactions hold the database lock from BEGIN IMMEDIATE (see
            // `db::write_tx`, which diesel's transaction manager does not know about), so no
            // other opener can interleave there and a plain insert is enough.
            let inserted = match conn {
                DbConn::Postgres(_) => conn.transaction(insert),
                DbConn::Sqlite(_) => insert(conn),
            };
            match inserted {
                Ok(id) => (id, true),
                Err(e) if is_unique_violation(&e) => (
                    open_case_id(conn, institution_id)?.ok_or_else(|| {
                        anyhow::anyhow!("open exit case vanished for institution {institution_id}")
                    })?,
                    false,
                ),
                Err(e) => return Err(e.into()),
            }
        }
    };
    if opened {
        audit::record(
            conn,
            ctx,
            "exit_case.opened",
            "exit_case",
            case_id,
            serde_json::json!({ "institution_id": institution_id, "opened_by": opened_by.as_str(), "statement_due": due }),
        )?;
    }
    let existing: Vec<(String, String)> = exit_grounds::table
        .filter(exit_grounds::case_id.eq(case_id))
        .select((exit_grounds::ground, exit_grounds::source))
        .load(conn)?;
    let mut added = 0;
    for g in grounds {
        if g.source == Source::System
            && existing
                .iter()
                .any(|(code, src)| code == g.ground.as_str() && src == Source::System.as_str())
        {
            continue;
        }
        let id: i64 = diesel::insert_into(exit_grounds::table)
            .values((
                exit_grounds::case_id.eq(case_id),
                exit_grounds::ground.eq(g.ground.as_str()),
                exit_grounds::source.eq(g.source.as_str()),
                exit_grounds::contract_id.eq(g.contract_id),
                exit_grounds::statement.eq(&g.statement),
                exit_grounds::document_ids
                    .eq(serde_json::to_string(&g.document_ids).unwrap_or_default()),
                exit_grounds::reported_by.eq(g.reported_by),
                exit_grounds::created_at.eq(now),
            ))
            .returning(exit_grounds::id)
            .get_result(conn)?;
        audit::record(
            conn,
            ctx,
            "exit_case.ground_added",
            "exit_case",
            case_id,
            serde_json::json!({ "ground_id": id, "ground": g.ground.as_str(), "source": g.source.as_str(), "contract_id": g.contract_id, "document_ids": g.document_ids }),
        )?;
        added += 1;
    }
    if !opened && added > 0 {
        // A new ground gets its own 5 working days while no statement has been filed.
        diesel::update(
            exit_cases::table
                .find(case_id)
                .filter(exit_cases::statement_filed_at.is_null())
                .filter(exit_cases::statement_due.lt(due)),
        )
        .set((
            exit_cases::statement_due.eq(due),
            exit_cases::updated_at.eq(now),
        ))
        .execute(conn)?;
    }
    if opened {
        crate::mail::events::exit_case_opened(conn, ctx.now, case_id)?;
    }
    Ok(Joined {
        case_id,
        opened,
        added,
    })
}

/// Whether the institution has an active pool entry.
pub fn in_pool(conn: &mut DbConn, institution_id: i64) -> ApiResult<bool> {
    let n: i64 = pool_entries::table
        .filter(pool_entries::institution_id.eq(institution_id))
        .filter(pool_entries::status.eq("active"))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

fn not_in_pool() -> ApiError {
    ApiError::conflict(
        "not_in_pool",
        "该机构不在备选库中，不适用清退程序。",
        "The institution is not an active pool member; exit cases apply to pool members only.",
    )
}

/// Checks evidence document ids: each must exist and (for a school or an institution) be the
/// caller's own upload / its institution's document.
fn check_documents(conn: &mut DbConn, user: &AuthUser, ids: &[i64], field: &str) -> ApiResult<()> {
    let rows: Vec<(i64, Option<i64>, Option<i64>)> = documents::table
        .filter(documents::id.eq_any(ids))
        .select((
            documents::id,
            documents::institution_id,
            documents::uploaded_by,
        ))
        .load(conn)?;
    let issues: Vec<FieldIssue> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| {
            !rows.iter().any(|(d, inst, by)| {
                *d == **id
                    && match user.role() {
                        Role::Reviewer | Role::Admin => true,
                        Role::Institution => inst.is_some() && *inst == user.institution_id,
                        Role::School => *by == Some(user.id),
                    }
            })
        })
        .map(|(i, id)| {
            FieldIssue::new(
                format!("{field}[{i}]"),
                "unknown_document",
                Msg::new(
                    format!("文件 {id} 不存在或不属于本账号。"),
                    format!("Document {id} does not exist or is not yours."),
                ),
            )
        })
        .collect();
    if issues.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(issues))
    }
}

fn check_grounds(grounds: &[Ground]) -> ApiResult<()> {
    if grounds.is_empty() {
        return Err(ApiError::validation(vec![FieldIssue::new(
            "grounds",
            "grounds_missing",
            Msg::new("请至少选择一项清退情形。", "Cite at least one exit ground."),
        )]));
    }
    Ok(())
}

fn dedup(grounds: &[Ground]) -> Vec<Ground> {
    let mut g = grounds.to_vec();
    g.sort();
    g.dedup();
    g
}

// ---- views -------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseGround {
    pub id: i64,
    pub ground: GroundRef,
    pub source: Source,
    pub contract_id: Option<i64>,
    pub statement: String,
    pub document_ids: Vec<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ExitCaseDecision)]
pub struct Decision {
    /// `remove` or `dismiss`.
    pub decision: DecisionKind,
    pub reasons: String,
    pub decided_by: Option<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<UtcTime>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExitCase {
    pub id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub uscc: String,
    pub status: CaseStatus,
    pub opened_by: Source,
    pub grounds: Vec<CaseGround>,
    /// The last day for the statement of defence (5 working days after the opening day).
    pub statement_due: NaiveDate,
    /// The last instant a statement is accepted: 23:59:59 Beijing time on `statement_due`.
    #[schema(value_type = String, format = DateTime)]
    pub statement_closes_at: UtcTime,
    pub statement: Option<String>,
    pub statement_document_ids: Vec<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub statement_filed_at: Option<UtcTime>,
    pub decision: Option<Decision>,
    /// The ban recorded by a removal: decision date, last banned day, first day it may apply.
    pub ban: Option<BanPeriod>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: UtcTime,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = exit_cases)]
struct CaseRow {
    id: i64,
    institution_id: i64,
    status: String,
    opened_by: String,
    statement_due: NaiveDate,
    statement: Option<String>,
    statement_document_ids: Option<String>,
    statement_filed_at: Option<NaiveDateTime>,
    decision_reasons: Option<String>,
    decided_by: Option<i64>,
    decided_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl CaseRow {
    fn status(&self) -> ApiResult<CaseStatus> {
        CaseStatus::parse(&self.status)
            .ok_or_else(|| anyhow::anyhow!("bad status in exit_cases.{}", self.id).into())
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = exit_grounds)]
struct GroundRow {
    id: i64,
    ground: String,
    source: String,
    contract_id: Option<i64>,
    statement: String,
    document_ids: String,
    created_at: NaiveDateTime,
}

fn load_case(conn: &mut DbConn, id: i64) -> ApiResult<CaseRow> {
    exit_cases::table
        .find(id)
        .select(CaseRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("清退案件", "exit case"))
}

/// A case the user may see: staff any, an institution its own; others "not found".
fn visible_case(conn: &mut DbConn, user: &AuthUser, id: i64) -> ApiResult<CaseRow> {
    let row = load_case(conn, id)?;
    match user.role() {
        Role::Reviewer | Role::Admin => Ok(row),
        Role::Institution if user.institution_id == Some(row.institution_id) => Ok(row),
        _ => Err(ApiError::not_found("清退案件", "exit case")),
    }
}

fn view(conn: &mut DbConn, row: CaseRow) -> ApiResult<ExitCase> {
    let status = row.status()?;
    let (name, uscc): (String, String) = institutions::table
        .find(row.institution_id)
        .select((institutions::name, institutions::uscc))
        .first(conn)?;
    let grounds = exit_grounds::table
        .filter(exit_grounds::case_id.eq(row.id))
        .order(exit_grounds::id.asc())
        .select(GroundRow::as_select())
        .load(conn)?
        .into_iter()
        .filter_map(|g| {
            Some(CaseGround {
                id: g.id,
                ground: Ground::parse(&g.ground)?.into(),
                source: Source::parse(&g.source)?,
                contract_id: g.contract_id,
                statement: g.statement,
                document_ids: serde_json::from_str(&g.document_ids).unwrap_or_default(),
                created_at: g.created_at.into(),
            })
        })
        .collect();
    let ban = bans::of_exit_case(conn, row.id)?;
    let decision = match status {
        CaseStatus::Open => None,
        s => Some(Decision {
            decision: if s == CaseStatus::Removed {
                DecisionKind::Remove
            } else {
                DecisionKind::Dismiss
            },
            reasons: row.decision_reasons.clone().unwrap_or_default(),
            decided_by: row.decided_by,
            decided_at: row.decided_at.map(Into::into),
        }),
    };
    Ok(ExitCase {
        id: row.id,
        institution_id: row.institution_id,
        institution_name: name,
        uscc,
        status,
        opened_by: Source::parse(&row.opened_by).unwrap_or(Source::System),
        grounds,
        statement_due: row.statement_due,
        statement_closes_at: UtcTime(end_of_beijing_day(row.statement_due)),
        statement: row.statement,
        statement_document_ids: row
            .statement_document_ids
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default(),
        statement_filed_at: row.statement_filed_at.map(Into::into),
        decision,
        ban,
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    })
}

pub fn get(conn: &mut DbConn, user: &AuthUser, id: i64) -> ApiResult<ExitCase> {
    let row = visible_case(conn, user, id)?;
    view(conn, row)
}

/// A case by id, without an access check (for the service's own responses).
pub fn get_unchecked(conn: &mut DbConn, id: i64) -> ApiResult<ExitCase> {
    let row = load_case(conn, id)?;
    view(conn, row)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    pub institution_id: Option<i64>,
    /// Cases citing this ground.
    pub ground: Option<Ground>,
}

/// Cases, newest first: staff all (filtered), an institution its own.
pub fn list(
    conn: &mut DbConn,
    user: &AuthUser,
    filter: &CaseFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(Vec<ExitCase>, i64)> {
    let query = || {
        let mut q = exit_cases::table.into_boxed();
        if user.role() == Role::Institution {
            q = q.filter(exit_cases::institution_id.eq(user.institution_id.unwrap_or(-1)));
        }
        if let Some(s) = filter.status {
            q = q.filter(exit_cases::status.eq(s.as_str()));
        }
        if let Some(i) = filter.institution_id {
            q = q.filter(exit_cases::institution_id.eq(i));
        }
        if let Some(g) = filter.ground {
            q = q.filter(
                exit_cases::id.eq_any(
                    exit_grounds::table
                        .filter(exit_grounds::ground.eq(g.as_str()))
                        .select(exit_grounds::case_id),
                ),
            );
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let rows = query()
        .order(exit_cases::id.desc())
        .offset(offset)
        .limit(limit)
        .select(CaseRow::as_select())
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|r| view(conn, r))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((items, total))
}

// ---- opening -----------------------------------------------------------------------------

/// `POST /exit-cases` (reviewer).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    pub institution_id: i64,
    /// One or more of the seven ground codes.
    #[validate(length(max = 7))]
    pub grounds: Vec<Ground>,
    #[validate(length(min = 1, max = 10000))]
    pub statement: String,
    #[serde(default)]
    #[validate(length(max = 50))]
    pub evidence_document_ids: Vec<i64>,
}

pub fn create(conn: &mut DbConn, user: &AuthUser, ctx: &Ctx, req: &NewCase) -> ApiResult<ExitCase> {
    check_grounds(&req.grounds)?;
    crate::institutions::service::ensure_exists(conn, req.institution_id)?;
    if !in_pool(conn, req.institution_id)? {
        return Err(not_in_pool());
    }
    check_documents(
        conn,
        user,
        &req.evidence_document_ids,
        "evidence_document_ids",
    )?;
    let grounds: Vec<NewGround> = dedup(&req.grounds)
        .into_iter()
        .map(|g| NewGround {
            ground: g,
            source: Source::Reviewer,
            contract_id: None,
            statement: req.statement.clone(),
            document_ids: req.evidence_document_ids.clone(),
            reported_by: Some(user.id),
        })
        .collect();
    let joined = open_or_join(conn, ctx, req.institution_id, Source::Reviewer, &grounds)?;
    get_unchecked(conn, joined.case_id)
}

/// `POST /contracts/{id}/terminate` (the school that owns the contract).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Termination {
    /// One or more of the seven ground codes.
    #[validate(length(max = 7))]
    pub grounds: Vec<Ground>,
    #[validate(length(min = 1, max = 10000))]
    pub statement: String,
    /// Documents the school uploaded (kind `exit_evidence`).
    #[serde(default)]
    #[validate(length(max = 50))]
    pub evidence_document_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TerminatedContract {
    pub id: i64,
    pub school_id: i64,
    pub institution_id: i64,
    pub status: String,
    pub ended_on: NaiveDate,
    pub end_reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TerminationOutcome {
    pub contract: TerminatedContract,
    pub exit_case: ExitCase,
}

pub fn terminate(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    contract_id: i64,
    req: &Termination,
) -> ApiResult<TerminationOutcome> {
    check_grounds(&req.grounds)?;
    let not_found = || ApiError::not_found("合同", "contract");
    let (school_id, institution_id, status): (i64, i64, String) = contracts::table
        .find(contract_id)
        .select((
            contracts::school_id,
            contracts::institution_id,
            contracts::status,
        ))
        .first(conn)
        .optional()?
        .ok_or_else(not_found)?;
    if user.school_id != Some(school_id) {
        return Err(not_found());
    }
    let not_active = || {
        ApiError::conflict(
            "contract_not_active",
            "该合同已结束，不能再终止。",
            "The contract is no longer active.",
        )
    };
    if status != "active" {
        return Err(not_active());
    }
    check_documents(
        conn,
        user,
        &req.evidence_document_ids,
        "evidence_document_ids",
    )?;
    let today = beijing_date(ctx.now);
    let now = db_time(ctx.now);
    let changed = diesel::update(
        contracts::table
            .find(contract_id)
            .filter(contracts::status.eq("active")),
    )
    .set((
        contracts::status.eq("terminated"),
        contracts::ended_on.eq(today),
        contracts::end_reason.eq("terminated_by_school"),
        contracts::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(not_active());
    }
    let codes: Vec<&str> = req.grounds.iter().map(|g| g.as_str()).collect();
    audit::record(
        conn,
        ctx,
        "contract.terminated",
        "contract",
        contract_id,
        serde_json::json!({ "school_id": school_id, "institution_id": institution_id, "grounds": codes, "ended_on": today }),
    )?;
    crate::mail::events::contract_ended(conn, ctx.now, contract_id)?;
    let grounds: Vec<NewGround> = dedup(&req.grounds)
        .into_iter()
        .map(|g| NewGround {
            ground: g,
            source: Source::School,
            contract_id: Some(contract_id),
            statement: req.statement.clone(),
            document_ids: req.evidence_document_ids.clone(),
            reported_by: Some(user.id),
        })
        .collect();
    let joined = open_or_join(conn, ctx, institution_id, Source::School, &grounds)?;
    Ok(TerminationOutcome {
        contract: TerminatedContract {
            id: contract_id,
            school_id,
            institution_id,
            status: "terminated".into(),
            ended_on: today,
            end_reason: "terminated_by_school".into(),
        },
        exit_case: get_unchecked(conn, joined.case_id)?,
    })
}

/// A reviewer's verdict on a credential (an inspection record or a teacher's credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Checked and genuine.
    Genuine,
    /// Found false: opens (or joins) a `false_credentials` case.
    False,
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(as = CredentialVerification)]
pub struct Verification {
    pub verdict: Verdict,
    #[validate(length(min = 1, max = 10000))]
    pub note: String,
    #[serde(default)]
    #[validate(length(max = 50))]
    pub evidence_document_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationOutcome {
    pub verdict: Verdict,
    /// The `false_credentials` case the verdict opened or joined.
    pub exit_case: Option<ExitCase>,
}

/// What a verification is about.
#[derive(Debug, Clone, Copy)]
pub enum Verified {
    Inspection(i64),
    Teacher(i64),
}

/// Records a reviewer's verdict on a credential; `false` opens or joins a case (source
/// `system`, reported by the reviewer).
pub fn verify(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    institution_id: i64,
    subject: Verified,
    req: &Verification,
) -> ApiResult<VerificationOutcome> {
    crate::institutions::service::ensure_exists(conn, institution_id)?;
    let (entity, id, found, label) = match subject {
        Verified::Inspection(id) => {
            let year: Option<i32> = inspections::table
                .filter(inspections::id.eq(id))
                .filter(inspections::institution_id.eq(institution_id))
                .select(inspections::year)
                .first(conn)
                .optional()?;
            (
                "inspection",
                id,
                year.is_some(),
                format!("{}年度年检记录", year.unwrap_or_default()),
            )
        }
        Verified::Teacher(id) => {
            let name: Option<String> = teachers::table
                .filter(teachers::id.eq(id))
                .filter(teachers::institution_id.eq(institution_id))
                .select(teachers::name)
                .first(conn)
                .optional()?;
            (
                "teacher",
                id,
                name.is_some(),
                format!("教师{}的资质证明", name.unwrap_or_default()),
            )
        }
    };
    if !found {
        return Err(ApiError::not_found("记录", entity));
    }
    if req.verdict == Verdict::False && !in_pool(conn, institution_id)? {
        return Err(not_in_pool());
    }
    check_documents(
        conn,
        user,
        &req.evidence_document_ids,
        "evidence_document_ids",
    )?;
    audit::record(
        conn,
        ctx,
        &format!("{entity}.verified"),
        entity,
        id,
        serde_json::json!({ "institution_id": institution_id, "verdict": req.verdict, "note": req.note }),
    )?;
    let exit_case = match req.verdict {
        Verdict::Genuine => None,
        Verdict::False => {
            // The case counts as opened by the system (the verdict triggers it); the ground is
            // the reviewer's finding, so each false record adds its own ground.
            let g = NewGround {
                ground: Ground::FalseCredentials,
                source: Source::Reviewer,
                contract_id: None,
                statement: format!("经核查，{label}不实：{}", req.note),
                document_ids: req.evidence_document_ids.clone(),
                reported_by: Some(user.id),
            };
            let joined = open_or_join(conn, ctx, institution_id, Source::System, &[g])?;
            Some(get_unchecked(conn, joined.case_id)?)
        }
    };
    Ok(VerificationOutcome {
        verdict: req.verdict,
        exit_case,
    })
}

// ---- statement and decision --------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    #[validate(length(min = 1, max = 20000))]
    pub statement: String,
    /// The institution's documents (kind `statement_of_defence` or any of its own).
    #[serde(default)]
    #[validate(length(max = 50))]
    pub document_ids: Vec<i64>,
}

fn case_closed() -> ApiError {
    ApiError::conflict(
        "exit_case_closed",
        "该清退案件已作出决定。",
        "The exit case has already been decided.",
    )
}

/// The institution files its statement of defence: once, by 23:59:59 Beijing time on
/// `statement_due`.
pub fn file_statement(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    id: i64,
    req: &Statement,
) -> ApiResult<ExitCase> {
    let row = visible_case(conn, user, id)?;
    if row.status()? != CaseStatus::Open {
        return Err(case_closed());
    }
    if row.statement_filed_at.is_some() {
        return Err(ApiError::conflict(
            "statement_already_filed",
            "陈述申辩已提交，不能重复提交。",
            "The statement of defence has already been filed.",
        ));
    }
    if ctx.now > end_of_beijing_day(row.statement_due) {
        return Err(ApiError::conflict(
            "statement_window_closed",
            format!("陈述申辩期限已于 {} 届满。", row.statement_due),
            format!(
                "The statement window closed at the end of {}.",
                row.statement_due
            ),
        )
        .with_extra(serde_json::json!({ "statement_due": row.statement_due })));
    }
    check_documents(conn, user, &req.document_ids, "document_ids")?;
    let now = db_time(ctx.now);
    let changed = diesel::update(
        exit_cases::table
            .find(id)
            .filter(exit_cases::status.eq(CaseStatus::Open.as_str()))
            .filter(exit_cases::statement_filed_at.is_null()),
    )
    .set((
        exit_cases::statement.eq(&req.statement),
        exit_cases::statement_document_ids
            .eq(serde_json::to_string(&req.document_ids).unwrap_or_default()),
        exit_cases::statement_filed_at.eq(now),
        exit_cases::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(changed_meanwhile());
    }
    audit::record(
        conn,
        ctx,
        "exit_case.statement_filed",
        "exit_case",
        id,
        serde_json::json!({ "document_ids": req.document_ids }),
    )?;
    crate::mail::events::statement_received(conn, ctx.now, id)?;
    get_unchecked(conn, id)
}

fn changed_meanwhile() -> ApiError {
    ApiError::conflict(
        "status_changed",
        "案件状态已被他人更改，请刷新后重试。",
        "The case changed meanwhile; reload and retry.",
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ExitCaseDecisionKind)]
pub enum DecisionKind {
    Remove,
    Dismiss,
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(as = ExitCaseDecisionRequest)]
pub struct DecisionRequest {
    pub decision: DecisionKind,
    #[validate(length(min = 1, max = 10000))]
    pub reasons: String,
}

/// What a removal did, for the notifications (schools of the ended contracts, the institution).
#[derive(Debug, Default, Clone, Serialize)]
pub struct Removal {
    pub pool_entry_ids: Vec<i64>,
    /// (contract id, school id) of every contract ended.
    pub contracts: Vec<(i64, i64)>,
    pub rejected_application_ids: Vec<i64>,
    pub ban_id: i64,
    pub ban: Option<BanPeriod>,
}

/// A reviewer decides. `remove` is refused while the statement window is open unless the
/// statement has been filed. Compare-and-set on the case's `open` status.
pub fn decide(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    id: i64,
    req: &DecisionRequest,
) -> ApiResult<(ExitCase, Option<Removal>)> {
    let row = load_case(conn, id)?;
    if row.status()? != CaseStatus::Open {
        return Err(case_closed());
    }
    if req.decision == DecisionKind::Remove
        && row.statement_filed_at.is_none()
        && ctx.now <= end_of_beijing_day(row.statement_due)
    {
        return Err(ApiError::conflict(
            "statement_window_open",
            format!("陈述申辩期限至 {} 届满前，机构未提交陈述申辩的，不能作出清退决定。", row.statement_due),
            format!("The institution may file a statement until the end of {}; removal must wait unless it has filed.", row.statement_due),
        )
        .with_extra(serde_json::json!({ "statement_due": row.statement_due })));
    }
    let to = match req.decision {
        DecisionKind::Remove => CaseStatus::Removed,
        DecisionKind::Dismiss => CaseStatus::Dismissed,
    };
    let now = db_time(ctx.now);
    let changed = diesel::update(
        exit_cases::table
            .find(id)
            .filter(exit_cases::status.eq(CaseStatus::Open.as_str())),
    )
    .set((
        exit_cases::status.eq(to.as_str()),
        exit_cases::decision_reasons.eq(&req.reasons),
        exit_cases::decided_by.eq(user.id),
        exit_cases::decided_at.eq(now),
        exit_cases::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(changed_meanwhile());
    }
    audit::record(
        conn,
        ctx,
        &format!("exit_case.{}", to.as_str()),
        "exit_case",
        id,
        serde_json::json!({ "decision": req.decision, "reasons": req.reasons }),
    )?;
    let removal = match req.decision {
        DecisionKind::Remove => Some(remove(conn, ctx, &row)?),
        DecisionKind::Dismiss => None,
    };
    Ok((get_unchecked(conn, id)?, removal))
}

/// The removal cascade, in the decision's transaction: pool entries removed, active contracts
/// ended, in-flight applications rejected, the ban recorded; every step audited.
fn remove(conn: &mut DbConn, ctx: &Ctx, case: &CaseRow) -> ApiResult<Removal> {
    let today = beijing_date(ctx.now);
    let now = db_time(ctx.now);
    let inst = case.institution_id;
    let mut out = Removal {
        pool_entry_ids: pool_entries::table
            .filter(pool_entries::institution_id.eq(inst))
            .filter(pool_entries::status.eq("active"))
            .select(pool_entries::id)
            .load(conn)?,
        ..Removal::default()
    };
    for entry in &out.pool_entry_ids {
        diesel::update(
            pool_entries::table
                .find(entry)
                .filter(pool_entries::status.eq("active")),
        )
        .set((
            pool_entries::status.eq("removed"),
            pool_entries::ended_at.eq(now),
            pool_entries::end_reason.eq(format!("exit_case:{}", case.id)),
            pool_entries::updated_at.eq(now),
        ))
        .execute(conn)?;
        audit::record(
            conn,
            ctx,
            "pool_entry.removed",
            "pool_entry",
            entry,
            serde_json::json!({ "exit_case_id": case.id, "institution_id": inst }),
        )?;
        crate::pool::versions::record(conn, ctx, PoolChange::Removed, *entry)?;
    }

    out.contracts = contracts::table
        .filter(contracts::institution_id.eq(inst))
        .filter(contracts::status.eq("active"))
        .select((contracts::id, contracts::school_id))
        .load(conn)?;
    for (contract, school) in &out.contracts {
        diesel::update(
            contracts::table
                .find(contract)
                .filter(contracts::status.eq("active")),
        )
        .set((
            contracts::status.eq("ended"),
            contracts::ended_on.eq(today),
            contracts::end_reason.eq("institution_removed"),
            contracts::updated_at.eq(now),
        ))
        .execute(conn)?;
        audit::record(
            conn,
            ctx,
            "contract.ended",
            "contract",
            contract,
            serde_json::json!({ "reason": "institution_removed", "exit_case_id": case.id, "school_id": school, "ended_on": today }),
        )?;
        crate::mail::events::contract_ended(conn, ctx.now, *contract)?;
    }

    let in_flight: Vec<(i64, String)> = applications::table
        .filter(applications::institution_id.eq(inst))
        .filter(
            applications::status.eq_any(
                [
                    AppStatus::Submitted,
                    AppStatus::Returned,
                    AppStatus::Approved,
                    AppStatus::InNotice,
                ]
                .map(AppStatus::as_str),
            ),
        )
        .select((applications::id, applications::status))
        .load(conn)?;
    for (app_id, status) in in_flight {
        let from = AppStatus::parse(&status)
            .ok_or_else(|| anyhow::anyhow!("bad status in applications.{app_id}"))?;
        applications_service::transition(conn, app_id, from, Event::Reject, now)?;
        audit::record(
            conn,
            ctx,
            "application.rejected",
            "application",
            app_id,
            serde_json::json!({ "from": from.as_str(), "reason": "institution_removed", "exit_case_id": case.id }),
        )?;
        crate::mail::events::application_rejected(
            conn,
            ctx.now,
            app_id,
            "机构已被清退出课后服务备选库，在办申报一并不予通过。",
            &format!("institution_removed:{}", case.id),
        )?;
        out.rejected_application_ids.push(app_id);
    }

    let (name, uscc): (String, String) = institutions::table
        .find(inst)
        .select((institutions::name, institutions::uscc))
        .first(conn)?;
    let codes: Vec<String> = exit_grounds::table
        .filter(exit_grounds::case_id.eq(case.id))
        .select(exit_grounds::ground)
        .load(conn)?;
    let grounds: Vec<Ground> = dedup(
        &codes
            .iter()
            .filter_map(|c| Ground::parse(c))
            .collect::<Vec<_>>(),
    );
    let (ban_id, ban) = bans::record(
        conn,
        &NewBan {
            institution_id: inst,
            uscc: &uscc,
            institution_name: &name,
            exit_case_id: case.id,
            grounds: &grounds,
            decided_on: today,
            now,
        },
    )?;
    audit::record(
        conn,
        ctx,
        "ban.recorded",
        "ban",
        ban_id,
        serde_json::json!({ "uscc": uscc, "institution_id": inst, "exit_case_id": case.id, "decided_on": ban.decided_on, "last_day": ban.last_day, "may_apply_from": ban.may_apply_from, "grounds": grounds }),
    )?;
    bans::record_version(conn, ctx, ban_id)?;
    crate::mail::events::removed_and_banned(conn, ctx.now, ban_id)?;
    out.ban_id = ban_id;
    out.ban = Some(ban);
    Ok(out)
}

/// Whether document `document_id` is evidence cited in one of the institution's exit cases
/// (the institution may read it to prepare its statement of defence).
pub fn is_evidence_against(
    conn: &mut DbConn,
    institution_id: i64,
    document_id: i64,
) -> ApiResult<bool> {
    let lists: Vec<String> = exit_grounds::table
        .inner_join(exit_cases::table)
        .filter(exit_cases::institution_id.eq(institution_id))
        .select(exit_grounds::document_ids)
        .load(conn)?;
    Ok(lists.iter().any(|l| {
        serde_json::from_str::<Vec<i64>>(l)
            .unwrap_or_default()
            .contains(&document_id)
    }))
}

/// Institutions with an active pool entry and this credit code.
pub fn pool_members_with_uscc(conn: &mut DbConn, uscc: &str) -> ApiResult<Vec<i64>> {
    Ok(pool_entries::table
        .inner_join(institutions::table)
        .filter(institutions::uscc.eq(uscc))
        .filter(pool_entries::status.eq("active"))
        .select(institutions::id)
        .distinct()
        .load(conn)?)
}

/// Active pool members (institution ids).
pub fn pool_members(conn: &mut DbConn) -> ApiResult<Vec<i64>> {
    Ok(pool_entries::table
        .filter(pool_entries::status.eq("active"))
        .select(pool_entries::institution_id)
        .distinct()
        .load(conn)?)
}

/// Whether a system `annual_inspection` ground was already raised against the institution
/// since `since` (the sweep raises it once per year, even if a reviewer dismissed the case).
pub fn inspection_ground_since(
    conn: &mut DbConn,
    institution_id: i64,
    since: NaiveDateTime,
) -> ApiResult<bool> {
    let n: i64 = exit_grounds::table
        .inner_join(exit_cases::table)
        .filter(exit_cases::institution_id.eq(institution_id))
        .filter(exit_grounds::ground.eq(Ground::AnnualInspection.as_str()))
        .filter(exit_grounds::source.eq(Source::System.as_str()))
        .filter(exit_grounds::created_at.ge(since))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The start of the Beijing year of `today`, as a stored UTC timestamp.
pub fn beijing_year_start(today: NaiveDate) -> NaiveDateTime {
    let jan1 = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    (jan1.and_hms_opt(0, 0, 0).unwrap_or_default()) - Duration::hours(8)
}
