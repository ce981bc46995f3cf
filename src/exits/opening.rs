//! Opening a case: a reviewer's `POST /exit-cases` and a school's termination of its contract.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::grounds::{check_evidence, check_grounds, dedup, require_member};
use super::{ExitCase, NewGround, Source, get_unchecked, open_or_join};

use crate::auth::{AuthUser, Ctx};
use crate::contracts::status::{self as contract_status, ContractStatus, Ending};
use crate::db::DbConn;
use crate::db::schema::contracts;
use crate::error::{ApiError, ApiResult};

use crate::sanctions::Ground;

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
    crate::institutions::ensure_exists(conn, req.institution_id)?;
    require_member(conn, req.institution_id)?;
    check_evidence(conn, user, &req.evidence_document_ids)?;
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
    let (school_id, institution_id, current): (i64, i64, String) = contracts::table
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
    ContractStatus::parse(&current)
        .ok_or_else(|| anyhow::anyhow!("bad status in contracts.{contract_id}"))?
        .apply(contract_status::Event::TerminateBySchool)
        .map_err(|_| contract_status::not_active())?;
    check_evidence(conn, user, &req.evidence_document_ids)?;
    let codes: Vec<&str> = req.grounds.iter().map(|g| g.as_str()).collect();
    let ending = Ending::TerminatedBySchool { grounds: &codes };
    let ended = contract_status::end(conn, ctx, contract_id, (school_id, institution_id), ending)?;
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
            status: ended.status.as_str().into(),
            ended_on: ended.ended_on,
            end_reason: ended.reason.as_str().into(),
        },
        exit_case: get_unchecked(conn, joined.case_id)?,
    })
}
