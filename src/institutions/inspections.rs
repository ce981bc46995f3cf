//! Annual inspection records (年检): one per year, the institution's own.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::audit;
use crate::auth::Ctx;
use crate::clock::beijing_date;
use crate::db::columns::UtcTime;
use crate::db::schema::inspections;
use crate::db::{DbConn, db_time};
use crate::documents::store::{self as documents, DocumentKind};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};

use super::fields::*;

/// One year's annual inspection (年检). Applications need the two latest years on record to be
/// consecutive passes (连续两年年检合格, selection notice §一).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Inspection {
    pub id: i64,
    pub year: i32,
    pub result: InspectionResult,
    pub authority: String,
    /// The supporting `inspection_record` document, if uploaded.
    pub document_id: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: UtcTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = inspections)]
pub(crate) struct InspectionRow {
    id: i64,
    year: i32,
    result: String,
    authority: String,
    document_id: Option<i64>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl InspectionRow {
    fn into_inspection(self) -> ApiResult<Inspection> {
        Ok(Inspection {
            id: self.id,
            year: self.year,
            result: InspectionResult::parse(&self.result)
                .ok_or_else(|| broken_row(format!("inspections.{}.result", self.id)))?,
            authority: self.authority,
            document_id: self.document_id,
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
        })
    }
}

/// An annual inspection record as submitted.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionInput {
    /// From 2000 to the current year (Beijing); one record per year.
    pub year: i32,
    pub result: InspectionResult,
    /// The inspecting authority, e.g. 南宁市民政局.
    pub authority: String,
    /// One of the institution's own documents of kind `inspection_record`.
    #[serde(default)]
    pub document_id: Option<i64>,
}

impl InspectionInput {
    /// The trimmed authority, or every field problem; then the document's ownership and kind.
    fn parse(&self, conn: &mut DbConn, institution_id: i64, today: NaiveDate) -> ApiResult<String> {
        let mut issues = Vec::new();
        let this_year = today.year();
        if !(FIRST_INSPECTION_YEAR..=this_year).contains(&self.year) {
            issues.push(FieldIssue::new(
                "year",
                "year_out_of_range",
                Msg::new(
                    format!("年份须在 {FIRST_INSPECTION_YEAR} 到 {this_year} 之间。"),
                    format!("The year must be between {FIRST_INSPECTION_YEAR} and {this_year}."),
                ),
            ));
        }
        let authority = text("authority", &self.authority, MAX_NAME_CHARS, &mut issues);
        if !issues.is_empty() {
            return Err(ApiError::validation(issues));
        }
        if let Some(document_id) = self.document_id {
            // Another institution's document looks exactly like a missing one.
            let fits = documents::of_institution(conn, institution_id, &[document_id])?
                .iter()
                .any(|d| d.kind == DocumentKind::InspectionRecord);
            if !fits {
                let message = || {
                    Msg::new(
                        "证明材料须为本机构上传的“年检记录”（inspection_record）文件。",
                        "The supporting document must be one of your uploads of kind inspection_record.",
                    )
                };
                let m = message();
                return Err(
                    ApiError::rule("invalid_document", m.zh, m.en).with_errors(vec![
                        FieldIssue::new("document_id", "invalid_document", message()),
                    ]),
                );
            }
        }
        Ok(authority)
    }

    fn summary(&self, institution_id: i64) -> serde_json::Value {
        serde_json::json!({
            "institution_id": institution_id,
            "year": self.year,
            "result": self.result.as_str(),
            "document_id": self.document_id,
        })
    }
}

pub(crate) fn inspection_not_found() -> ApiError {
    ApiError::not_found("年检记录", "inspection record")
}

/// One record per year: the `UNIQUE (institution_id, year)` constraint arbitrates.
pub(crate) fn year_taken(year: i32) -> impl FnOnce(diesel::result::Error) -> ApiError {
    ApiError::on_unique(ApiError::conflict(
        "inspection_year_exists",
        format!("{year} 年的年检记录已存在。"),
        format!("There is already an inspection record for {year}."),
    ))
}

/// The institution's annual inspections, newest year first.
pub fn inspections(conn: &mut DbConn, institution_id: i64) -> ApiResult<Vec<Inspection>> {
    inspections::table
        .filter(inspections::institution_id.eq(institution_id))
        .order(inspections::year.desc())
        .select(InspectionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(InspectionRow::into_inspection)
        .collect()
}

pub(crate) fn own_inspection(
    conn: &mut DbConn,
    institution_id: i64,
    inspection_id: i64,
) -> ApiResult<Inspection> {
    inspections::table
        .filter(inspections::id.eq(inspection_id))
        .filter(inspections::institution_id.eq(institution_id))
        .select(InspectionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(inspection_not_found)?
        .into_inspection()
}

/// Records a year's inspection; 409 `inspection_year_exists` if that year is on record.
pub fn create_inspection(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    req: &InspectionInput,
) -> ApiResult<Inspection> {
    let authority = req.parse(conn, institution_id, beijing_date(ctx.now))?;
    let now = db_time(ctx.now);
    let id: i64 = diesel::insert_into(inspections::table)
        .values((
            inspections::institution_id.eq(institution_id),
            inspections::year.eq(req.year),
            inspections::result.eq(req.result.as_str()),
            inspections::authority.eq(&authority),
            inspections::document_id.eq(req.document_id),
            inspections::created_at.eq(now),
            inspections::updated_at.eq(now),
        ))
        .returning(inspections::id)
        .get_result(conn)
        .map_err(year_taken(req.year))?;
    audit::record(
        conn,
        ctx,
        "inspection.created",
        "inspection",
        id,
        req.summary(institution_id),
    )?;
    own_inspection(conn, institution_id, id)
}

/// Replaces a year's record (moving it onto a year already on record is 409).
pub fn update_inspection(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    inspection_id: i64,
    req: &InspectionInput,
) -> ApiResult<Inspection> {
    own_inspection(conn, institution_id, inspection_id)?;
    let authority = req.parse(conn, institution_id, beijing_date(ctx.now))?;
    let changed = diesel::update(
        inspections::table
            .filter(inspections::id.eq(inspection_id))
            .filter(inspections::institution_id.eq(institution_id)),
    )
    .set((
        inspections::year.eq(req.year),
        inspections::result.eq(req.result.as_str()),
        inspections::authority.eq(&authority),
        inspections::document_id.eq(req.document_id),
        inspections::updated_at.eq(db_time(ctx.now)),
    ))
    .execute(conn)
    .map_err(year_taken(req.year))?;
    if changed == 0 {
        return Err(inspection_not_found());
    }
    audit::record(
        conn,
        ctx,
        "inspection.updated",
        "inspection",
        inspection_id,
        req.summary(institution_id),
    )?;
    own_inspection(conn, institution_id, inspection_id)
}

/// Deletes a year's record (entered by mistake).
pub fn delete_inspection(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    inspection_id: i64,
) -> ApiResult<()> {
    let old = own_inspection(conn, institution_id, inspection_id)?;
    diesel::delete(
        inspections::table
            .filter(inspections::id.eq(inspection_id))
            .filter(inspections::institution_id.eq(institution_id)),
    )
    .execute(conn)?;
    audit::record(
        conn,
        ctx,
        "inspection.deleted",
        "inspection",
        inspection_id,
        serde_json::json!({
            "institution_id": institution_id, "year": old.year, "result": old.result.as_str(),
        }),
    )?;
    Ok(())
}

// ---- the reviewer's reveal ---------------------------------------------------------------
