//! A reviewer's decision on an open case, and the removal cascade it starts.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::cases::{CaseRow, load_case};
use super::grounds::dedup;
use super::{ExitCase, get_unchecked};

use crate::applications::service as applications_service;
use crate::applications::status::{Event, Status as AppStatus};
use crate::audit;
use crate::auth::{AuthUser, Ctx};
use crate::clock::{beijing_date, end_of_beijing_day};
use crate::contracts::status::{self as contract_status, Ending};
use crate::db::schema::{applications, exit_cases, exit_grounds, institutions};
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult};

use crate::exits::status::{self, case_closed};
use crate::pool::entry::{self as pool_entry};
use crate::sanctions::Ground;
use crate::sanctions::bans::{self, BanPeriod, NewBan};

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
    let from = row.status()?;
    let event = match req.decision {
        DecisionKind::Remove => status::Event::Remove,
        DecisionKind::Dismiss => status::Event::Dismiss,
    };
    from.apply(event).map_err(|_| case_closed())?;
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
    let now = db_time(ctx.now);
    let to = status::transition(conn, id, from, event, now)?;
    diesel::update(exit_cases::table.find(id))
        .set((
            exit_cases::decision_reasons.eq(&req.reasons),
            exit_cases::decided_by.eq(user.id),
            exit_cases::decided_at.eq(now),
        ))
        .execute(conn)?;
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
        pool_entry_ids: pool_entry::remove_institution(conn, ctx, inst, case.id)?,
        contracts: contract_status::active_of_institution(conn, inst)?,
        ..Removal::default()
    };
    for &(contract, school) in &out.contracts {
        let ending = Ending::InstitutionRemoved {
            exit_case_id: case.id,
        };
        contract_status::end(conn, ctx, contract, (school, inst), ending)?;
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
        crate::mail::outbox::record(
            conn,
            ctx.now,
            crate::mail::outbox::Event::ApplicationRejected {
                application_id: app_id,
                reasons: "机构已被清退出课后服务备选库，在办申报一并不予通过。".to_owned(),
                cause: format!("institution_removed:{}", case.id),
            },
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
    crate::mail::outbox::record(
        conn,
        ctx.now,
        crate::mail::outbox::Event::RemovedAndBanned { ban_id },
    )?;
    out.ban_id = ban_id;
    out.ban = Some(ban);
    Ok(out)
}
