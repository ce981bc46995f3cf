//! Selection rounds (遴选周期, "in principle every two years"): an application window
//! (Beijing-time instants) and the validity of the pool the round forms. A later round (a
//! "second batch") can admit more institutions into a pool.

pub mod routes;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::audit;
use crate::auth::Ctx;
use crate::db::columns::UtcTime;
use crate::db::schema::rounds;
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Round {
    pub id: i64,
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub opens_at: UtcTime,
    #[schema(value_type = String, format = DateTime)]
    pub closes_at: UtcTime,
    pub pool_valid_from: NaiveDate,
    pub pool_valid_until: NaiveDate,
    /// Whether applications are accepted at this moment.
    pub open_now: bool,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = rounds)]
struct Row {
    id: i64,
    name: String,
    opens_at: NaiveDateTime,
    closes_at: NaiveDateTime,
    pool_valid_from: NaiveDate,
    pool_valid_until: NaiveDate,
}

impl Round {
    /// 409 `round_closed` unless the round accepts applications now, with the window in
    /// `extra` (`opens_at`, `closes_at`). Draft creation and submission answer alike.
    pub fn ensure_open(&self) -> ApiResult<()> {
        if self.open_now {
            return Ok(());
        }
        Err(ApiError::conflict(
            "round_closed",
            format!("该遴选批次（{}）当前不在申报时间内。", self.name),
            format!("The round ({}) is not open for applications.", self.name),
        )
        .with_extra(serde_json::json!({ "opens_at": self.opens_at, "closes_at": self.closes_at })))
    }
}

impl Row {
    fn into_round(self, now: DateTime<Utc>) -> Round {
        let (opens, closes) = (self.opens_at.and_utc(), self.closes_at.and_utc());
        Round {
            id: self.id,
            name: self.name,
            opens_at: UtcTime(opens),
            closes_at: UtcTime(closes),
            pool_valid_from: self.pool_valid_from,
            pool_valid_until: self.pool_valid_until,
            open_now: opens <= now && now < closes,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct NewRound {
    #[validate(length(min = 2, max = 200))]
    pub name: String,
    /// When applications open (RFC 3339; give +08:00 for Beijing time).
    pub opens_at: DateTime<Utc>,
    /// When applications close.
    pub closes_at: DateTime<Utc>,
    /// First day the pool this round forms is valid.
    pub pool_valid_from: NaiveDate,
    /// Last day the pool is valid (normally two years later).
    pub pool_valid_until: NaiveDate,
}

pub fn create(conn: &mut DbConn, ctx: &Ctx, req: &NewRound) -> ApiResult<Round> {
    let mut issues = Vec::new();
    if req.closes_at <= req.opens_at {
        issues.push(FieldIssue::new(
            "closes_at",
            "window_reversed",
            Msg::new(
                "截止时间须晚于开始时间。",
                "closes_at must be after opens_at.",
            ),
        ));
    }
    if req.pool_valid_until <= req.pool_valid_from {
        issues.push(FieldIssue::new(
            "pool_valid_until",
            "validity_reversed",
            Msg::new(
                "备选库有效期结束日须晚于开始日。",
                "pool_valid_until must be after pool_valid_from.",
            ),
        ));
    }
    if !issues.is_empty() {
        return Err(ApiError::validation(issues));
    }
    let id: i64 = diesel::insert_into(rounds::table)
        .values((
            rounds::name.eq(req.name.trim()),
            rounds::opens_at.eq(db_time(req.opens_at)),
            rounds::closes_at.eq(db_time(req.closes_at)),
            rounds::pool_valid_from.eq(req.pool_valid_from),
            rounds::pool_valid_until.eq(req.pool_valid_until),
            rounds::created_at.eq(db_time(ctx.now)),
        ))
        .returning(rounds::id)
        .get_result(conn)?;
    audit::record(
        conn,
        ctx,
        "round.created",
        "round",
        id,
        serde_json::json!({
            "name": req.name.trim(), "opens_at": req.opens_at, "closes_at": req.closes_at,
            "pool_valid_from": req.pool_valid_from, "pool_valid_until": req.pool_valid_until,
        }),
    )?;
    get(conn, id, ctx.now)
}

/// Closes a round's application window now (an admin ends it early): `closes_at` becomes
/// this instant, audited `round.closed` with the window it replaced. Only a round accepting
/// applications can be closed (409 `round_not_open`); applications already submitted keep
/// their course, new drafts and submissions are refused as after any close.
pub fn close(conn: &mut DbConn, ctx: &Ctx, id: i64) -> ApiResult<Round> {
    let round = get(conn, id, ctx.now)?;
    if !round.open_now {
        return Err(ApiError::conflict(
            "round_not_open",
            format!("该遴选批次（{}）当前不在申报时间内，无需关闭。", round.name),
            format!(
                "The round ({}) is not open; there is nothing to close.",
                round.name
            ),
        ));
    }
    // Compare-and-set on the window read: two admins closing at once record one close.
    let changed = diesel::update(
        rounds::table
            .find(id)
            .filter(rounds::closes_at.eq(db_time(round.closes_at.0))),
    )
    .set(rounds::closes_at.eq(db_time(ctx.now)))
    .execute(conn)?;
    if changed == 0 {
        return Err(ApiError::conflict(
            "round_not_open",
            format!("该遴选批次（{}）已被他人修改。", round.name),
            format!("The round ({}) was changed meanwhile.", round.name),
        ));
    }
    audit::record(
        conn,
        ctx,
        "round.closed",
        "round",
        id,
        serde_json::json!({ "closes_at": ctx.now, "scheduled_closes_at": round.closes_at }),
    )?;
    get(conn, id, ctx.now)
}

pub fn get(conn: &mut DbConn, id: i64, now: DateTime<Utc>) -> ApiResult<Round> {
    let row = rounds::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    row.map(|r| r.into_round(now))
        .ok_or_else(|| ApiError::not_found("遴选批次", "selection round"))
}

pub fn list(conn: &mut DbConn, now: DateTime<Utc>) -> ApiResult<Vec<Round>> {
    Ok(rounds::table
        .order(rounds::opens_at.desc())
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| r.into_round(now))
        .collect())
}
