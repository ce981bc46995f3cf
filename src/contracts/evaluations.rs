//! Evaluations: once per contract per term, by the contract's school; they feed the
//! institution's standing in the pool.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::records::{not_found, school_of};

use crate::audit;
use crate::auth::{AuthUser, Ctx};
use crate::clock::beijing_date;
use crate::contracts::term::Term;
use crate::db::columns::UtcTime;
use crate::db::schema::{contracts, evaluations};
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};

/// A school's evaluation of a contract for one term (satisfaction survey, seed 004).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct NewEvaluation {
    /// `YYYY-YYYY-1` (autumn, 1 Sep – 31 Jan) or `YYYY-YYYY-2` (spring, 1 Feb – 31 Aug).
    #[validate(length(min = 1, max = 20))]
    pub term: String,
    #[validate(range(min = 1, max = 5))]
    pub quality: i32,
    #[validate(range(min = 1, max = 5))]
    pub safety: i32,
    #[validate(range(min = 1, max = 5))]
    pub punctuality: i32,
    #[validate(length(max = 2000))]
    pub comment: String,
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = evaluations)]
pub struct Evaluation {
    pub id: i64,
    pub contract_id: i64,
    pub institution_id: i64,
    pub term: String,
    pub quality: i32,
    pub safety: i32,
    pub punctuality: i32,
    pub comment: String,
    #[diesel(deserialize_as = NaiveDateTime)]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
}

pub(super) fn evaluations_of(conn: &mut DbConn, contract_id: i64) -> ApiResult<Vec<Evaluation>> {
    Ok(evaluations::table
        .filter(evaluations::contract_id.eq(contract_id))
        .order(evaluations::id.asc())
        .select(Evaluation::as_select())
        .load(conn)?)
}

fn already_evaluated(term: &str) -> ApiError {
    ApiError::conflict(
        "already_evaluated",
        format!("该合同已有“{term}”学期的评价，每学期只能评价一次。"),
        format!("This contract has already been evaluated for term {term}; once per term."),
    )
}

/// The school owning the contract evaluates it once per term: the term must be well-formed,
/// have begun, and overlap the contract. The UNIQUE (contract_id, term) constraint decides
/// between two simultaneous evaluations.
pub fn evaluate(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    contract_id: i64,
    req: &NewEvaluation,
) -> ApiResult<Evaluation> {
    let school_id = school_of(user)?;
    let (owner, institution_id, starts_on, ends_on): (i64, i64, NaiveDate, NaiveDate) =
        contracts::table
            .find(contract_id)
            .select((
                contracts::school_id,
                contracts::institution_id,
                contracts::starts_on,
                contracts::ends_on,
            ))
            .first(conn)
            .optional()?
            .ok_or_else(not_found)?;
    if owner != school_id {
        return Err(not_found());
    }
    let term: Term = req.term.parse().map_err(|()| {
        ApiError::validation(vec![FieldIssue::new(
            "term",
            "invalid_school_term",
            Msg::new(
                "学期格式应为“2026-2027-1”（秋季学期）或“2026-2027-2”（春季学期）。",
                "A term is written 2026-2027-1 (autumn) or 2026-2027-2 (spring).",
            ),
        )])
    })?;
    let today = beijing_date(ctx.now);
    if term.first_day() > today {
        return Err(ApiError::rule(
            "term_not_started",
            format!(
                "{term} 学期尚未开始（{} 开始），不能评价。",
                term.first_day()
            ),
            format!(
                "Term {term} has not begun (it starts {}).",
                term.first_day()
            ),
        ));
    }
    if !term.overlaps(starts_on, ends_on) || starts_on > today {
        return Err(ApiError::rule(
            "term_outside_contract",
            format!("{term} 学期不在合同履行期（{starts_on} 至 {ends_on}）内。"),
            format!("Term {term} is outside the contract's term ({starts_on} to {ends_on})."),
        ));
    }
    let term_text = term.to_string();
    let exists: i64 = evaluations::table
        .filter(evaluations::contract_id.eq(contract_id))
        .filter(evaluations::term.eq(&term_text))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Err(already_evaluated(&term_text));
    }
    let id: i64 = diesel::insert_into(evaluations::table)
        .values((
            evaluations::contract_id.eq(contract_id),
            evaluations::institution_id.eq(institution_id),
            evaluations::term.eq(&term_text),
            evaluations::quality.eq(req.quality),
            evaluations::safety.eq(req.safety),
            evaluations::punctuality.eq(req.punctuality),
            evaluations::comment.eq(req.comment.trim()),
            evaluations::created_by.eq(Some(user.id)),
            evaluations::created_at.eq(db_time(ctx.now)),
        ))
        .returning(evaluations::id)
        .get_result(conn)
        .map_err(ApiError::on_unique(already_evaluated(&term_text)))?;
    audit::record(
        conn,
        ctx,
        "contract.evaluated",
        "contract",
        contract_id,
        serde_json::json!({
            "evaluation_id": id,
            "institution_id": institution_id,
            "term": term_text,
            "quality": req.quality,
            "safety": req.safety,
            "punctuality": req.punctuality,
        }),
    )?;
    Ok(evaluations::table
        .find(id)
        .select(Evaluation::as_select())
        .first(conn)?)
}
