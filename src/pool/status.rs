//! `GET /institutions/status?uscc=…`: whether a credit code is in the pool today, banned, or
//! not listed. Public: anyone may check a provider before signing with it (DESIGN §1.7).

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::credentials::Uscc;
use crate::db::DbConn;
use crate::db::schema::{bans, institutions};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
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
    /// Under a ban after a removal (N§五): it may not apply before `until`.
    Banned {
        name: String,
        /// First day of the ban.
        since: NaiveDate,
        /// The first day the institution may act (apply) again; the ban covers the days before.
        until: NaiveDate,
        /// Exit grounds (`false_credentials`, `subcontracting`, …).
        grounds: Vec<String>,
    },
    /// Neither in the pool nor banned.
    NotListed,
}

/// Parses the code (422 `invalid_uscc` with every reason) and looks it up.
pub fn lookup(conn: &mut DbConn, input: &str, today: NaiveDate) -> ApiResult<InstitutionStatus> {
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
    let ban: Option<(String, NaiveDate, NaiveDate, String)> = bans::table
        .filter(bans::uscc.eq(code))
        .filter(bans::starts_on.le(today))
        .filter(bans::ends_on.gt(today))
        .order(bans::ends_on.desc())
        .select((
            bans::institution_name,
            bans::starts_on,
            bans::ends_on,
            bans::grounds,
        ))
        .first(conn)
        .optional()?;
    if let Some((name, since, until, grounds)) = ban {
        return Ok(InstitutionStatus::Banned {
            name,
            since,
            until,
            grounds: parse_grounds(&grounds),
        });
    }
    let institution: Option<i64> = institutions::table
        .filter(institutions::uscc.eq(code))
        .select(institutions::id)
        .first(conn)
        .optional()?;
    let viewer = Viewer {
        staff: false,
        flag_threshold: 0.0,
    };
    if let Some(id) = institution
        && let Some(entry) = search::entry_of(conn, id, today, viewer)?
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

/// Ban grounds are stored as a JSON array (of codes, or of objects with a `ground`); anything
/// else is shown as one ground.
fn parse_grounds(stored: &str) -> Vec<String> {
    match serde_json::from_str::<serde_json::Value>(stored) {
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Object(o) => o
                    .get("ground")
                    .or_else(|| o.get("code"))
                    .and_then(|g| g.as_str())
                    .map_or_else(
                        || serde_json::Value::Object(o.clone()).to_string(),
                        str::to_owned,
                    ),
                other => other.to_string(),
            })
            .collect(),
        _ => vec![stored.to_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grounds_are_read_from_codes_objects_or_plain_text() {
        assert_eq!(
            parse_grounds(r#"["subcontracting","blacklisted"]"#),
            ["subcontracting", "blacklisted"]
        );
        assert_eq!(
            parse_grounds(r#"[{"ground":"illegal_conduct"}]"#),
            ["illegal_conduct"]
        );
        assert_eq!(parse_grounds("subcontracting"), ["subcontracting"]);
    }
}
