//! Application services. Every change is a compare-and-set on the status the state machine
//! expects, with its audit event, in the caller's transaction.

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
            .map(|f| {
                serde_json::from_str::<Outcome>(f)
                    .map(|o| o.warnings)
                    .unwrap_or_default()
            })
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

/// Creates a draft in an open round.
pub fn create(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    req: &NewApplication,
) -> ApiResult<Application> {
    let institution_id = user.institution_id.ok_or_else(ApiError::forbidden)?;
    crate::rounds::get(conn, req.round_id, ctx.now)?.ensure_open()?;
    check_content(conn, institution_id, &req.content)?;
    let c = &req.content;
    let now = db_time(ctx.now);
    let id: i64 = diesel::insert_into(applications::table)
        .values((
            applications::institution_id.eq(institution_id),
            applications::round_id.eq(req.round_id),
            applications::status.eq(Status::Draft.as_str()),
            applications::proposed_items.eq(to_json(&c.proposed_items)),
            applications::service_plan.eq(&c.service_plan),
            applications::teacher_ids.eq(to_json(&c.teacher_ids)),
            applications::document_ids.eq(to_json(&c.document_ids)),
            applications::pledge_signed.eq(c.pledge_signed),
            applications::created_at.eq(now),
            applications::updated_at.eq(now),
        ))
        .returning(applications::id)
        .get_result(conn)?;
    audit::record(
        conn,
        ctx,
        "application.created",
        "application",
        id,
        serde_json::json!({ "round_id": req.round_id, "proposed_items": c.proposed_items }),
    )?;
    let row = load_row(conn, id)?;
    view(conn, row)
}

/// Replaces the content of a draft or returned application.
pub fn update(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    id: i64,
    c: &ApplicationContent,
) -> ApiResult<Application> {
    let row = own_row(conn, user, id)?;
    let status = row.status()?;
    if !status.is_editable() {
        return Err(ApiError::conflict(
            "application_not_editable",
            "只有草稿或退回补正的申报可以修改。",
            "Only drafts and returned applications can be edited.",
        ));
    }
    check_content(conn, row.institution_id, c)?;
    let changed = diesel::update(
        applications::table
            .find(id)
            .filter(applications::status.eq(status.as_str())),
    )
    .set((
        applications::proposed_items.eq(to_json(&c.proposed_items)),
        applications::service_plan.eq(&c.service_plan),
        applications::teacher_ids.eq(to_json(&c.teacher_ids)),
        applications::document_ids.eq(to_json(&c.document_ids)),
        applications::pledge_signed.eq(c.pledge_signed),
        applications::updated_at.eq(db_time(ctx.now)),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(changed_meanwhile());
    }
    audit::record(
        conn,
        ctx,
        "application.updated",
        "application",
        id,
        serde_json::json!({ "proposed_items": c.proposed_items, "teacher_ids": c.teacher_ids, "document_ids": c.document_ids }),
    )?;
    let row = load_row(conn, id)?;
    view(conn, row)
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

/// Moves an application along the state machine with compare-and-set on its current status.
pub fn transition(
    conn: &mut DbConn,
    id: i64,
    from: Status,
    event: Event,
    now: NaiveDateTime,
) -> ApiResult<Status> {
    let to = from.apply(event).map_err(invalid_transition)?;
    let changed = diesel::update(
        applications::table
            .find(id)
            .filter(applications::status.eq(from.as_str())),
    )
    .set((
        applications::status.eq(to.as_str()),
        applications::updated_at.eq(now),
    ))
    .execute(conn)
    .map_err(ApiError::on_unique(ApiError::conflict(
        "duplicate_application",
        "本机构在该批次已有一份在办申报。",
        "The institution already has a live application in this round.",
    )))?;
    if changed == 0 {
        return Err(changed_meanwhile());
    }
    Ok(to)
}

/// [`transition`] for many applications in one statement: all of `ids` move from `from`, or
/// none (a conflict when any of them changed meanwhile; the caller's transaction rolls back).
pub fn transition_many(
    conn: &mut DbConn,
    ids: &[i64],
    from: Status,
    event: Event,
    now: NaiveDateTime,
) -> ApiResult<Status> {
    let to = from.apply(event).map_err(invalid_transition)?;
    let changed = diesel::update(
        applications::table
            .filter(applications::id.eq_any(ids))
            .filter(applications::status.eq(from.as_str())),
    )
    .set((
        applications::status.eq(to.as_str()),
        applications::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed != ids.len() {
        return Err(changed_meanwhile());
    }
    Ok(to)
}

/// The facts the submission checks need, gathered in one place.
fn facts(conn: &mut DbConn, row: &Row, ctx: &Ctx, region_prefix: &str) -> ApiResult<Facts> {
    let today = beijing_date(ctx.now);
    let other_live: i64 = applications::table
        .filter(applications::institution_id.eq(row.institution_id))
        .filter(applications::round_id.eq(row.round_id))
        .filter(applications::id.ne(row.id))
        .filter(
            applications::status.eq_any(
                Status::ALL
                    .iter()
                    .filter(|s| s.is_live())
                    .map(|s| s.as_str()),
            ),
        )
        .count()
        .get_result(conn)?;
    // The institution's data comes through its own capability's functions.
    let p = institutions_service::profile(conn, row.institution_id, today)?;
    let profile = ProfileFacts {
        name: p.name,
        uscc: p.uscc,
        entity_type: p.entity_type.as_str().to_owned(),
        registration_kind: p.registration_kind.map(|k| k.as_str().to_owned()),
        registration_number: p.registration_number,
        issuing_authority: p.issuing_authority,
        authority_level: p.authority_level.map(|l| l.as_str().to_owned()),
        registered_address: p.registered_address,
        district: p.district,
        legal_rep_name: p.legal_rep_name,
        legal_rep_id_kind: p
            .legal_rep_id
            .as_ref()
            .map(|id| id.kind().as_str().to_owned()),
        legal_rep_id_number: p
            .legal_rep_id
            .as_ref()
            .map(|id| id.expose_number().to_owned()),
        contact_person: p.contact_person,
        contact_mobile: p.contact_mobile,
    };
    let teacher_ids: Vec<i64> = row.teacher_ids.0.clone();
    let roster: Vec<institutions_service::Teacher> =
        institutions_service::active_teachers(conn, row.institution_id, today)?
            .into_iter()
            .filter(|t| teacher_ids.contains(&t.id))
            .collect();
    let elsewhere =
        institutions_service::teachers_on_other_rosters(conn, row.institution_id, &roster)?;
    let unknown_teacher_ids = teacher_ids
        .iter()
        .copied()
        .filter(|id| !roster.iter().any(|t| t.id == *id))
        .collect();
    let teachers: Vec<TeacherFacts> = roster
        .into_iter()
        .map(|t| TeacherFacts {
            on_other_roster: elsewhere.contains(&t.id),
            id: t.id,
            id_kind: t.identity.kind().as_str().to_owned(),
            id_number: t.identity.expose_number().to_owned(),
            credentials: t.credentials.into_iter().map(|c| c.stored).collect(),
            specialities: t.specialities.into_iter().map(|s| s.code).collect(),
            criminal_check_date: t.criminal_check.as_ref().map(|c| c.date),
            criminal_check_result: t
                .criminal_check
                .as_ref()
                .map(|c| c.result.as_str().to_owned()),
            name: t.name,
        })
        .collect();
    let document_ids: Vec<i64> = row.document_ids.0.clone();
    let documents = docs::of_institution(conn, row.institution_id, &document_ids)?;
    let merged_pdf_pages = match documents
        .iter()
        .find(|d| d.kind == docs::DocumentKind::MergedPdf)
    {
        Some(d) => docs::pages_of(conn, d.id)?,
        None => Vec::new(),
    };
    let inspections = institutions_service::inspections(conn, row.institution_id)?
        .into_iter()
        .map(|i| (i.year, i.result.as_str().to_owned()))
        .collect();
    let ban = sanctions::bans::active_ban(conn, &profile.uscc, today)?.map(|b| b.period);
    let blacklist_sources = sanctions::blacklist::sources_listing(conn, &profile.uscc)?;
    let mut numbers: Vec<&str> = teachers.iter().map(|t| t.id_number.as_str()).collect();
    numbers.extend(profile.legal_rep_id_number.as_deref());
    let linked_to_banned_institution =
        sanctions::bans::linked_to_banned(conn, row.institution_id, &numbers, today)?;
    Ok(Facts {
        today,
        other_live_application: other_live > 0,
        profile,
        proposed_items: row.proposed_items.0.clone(),
        service_plan: row.service_plan.clone(),
        pledge_signed: row.pledge_signed,
        teachers,
        unknown_teacher_ids,
        documents: documents
            .into_iter()
            .map(|d| DocumentFacts {
                id: d.id,
                kind: d.kind,
                filename: d.filename,
                text_status: d.text_status,
            })
            .collect(),
        merged_pdf_pages,
        inspections,
        criminal_check_max_age_days: CRIMINAL_CHECK_MAX_AGE_DAYS,
        region_prefix: region_prefix.to_owned(),
        ban,
        blacklist_sources,
        linked_to_banned_institution,
    })
}

/// Runs every check. With blocking findings nothing changes and the outer result is the 422
/// listing them all; otherwise the application is submitted with its warnings stored.
pub fn submit(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    id: i64,
    region_prefix: &str,
) -> ApiResult<Application> {
    let row = own_row(conn, user, id)?;
    let status = row.status()?;
    status.apply(Event::Submit).map_err(|_| {
        ApiError::conflict(
            "invalid_transition",
            "只有草稿或退回补正的申报可以提交。",
            "Only drafts and returned applications can be submitted.",
        )
    })?;
    // A closed round is the round's state, not a finding about the application: the same 409
    // as at draft creation.
    crate::rounds::get(conn, row.round_id, ctx.now)?.ensure_open()?;
    let outcome = checks::evaluate(&facts(conn, &row, ctx, region_prefix)?);
    if !outcome.blocking.is_empty() {
        let errors = outcome
            .blocking
            .iter()
            .map(|f| {
                FieldIssue::new(
                    f.field.clone(),
                    f.code.clone(),
                    Msg::new(f.message_zh.clone(), f.message_en.clone()),
                )
            })
            .collect();
        return Err(ApiError::rule(
            "submission_blocked",
            format!(
                "申报未通过提交检查，共 {} 项需要处理。",
                outcome.blocking.len()
            ),
            format!(
                "The application failed {} submission checks.",
                outcome.blocking.len()
            ),
        )
        .with_errors(errors)
        .with_extra(
            serde_json::json!({ "blocking": outcome.blocking, "warnings": outcome.warnings }),
        ));
    }
    let now = db_time(ctx.now);
    transition(conn, id, status, Event::Submit, now)?;
    diesel::update(applications::table.find(id))
        .set((
            applications::findings.eq(to_json(&outcome)),
            applications::submitted_at.eq(now),
            applications::return_deadline.eq(None::<NaiveDate>),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        ctx,
        "application.submitted",
        "application",
        id,
        serde_json::json!({
            "from": status.as_str(), "warnings": outcome.warnings.iter().map(|w| &w.code).collect::<Vec<_>>(),
        }),
    )?;
    crate::mail::outbox::record(
        conn,
        ctx.now,
        crate::mail::outbox::Event::ApplicationSubmitted { application_id: id },
    )?;
    let row = load_row(conn, id)?;
    view(conn, row)
}

pub fn withdraw(conn: &mut DbConn, user: &AuthUser, ctx: &Ctx, id: i64) -> ApiResult<Application> {
    let row = own_row(conn, user, id)?;
    let from = row.status()?;
    transition(conn, id, from, Event::Withdraw, db_time(ctx.now))?;
    audit::record(
        conn,
        ctx,
        "application.withdrawn",
        "application",
        id,
        serde_json::json!({ "from": from.as_str() }),
    )?;
    let row = load_row(conn, id)?;
    view(conn, row)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub round_id: Option<i64>,
    /// A category (`sports`) or item (`sports.basketball`) among the proposed items.
    pub category: Option<String>,
    pub district: Option<String>,
    /// Only applications with (true) or without (false) warnings for the reviewer.
    pub flagged: Option<bool>,
}

/// An institution's own applications, or (staff) all, filtered, newest first.
pub fn list(
    conn: &mut DbConn,
    user: &AuthUser,
    filter: &ListFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(Vec<Application>, i64)> {
    if let Some(c) = &filter.category
        && !Catalogue::get().is_filter(c)
    {
        return Err(ApiError::validation(vec![FieldIssue::new(
            "category",
            "unknown_category",
            Msg::new("未知的活动类别。", "Unknown category."),
        )]));
    }
    let query = || {
        let mut q = applications::table
            .inner_join(institutions::table)
            .into_boxed();
        if let Scope::Institution(own) = user.scope() {
            q = q.filter(applications::institution_id.eq(own));
        }
        if let Some(s) = filter.status {
            q = q.filter(applications::status.eq(s.as_str()));
        }
        if let Some(r) = filter.round_id {
            q = q.filter(applications::round_id.eq(r));
        }
        if let Some(c) = &filter.category {
            // Items are stored as a JSON array of codes: match `"sports.` or `"sports.x"`.
            let pattern = if c.contains('.') {
                format!("%\"{c}\"%")
            } else {
                format!("%\"{c}.%")
            };
            q = q.filter(applications::proposed_items.like(pattern));
        }
        if let Some(d) = &filter.district {
            q = q.filter(institutions::district.eq(d.clone()));
        }
        match filter.flagged {
            Some(true) => q = q.filter(applications::findings.like("%\"warnings\":[{%")),
            Some(false) => {
                q = q.filter(
                    applications::findings
                        .is_null()
                        .or(applications::findings.not_like("%\"warnings\":[{%")),
                )
            }
            None => {}
        }
        q
    };
    let total = query().count().get_result(conn)?;
    type Named = (Row, (String, String, Option<String>));
    let rows: Vec<Named> = query()
        .order(applications::id.desc())
        .offset(offset)
        .limit(limit)
        .select((
            Row::as_select(),
            (
                institutions::name,
                institutions::uscc,
                institutions::district,
            ),
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|(r, (n, u, d))| r.into_view(n, u, d))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((items, total))
}

/// The application's full history: its audit events, oldest first.
pub fn history(conn: &mut DbConn, user: &AuthUser, id: i64) -> ApiResult<Vec<audit::AuditEvent>> {
    visible_row(conn, user, id)?;
    let filter = audit::AuditFilter {
        entity_type: Some("application".into()),
        entity_id: Some(id.to_string()),
        ..Default::default()
    };
    let (mut events, _) = audit::list(conn, &filter, 0, 1000)?;
    events.reverse();
    Ok(events)
}
