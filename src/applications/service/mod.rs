//! Application services. Every change is a compare-and-set on the status the state machine
//! expects, with its audit event, in the caller's transaction. This file holds the types and
//! the reads the actions share; one file per action: `drafts`, `submission`,
//! `transitions` (and withdrawal), `queries` (lists, history).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::applications::checks::{
    self, DocumentFacts, Facts, Finding, Outcome, ProfileFacts, TeacherFacts,
};
use crate::applications::facts::item_refs;
use crate::applications::status::{Event, Status};
use crate::audit;
use crate::auth::{AuthUser, Ctx, Owners, Scope};
use crate::catalogue::Catalogue;
use crate::clock::beijing_date;
use crate::db::columns::UtcTime;
use crate::db::schema::{applications, documents, institutions, teachers};
use crate::db::{DbConn, JsonText, db_time};
use crate::documents::store as docs;
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::institutions as institutions_service;
use crate::sanctions;

mod drafts;
mod queries;
mod submission;
mod transitions;

pub use drafts::{create, update};
pub use queries::{ListFilter, history, list};
pub use submission::submit;
pub use transitions::{transition, transition_many, withdraw};

/// How old a teacher's criminal-record check may be at submission (days).
pub const CRIMINAL_CHECK_MAX_AGE_DAYS: i64 = 180;

/// A new draft: the round, and the content's fields beside it (one flat object).
#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    pub round_id: i64,
    #[serde(flatten)]
    #[validate(nested)]
    pub content: ApplicationContent,
}

/// The schema is [`ApplicationContent`]'s object with `round_id` added, as serde reads the
/// flattened body. (The derive would make it `allOf` of the content, which forbids unknown
/// properties, and an object requiring `round_id`: a body that no instance can satisfy.)
impl utoipa::PartialSchema for NewApplication {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{Object, Schema};
        use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat, Type};
        let mut object = match ApplicationContent::schema() {
            RefOr::T(Schema::Object(object)) => object,
            _ => Object::new(),
        };
        let mut round_id = Object::with_type(Type::Integer);
        round_id.format = Some(SchemaFormat::KnownFormat(KnownFormat::Int64));
        round_id.description = Some("The open selection round to apply in.".to_owned());
        object
            .properties
            .insert("round_id".to_owned(), round_id.into());
        object.required.insert(0, "round_id".to_owned());
        object.description = Some(
            "A new draft: `round_id` and the fields of `ApplicationContent`, in one object."
                .to_owned(),
        );
        RefOr::T(Schema::Object(object))
    }
}

impl ToSchema for NewApplication {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <ApplicationContent as ToSchema>::schemas(schemas);
    }
}

/// What an institution fills in and edits while the application is a draft or returned.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields, default)]
pub struct ApplicationContent {
    /// Catalogue item codes, e.g. `sports.basketball` (academic subjects are refused).
    #[validate(length(max = 30))]
    pub proposed_items: Vec<String>,
    #[validate(length(max = 20000))]
    pub service_plan: String,
    /// Roster teachers delivering the activities.
    #[validate(length(max = 200))]
    pub teacher_ids: Vec<i64>,
    /// Uploaded documents of every required kind, and the merged PDF.
    #[validate(length(max = 200))]
    pub document_ids: Vec<i64>,
    /// The signed integrity pledge (承诺书) is attached and agreed to.
    pub pledge_signed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemRef {
    pub code: String,
    pub name_zh: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Application {
    pub id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub uscc: String,
    pub district: Option<String>,
    pub round_id: i64,
    pub status: Status,
    pub proposed_items: Vec<ItemRef>,
    pub approved_items: Option<Vec<ItemRef>>,
    pub service_plan: String,
    pub teacher_ids: Vec<i64>,
    pub document_ids: Vec<i64>,
    pub pledge_signed: bool,
    /// The warnings for the reviewer found at the last submission.
    pub warnings: Vec<Finding>,
    pub decision_note: Option<String>,
    pub return_deadline: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub submitted_at: Option<UtcTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<UtcTime>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: UtcTime,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = applications)]
struct Row {
    id: i64,
    institution_id: i64,
    round_id: i64,
    status: String,
    proposed_items: JsonText<Vec<String>>,
    approved_items: Option<JsonText<Vec<String>>>,
    service_plan: String,
    teacher_ids: JsonText<Vec<i64>>,
    document_ids: JsonText<Vec<i64>>,
    pledge_signed: bool,
    findings: Option<String>,
    decision_note: Option<String>,
    return_deadline: Option<NaiveDate>,
    submitted_at: Option<NaiveDateTime>,
    decided_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl Row {
    fn status(&self) -> ApiResult<Status> {
        Status::parse(&self.status)
            .ok_or_else(|| anyhow::anyhow!("bad status in applications.{}", self.id).into())
    }

    fn into_view(
        self,
        name: String,
        uscc: String,
        district: Option<String>,
    ) -> ApiResult<Application> {
        let status = self.status()?;
        let warnings = self
            .findings
            .as_deref()
            .map(crate::db::json_text::decode::<Outcome>)
            .transpose()?
            .map(|o| o.warnings)
            .unwrap_or_default();
        Ok(Application {
            id: self.id,
            institution_id: self.institution_id,
            institution_name: name,
            uscc,
            district,
            round_id: self.round_id,
            status,
            proposed_items: item_refs(&self.proposed_items.0),
            approved_items: self.approved_items.map(|a| item_refs(&a.0)),
            service_plan: self.service_plan,
            teacher_ids: self.teacher_ids.into_inner(),
            document_ids: self.document_ids.into_inner(),
            pledge_signed: self.pledge_signed,
            warnings,
            decision_note: self.decision_note,
            return_deadline: self.return_deadline,
            submitted_at: self.submitted_at.map(Into::into),
            decided_at: self.decided_at.map(Into::into),
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
        })
    }
}

fn load_row(conn: &mut DbConn, id: i64) -> ApiResult<Row> {
    applications::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("申报", "application"))
}

/// An application the user may see: an institution only its own (others are "not found"),
/// staff any.
fn visible_row(conn: &mut DbConn, user: &AuthUser, id: i64) -> ApiResult<Row> {
    let row = load_row(conn, id)?;
    if user.may_see(Owners::institution(row.institution_id)) {
        Ok(row)
    } else {
        Err(ApiError::not_found("申报", "application"))
    }
}

fn view(conn: &mut DbConn, row: Row) -> ApiResult<Application> {
    let (name, uscc, district): (String, String, Option<String>) = institutions::table
        .find(row.institution_id)
        .select((
            institutions::name,
            institutions::uscc,
            institutions::district,
        ))
        .first(conn)?;
    row.into_view(name, uscc, district)
}

pub fn get(conn: &mut DbConn, user: &AuthUser, id: i64) -> ApiResult<Application> {
    let row = visible_row(conn, user, id)?;
    view(conn, row)
}

/// Checks what can be checked while editing: items in the catalogue and not academic, and
/// teachers and documents that belong to the institution. All problems at once.
fn check_content(conn: &mut DbConn, institution_id: i64, c: &ApplicationContent) -> ApiResult<()> {
    let catalogue = Catalogue::get();
    let mut issues: Vec<FieldIssue> = c
        .proposed_items
        .iter()
        .enumerate()
        .filter_map(|(i, code)| {
            catalogue
                .activity(code)
                .err()
                .map(|e| e.issue(format!("proposed_items[{i}]")))
        })
        .collect();
    let own_teachers: Vec<i64> = teachers::table
        .filter(teachers::institution_id.eq(institution_id))
        .filter(teachers::removed_at.is_null())
        .filter(teachers::id.eq_any(&c.teacher_ids))
        .select(teachers::id)
        .load(conn)?;
    for (i, id) in c.teacher_ids.iter().enumerate() {
        if !own_teachers.contains(id) {
            issues.push(FieldIssue::new(
                format!("teacher_ids[{i}]"),
                "unknown_teacher",
                Msg::new(
                    format!("教师 {id} 不在本机构花名册中。"),
                    format!("Teacher {id} is not on your roster."),
                ),
            ));
        }
    }
    let own_docs: Vec<i64> = documents::table
        .filter(documents::institution_id.eq(institution_id))
        .filter(documents::id.eq_any(&c.document_ids))
        .select(documents::id)
        .load(conn)?;
    for (i, id) in c.document_ids.iter().enumerate() {
        if !own_docs.contains(id) {
            issues.push(FieldIssue::new(
                format!("document_ids[{i}]"),
                "unknown_document",
                Msg::new(
                    format!("文件 {id} 不存在或不属于本机构。"),
                    format!("Document {id} is not one of yours."),
                ),
            ));
        }
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(issues))
    }
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn own_row(conn: &mut DbConn, user: &AuthUser, id: i64) -> ApiResult<Row> {
    let row = load_row(conn, id)?;
    if user.institution_id != Some(row.institution_id) {
        return Err(ApiError::not_found("申报", "application"));
    }
    Ok(row)
}

fn changed_meanwhile() -> ApiError {
    ApiError::conflict(
        "status_changed",
        "申报状态已被他人更改，请刷新后重试。",
        "The application changed meanwhile; reload it.",
    )
}

fn invalid_transition(e: crate::applications::status::TransitionError) -> ApiError {
    ApiError::conflict(
        "invalid_transition",
        format!("当前状态（{}）不允许此操作。", e.from.as_str()),
        format!("Not allowed while the application is {}.", e.from.as_str()),
    )
}
