//! `GET /institutions/status?uscc=…`: whether a credit code is in the pool today, banned, or
//! not listed. Public: anyone may check a provider before signing with it (DESIGN §1.7).

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::credentials::Uscc;
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::pool::read_model::Snapshot;
use crate::pool::search::{self, PoolItem, Viewer};

/// The status of a USCC today (Beijing). A ban takes precedence over a pool entry.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum InstitutionStatus {
    /// An active pool member today.
    InPool {
        institution_id: i64,
        name: String,
        items: Vec<PoolItem>,
        valid_from: NaiveDate,
        valid_until: NaiveDate,
    },
    /// Under a ban after a removal (N§五), from `decided_on` through `last_day`; it may
    /// register and apply again from `may_apply_from`.
    Banned {
        name: String,
        /// The removal decision date: banned from this day on.
        decided_on: NaiveDate,
        /// The last banned day (Civil Code arts. 201–202: the corresponding day 36 months after
        /// the decision date, or that month's last day).
        last_day: NaiveDate,
        /// The first day it may register and apply again (the day after `last_day`).
        may_apply_from: NaiveDate,
        /// Exit grounds (`false_credentials`, `subcontracting`, …).
        grounds: Vec<String>,
    },
    /// Neither in the pool nor banned.
    NotListed,
}

/// Parses the code (422 `invalid_uscc` with every reason) and looks it up in the read model
/// (bans first, as `sanctions::bans::active_ban` orders them, then the pool).
pub fn lookup(pool: &Snapshot, input: &str, today: NaiveDate) -> ApiResult<InstitutionStatus> {
    let uscc = Uscc::parse(input).map_err(|e| {
        ApiError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_uscc",
            Msg::new(
                "统一社会信用代码格式无效，请按字段错误核对。",
                "The unified social credit code is malformed; see the field errors.",
            ),
        )
        .with_errors(
            e.field_issues("uscc")
                .into_iter()
                .map(FieldIssue::from)
                .collect(),
        )
    })?;
    let code = uscc.as_str();
    let ban = pool
        .bans
        .get(code)
        .into_iter()
        .flatten()
        .filter(|b| b.period.covers(today))
        .max_by_key(|b| (b.period.last_day, b.id));
    if let Some(ban) = ban {
        return Ok(InstitutionStatus::Banned {
            name: ban.institution_name.clone(),
            decided_on: ban.period.decided_on,
            last_day: ban.period.last_day,
            may_apply_from: ban.period.may_apply_from,
            grounds: ban.grounds.iter().map(|g| g.as_str().to_owned()).collect(),
        });
    }
    let viewer = Viewer {
        staff: false,
        flag_threshold: 0.0,
    };
    let institution = pool
        .by_uscc
        .get(code)
        .and_then(|p| p.first())
        .map(|&p| pool.entries[p as usize].entry.institution_id);
    if let Some(id) = institution
        && let Some(entry) = search::entry_of(pool, id, today, viewer)
    {
        return Ok(InstitutionStatus::InPool {
            institution_id: entry.institution_id,
            name: entry.name,
            items: entry.items,
            valid_from: entry.valid_from,
            valid_until: entry.valid_until,
        });
    }
    Ok(InstitutionStatus::NotListed)
}
