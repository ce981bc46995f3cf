//! Reading contracts: the contract view, who may see one (the school, the institution, bureau
//! staff), one contract and the list.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::evaluations::{Evaluation, evaluations_of};

use crate::auth::{AuthUser, Owners, Scope};
use crate::db::columns::UtcTime;
use crate::db::schema::{contracts, institutions, schools};
use crate::db::{DbConn, JsonText};
use crate::error::{ApiError, ApiResult};
use crate::pool::search::PoolItem;

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
pub(super) struct Row {
    id: i64,
    school_id: i64,
    institution_id: i64,
    pool_entry_id: i64,
    items: JsonText<Vec<String>>,
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

/// The columns of [`Row`], written once: the same tokens are the select clause's type and value.
macro_rules! row_columns {
    () => {
        (
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
        )
    };
}

type RowSelect = row_columns!();

pub(super) const ROW: RowSelect = row_columns!();

impl Row {
    fn into_view(self) -> Contract {
        let codes = self.items.into_inner();
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

pub(super) fn not_found() -> ApiError {
    ApiError::not_found("合同", "contract")
}

/// The school of a school account (a school account always has one: a CHECK constraint).
pub(super) fn school_of(user: &AuthUser) -> ApiResult<i64> {
    user.school_id.ok_or_else(ApiError::forbidden)
}

pub(super) fn load(conn: &mut DbConn, id: i64) -> ApiResult<Contract> {
    let row: Row = contracts::table
        .inner_join(schools::table)
        .inner_join(institutions::table.on(institutions::id.eq(contracts::institution_id)))
        .filter(contracts::id.eq(id))
        .select(ROW)
        .first(conn)?;
    Ok(row.into_view())
}

/// Whether `user` may see the contract of `school_id` with `institution_id`.
pub(super) fn may_see(user: &AuthUser, school_id: i64, institution_id: i64) -> bool {
    user.may_see(Owners {
        institution_id: Some(institution_id),
        school_id: Some(school_id),
        uploaded_by: None,
    })
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
        match user.scope() {
            Scope::School(own) => q = q.filter(contracts::school_id.eq(own)),
            Scope::Institution(own) => q = q.filter(contracts::institution_id.eq(own)),
            Scope::All => {
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
