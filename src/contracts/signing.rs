//! A school signs a contract with a pool member: only approved items, a term of at most two
//! school years.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::Contract;
use super::records::{load, school_of};

use crate::audit;
use crate::auth::{AuthUser, Ctx};
use crate::clock::beijing_date;
use crate::contracts::status::ContractStatus;
use crate::contracts::term::{self};
use crate::db::schema::{contracts, pool_entries};
use crate::db::{DbConn, JsonText, db_time};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::pool::entry::EntryStatus;

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
    let entry: Option<(i64, JsonText<Vec<String>>)> = pool_entries::table
        .filter(pool_entries::institution_id.eq(req.institution_id))
        .filter(pool_entries::status.eq(EntryStatus::Active.as_str()))
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
    let approved = approved.into_inner();
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
            contracts::status.eq(ContractStatus::Active.as_str()),
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
