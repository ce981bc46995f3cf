//! Reading exit cases: the response views, who may see a case, one case and the list.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::grounds::Source;
use super::{CaseStatus, DecisionKind};

use crate::auth::{AuthUser, Owners, Scope};
use crate::clock::end_of_beijing_day;
use crate::db::columns::UtcTime;
use crate::db::schema::{exit_cases, exit_grounds, institutions};
use crate::db::{DbConn, JsonText};
use crate::error::{ApiError, ApiResult};

use crate::sanctions::bans::{self, BanPeriod};
use crate::sanctions::{Ground, GroundRef};

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
pub(super) struct CaseRow {
    pub(super) id: i64,
    pub(super) institution_id: i64,
    pub(super) status: String,
    pub(super) opened_by: String,
    pub(super) statement_due: NaiveDate,
    pub(super) statement: Option<String>,
    pub(super) statement_document_ids: Option<JsonText<Vec<i64>>>,
    pub(super) statement_filed_at: Option<NaiveDateTime>,
    pub(super) decision_reasons: Option<String>,
    pub(super) decided_by: Option<i64>,
    pub(super) decided_at: Option<NaiveDateTime>,
    pub(super) created_at: NaiveDateTime,
    pub(super) updated_at: NaiveDateTime,
}

impl CaseRow {
    pub(super) fn status(&self) -> ApiResult<CaseStatus> {
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
    document_ids: JsonText<Vec<i64>>,
    created_at: NaiveDateTime,
}

pub(super) fn load_case(conn: &mut DbConn, id: i64) -> ApiResult<CaseRow> {
    exit_cases::table
        .find(id)
        .select(CaseRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("清退案件", "exit case"))
}

/// A case the user may see: staff any, an institution its own; others "not found".
pub(super) fn visible_case(conn: &mut DbConn, user: &AuthUser, id: i64) -> ApiResult<CaseRow> {
    let row = load_case(conn, id)?;
    if user.may_see(Owners::institution(row.institution_id)) {
        Ok(row)
    } else {
        Err(ApiError::not_found("清退案件", "exit case"))
    }
}

pub(super) fn view(conn: &mut DbConn, row: CaseRow) -> ApiResult<ExitCase> {
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
                document_ids: g.document_ids.into_inner(),
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
            .map(JsonText::into_inner)
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
        if let Scope::Institution(own) = user.scope() {
            q = q.filter(exit_cases::institution_id.eq(own));
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
