//! Institution data endpoints: `/institutions/me…` for the signed-in institution (profile,
//! teacher roster, annual inspections), read-only `/institutions/{id}…` for bureau staff, and
//! `POST /institutions/{id}/reveal` for a reviewer. Identity numbers are masked in every
//! response but the reveal's.
//!
//! The staff paths only match numeric ids (`{id:\d+}`), so they never shadow `/institutions/me`
//! or other literal paths under `/institutions`.

use actix_web::{HttpResponse, delete, get, post, put, web};

use crate::app::AppState;
use crate::auth::{AuthUser, Authed, InstitutionRole, Reviewer, Staff};
use crate::clock::beijing_date;
use crate::error::{ApiError, ApiResult, ProblemBody};
use crate::http::Json;
use crate::http::routes::Register;
use crate::institutions::{
    self as service, Inspection, InspectionInput, Profile, ProfileUpdate, RevealRequest,
    RevealedId, Teacher, TeacherInput,
};

/// Registers the routes of this module, each once (the app and the OpenAPI document both come
/// from this registration: `crate::routes`).
pub fn configure(cfg: &mut impl Register) {
    cfg.service(get_profile)
        .service(update_profile)
        .service(list_teachers)
        .service(create_teacher)
        .service(get_teacher)
        .service(update_teacher)
        .service(remove_teacher)
        .service(list_inspections)
        .service(create_inspection)
        .service(update_inspection)
        .service(delete_inspection)
        .service(staff_profile)
        .service(staff_teachers)
        .service(staff_inspections)
        .service(reveal);
}

/// The institution an institution account belongs to (every one has one: registration
/// creates both together).
fn own_institution(user: &AuthUser) -> ApiResult<i64> {
    user.institution_id.ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "institution account {} has no institution",
            user.id
        ))
    })
}

/// The signed-in institution's profile (identity number masked).
#[utoipa::path(
    tag = "institutions",
    operation_id = "get_my_profile",
    responses((status = 200, body = Profile, description = "The profile.")),
    security(("bearer" = ["institution"]))
)]
#[get("/institutions/me")]
pub async fn get_profile(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let (id, today) = (own_institution(&user)?, beijing_date(user.ctx.now));
    let profile = state
        .run(move |conn| service::profile(conn, id, today))
        .await?;
    Ok(HttpResponse::Ok().json(profile))
}

/// Replace the editable profile fields (registration certificate, legal representative,
/// contact); every field error is reported at once.
#[utoipa::path(
    tag = "institutions",
    operation_id = "update_my_profile",
    request_body = ProfileUpdate,
    responses(
        (status = 200, body = Profile, description = "The profile as stored."),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: every field problem at once (e.g. `registration_kind_mismatch`, `authority_level_too_low`, `invalid_mobile`, the identity number's `bad_check_character`, `required`, `too_long`)"),
    ),
    security(("bearer" = ["institution"]))
)]
#[put("/institutions/me")]
pub async fn update_profile(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
    body: Json<ProfileUpdate>,
) -> ApiResult<HttpResponse> {
    let (id, req) = (own_institution(&user)?, body.into_inner());
    let profile = state
        .write_as(&user, move |conn, _, ctx| {
            service::update_profile(conn, ctx, id, &req)
        })
        .await?;
    Ok(HttpResponse::Ok().json(profile))
}

/// The institution's current teacher roster (removed teachers are not listed).
#[utoipa::path(
    tag = "institutions",
    operation_id = "list_my_teachers",
    responses((status = 200, body = Vec<Teacher>, description = "The current roster.")),
    security(("bearer" = ["institution"]))
)]
#[get("/institutions/me/teachers")]
pub async fn list_teachers(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let (id, today) = (own_institution(&user)?, beijing_date(user.ctx.now));
    let teachers = state
        .run(move |conn| service::active_teachers(conn, id, today))
        .await?;
    Ok(HttpResponse::Ok().json(teachers))
}

/// Add a teacher to the roster.
#[utoipa::path(
    tag = "institutions",
    operation_id = "create_teacher",
    request_body = TeacherInput,
    responses(
        (status = 201, body = Teacher, description = "The teacher, identity number masked."),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: identity number, `credentials[i].…`, `specialities[i]` (`academic_subject_forbidden`, `unknown_category`), criminal check, `too_many`"),
    ),
    security(("bearer" = ["institution"]))
)]
#[post("/institutions/me/teachers")]
pub async fn create_teacher(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
    body: Json<TeacherInput>,
) -> ApiResult<HttpResponse> {
    let (id, req) = (own_institution(&user)?, body.into_inner());
    let teacher = state
        .write_as(&user, move |conn, _, ctx| {
            service::create_teacher(conn, ctx, id, &req)
        })
        .await?;
    Ok(HttpResponse::Created().json(teacher))
}

/// One teacher of the roster.
#[utoipa::path(
    tag = "institutions",
    operation_id = "get_teacher",
    params(("id" = i64, Path, description = "teacher id")),
    responses(
        (status = 200, body = Teacher, description = "The teacher, identity number masked."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such teacher on this institution's roster"),
    ),
    security(("bearer" = ["institution"]))
)]
#[get("/institutions/me/teachers/{id}")]
pub async fn get_teacher(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, today, teacher_id) = (
        own_institution(&user)?,
        beijing_date(user.ctx.now),
        path.into_inner(),
    );
    let teacher = state
        .run(move |conn| service::teacher(conn, id, teacher_id, today))
        .await?;
    Ok(HttpResponse::Ok().json(teacher))
}

/// Replace a teacher's data (leave `identity.number` out to keep the stored number).
#[utoipa::path(
    tag = "institutions",
    operation_id = "update_teacher",
    params(("id" = i64, Path, description = "teacher id")),
    request_body = TeacherInput,
    responses(
        (status = 200, body = Teacher, description = "The teacher as stored."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such teacher on this institution's roster"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: as for a new teacher; `identity.number` may be left out only when the kind is unchanged"),
    ),
    security(("bearer" = ["institution"]))
)]
#[put("/institutions/me/teachers/{id}")]
pub async fn update_teacher(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: Json<TeacherInput>,
) -> ApiResult<HttpResponse> {
    let (id, teacher_id, req) = (
        own_institution(&user)?,
        path.into_inner(),
        body.into_inner(),
    );
    let teacher = state
        .write_as(&user, move |conn, _, ctx| {
            service::update_teacher(conn, ctx, id, teacher_id, &req)
        })
        .await?;
    Ok(HttpResponse::Ok().json(teacher))
}

/// Take a teacher off the roster (kept for history, no longer listed).
#[utoipa::path(
    tag = "institutions",
    operation_id = "delete_teacher",
    params(("id" = i64, Path, description = "teacher id")),
    responses(
        (status = 204, description = "Taken off the roster."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such teacher on this institution's roster"),
    ),
    security(("bearer" = ["institution"]))
)]
#[delete("/institutions/me/teachers/{id}")]
pub async fn remove_teacher(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, teacher_id) = (own_institution(&user)?, path.into_inner());
    state
        .write_as(&user, move |conn, _, ctx| {
            service::remove_teacher(conn, ctx, id, teacher_id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The institution's annual inspection records, newest year first.
#[utoipa::path(
    tag = "institutions",
    operation_id = "list_my_inspections",
    responses((status = 200, body = Vec<Inspection>, description = "The records, newest year first.")),
    security(("bearer" = ["institution"]))
)]
#[get("/institutions/me/inspections")]
pub async fn list_inspections(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let id = own_institution(&user)?;
    let inspections = state
        .run(move |conn| service::inspections(conn, id))
        .await?;
    Ok(HttpResponse::Ok().json(inspections))
}

/// Record a year's annual inspection (one record per year).
#[utoipa::path(
    tag = "institutions",
    operation_id = "create_inspection",
    request_body = InspectionInput,
    responses(
        (status = 201, body = Inspection, description = "The record."),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`inspection_year_exists`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `year_out_of_range`, `required` or `too_long` (`authority`); `invalid_document` (not one of the institution's `inspection_record` documents) (not one of the institution's `inspection_record` documents)"),
    ),
    security(("bearer" = ["institution"]))
)]
#[post("/institutions/me/inspections")]
pub async fn create_inspection(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
    body: Json<InspectionInput>,
) -> ApiResult<HttpResponse> {
    let (id, req) = (own_institution(&user)?, body.into_inner());
    let inspection = state
        .write_as(&user, move |conn, _, ctx| {
            service::create_inspection(conn, ctx, id, &req)
        })
        .await?;
    Ok(HttpResponse::Created().json(inspection))
}

/// Replace a year's inspection record.
#[utoipa::path(
    tag = "institutions",
    operation_id = "update_inspection",
    params(("id" = i64, Path, description = "inspection record id")),
    request_body = InspectionInput,
    responses(
        (status = 200, body = Inspection, description = "The record as stored."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such record of this institution"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`inspection_year_exists`: another record has that year"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `year_out_of_range`, `required` or `too_long` (`authority`); `invalid_document`"),
    ),
    security(("bearer" = ["institution"]))
)]
#[put("/institutions/me/inspections/{id}")]
pub async fn update_inspection(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: Json<InspectionInput>,
) -> ApiResult<HttpResponse> {
    let (id, inspection_id, req) = (
        own_institution(&user)?,
        path.into_inner(),
        body.into_inner(),
    );
    let inspection = state
        .write_as(&user, move |conn, _, ctx| {
            service::update_inspection(conn, ctx, id, inspection_id, &req)
        })
        .await?;
    Ok(HttpResponse::Ok().json(inspection))
}

/// Delete a year's inspection record.
#[utoipa::path(
    tag = "institutions",
    operation_id = "delete_inspection",
    params(("id" = i64, Path, description = "inspection record id")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such record of this institution"),
    ),
    security(("bearer" = ["institution"]))
)]
#[delete("/institutions/me/inspections/{id}")]
pub async fn delete_inspection(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, inspection_id) = (own_institution(&user)?, path.into_inner());
    state
        .write_as(&user, move |conn, _, ctx| {
            service::delete_inspection(conn, ctx, id, inspection_id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An institution's profile, for bureau staff (identity number masked).
#[utoipa::path(
    tag = "institutions",
    operation_id = "get_institution",
    params(("id" = i64, Path, minimum = 0, description = "institution id")),
    responses(
        (status = 200, body = Profile, description = "The profile, identity number masked."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such institution"),
    ),
    security(("bearer" = ["reviewer", "admin"]))
)]
#[get("/institutions/{id:\\d+}")]
pub async fn staff_profile(
    staff: Authed<Staff>,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, today) = (path.into_inner(), beijing_date(staff.ctx.now));
    let profile = state
        .run(move |conn| service::profile(conn, id, today))
        .await?;
    Ok(HttpResponse::Ok().json(profile))
}

/// An institution's current teacher roster, for bureau staff (identity numbers masked).
#[utoipa::path(
    tag = "institutions",
    operation_id = "list_institution_teachers",
    params(("id" = i64, Path, minimum = 0, description = "institution id")),
    responses(
        (status = 200, body = Vec<Teacher>, description = "The current roster, identity numbers masked."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such institution"),
    ),
    security(("bearer" = ["reviewer", "admin"]))
)]
#[get("/institutions/{id:\\d+}/teachers")]
pub async fn staff_teachers(
    staff: Authed<Staff>,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, today) = (path.into_inner(), beijing_date(staff.ctx.now));
    let teachers = state
        .run(move |conn| {
            service::ensure_exists(conn, id)?;
            service::active_teachers(conn, id, today)
        })
        .await?;
    Ok(HttpResponse::Ok().json(teachers))
}

/// An institution's annual inspection records, for bureau staff.
#[utoipa::path(
    tag = "institutions",
    operation_id = "list_institution_inspections",
    params(("id" = i64, Path, minimum = 0, description = "institution id")),
    responses(
        (status = 200, body = Vec<Inspection>, description = "The records, newest year first."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such institution"),
    ),
    security(("bearer" = ["reviewer", "admin"]))
)]
#[get("/institutions/{id:\\d+}/inspections")]
pub async fn staff_inspections(
    _staff: Authed<Staff>,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let inspections = state
        .run(move |conn| {
            service::ensure_exists(conn, id)?;
            service::inspections(conn, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(inspections))
}

/// Reveal one full identity number to a reviewer: the legal representative's or a teacher's.
/// Audited as `pii.revealed`.
#[utoipa::path(
    tag = "institutions",
    operation_id = "reveal_identity_number",
    params(("id" = i64, Path, minimum = 0, description = "institution id")),
    request_body = RevealRequest,
    responses(
        (status = 200, body = RevealedId, description = "The full number (not cacheable); the reveal is audited.",
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such institution or teacher on its roster, or no legal representative on record"),
    ),
    security(("bearer" = ["reviewer"]))
)]
#[post("/institutions/{id:\\d+}/reveal")]
pub async fn reveal(
    reviewer: Authed<Reviewer>,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: Json<RevealRequest>,
) -> ApiResult<HttpResponse> {
    let (id, req) = (path.into_inner(), body.into_inner());
    let (subject, teacher_id) = (req.subject(), req.teacher_id());
    let revealed = state
        .write_as(&reviewer, move |conn, _, ctx| {
            service::reveal(conn, ctx, id, &req)
        })
        .await?;
    // Logged once committed; the subject only, never the number.
    tracing::info!(
        institution_id = id,
        subject,
        teacher_id,
        "identity number revealed to a reviewer"
    );
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(revealed))
}
