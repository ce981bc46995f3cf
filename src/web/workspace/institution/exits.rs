//! Exit cases of the institution and its statement of defence (陈述申辩): the grounds, the
//! deadline, the form while the window is open (the exits service the API's
//! `POST /exit-cases/{id}/statement` calls decides, with the shared clock), and a clear
//! message once it has closed.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::documents::store as documents;
use crate::error::ApiResult;
use crate::exits::{self, CaseStatus, ExitCase, Statement};
use crate::web::Page;
use crate::web::forms::{Field, Form};
use crate::web::workspace::posted::{problem_status, rename_issues, submit, wire};
use crate::web::workspace::signed_form::SignedForm;

use super::{Inst, InstForm, own, show};

/// `GET /institution/exit-cases`: the institution's exit cases, newest first.
#[get("/institution/exit-cases")]
pub async fn cases_page(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    let user = s.user.clone();
    let view = async {
        let (cases, _) = state
            .run(move |conn| exits::list(conn, &user, &Default::default(), 0, 100))
            .await?;
        Ok(json!({ "cases": cases }))
    };
    show(&s, StatusCode::OK, "inst_exit_cases.html", view).await
}

fn statement_form(page: &Page, id: i64, docs: &[documents::Document]) -> Form {
    let mut choices = vec![(String::new(), page.t("inst.exit.no_document"))];
    choices.extend(
        docs.iter()
            .map(|d| (d.id.to_string(), format!("#{} {}", d.id, d.filename))),
    );
    Form::new(
        format!("/institution/exit-cases/{id}/statement"),
        page.t("inst.exit.submit"),
    )
    .field(
        Field::new("statement", page.t("inst.exit.statement"), "textarea")
            .required()
            .hint(page.t("inst.exit.statement_hint")),
    )
    .field(
        Field::new("document_id", page.t("inst.exit.document"), "select")
            .options(choices)
            .hint(page.t("inst.exit.document_hint")),
    )
}

/// Whether the statement form is offered: an open case without a statement, before
/// 23:59:59 Beijing time on its last day.
fn window_open(case: &ExitCase, now: chrono::DateTime<chrono::Utc>) -> bool {
    case.status == CaseStatus::Open
        && case.statement_filed_at.is_none()
        && now <= case.statement_closes_at.0
}

async fn case_view(s: &Inst, state: &AppState, id: i64, form: Option<Form>) -> ApiResult<Value> {
    let (user, inst) = (s.user.clone(), own(&s.user)?);
    let (case, docs) = state
        .run(move |conn| {
            Ok((
                exits::get(conn, &user, id)?,
                documents::all_of_institution(conn, inst)?,
            ))
        })
        .await?;
    let open = window_open(&case, s.ctx.now);
    let form = form.unwrap_or_else(|| statement_form(&s.page, id, &docs));
    Ok(json!({
        "case": case,
        "status": wire(&case.status),
        "window_open": open,
        "window_closed": case.status == CaseStatus::Open && case.statement_filed_at.is_none() && !open,
        "closes_at": crate::clock::beijing_date(case.statement_closes_at.0),
        "form": form,
    }))
}

/// `GET /institution/exit-cases/{id}`: the case's grounds and evidence, the deadline, and
/// the statement form while the window is open.
#[get("/institution/exit-cases/{id:\\d+}")]
pub async fn case_page(s: Inst, state: web::Data<AppState>, path: web::Path<i64>) -> HttpResponse {
    let id = path.into_inner();
    show(
        &s,
        StatusCode::OK,
        "inst_exit_case.html",
        case_view(&s, &state, id, None),
    )
    .await
}

/// `POST /institution/exit-cases/{id}/statement`: the API's statement of defence, once,
/// within its window; every refusal next to its field or at the top of the form.
#[post("/institution/exit-cases/{id:\\d+}/statement")]
pub async fn file_statement(
    s: InstForm,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
    let SignedForm {
        signed: s,
        form: posted,
    } = s;
    let id = path.into_inner();
    let inst = match own(&s.user) {
        Ok(i) => i,
        Err(e) => return s.error(&e),
    };
    let docs = match state
        .run(move |conn| documents::all_of_institution(conn, inst))
        .await
    {
        Ok(d) => d,
        Err(e) => return s.error(&e),
    };
    let mut form = statement_form(&s.page, id, &docs);
    posted.refill(&mut form);
    let document_ids: Vec<Value> = Some(posted.int("document_id"))
        .filter(|v| v.as_str() != Some(""))
        .into_iter()
        .collect();
    let request = json!({
        "statement": posted.value("statement").trim(),
        "document_ids": document_ids,
    });
    let result = submit(
        &s,
        &state,
        &request,
        move |conn, user, ctx, input: &Statement| exits::file_statement(conn, user, ctx, id, input),
    )
    .await;
    let status = match result {
        Ok(_) => {
            return s.page.redirect_with_flash(
                &format!("/institution/exit-cases/{id}"),
                &json!({"kind": "statement_filed"}),
            );
        }
        Err(e) => {
            let e = rename_issues(e, &[("document_ids", "document_id")]);
            form.refused(&s.page, &e);
            problem_status(&e)
        }
    };
    show(
        &s,
        status,
        "inst_exit_case.html",
        case_view(&s, &state, id, Some(form)),
    )
    .await
}
