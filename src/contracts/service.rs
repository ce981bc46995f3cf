//! Contracts between schools and pool members, their evaluations, and the daily job that ends
//! contracts on their end date.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::audit;
use crate::auth::{AuthUser, Ctx, Role};
use crate::clock::beijing_date;
use crate::contracts::term::{self, Term};
use crate::db::columns::UtcTime;
use crate::db::schema::{contracts, evaluations, institutions, pool_entries, schools};
use crate::db::{DbConn, db_time, is_unique_violation};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::pool::search::PoolItem;

/// A contract request of a school.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct NewContract {
    pub institution_id: i64,
    /// Catalogue item codes, each approved for the institution's pool entry.
    #[validate(length(min = 1, max = 50))]
    pub items: Vec<String>,
    pub starts_on: NaiveDate,
    /// At most two school years from the school year of `starts_on`.
    pub ends_on: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartyRef {
    pub id: i64,
    pub name: String,
}

/// A contract as its school, its institution and the bureau see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Contract {
    pub id: i64,
    pub school: PartyRef,
    pub institution: PartyRef,
    pub institution_uscc: String,
    pub pool_entry_id: i64,
    pub items: Vec<PoolItem>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// `active`, `ended` or `terminated`.
    pub status: String,
    pub ended_on: Option<NaiveDate>,
    /// `expired`, `terminated_by_school` or `institution_removed`.
    pub end_reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
    /// The contract's evaluations (single contract only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluations: Option<Vec<Evaluation>>,
}

#[derive(Queryable)]
struct Row {
    id: i64,
    school_id: i64,
    institution_id: i64,
    pool_entry_id: i64,
    items: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    status: String,
    ended_on: Option<NaiveDate>,
    end_reason: Option<String>,
    created_at: NaiveDateTime,
    school_name: String,
    institution_name: String,
    institution_uscc: String,
}

type RowSelect = (
    contracts::id,
    contracts::school_id,
    contracts::institution_id,
    contracts::pool_entry_id,
    contracts::items,
    contracts::starts_on,
    contracts::ends_on,
    contracts::status,
    contracts::ended_on,
    contracts::end_reason,
    contracts::created_at,
    schools::name,
    institutions::name,
    institutions::uscc,
);

const ROW: RowSelect = (
    contracts::id,
    contracts::school_id,
    contracts::institution_id,
    contracts::pool_entry_id,
    contracts::items,
    contracts::starts_on,
    contracts::ends_on,
    contracts::status,
    contracts::ended_on,
    contracts::end_reason,
    contracts::created_at,
    schools::name,
    institutions::name,
    institutions::uscc,
);

impl Row {
    fn into_view(self) -> Contract {
        let codes: Vec<String> = serde_json::from_str(&self.items).unwrap_or_default();
        Contract {
            id: self.id,
            school: PartyRef {
                id: self.school_id,
                name: self.school_name,
            },
            institution: PartyRef {
                id: self.institution_id,
                name: self.institution_name,
            },
            institution_uscc: self.institution_uscc,
            pool_entry_id: self.pool_entry_id,
            items: codes.iter().map(|c| PoolItem::of(c)).collect(),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            status: self.status,
            ended_on: self.ended_on,
            end_reason: self.end_reason,
            created_at: UtcTime(self.created_at.and_utc()),
            evaluations: None,
        }
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("合同", "contract")
}

/// The school of a school account (a school account always has one: a CHECK constraint).
fn school_of(user: &AuthUser) -> ApiResult<i64> {
    user.school_id.ok_or_else(ApiError::forbidden)
}

/// Checks the term of a contract (pure): end not before start, at most two school years.
pub fn check_term(starts_on: NaiveDate, ends_on: NaiveDate) -> ApiResult<()> {
    if ends_on < starts_on {
        return Err(ApiError::rule(
            "invalid_term",
            "合同结束日期早于开始日期。",
            "The contract ends before it starts.",
        )
        .with_errors(vec![FieldIssue::new(
            "ends_on",
            "invalid_term",
            Msg::new("结束日期不能早于开始日期。", "ends_on is before starts_on."),
        )]));
    }
    let latest = term::latest_end(starts_on);
    if ends_on > latest {
        return Err(ApiError::rule(
            "term_too_long",
            format!(
                "合同期限不得超过两个学年（每学年 9 月 1 日至次年 8 月 31 日，自开始日期所在学年起算），本合同最迟应于 {latest} 结束。"
            ),
            format!(
                "A contract may run at most two school years (1 Sep – 31 Aug, counted from the school year of its start); this one must end by {latest}."
            ),
        )
        .with_extra(serde_json::json!({ "latest_end": latest })));
    }
    Ok(())
}

/// A school signs a contract with an active pool member for items approved for it.
pub fn create(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    req: &NewContract,
) -> ApiResult<Contract> {
    let school_id = school_of(user)?;
    check_term(req.starts_on, req.ends_on)?;
    let today = beijing_date(ctx.now);
    let entry: Option<(i64, String)> = pool_entries::table
        .filter(pool_entries::institution_id.eq(req.institution_id))
        .filter(pool_entries::status.eq("active"))
        .filter(pool_entries::valid_from.le(today))
        .filter(pool_entries::valid_until.ge(today))
        .order(pool_entries::id.desc())
        .select((pool_entries::id, pool_entries::items))
        .first(conn)
        .optional()?;
    let Some((entry_id, approved)) = entry else {
        return Err(ApiError::rule(
            "not_in_pool",
            "该机构不是备选库的有效成员，不能签订合同。",
            "The institution is not an active member of the pool.",
        ));
    };
    let approved: Vec<String> = serde_json::from_str(&approved).unwrap_or_default();
    let mut items: Vec<String> = Vec::new();
    let mut refused = Vec::new();
    for (i, code) in req.items.iter().enumerate() {
        let code = code.trim();
        if !approved.iter().any(|a| a == code) {
            refused.push(FieldIssue::new(
                format!("items[{i}]"),
                "item_not_approved",
                Msg::new(
                    format!("项目“{code}”不在该机构获准的服务项目中。"),
                    format!("“{code}” is not an approved item of this institution."),
                ),
            ));
        } else if !items.iter().any(|x| x == code) {
            items.push(code.to_owned());
        }
    }
    if !refused.is_empty() {
        return Err(ApiError::rule(
            "item_not_approved",
            "合同项目须为该机构在备选库中获准的服务项目。",
            "Contract items must be items approved for the institution in the pool.",
        )
        .with_errors(refused));
    }
    let now = db_time(ctx.now);
    let items_json = serde_json::to_string(&items).map_err(|e| ApiError::Internal(e.into()))?;
    let id: i64 = diesel::insert_into(contracts::table)
        .values((
            contracts::school_id.eq(school_id),
            contracts::institution_id.eq(req.institution_id),
            contracts::pool_entry_id.eq(entry_id),
            contracts::items.eq(&items_json),
            contracts::starts_on.eq(req.starts_on),
            contracts::ends_on.eq(req.ends_on),
            contracts::status.eq("active"),
            contracts::created_by.eq(Some(user.id)),
            contracts::created_at.eq(now),
            contracts::updated_at.eq(now),
        ))
        .returning(contracts::id)
        .get_result(conn)?;
    audit::record(
        conn,
        ctx,
        "contract.created",
        "contract",
        id,
        serde_json::json!({
            "school_id": school_id,
            "institution_id": req.institution_id,
            "pool_entry_id": entry_id,
            "items": items,
            "starts_on": req.starts_on,
            "ends_on": req.ends_on,
        }),
    )?;
    crate::mail::outbox::record(
        conn,
        ctx.now,
        crate::mail::outbox::Event::ContractCreated { contract_id: id },
    )?;
    load(conn, id)
}

fn load(conn: &mut DbConn, id: i64) -> ApiResult<Contract> {
    let row: Row = contracts::table
        .inner_join(schools::table)
        .inner_join(institutions::table.on(institutions::id.eq(contracts::institution_id)))
        .filter(contracts::id.eq(id))
        .select(ROW)
        .first(conn)?;
    Ok(row.into_view())
}

/// Whether `user` may see the contract of `school_id` with `institution_id`.
fn may_see(user: &AuthUser, school_id: i64, institution_id: i64) -> bool {
    match user.role() {
        Role::Reviewer | Role::Admin => true,
        Role::School => user.school_id == Some(school_id),
        Role::Institution => user.institution_id == Some(institution_id),
    }
}

/// One contract with its evaluations; 404 for a contract the caller may not see.
pub fn get(conn: &mut DbConn, user: &AuthUser, id: i64) -> ApiResult<Contract> {
    let mut contract = load(conn, id).map_err(|e| match e {
        ApiError::Problem(p) if p.code == "not_found" => not_found(),
        e => e,
    })?;
    if !may_see(user, contract.school.id, contract.institution.id) {
        return Err(not_found());
    }
    contract.evaluations = Some(evaluations_of(conn, id)?);
    Ok(contract)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractFilter {
    /// `active`, `ended` or `terminated`.
    pub status: Option<String>,
    pub institution_id: Option<i64>,
    /// Bureau staff only (a school always sees its own).
    pub school_id: Option<i64>,
}

/// Contracts the caller may see (a school its own, an institution its own, staff all),
/// newest first.
pub fn list(
    conn: &mut DbConn,
    user: &AuthUser,
    filter: &ContractFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(Vec<Contract>, i64)> {
    let query = || {
        let mut q = contracts::table
            .inner_join(schools::table)
            .inner_join(institutions::table.on(institutions::id.eq(contracts::institution_id)))
            .into_boxed();
        match user.role() {
            Role::School => q = q.filter(contracts::school_id.eq(user.school_id.unwrap_or(-1))),
            Role::Institution => {
                q = q.filter(contracts::institution_id.eq(user.institution_id.unwrap_or(-1)))
            }
            Role::Reviewer | Role::Admin => {
                if let Some(s) = filter.school_id {
                    q = q.filter(contracts::school_id.eq(s));
                }
            }
        }
        if let Some(s) = &filter.status {
            q = q.filter(contracts::status.eq(s.clone()));
        }
        if let Some(i) = filter.institution_id {
            q = q.filter(contracts::institution_id.eq(i));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<Row> = query()
        .order(contracts::id.desc())
        .offset(offset)
        .limit(limit)
        .select(ROW)
        .load(conn)?;
    Ok((rows.into_iter().map(Row::into_view).collect(), total))
}

// ---- evaluations ---------------------------------------------------------------------------

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

fn evaluations_of(conn: &mut DbConn, contract_id: i64) -> ApiResult<Vec<Evaluation>> {
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
        .map_err(|e| {
            if is_unique_violation(&e) {
                already_evaluated(&term_text)
            } else {
                e.into()
            }
        })?;
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

// ---- the end-date job ----------------------------------------------------------------------

/// Ends every active contract whose end date has passed (Beijing): status `ended`, `ended_on`
/// its end date, reason `expired`; one audited compare-and-set each. Returns the ended ids
/// (for notifications).
pub fn end_expired(conn: &mut DbConn, ctx: &Ctx) -> ApiResult<Vec<i64>> {
    let today = beijing_date(ctx.now);
    let due: Vec<(i64, i64, i64, NaiveDate)> = contracts::table
        .filter(contracts::status.eq("active"))
        .filter(contracts::ends_on.lt(today))
        .select((
            contracts::id,
            contracts::school_id,
            contracts::institution_id,
            contracts::ends_on,
        ))
        .load(conn)?;
    let mut ended = Vec::new();
    for (id, school_id, institution_id, ends_on) in due {
        let changed = diesel::update(
            contracts::table
                .filter(contracts::id.eq(id))
                .filter(contracts::status.eq("active")),
        )
        .set((
            contracts::status.eq("ended"),
            contracts::ended_on.eq(Some(ends_on)),
            contracts::end_reason.eq(Some("expired")),
            contracts::updated_at.eq(db_time(ctx.now)),
        ))
        .execute(conn)?;
        if changed == 1 {
            audit::record(
                conn,
                ctx,
                "contract.ended",
                "contract",
                id,
                serde_json::json!({
                    "school_id": school_id,
                    "institution_id": institution_id,
                    "ended_on": ends_on,
                    "end_reason": "expired",
                }),
            )?;
            crate::mail::outbox::record(
                conn,
                ctx.now,
                crate::mail::outbox::Event::ContractEnded { contract_id: id },
            )?;
            ended.push(id);
        }
    }
    Ok(ended)
}
