//! The school's workspace: pool search (the portal's read path over the pool's read model),
//! signing a contract with the school-year rule explained before submission, an evaluation
//! per term, and termination with grounds and an evidence upload (which opens or joins the
//! institution's exit case, as `POST /contracts/{id}/terminate` does). Each form becomes the
//! JSON API's body, read by the API's parser, and goes to the service the JSON handler calls;
//! every refusal is shown in Chinese next to its field; no SQL here.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::SchoolRole;
use crate::clock::beijing_date;
use crate::contracts::term::{self, Term};
use crate::contracts::{self, Contract, NewContract, NewEvaluation};
use crate::error::{ApiError, ApiResult, Lang};
use crate::exits::Termination;
use crate::pool::read_model::PoolModel;
use crate::pool::search::{self as pool_search, PoolEntry, PoolQuery, Viewer};
use crate::sanctions::Ground;
use crate::web::Page;
use crate::web::forms::{Field, Form};
use crate::web::session::SignedIn;
use crate::web::workspace::posted::{parse, problem_status, show, submit, wire};
use crate::web::workspace::signed_form::{Fields, Multipart, SignedForm};

/// Where a school lands after signing in.
pub const HOME: &str = "/school";

type School = SignedIn<SchoolRole>;

const PAGES: &[(&str, &str)] = &[("/school", "contracts"), ("/school/pool", "pool")];

/// The school's pages in the header.
pub fn links(page: &Page) -> Vec<(String, String)> {
    PAGES
        .iter()
        .map(|(href, key)| ((*href).to_owned(), page.t(&format!("school.nav.{key}"))))
        .collect()
}

fn viewer(state: &AppState) -> Viewer {
    Viewer {
        staff: false,
        flag_threshold: state.settings.standing_flag_threshold,
    }
}

/// An item's name in the page's language.
fn item_name(page: &Page, item: &crate::pool::search::PoolItem) -> String {
    let name = match page.lang {
        Lang::Zh => item.name_zh,
        Lang::En => item.name_en,
    };
    name.unwrap_or(&item.code).to_owned()
}

// ---- contracts -----------------------------------------------------------------------------

/// `GET /school`: the school's contracts, newest first.
#[get("/school")]
pub async fn home(s: School, state: web::Data<AppState>) -> HttpResponse {
    let user = s.user.clone();
    let view = async {
        let (list, _) = state
            .run(move |conn| contracts::list(conn, &user, &Default::default(), 0, 100))
            .await?;
        Ok(json!({ "contracts": list }))
    };
    show(&s, StatusCode::OK, "school_home.html", view).await
}

// ---- pool search ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct PoolSearch {
    category: Option<String>,
    district: Option<String>,
    q: Option<String>,
}

/// `GET /school/pool`: the pool by category, district and name (the portal's search), each
/// institution with the way to sign a contract with it.
#[get("/school/pool")]
pub async fn pool(
    s: School,
    state: web::Data<AppState>,
    model: web::Data<PoolModel>,
    query: web::Query<PoolSearch>,
) -> HttpResponse {
    let query = query.into_inner();
    let today = beijing_date(s.ctx.now);
    let filters = PoolQuery {
        category: query.category.clone().filter(|c| !c.is_empty()),
        district: query.district.clone().filter(|c| !c.is_empty()),
        q: query.q.clone().filter(|c| !c.trim().is_empty()),
        flagged: None,
    };
    let mut error = None;
    let filter = match filters.parse(false) {
        Ok(f) => Some(f),
        Err(ApiError::Problem(p)) => {
            error = Some(
                p.errors
                    .first()
                    .map_or_else(|| s.page.msg(&p.detail), |i| s.page.msg(&i.message)),
            );
            None
        }
        Err(e) => return s.error(&e),
    };
    let snapshot = match model.read().await {
        Ok(p) => p,
        Err(e) => return s.error(&e),
    };
    let (entries, total) = filter.map_or_else(Default::default, |f| {
        pool_search::search(&snapshot, &f, today, viewer(&state), Some((0, 100)))
    });
    let categories: Vec<Value> = crate::catalogue::Catalogue::get()
        .categories
        .iter()
        .map(|c| {
            let name = |zh: &str, en: &str| match s.page.lang {
                Lang::Zh => zh.to_owned(),
                Lang::En => en.to_owned(),
            };
            json!({
                "code": c.code,
                "name": name(&c.name_zh, &c.name_en),
                "items": c.items.iter().map(|i| json!({"code": i.code, "name": name(&i.name_zh, &i.name_en)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    s.render(
        status,
        "school_pool.html",
        json!({
            "categories": categories,
            "districts": pool_search::districts(&snapshot, today),
            "category": query.category.unwrap_or_default(),
            "district": query.district.unwrap_or_default(),
            "q": query.q.unwrap_or_default(),
            "error": error,
            "total": total,
            "entries": entries.iter().map(|e| json!({
                "institution_id": e.institution_id,
                "name": e.name,
                "district": e.district,
                "items": e.items.iter().map(|i| item_name(&s.page, i)).collect::<Vec<_>>(),
                "valid_until": e.valid_until,
                "standing": e.standing,
                "contract_count": e.contract_count,
            })).collect::<Vec<_>>(),
        }),
    )
}

// ---- signing -------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct SignQuery {
    institution_id: Option<i64>,
}

fn contract_form(page: &Page, institution_id: i64) -> Form {
    Form::new("/school/contracts", page.t("school.sign.submit"))
        .hidden("institution_id", institution_id.to_string())
        .field(
            Field::new("starts_on", page.t("school.sign.starts_on"), "date")
                .required()
                .hint(page.t("inst.date_hint")),
        )
        .field(
            Field::new("ends_on", page.t("school.sign.ends_on"), "date")
                .required()
                .hint(page.t("school.sign.ends_hint")),
        )
}

/// The school-year rule with two examples from today: a contract starting today, and one
/// starting on the next 1 September.
fn school_year_rule(page: &Page, today: NaiveDate) -> Vec<String> {
    let next_sep = NaiveDate::from_ymd_opt(term::school_year_of(today) + 1, 9, 1).unwrap_or(today);
    [today, next_sep]
        .into_iter()
        .map(|start| {
            let year = term::school_year_of(start);
            page.t("school.sign.example")
                .replace("{start}", &start.to_string())
                .replace("{year}", &format!("{year}–{}", year + 1))
                .replace("{latest}", &term::latest_end(start).to_string())
        })
        .collect()
}

/// The pool entry a school may sign with (the portal's read path).
async fn signable(
    state: &AppState,
    model: &PoolModel,
    id: i64,
    today: NaiveDate,
) -> ApiResult<PoolEntry> {
    let snapshot = model.read().await?;
    crate::pool::detail::entry(&snapshot, id, today, viewer(state))
}

fn render_sign(
    s: &School,
    status: StatusCode,
    entry: &PoolEntry,
    form: Form,
    chosen: &[String],
    items_error: Option<String>,
) -> HttpResponse {
    let today = beijing_date(s.ctx.now);
    s.render(
        status,
        "school_contract_new.html",
        json!({
            "entry": {"institution_id": entry.institution_id, "name": entry.name, "valid_until": entry.valid_until},
            "items": entry.items.iter().map(|i| json!({"code": i.code, "name": item_name(&s.page, i), "checked": chosen.iter().any(|c| *c == i.code)})).collect::<Vec<_>>(),
            "items_error": items_error,
            "rule": school_year_rule(&s.page, today),
            "form": form,
        }),
    )
}

/// `GET /school/contracts/new?institution_id=…`: the contract form for one pool member, the
/// school-year rule explained above it.
#[get("/school/contracts/new")]
pub async fn new_contract(
    s: School,
    state: web::Data<AppState>,
    model: web::Data<PoolModel>,
    query: web::Query<SignQuery>,
) -> HttpResponse {
    let Some(id) = query.institution_id else {
        return s.page.redirect("/school/pool");
    };
    let today = beijing_date(s.ctx.now);
    match signable(&state, &model, id, today).await {
        Ok(entry) => {
            let form = contract_form(&s.page, id);
            render_sign(&s, StatusCode::OK, &entry, form, &[], None)
        }
        Err(e) => s.error(&e),
    }
}

/// `POST /school/contracts`: the API's contract (`POST /contracts`): approved items only, at
/// most two school years; the rule's refusal next to the end date.
#[post("/school/contracts")]
pub async fn sign(
    s: SignedForm<SchoolRole>,
    state: web::Data<AppState>,
    model: web::Data<PoolModel>,
) -> HttpResponse {
    let SignedForm {
        signed: s,
        form: posted,
    } = s;
    let id = match posted.value("institution_id").trim().parse::<i64>() {
        Ok(id) => id,
        Err(_) => return s.page.redirect("/school/pool"),
    };
    let today = beijing_date(s.ctx.now);
    let entry = match signable(&state, &model, id, today).await {
        Ok(e) => e,
        Err(e) => return s.error(&e),
    };
    let mut form = contract_form(&s.page, id);
    posted.refill(&mut form);
    let chosen = posted.all("items");
    let request = json!({
        "institution_id": id,
        "items": chosen,
        "starts_on": posted.value("starts_on").trim(),
        "ends_on": posted.value("ends_on").trim(),
    });
    let result = submit(
        &s,
        &state,
        &request,
        |conn, user, ctx, input: &NewContract| contracts::create(conn, user, ctx, input),
    )
    .await;
    match result {
        Ok(contract) => s.page.redirect_with_flash(
            &format!("/school/contracts/{}", contract.id),
            &json!({"kind": "contract_signed"}),
        ),
        Err(e) => {
            let mut items_error = None;
            let e = match e {
                ApiError::Problem(mut p) => {
                    if p.code == "term_too_long" && p.errors.is_empty() {
                        form.error("ends_on", s.page.msg(&p.detail));
                    }
                    p.errors.retain(|issue| {
                        let item = issue.field == "items" || issue.field.starts_with("items[");
                        if item && items_error.is_none() {
                            items_error = Some(s.page.msg(&issue.message));
                        }
                        !item
                    });
                    let placed = form.has_errors() || items_error.is_some();
                    if !placed {
                        form.refused(&s.page, &ApiError::Problem(p.clone()));
                    } else {
                        for issue in &p.errors {
                            form.error(&issue.field, s.page.msg(&issue.message));
                        }
                    }
                    ApiError::Problem(p)
                }
                other => {
                    form.refused(&s.page, &other);
                    other
                }
            };
            render_sign(&s, problem_status(&e), &entry, form, &chosen, items_error)
        }
    }
}

// ---- one contract: evaluation and termination ------------------------------------------------

/// The terms a contract spans, `(wire, label)`.
fn terms_of(page: &Page, c: &Contract) -> Vec<(String, String)> {
    (term::school_year_of(c.starts_on)..=term::school_year_of(c.ends_on))
        .flat_map(|year| [1u8, 2].map(|half| Term { year, half }))
        .filter(|t| t.overlaps(c.starts_on, c.ends_on))
        .map(|t| {
            let label = page
                .t(&format!("school.evaluate.half{}", t.half))
                .replace("{year}", &format!("{}–{}", t.year, t.year + 1));
            (t.to_string(), label)
        })
        .collect()
}

fn evaluation_form(page: &Page, c: &Contract) -> Form {
    let scores: Vec<(String, String)> =
        std::iter::once((String::new(), page.t("school.evaluate.choose")))
            .chain(
                (1..=5)
                    .rev()
                    .map(|n| (n.to_string(), page.t(&format!("school.evaluate.score{n}")))),
            )
            .collect();
    Form::new(
        format!("/school/contracts/{}/evaluations", c.id),
        page.t("school.evaluate.submit"),
    )
    .field(
        Field::new("term", page.t("school.evaluate.term"), "select")
            .required()
            .options(terms_of(page, c))
            .hint(page.t("school.evaluate.term_hint")),
    )
    .field(
        Field::new("quality", page.t("school.evaluate.quality"), "select")
            .required()
            .options(scores.clone()),
    )
    .field(
        Field::new("safety", page.t("school.evaluate.safety"), "select")
            .required()
            .options(scores.clone()),
    )
    .field(
        Field::new(
            "punctuality",
            page.t("school.evaluate.punctuality"),
            "select",
        )
        .required()
        .options(scores),
    )
    .field(Field::new(
        "comment",
        page.t("school.evaluate.comment"),
        "textarea",
    ))
}

fn termination_form(page: &Page, id: i64, max_mb: u64) -> Form {
    let mut form = Form::new(
        format!("/school/contracts/{id}/terminate"),
        page.t("school.terminate.submit"),
    )
    .multipart()
    .hidden("kind", "exit_evidence");
    for g in Ground::ALL {
        let code = wire(&g);
        form = form.field(Field::new(
            &format!("ground_{code}"),
            page.t(&format!("ground.{code}")),
            "checkbox",
        ));
    }
    form.field(
        Field::new(
            "statement",
            page.t("school.terminate.statement"),
            "textarea",
        )
        .required()
        .hint(page.t("school.terminate.statement_hint")),
    )
    .field(
        Field::new("file", page.t("school.terminate.file"), "file")
            .required()
            .accept("application/pdf,image/jpeg,image/png")
            .hint(
                page.t("inst.documents.file_hint")
                    .replace("{mb}", &max_mb.to_string()),
            ),
    )
}

/// Forms of the contract page, each `None` for the empty one.
#[derive(Default)]
struct Forms {
    evaluation: Option<Form>,
    termination: Option<Form>,
}

async fn contract_view(s: &School, state: &AppState, id: i64, forms: Forms) -> ApiResult<Value> {
    let user = s.user.clone();
    let contract = state
        .run(move |conn| contracts::get(conn, &user, id))
        .await?;
    let max_mb = state.settings.upload_max_bytes / (1024 * 1024);
    let evaluation = forms
        .evaluation
        .unwrap_or_else(|| evaluation_form(&s.page, &contract));
    let termination = forms
        .termination
        .unwrap_or_else(|| termination_form(&s.page, id, max_mb));
    let items: Vec<String> = contract
        .items
        .iter()
        .map(|i| item_name(&s.page, i))
        .collect();
    Ok(json!({
        "contract": contract,
        "items": items,
        "active": contract.status == "active",
        "evaluation_form": evaluation,
        "termination_form": termination,
    }))
}

/// `GET /school/contracts/{id}`: the contract, its evaluations, the evaluation form and the
/// termination form.
#[get("/school/contracts/{id:\\d+}")]
pub async fn contract_page(
    s: School,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
    let id = path.into_inner();
    show(
        &s,
        StatusCode::OK,
        "school_contract.html",
        contract_view(&s, &state, id, Forms::default()),
    )
    .await
}

/// `POST /school/contracts/{id}/evaluations`: the API's evaluation, once per term.
#[post("/school/contracts/{id:\\d+}/evaluations")]
pub async fn evaluate(
    s: SignedForm<SchoolRole>,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
    let SignedForm {
        signed: s,
        form: posted,
    } = s;
    let id = path.into_inner();
    let user = s.user.clone();
    let contract = match state.run(move |conn| contracts::get(conn, &user, id)).await {
        Ok(c) => c,
        Err(e) => return s.error(&e),
    };
    let mut form = evaluation_form(&s.page, &contract);
    posted.refill(&mut form);
    let request = json!({
        "term": posted.value("term"),
        "quality": posted.int("quality"),
        "safety": posted.int("safety"),
        "punctuality": posted.int("punctuality"),
        "comment": posted.value("comment").trim(),
    });
    let result = submit(
        &s,
        &state,
        &request,
        move |conn, user, ctx, input: &NewEvaluation| {
            contracts::evaluate(conn, user, ctx, id, input)
        },
    )
    .await;
    let status = match result {
        Ok(_) => {
            return s.page.redirect_with_flash(
                &format!("/school/contracts/{id}"),
                &json!({"kind": "evaluated"}),
            );
        }
        Err(e) => {
            // A refusal of the term as a whole (already evaluated) goes next to the term.
            match &e {
                ApiError::Problem(p) if p.errors.is_empty() => {
                    form.error("term", s.page.msg(&p.detail));
                    p.status
                }
                _ => form.refused(&s.page, &e),
            }
        }
    };
    let forms = Forms {
        evaluation: Some(form),
        termination: None,
    };
    show(
        &s,
        status,
        "school_contract.html",
        contract_view(&s, &state, id, forms),
    )
    .await
}

/// The termination's JSON body from the form's fields (evidence added once stored).
fn termination_request(fields: &Fields, evidence: &[i64]) -> Value {
    let grounds: Vec<String> = Ground::ALL
        .iter()
        .map(wire)
        .filter(|code| fields.value(&format!("ground_{code}")) == "true")
        .collect();
    json!({
        "grounds": grounds,
        "statement": fields.value("statement").trim(),
        "evidence_document_ids": evidence,
    })
}

/// `POST /school/contracts/{id}/terminate` (multipart): the evidence is stored as the API's
/// upload (`exit_evidence`), then the API's termination ends the contract and opens or joins
/// the institution's exit case. The grounds are checked before the file is stored (the CSRF
/// token by the form's guard).
#[post("/school/contracts/{id:\\d+}/terminate")]
pub async fn terminate(
    mut s: SignedForm<SchoolRole, Multipart>,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
    let id = path.into_inner();
    let max_mb = state.settings.upload_max_bytes / (1024 * 1024);
    let mut form = termination_form(&s.page, id, max_mb);
    s.form.fields.refill(&mut form);
    // The evidence's kind is the form's own, never the one posted.
    form.set("kind", "exit_evidence");
    let file = s.form.take_file("file");
    let fields = &s.form.fields;
    let result = async {
        // The body and its grounds are checked before the evidence is stored.
        let termination = parse::<Termination>(&termination_request(fields, &[]))?;
        crate::exits::check_grounds(&termination.grounds)?;
        let doc = crate::documents::routes::store_posted(
            &state,
            &s.user,
            s.ctx.clone(),
            fields.get("kind"),
            file?.map(|f| (f.filename, f.content)),
        )
        .await?;
        let request = termination_request(fields, &[doc.id]);
        submit(
            &s.signed,
            &state,
            &request,
            move |conn, user, ctx, input: &Termination| {
                crate::exits::terminate(conn, user, ctx, id, input)
            },
        )
        .await
    }
    .await;
    let status = match result {
        Ok(outcome) => {
            return s.page.redirect_with_flash(
                &format!("/school/contracts/{id}"),
                &json!({"kind": "terminated", "id": outcome.exit_case.id}),
            );
        }
        Err(ApiError::Problem(mut p)) => {
            for issue in &mut p.errors {
                if issue.field == "grounds" || issue.field.starts_with("grounds[") {
                    issue.field = format!("ground_{}", wire(&Ground::ALL[0]));
                } else if issue.field.starts_with("evidence_document_ids") {
                    issue.field = "file".into();
                }
            }
            if p.errors.is_empty()
                && matches!(
                    p.code.as_ref(),
                    "unsupported_file_type"
                        | "file_too_large"
                        | "payload_too_large"
                        | "pdf_encrypted"
                        | "pdf_unreadable"
                )
            {
                form.error("file", s.page.msg(&p.detail));
                p.status
            } else {
                form.refused(&s.page, &ApiError::Problem(p))
            }
        }
        Err(e) => form.refused(&s.page, &e),
    };
    let forms = Forms {
        evaluation: None,
        termination: Some(form),
    };
    show(
        &s.signed,
        status,
        "school_contract.html",
        contract_view(&s, &state, id, forms),
    )
    .await
}

/// Registers the school's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(pool)
        .service(new_contract)
        .service(sign)
        .service(contract_page)
        .service(evaluate)
        .service(terminate);
}
