//! Applications: the form, submission with every blocking finding next to the field it
//! concerns and the rule it enforces, the history.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::Serialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::applications::service::{self as applications, ApplicationContent, NewApplication};
use crate::clock::beijing_date;
use crate::documents::store as documents;
use crate::error::{ApiError, ApiResult, Lang};
use crate::institutions::roster;
use crate::web::Page;
use crate::web::workspace::posted::{parse, problem_status, submit, wire};
use crate::web::workspace::signed_form::{Fields, SignedForm};

use super::{Inst, InstForm, own};

// ---- applications --------------------------------------------------------------------------

/// `GET /institution/applications`: the institution's applications and the way to start one.
#[get("/institution/applications")]
pub async fn applications_page(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    let (user, now) = (s.user.clone(), s.ctx.now);
    let found = state
        .run(move |conn| {
            let (apps, _) = applications::list(conn, &user, &Default::default(), 0, 100)?;
            let rounds = crate::rounds::list(conn, now)?;
            Ok((apps, rounds))
        })
        .await;
    match found {
        Ok((apps, rounds)) => {
            let open: Vec<_> = rounds.into_iter().filter(|r| r.open_now).collect();
            s.render(
                StatusCode::OK,
                "inst_applications.html",
                json!({ "applications": apps, "rounds": open }),
            )
        }
        Err(e) => s.error(&e),
    }
}

/// What the application form needs: the roster, the uploads, the catalogue, open rounds.
async fn application_choices(s: &Inst, state: &AppState) -> ApiResult<Value> {
    let id = own(&s.user)?;
    let (today, now) = (beijing_date(s.ctx.now), s.ctx.now);
    let (teachers, docs, rounds) = state
        .run(move |conn| {
            Ok((
                roster::active_teachers(conn, id, today)?,
                documents::all_of_institution(conn, id)?,
                crate::rounds::list(conn, now)?,
            ))
        })
        .await?;
    let categories: Vec<Value> = crate::catalogue::Catalogue::get()
        .categories
        .iter()
        .map(|c| {
            let (cn, items): (&str, Vec<Value>) = match s.page.lang {
                Lang::Zh => (
                    &c.name_zh,
                    c.items.iter().map(|i| json!([i.code, i.name_zh])).collect(),
                ),
                Lang::En => (
                    &c.name_en,
                    c.items.iter().map(|i| json!([i.code, i.name_en])).collect(),
                ),
            };
            json!({"name": cn, "items": items})
        })
        .collect();
    Ok(json!({
        "teachers": teachers.iter().map(|t| json!({"id": t.id, "name": t.name})).collect::<Vec<_>>(),
        "documents": docs.iter().map(|d| json!({"id": d.id, "kind": wire(&d.kind), "filename": d.filename, "text_status": d.text_status.map(|t| wire(&t))})).collect::<Vec<_>>(),
        "rounds": rounds.into_iter().filter(|r| r.open_now).map(|r| json!({"id": r.id, "name": r.name})).collect::<Vec<_>>(),
        "categories": categories,
    }))
}

/// The values of the application form (typed, or as stored).
#[derive(Debug, Default, Serialize)]
struct AppValues {
    round_id: String,
    proposed_items: Vec<String>,
    service_plan: String,
    teacher_ids: Vec<String>,
    document_ids: Vec<String>,
    pledge_signed: bool,
}

impl AppValues {
    fn from_posted(p: &Fields) -> Self {
        Self {
            round_id: p.text("round_id"),
            proposed_items: p.all("proposed_items"),
            service_plan: p.text("service_plan"),
            teacher_ids: p.all("teacher_ids"),
            document_ids: p.all("document_ids"),
            pledge_signed: p.value("pledge_signed") == "true",
        }
    }

    fn from_application(a: &applications::Application) -> Self {
        Self {
            round_id: a.round_id.to_string(),
            proposed_items: a.proposed_items.iter().map(|i| i.code.clone()).collect(),
            service_plan: a.service_plan.clone(),
            teacher_ids: a.teacher_ids.iter().map(i64::to_string).collect(),
            document_ids: a.document_ids.iter().map(i64::to_string).collect(),
            pledge_signed: a.pledge_signed,
        }
    }

    fn content(&self) -> Value {
        let ids = |v: &[String]| -> Vec<Value> {
            v.iter()
                .map(|s| {
                    s.parse::<i64>()
                        .map_or_else(|_| Value::String(s.clone()), Value::from)
                })
                .collect()
        };
        json!({
            "proposed_items": self.proposed_items,
            "service_plan": self.service_plan,
            "teacher_ids": ids(&self.teacher_ids),
            "document_ids": ids(&self.document_ids),
            "pledge_signed": self.pledge_signed,
        })
    }
}

/// A finding (or field error) as shown next to its field: the message and the rule it enforces.
#[derive(Debug, Serialize)]
struct Shown {
    message: String,
    rule: Option<String>,
    code: String,
}

/// The sections of the application page a finding can stand next to.
const SECTIONS: [&str; 8] = [
    "round_id",
    "proposed_items",
    "service_plan",
    "teacher_ids",
    "document_ids",
    "pledge_signed",
    "inspections",
    "profile",
];

/// The application form's sections a finding's `field` lands in.
fn section_of(field: &str) -> &'static str {
    let base = field.split(['.', '[']).next().unwrap_or(field);
    match base {
        "round_id" => "round_id",
        "proposed_items" => "proposed_items",
        "service_plan" => "service_plan",
        "teacher_ids" | "teachers" => "teacher_ids",
        "document_ids" | "documents" => "document_ids",
        "pledge_signed" => "pledge_signed",
        "inspections" => "inspections",
        _ => "profile",
    }
}

/// Every refusal of a save or a submission, grouped by the form section it concerns; blocking
/// findings carry their rule (`extra.blocking[].rule`).
fn findings_by_field(
    page: &Page,
    err: &ApiError,
) -> (
    std::collections::BTreeMap<&'static str, Vec<Shown>>,
    Vec<String>,
) {
    let mut by_field: std::collections::BTreeMap<&'static str, Vec<Shown>> = Default::default();
    let mut general = Vec::new();
    match err {
        ApiError::Problem(p) => {
            let blocking = p
                .extra
                .as_ref()
                .and_then(|e| e.get("blocking"))
                .and_then(|b| b.as_array())
                .cloned()
                .unwrap_or_default();
            for (i, issue) in p.errors.iter().enumerate() {
                let rule = blocking
                    .get(i)
                    .filter(|b| b["field"] == issue.field.as_str())
                    .and_then(|b| b["rule"].as_str())
                    .map(str::to_owned);
                by_field
                    .entry(section_of(&issue.field))
                    .or_default()
                    .push(Shown {
                        message: page.msg(&issue.message),
                        rule,
                        code: issue.code.to_string(),
                    });
            }
            general.push(page.msg(&p.detail));
        }
        ApiError::Internal(e) => {
            tracing::error!(error = ?e, "application page failed");
            general.push(page.t("error.internal_text"));
        }
    }
    (by_field, general)
}

async fn render_application(
    s: &Inst,
    state: &AppState,
    status: StatusCode,
    application: Option<&applications::Application>,
    values: &AppValues,
    refusal: Option<&ApiError>,
    history: Vec<crate::audit::AuditEvent>,
) -> HttpResponse {
    let choices = match application_choices(s, state).await {
        Ok(c) => c,
        Err(e) => return s.error(&e),
    };
    let (mut findings, general) =
        refusal.map_or_else(Default::default, |e| findings_by_field(&s.page, e));
    // Every section is present (empty when nothing concerns it): the template asks each.
    for section in SECTIONS {
        findings.entry(section).or_default();
    }
    let editable = application.is_none_or(|a| {
        matches!(
            a.status,
            crate::applications::status::Status::Draft
                | crate::applications::status::Status::Returned
        )
    });
    s.render(
        status,
        "inst_application.html",
        json!({
            "application": application,
            "status": application.map(|a| wire(&a.status)),
            "editable": editable,
            "values": values,
            "choices": choices,
            "findings": findings,
            "general": general,
            "history": history.iter().map(|h| json!({
                "at": h.occurred_at, "action": h.action, "label": s.page.t(&format!("inst.history.{}", h.action.replace('.', "_"))), "role": h.actor_role,
            })).collect::<Vec<_>>(),
        }),
    )
}

/// `GET /institution/applications/new`: the form for a new application.
#[get("/institution/applications/new")]
pub async fn new_application(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    render_application(
        &s,
        &state,
        StatusCode::OK,
        None,
        &AppValues::default(),
        None,
        Vec::new(),
    )
    .await
}

/// `POST /institution/applications`: creates the draft (the API's rules), then shows it.
#[post("/institution/applications")]
pub async fn create_application(s: InstForm, state: web::Data<AppState>) -> HttpResponse {
    let SignedForm {
        signed: s,
        form: posted,
    } = s;
    let values = AppValues::from_posted(&posted);
    let mut body = values.content();
    body["round_id"] = values
        .round_id
        .parse::<i64>()
        .map_or_else(|_| Value::String(values.round_id.clone()), Value::from);
    let result = submit(
        &s,
        &state,
        &body,
        |conn, user, ctx, new: &NewApplication| applications::create(conn, user, ctx, new),
    )
    .await;
    match result {
        Ok(app) => s.page.redirect_with_flash(
            &format!("/institution/applications/{}", app.id),
            &json!({"kind": "draft_saved"}),
        ),
        Err(e) => {
            let status = problem_status(&e);
            render_application(&s, &state, status, None, &values, Some(&e), Vec::new()).await
        }
    }
}

async fn load_application(
    s: &Inst,
    state: &AppState,
    id: i64,
) -> ApiResult<(applications::Application, Vec<crate::audit::AuditEvent>)> {
    let user = s.user.clone();
    state
        .run(move |conn| {
            Ok((
                applications::get(conn, &user, id)?,
                applications::history(conn, &user, id)?,
            ))
        })
        .await
}

/// `GET /institution/applications/{id}`: the application, its form while it may change, its
/// history.
#[get("/institution/applications/{id:\\d+}")]
pub async fn application_page(
    s: Inst,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
    match load_application(&s, &state, path.into_inner()).await {
        Ok((app, history)) => {
            let values = AppValues::from_application(&app);
            render_application(
                &s,
                &state,
                StatusCode::OK,
                Some(&app),
                &values,
                None,
                history,
            )
            .await
        }
        Err(e) => s.error(&e),
    }
}

/// `POST /institution/applications/{id}`: saves the form (`action=save`) or saves and submits
/// it (`action=submit`): the API's update, then its submission with every check; a blocked
/// submission shows each finding next to the field it concerns, with the rule.
#[post("/institution/applications/{id:\\d+}")]
pub async fn save_application(
    s: InstForm,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
    let SignedForm {
        signed: s,
        form: posted,
    } = s;
    let id = path.into_inner();
    let values = AppValues::from_posted(&posted);
    let submit = posted.value("action") == "submit";
    let (user, ctx, region) = (
        s.user.clone(),
        s.ctx.clone(),
        state.settings.region_prefix.clone(),
    );
    let result = match parse::<ApplicationContent>(&values.content()) {
        Ok(content) => {
            // The save commits on its own: a blocked submission keeps what was typed.
            let (u, c) = (user.clone(), ctx.clone());
            match state
                .write(move |conn| applications::update(conn, &u, &c, id, &content))
                .await
            {
                Ok(_) if submit => {
                    state
                        .write(move |conn| applications::submit(conn, &user, &ctx, id, &region))
                        .await
                }
                other => other,
            }
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => s.page.redirect_with_flash(
            &format!("/institution/applications/{id}"),
            &json!({"kind": if submit { "submitted" } else { "draft_saved" }}),
        ),
        Err(e) => {
            let (app, history) = match load_application(&s, &state, id).await {
                Ok(found) => found,
                Err(e) => return s.error(&e),
            };
            render_application(
                &s,
                &state,
                problem_status(&e),
                Some(&app),
                &values,
                Some(&e),
                history,
            )
            .await
        }
    }
}
