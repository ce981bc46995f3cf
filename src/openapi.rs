//! The OpenAPI document (`GET /api/v1/openapi.json`, Swagger UI at `/docs`).
//! Every endpoint is listed here; `tests/openapi.rs` snapshots the whole document.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{
    accounts, applications, audit, calendar, catalogue, credentials, documents, institutions, jobs,
    ops, rounds,
};

#[derive(OpenApi)]
#[openapi(
    paths(
        accounts::routes::register,
        accounts::routes::login,
        accounts::routes::me,
        accounts::routes::create_user,
        accounts::routes::list_users,
        accounts::routes::disable_user,
        accounts::routes::enable_user,
        accounts::routes::create_school,
        accounts::routes::list_schools,
        audit::routes::list_audit,
        audit::routes::verify_audit,
        jobs::routes::list_jobs,
        jobs::routes::retry_job,
        ops::routes::set_clock,
        calendar::routes::list_years,
        calendar::routes::get_year,
        calendar::routes::put_year,
        calendar::routes::working_days,
        catalogue::routes::categories,
        credentials::routes::check_uscc,
        rounds::routes::create_round,
        rounds::routes::list_rounds,
        documents::routes::upload,
        documents::routes::metadata,
        documents::routes::content,
        documents::routes::document_text,
        applications::routes::create,
        applications::routes::list,
        applications::routes::get,
        applications::routes::update,
        applications::routes::submit,
        applications::routes::withdraw,
        applications::routes::history,
        institutions::routes::get_profile,
        institutions::routes::update_profile,
        institutions::routes::list_teachers,
        institutions::routes::create_teacher,
        institutions::routes::get_teacher,
        institutions::routes::update_teacher,
        institutions::routes::remove_teacher,
        institutions::routes::list_inspections,
        institutions::routes::create_inspection,
        institutions::routes::update_inspection,
        institutions::routes::delete_inspection,
        institutions::routes::staff_profile,
        institutions::routes::staff_teachers,
        institutions::routes::staff_inspections,
        institutions::routes::reveal,
        crate::review::routes::decide,
        crate::review::routes::dossier,
        crate::notices::routes::publish,
        crate::notices::routes::list,
        crate::notices::routes::get,
        crate::objections::routes::file,
        crate::objections::routes::list,
        crate::objections::routes::resolve,
        crate::exits::routes::list,
        crate::exits::routes::create,
        crate::exits::routes::get_case,
        crate::exits::routes::statement,
        crate::exits::routes::decision,
        crate::exits::routes::terminate,
        crate::exits::routes::verify_inspection,
        crate::exits::routes::verify_teacher,
        crate::sanctions::routes::list_bans,
        crate::sanctions::routes::import_blacklist,
        crate::sanctions::routes::list_blacklist,
        crate::pool::routes::search,
        crate::pool::routes::entry,
        crate::pool::routes::export_csv,
        crate::pool::routes::export_json,
        crate::pool::routes::institution_status,
        crate::contracts::routes::create,
        crate::contracts::routes::list,
        crate::contracts::routes::get,
        crate::contracts::routes::evaluate,
    ),
    components(schemas(crate::error::ProblemBody, crate::error::FieldErrorBody))
)]
struct ApiV1;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Provider Registry",
        description = "课后服务第三方机构备选库 — the registry of third-party institutions admitted to schools' after-school services. Errors are RFC 9457 `application/problem+json` with a stable `code`; messages are Chinese unless `Accept-Language: en`.",
    ),
    paths(ops::routes::healthz, ops::routes::readyz, ops::routes::metrics),
    nest((path = "/api/v1", api = ApiV1)),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "registration, login, the signed-in account"),
        (name = "admin", description = "accounts, schools, jobs and the test clock"),
        (name = "audit", description = "the hash-chained audit trail"),
        (name = "calendar", description = "working days: statutory holidays and make-up working days"),
        (name = "reference", description = "activity catalogue and identifier checks"),
        (name = "rounds", description = "selection rounds: application window and pool validity"),
        (name = "documents", description = "uploads, content-addressed storage, isolated PDF text"),
        (name = "institutions", description = "profile, teacher roster, annual inspections; identity numbers masked, reviewer reveal audited"),
        (name = "applications", description = "drafts, submission checks, withdrawal, history"),
        (name = "review", description = "reviewers' decisions and the dossier read before deciding"),
        (name = "notices", description = "public notices (5 working days), objections, admission to the pool"),
        (name = "exit cases", description = "exit cases: grounds, statement of defence, decision, removal"),
        (name = "sanctions", description = "bans and blacklists"),
        (name = "pool", description = "the whitelist for schools and the public: search, exports, status look-up"),
        (name = "contracts", description = "school contracts with pool members and their evaluations"),
        (name = "ops", description = "health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The document as served.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
