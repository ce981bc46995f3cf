//! Exit-case endpoints: `GET/POST /exit-cases`, `GET /exit-cases/{id}`, the statement and the
//! decision, a school's `POST /contracts/{id}/terminate`, and the reviewer's verification of an
//! inspection record or a teacher's credentials, and a reviewer's blacklist import
//! (`PUT /blacklist`), which opens exit cases for pool members on the list.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::auth::{AnyRole, Authed, InstitutionRole, Reviewer, Role, SchoolRole};
use crate::error::{ApiError, ApiResult, Msg, ProblemBody};
use crate::exits::{
    self, CaseFilter, DecisionRequest, ExitCase, NewCase, Statement, Termination,
    TerminationOutcome, Verification, VerificationOutcome, Verified,
};
use crate::http::routes::Register;
use crate::http::{Json, Page, PageQuery};

/// Registers the routes of this module.
pub fn configure(cfg: &mut impl Register) {
    cfg.service(list)
        .service(create)
        .service(get_case)
        .service(statement)
        .service(decision)
        .service(terminate)
        .service(verify_inspection)
        .service(verify_teacher)
        .service(import_blacklist);
}

/// Exit cases: reviewers all (filtered), an institution its own.
#[utoipa::path(
    tag = "exit cases",
    operation_id = "list_exit_cases",
    params(CaseFilter, PageQuery),
    responses((status = 200, body = Page<ExitCase>, description = "A page of cases, newest first.")),
    security(("bearer" = ["institution", "reviewer", "admin"]))
)]
#[get("/exit-cases")]
pub async fn list(
    user: Authed<AnyRole>,
    state: web::Data<AppState>,
    filter: web::Query<CaseFilter>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    if user.role() == Role::School {
        return Err(ApiError::forbidden());
    }
    let (u, filter) = (user.user.clone(), filter.into_inner());
    let page = state
        .page(page.into_inner(), move |conn, offset, limit| {
            exits::list(conn, &u, &filter, offset, limit)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Open an exit case (reviewer), or add grounds to the institution's open case.
#[utoipa::path(
    tag = "exit cases",
    operation_id = "create_exit_case",
    request_body = NewCase,
    responses(
        (status = 201, body = ExitCase, description = "The institution's open case, with the grounds added."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such institution"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`not_in_pool`: exit cases apply to pool members only"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `grounds_missing`, `unknown_document`, `invalid_length`; `calendar_year_missing` for the statement deadline"),
    ),
    security(("bearer" = ["reviewer"]))
)]
#[post("/exit-cases")]
pub async fn create(
    user: Authed<Reviewer>,
    state: web::Data<AppState>,
    body: Json<NewCase>,
) -> ApiResult<HttpResponse> {
    let req = body.into_inner();
    let case = state
        .write_as(&user, move |conn, u, ctx| exits::create(conn, u, ctx, &req))
        .await?;
    Ok(HttpResponse::Created().json(case))
}

/// One exit case: grounds, evidence, statement, deadlines, decision.
#[utoipa::path(
    tag = "exit cases",
    operation_id = "get_exit_case",
    params(("id" = i64, Path, description = "exit case id")),
    responses(
        (status = 200, body = ExitCase, description = "The case."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such case, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/exit-cases/{id}")]
pub async fn get_case(
    user: Authed<AnyRole>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (u, id) = (user.user.clone(), id.into_inner());
    Ok(HttpResponse::Ok().json(state.run(move |conn| exits::get(conn, &u, id)).await?))
}

/// File the statement of defence (the institution, once, by 23:59:59 Beijing time on
/// `statement_due`).
#[utoipa::path(
    tag = "exit cases",
    operation_id = "file_statement",
    params(("id" = i64, Path, description = "exit case id")),
    request_body = Statement,
    responses(
        (status = 200, body = ExitCase, description = "The case with the statement."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such case of this institution"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`statement_window_closed`, `statement_already_filed`, `exit_case_closed`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `unknown_document`, `invalid_length`"),
    ),
    security(("bearer" = ["institution"]))
)]
#[post("/exit-cases/{id}/statement")]
pub async fn statement(
    user: Authed<InstitutionRole>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<Statement>,
) -> ApiResult<HttpResponse> {
    let (id, req) = (id.into_inner(), body.into_inner());
    Ok(HttpResponse::Ok().json(
        state
            .write_as(&user, move |conn, u, ctx| {
                exits::file_statement(conn, u, ctx, id, &req)
            })
            .await?,
    ))
}

/// Decide a case (reviewer): `remove` (pool entry removed, contracts ended, in-flight
/// applications rejected, a 36-month ban recorded) or `dismiss`.
#[utoipa::path(
    tag = "exit cases",
    operation_id = "decide_exit_case",
    params(("id" = i64, Path, description = "exit case id")),
    request_body = DecisionRequest,
    responses(
        (status = 200, body = ExitCase, description = "The decided case (with the ban of a removal)."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such case"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`statement_window_open`, `exit_case_closed`, `status_changed`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`invalid_length` (`reasons`)"),
    ),
    security(("bearer" = ["reviewer"]))
)]
#[post("/exit-cases/{id}/decision")]
pub async fn decision(
    user: Authed<Reviewer>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<DecisionRequest>,
) -> ApiResult<HttpResponse> {
    let (id, req) = (id.into_inner(), body.into_inner());
    let (case, _removal) = state
        .write_as(&user, move |conn, u, ctx| {
            exits::decide(conn, u, ctx, id, &req)
        })
        .await?;
    Ok(HttpResponse::Ok().json(case))
}

/// Terminate a contract (the school that owns it) citing exit grounds with evidence: the
/// contract ends at once and the grounds open or join the institution's exit case.
#[utoipa::path(
    tag = "contracts",
    operation_id = "terminate_contract",
    params(("id" = i64, Path, description = "contract id")),
    request_body = Termination,
    responses(
        (status = 200, body = TerminationOutcome, description = "The ended contract and the institution's exit case."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such contract of this school"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`contract_not_active`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `grounds_missing`, `unknown_document`, `invalid_length`; `calendar_year_missing` for the statement deadline"),
    ),
    security(("bearer" = ["school"]))
)]
#[post("/contracts/{id}/terminate")]
pub async fn terminate(
    user: Authed<SchoolRole>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<Termination>,
) -> ApiResult<HttpResponse> {
    let (id, req) = (id.into_inner(), body.into_inner());
    Ok(HttpResponse::Ok().json(
        state
            .write_as(&user, move |conn, u, ctx| {
                exits::terminate(conn, u, ctx, id, &req)
            })
            .await?,
    ))
}

/// Record a reviewer's verdict on an annual-inspection record; `false` opens (or joins) a
/// `false_credentials` exit case.
#[utoipa::path(
    tag = "exit cases",
    operation_id = "verify_inspection",
    params(("id" = i64, Path, description = "institution id"), ("inspection_id" = i64, Path, description = "inspection record id")),
    request_body = Verification,
    responses(
        (status = 200, body = VerificationOutcome, description = "The verdict, and the case a false one opened or joined."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such institution, or no such record of it"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`not_in_pool`: a false verdict needs a pool member"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `unknown_document`, `invalid_length`; `calendar_year_missing` for the statement deadline"),
    ),
    security(("bearer" = ["reviewer"]))
)]
#[post("/institutions/{id}/inspections/{inspection_id}/verification")]
pub async fn verify_inspection(
    user: Authed<Reviewer>,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    body: Json<Verification>,
) -> ApiResult<HttpResponse> {
    let ((inst, id), req) = (path.into_inner(), body.into_inner());
    Ok(HttpResponse::Ok().json(
        state
            .write_as(&user, move |conn, u, ctx| {
                exits::verify(conn, u, ctx, inst, Verified::Inspection(id), &req)
            })
            .await?,
    ))
}

/// Record a reviewer's verdict on a teacher's credentials; `false` opens (or joins) a
/// `false_credentials` exit case.
#[utoipa::path(
    tag = "exit cases",
    operation_id = "verify_teacher",
    params(("id" = i64, Path, description = "institution id"), ("teacher_id" = i64, Path, description = "teacher id")),
    request_body = Verification,
    responses(
        (status = 200, body = VerificationOutcome, description = "The verdict, and the case a false one opened or joined."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such institution, or no such teacher of it"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`not_in_pool`: a false verdict needs a pool member"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `unknown_document`, `invalid_length`; `calendar_year_missing` for the statement deadline"),
    ),
    security(("bearer" = ["reviewer"]))
)]
#[post("/institutions/{id}/teachers/{teacher_id}/verification")]
pub async fn verify_teacher(
    user: Authed<Reviewer>,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    body: Json<Verification>,
) -> ApiResult<HttpResponse> {
    let ((inst, id), req) = (path.into_inner(), body.into_inner());
    Ok(HttpResponse::Ok().json(
        state
            .write_as(&user, move |conn, u, ctx| {
                exits::verify(conn, u, ctx, inst, Verified::Teacher(id), &req)
            })
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The list's source (e.g. `国家企业信用信息公示系统`); every row's `source` must equal it,
    /// and the import replaces this source's previous list.
    pub source: String,
}

/// Import a blacklist (reviewer): `text/csv` with the header `uscc,name,source,listed_on,reason`
/// (`application/octet-stream` is read as the same CSV, for clients that cannot send CSV).
/// All or nothing: any bad line gives 422 `blacklist_malformed` listing every problem by line
/// and field. Pool members on the list get an exit case (ground `blacklisted`).
#[utoipa::path(
    tag = "sanctions",
    operation_id = "import_blacklist",
    params(ImportQuery),
    request_body(
        description = "The CSV file, sent as `text/csv` (this media type is left out of the map \
                       because generated clients cannot send it) or `application/octet-stream`.",
        content((inline(crate::documents::routes::FileBytes) = "application/octet-stream"))
    ),
    responses(
        (status = 200, body = crate::exits::blacklist::ImportOutcome, description = "The list imported, and the exit cases it opened."),
        (status = 415, body = ProblemBody, content_type = "application/problem+json", description = "`unsupported_media_type`: neither `text/csv` nor `application/octet-stream`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`blacklist_malformed` (every problem by line and field) or `invalid_source`"),
    ),
    security(("bearer" = ["reviewer"]))
)]
#[put("/blacklist")]
pub async fn import_blacklist(
    user: Authed<Reviewer>,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ImportQuery>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let is_csv = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            // `application/octet-stream` too: generated clients cannot send `text/csv`.
            let v = v.trim().to_ascii_lowercase();
            v.starts_with("text/csv") || v.starts_with("application/octet-stream")
        });
    if !is_csv {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            Msg::new(
                "请以 text/csv 上传黑名单。",
                "Send the blacklist as text/csv.",
            ),
        ));
    }
    let source = crate::exits::blacklist::source(&query.into_inner().source)?;
    let ctx = user.ctx.clone();
    let outcome = state
        .write(move |conn| crate::exits::blacklist::import(conn, &ctx, &source, &body))
        .await?;
    Ok(HttpResponse::Ok().json(outcome))
}
