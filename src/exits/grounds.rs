//! Opening or joining an institution's exit case with grounds, the statement window, and the
//! checks every opening shares (pool membership, evidence documents, ground codes).

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::CaseStatus;

use crate::audit;
use crate::auth::{AuthUser, Ctx, Owners};
use crate::calendar::store as calendar_store;
use crate::clock::beijing_date;
use crate::db::schema::{documents, exit_cases, exit_grounds, pool_entries};
use crate::db::{DbConn, db_time, is_unique_violation};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};

use crate::pool::entry::EntryStatus;
use crate::sanctions::Ground;

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
    pub(super) fn parse(s: &str) -> Option<Self> {
        [Self::School, Self::Reviewer, Self::System]
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

pub(super) fn open_case_id(conn: &mut DbConn, institution_id: i64) -> QueryResult<Option<i64>> {
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
        crate::mail::outbox::record(
            conn,
            ctx.now,
            crate::mail::outbox::Event::ExitCaseOpened { case_id },
        )?;
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
        .filter(pool_entries::status.eq(EntryStatus::Active.as_str()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// 409 `not_in_pool` unless the institution has an active pool entry.
pub(super) fn require_member(conn: &mut DbConn, institution_id: i64) -> ApiResult<()> {
    if in_pool(conn, institution_id)? {
        Ok(())
    } else {
        Err(not_in_pool())
    }
}

/// Checks a request's `evidence_document_ids` (see [`check_documents`]).
pub(super) fn check_evidence(conn: &mut DbConn, user: &AuthUser, ids: &[i64]) -> ApiResult<()> {
    check_documents(conn, user, ids, "evidence_document_ids")
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
pub(super) fn check_documents(
    conn: &mut DbConn,
    user: &AuthUser,
    ids: &[i64],
    field: &str,
) -> ApiResult<()> {
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
                    && user.may_see(Owners {
                        institution_id: *inst,
                        school_id: None,
                        uploaded_by: *by,
                    })
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

/// At least one ground (also checked by a page before it stores the evidence).
pub fn check_grounds(grounds: &[Ground]) -> ApiResult<()> {
    if grounds.is_empty() {
        return Err(ApiError::validation(vec![FieldIssue::new(
            "grounds",
            "grounds_missing",
            Msg::new("请至少选择一项清退情形。", "Cite at least one exit ground."),
        )]));
    }
    Ok(())
}

pub(super) fn dedup(grounds: &[Ground]) -> Vec<Ground> {
    let mut g = grounds.to_vec();
    g.sort();
    g.dedup();
    g
}
