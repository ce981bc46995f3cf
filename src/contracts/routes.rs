//! Contract endpoints: schools create and evaluate; schools, institutions and bureau staff read
//! what concerns them.

use actix_web::{HttpResponse, get, post, web};

use crate::app::AppState;
use crate::auth::{AnyRole, Authed, SchoolRole};
use crate::contracts::{self, Contract, ContractFilter, Evaluation, NewContract, NewEvaluation};
use crate::error::{ApiResult, ProblemBody};
use crate::http::routes::Register;
use crate::http::{Json, Page, PageQuery};

/// Registers the contract routes (one line in `startup::routes`).
pub fn configure(cfg: &mut impl Register) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(evaluate);
}

/// Sign a contract with an active pool member (school accounts): approved items only, a term of
/// at most two school years (1 Sep – 31 Aug, counted from the school year of the start date).
#[utoipa::path(
    tag = "contracts",
    operation_id = "create_contract",
    request_body = NewContract,
    responses(
        (status = 201, body = Contract, description = "The contract."),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`not_in_pool`, `item_not_approved`, `invalid_term`, `term_too_long` (the latest end in `extra`), `invalid_length` (`items`)"),
    ),
    security(("bearer" = ["school"]))
)]
#[post("/contracts")]
pub async fn create(
    user: Authed<SchoolRole>,
    state: web::Data<AppState>,
    body: Json<NewContract>,
) -> ApiResult<HttpResponse> {
    let req = body.into_inner();
    let contract = state
        .write_as(&user, move |conn, u, ctx| {
            contracts::create(conn, u, ctx, &req)
        })
        .await?;
    Ok(HttpResponse::Created().json(contract))
}

/// Contracts: a school's own, an institution's own, or all (reviewers and admins).
#[utoipa::path(
    tag = "contracts",
    operation_id = "list_contracts",
    params(ContractFilter, PageQuery),
    responses((status = 200, body = Page<Contract>, description = "A page of contracts, newest first.")),
    security(("bearer" = []))
)]
#[get("/contracts")]
pub async fn list(
    user: Authed<AnyRole>,
    state: web::Data<AppState>,
    filter: web::Query<ContractFilter>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (u, filter) = (user.user.clone(), filter.into_inner());
    let page = state
        .page(page.into_inner(), move |conn, offset, limit| {
            contracts::list(conn, &u, &filter, offset, limit)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One contract with its evaluations (its school, its institution, or bureau staff; 404 for
/// anyone else).
#[utoipa::path(
    tag = "contracts",
    operation_id = "get_contract",
    params(("id" = i64, Path, description = "contract id")),
    responses(
        (status = 200, body = Contract, description = "The contract with its evaluations."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such contract, or not the caller's"),
    ),
    security(("bearer" = []))
)]
#[get("/contracts/{id}")]
pub async fn get(
    user: Authed<AnyRole>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (u, id) = (user.user.clone(), id.into_inner());
    Ok(HttpResponse::Ok().json(state.run(move |conn| contracts::get(conn, &u, id)).await?))
}

/// Evaluate a contract for a school term (the school that signed it): quality, safety and
/// punctuality 1–5 and a comment, once per term.
#[utoipa::path(
    tag = "contracts",
    operation_id = "create_evaluation",
    params(("id" = i64, Path, description = "contract id")),
    request_body = NewEvaluation,
    responses(
        (status = 201, body = Evaluation, description = "The evaluation."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such contract of this school"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`already_evaluated`: the term is evaluated"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `invalid_school_term`, `out_of_range` (scores 1–5), `invalid_length`; `term_not_started`, `term_outside_contract`"),
    ),
    security(("bearer" = ["school"]))
)]
#[post("/contracts/{id}/evaluations")]
pub async fn evaluate(
    user: Authed<SchoolRole>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<NewEvaluation>,
) -> ApiResult<HttpResponse> {
    let (req, id) = (body.into_inner(), id.into_inner());
    let evaluation = state
        .write_as(&user, move |conn, u, ctx| {
            contracts::evaluate(conn, u, ctx, id, &req)
        })
        .await?;
    Ok(HttpResponse::Created().json(evaluation))
}
