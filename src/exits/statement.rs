//! The institution's statement of defence, filed once within the statement window.

use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::cases::visible_case;
use super::grounds::check_documents;
use super::{CaseStatus, ExitCase, get_unchecked};

use crate::audit;
use crate::auth::{AuthUser, Ctx};
use crate::clock::end_of_beijing_day;
use crate::db::schema::exit_cases;
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult};

use crate::exits::status::{self, case_closed, changed_meanwhile};

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    #[validate(length(min = 1, max = 20000))]
    pub statement: String,
    /// The institution's documents (kind `statement_of_defence` or any of its own).
    #[serde(default)]
    #[validate(length(max = 50))]
    pub document_ids: Vec<i64>,
}

/// The institution files its statement of defence: once, by 23:59:59 Beijing time on
/// `statement_due`.
pub fn file_statement(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    id: i64,
    req: &Statement,
) -> ApiResult<ExitCase> {
    let row = visible_case(conn, user, id)?;
    row.status()?
        .apply(status::Event::FileStatement)
        .map_err(|_| case_closed())?;
    if row.statement_filed_at.is_some() {
        return Err(ApiError::conflict(
            "statement_already_filed",
            "陈述申辩已提交，不能重复提交。",
            "The statement of defence has already been filed.",
        ));
    }
    if ctx.now > end_of_beijing_day(row.statement_due) {
        return Err(ApiError::conflict(
            "statement_window_closed",
            format!("陈述申辩期限已于 {} 届满。", row.statement_due),
            format!(
                "The statement window closed at the end of {}.",
                row.statement_due
            ),
        )
        .with_extra(serde_json::json!({ "statement_due": row.statement_due })));
    }
    check_documents(conn, user, &req.document_ids, "document_ids")?;
    let now = db_time(ctx.now);
    let changed = diesel::update(
        exit_cases::table
            .find(id)
            .filter(exit_cases::status.eq(CaseStatus::Open.as_str()))
            .filter(exit_cases::statement_filed_at.is_null()),
    )
    .set((
        exit_cases::statement.eq(&req.statement),
        exit_cases::statement_document_ids
            .eq(serde_json::to_string(&req.document_ids).unwrap_or_default()),
        exit_cases::statement_filed_at.eq(now),
        exit_cases::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(changed_meanwhile());
    }
    audit::record(
        conn,
        ctx,
        "exit_case.statement_filed",
        "exit_case",
        id,
        serde_json::json!({ "document_ids": req.document_ids }),
    )?;
    crate::mail::outbox::record(
        conn,
        ctx.now,
        crate::mail::outbox::Event::StatementReceived { case_id: id },
    )?;
    get_unchecked(conn, id)
}
