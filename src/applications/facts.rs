//! The facts of an application that the workflow after submission (review, notices,
//! objections, exits) reads: one query, one shape.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::applications::service::ItemRef;
use crate::applications::status::Status;
use crate::catalogue::Catalogue;
use crate::db::DbConn;
use crate::db::schema::applications;
use crate::error::{ApiError, ApiResult};

/// The facts of an application the workflow after submission needs.
#[derive(Debug, Clone)]
pub struct AppFacts {
    pub id: i64,
    pub institution_id: i64,
    pub round_id: i64,
    pub status: Status,
    pub proposed_items: Vec<String>,
    pub approved_items: Vec<String>,
    pub notice_id: Option<i64>,
    pub return_deadline: Option<NaiveDate>,
    pub findings: Option<String>,
    pub teacher_ids: Vec<i64>,
    pub document_ids: Vec<i64>,
}

type FactsRow = (
    i64,
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<NaiveDate>,
    Option<String>,
    String,
    String,
);

/// Loads an application's workflow facts (404 if there is none).
pub fn app_facts(conn: &mut DbConn, id: i64) -> ApiResult<AppFacts> {
    let row: Option<FactsRow> = applications::table
        .find(id)
        .select((
            applications::id,
            applications::institution_id,
            applications::round_id,
            applications::status,
            applications::proposed_items,
            applications::approved_items,
            applications::notice_id,
            applications::return_deadline,
            applications::findings,
            applications::teacher_ids,
            applications::document_ids,
        ))
        .first(conn)
        .optional()?;
    let Some((
        id,
        institution_id,
        round_id,
        status,
        proposed,
        approved,
        notice_id,
        return_deadline,
        findings,
        teacher_ids,
        document_ids,
    )) = row
    else {
        return Err(ApiError::not_found("申报", "application"));
    };
    let status =
        Status::parse(&status).ok_or_else(|| anyhow::anyhow!("bad status in applications.{id}"))?;
    Ok(AppFacts {
        id,
        institution_id,
        round_id,
        status,
        proposed_items: serde_json::from_str(&proposed).unwrap_or_default(),
        approved_items: approved
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_default(),
        notice_id,
        return_deadline,
        findings,
        teacher_ids: serde_json::from_str(&teacher_ids).unwrap_or_default(),
        document_ids: serde_json::from_str(&document_ids).unwrap_or_default(),
    })
}

/// Catalogue names for item codes.
pub fn item_refs(codes: &[String]) -> Vec<ItemRef> {
    let catalogue = Catalogue::get();
    codes
        .iter()
        .map(|c| ItemRef {
            code: c.clone(),
            name_zh: catalogue
                .activity(c)
                .map(|i| i.name_zh.clone())
                .unwrap_or_default(),
        })
        .collect()
}
