//! A blacklist import (the list itself is kept by [`crate::sanctions::blacklist`]) and the exit
//! cases it opens for pool members on the list, in one transaction.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Ctx;
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::exits;
use crate::sanctions::Ground;
use crate::sanctions::blacklist;

/// The result of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOutcome {
    pub source: String,
    pub entries: usize,
    /// Entries of the source's previous list (all replaced).
    pub replaced: usize,
    /// Exit cases opened or joined for pool members on the list.
    pub exit_case_ids: Vec<i64>,
}

/// The name of a list's source (the authority that publishes it), trimmed: 1–100 characters.
pub fn source(raw: &str) -> ApiResult<String> {
    let source = raw.trim();
    if source.is_empty() || source.chars().count() > 100 {
        return Err(ApiError::validation(vec![FieldIssue::new(
            "source",
            "invalid_source",
            Msg::new(
                "来源不能为空，且不超过 100 字。",
                "The source must be 1–100 characters.",
            ),
        )]));
    }
    Ok(source.to_owned())
}

/// Imports `source`'s list from a CSV file: all or nothing. Pool members on the list get an
/// exit case with ground `blacklisted` (system); one already on their open case is not added
/// twice.
pub fn import(
    conn: &mut DbConn,
    ctx: &Ctx,
    source: &str,
    bytes: &[u8],
) -> ApiResult<ImportOutcome> {
    let rows = blacklist::parse(bytes, source).map_err(blacklist::malformed)?;
    let replaced = blacklist::replace(conn, ctx, source, &rows)?;
    let mut exit_case_ids = Vec::new();
    for r in &rows {
        for institution_id in exits::pool_members_with_uscc(conn, &r.uscc)? {
            let ground = exits::NewGround {
                ground: Ground::Blacklisted,
                source: exits::Source::System,
                contract_id: None,
                statement: format!("列入黑名单：{}（{}，{}）", r.source, r.listed_on, r.reason),
                document_ids: Vec::new(),
                reported_by: None,
            };
            let joined =
                exits::open_or_join(conn, ctx, institution_id, exits::Source::System, &[ground])?;
            exit_case_ids.push(joined.case_id);
        }
    }
    Ok(ImportOutcome {
        source: source.to_owned(),
        entries: rows.len(),
        replaced,
        exit_case_ids,
    })
}
