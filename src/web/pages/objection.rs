//! The objection form of a notice: `/notices/{id}/object` (the form, or the closed-window
//! message), its posting (CSRF check, then the API's own intake) and the confirmation.

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::clock::beijing_date;
use crate::error::{ApiError, ApiResult};
use crate::notices::service as notices;
use crate::objections::{NewObjection, intake};
use crate::web::Page;
use crate::web::security::{self, CSRF_FIELD};

/// What the objection form shows: the notice, the institution, the values typed, the errors.
#[derive(Serialize, Default)]
struct ObjectionView {
    notice_id: i64,
    notice_title: String,
    ends_on: Option<chrono::NaiveDate>,
    accepting: bool,
    application_id: i64,
    institution_name: String,
    name: String,
    mobile: String,
    grounds: String,
    /// Field → message, for every field of the form (`None`: no error).
    errors: std::collections::BTreeMap<String, Option<String>>,
    /// The error summary at the top: `(field, message)`.
    summary: Vec<(String, String)>,
    /// The file is not kept between attempts: ask for it again.
    evidence_again: bool,
    /// A refusal of the whole form (rate limit, expired form).
    form_error: Option<String>,
    max_mb: u64,
}

#[derive(Debug, Deserialize)]
pub struct ObjectionQuery {
    application: Option<i64>,
}

async fn objection_view(
    state: &AppState,
    now: chrono::DateTime<chrono::Utc>,
    notice_id: i64,
    application_id: Option<i64>,
) -> ApiResult<ObjectionView> {
    let notice = state
        .run(move |conn| notices::get(conn, notice_id, now))
        .await?;
    let target = notice
        .applications
        .iter()
        .find(|a| Some(a.application_id) == application_id)
        .or(match notice.applications.as_slice() {
            [only] => Some(only),
            _ => None,
        })
        .ok_or_else(|| ApiError::not_found("申报", "application"))?;
    Ok(ObjectionView {
        notice_id,
        notice_title: notice.title.clone(),
        ends_on: Some(notice.window.ends_on),
        accepting: notice.accepting_objections,
        application_id: target.application_id,
        institution_name: target.institution_name.clone(),
        max_mb: state.settings.upload_max_bytes / (1024 * 1024),
        errors: FORM_FIELDS
            .iter()
            .map(|f| ((*f).to_owned(), None))
            .collect(),
        ..Default::default()
    })
}

/// `/notices/{id}/object?application=…`: the objection form for one institution (or the
/// closed-window message).
#[get("/notices/{id:\\d+}/object")]
pub async fn objection_form(
    page: Page,
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<ObjectionQuery>,
) -> HttpResponse {
    match objection_view(&state, ctx.now, id.into_inner(), query.application).await {
        Ok(view) => page.render(StatusCode::OK, "objection.html", view),
        Err(e) => page.error(&e),
    }
}

/// The fields of the form, so a refusal can be shown next to the one it concerns.
const FORM_FIELDS: &[&str] = &["name", "mobile", "grounds", "evidence"];

/// Codes of refusals that concern the evidence file.
const EVIDENCE_CODES: &[&str] = &[
    "file_too_large",
    "unsupported_file_type",
    "pdf_encrypted",
    "pdf_unreadable",
];

/// Posting the objection form: CSRF check, then the API's own intake (validation, window,
/// rate limit, evidence); success redirects to the confirmation, a refusal shows the form again
/// with the message next to its field.
#[post("/notices/{id:\\d+}/object")]
pub async fn file_objection(
    page: Page,
    ctx: Ctx,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> HttpResponse {
    let notice_id = id.into_inner();
    let multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        return page.error(&ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            crate::error::Msg::new(page.t("form.not_multipart"), page.t("form.not_multipart")),
        ));
    }
    let received = match intake::read_multipart(&state, &req, payload).await {
        Ok(r) => r,
        Err(e) => return refused(&page, &state, ctx.now, notice_id, None, e).await,
    };
    let token = received.extra.get(CSRF_FIELD).map(String::as_str);
    if !security::csrf_ok(page.key(), &req, token) {
        let mut view = match objection_view(
            &state,
            ctx.now,
            notice_id,
            Some(received.objection.application_id),
        )
        .await
        {
            Ok(v) => v,
            Err(e) => return page.error(&e),
        };
        fill(&mut view, &received.objection);
        view.form_error = Some(page.t("form.csrf_failed"));
        return page.render(StatusCode::FORBIDDEN, "objection.html", view);
    }
    // A file input left empty arrives as an empty part: no evidence.
    let evidence = match received.evidence {
        Some((_, incoming)) if incoming.size == 0 => None,
        other => other,
    };
    let ip = crate::http::client_ip(&req, &state.settings.trusted_proxies);
    let body = received.objection;
    match intake::receive(&state, ctx.clone(), notice_id, body.clone(), evidence, ip).await {
        Ok(receipt) => {
            let institution = objection_view(&state, ctx.now, notice_id, Some(body.application_id))
                .await
                .map(|v| v.institution_name)
                .unwrap_or_default();
            let message = serde_json::json!({
                "kind": "objection_received",
                "receipt": receipt,
                "institution_name": institution,
                "filed_on": beijing_date(ctx.now),
            });
            page.redirect_with_flash(&format!("/notices/{notice_id}/object/received"), &message)
        }
        Err(e) => refused(&page, &state, ctx.now, notice_id, Some(&body), e).await,
    }
}

fn fill(view: &mut ObjectionView, body: &NewObjection) {
    view.name = body.name.clone();
    view.mobile = body.mobile.clone();
    view.grounds = body.grounds.clone();
}

/// The form again, with the refusal where it belongs.
async fn refused(
    page: &Page,
    state: &AppState,
    now: chrono::DateTime<chrono::Utc>,
    notice_id: i64,
    body: Option<&NewObjection>,
    err: ApiError,
) -> HttpResponse {
    let ApiError::Problem(problem) = &err else {
        return page.error(&err);
    };
    if problem.status == StatusCode::NOT_FOUND {
        return page.not_found();
    }
    let mut view = match objection_view(state, now, notice_id, body.map(|b| b.application_id)).await
    {
        Ok(v) => v,
        Err(e) => return page.error(&e),
    };
    if let Some(body) = body {
        fill(&mut view, body);
    }
    if problem.code == "notice_closed" {
        view.accepting = false;
    }
    let mut flagged: Vec<(String, String)> = Vec::new();
    for issue in &problem.errors {
        let field = issue.field.as_str();
        if FORM_FIELDS.contains(&field) {
            flagged.push((field.to_owned(), page.msg(&issue.message)));
        } else {
            view.form_error = Some(page.msg(&issue.message));
        }
    }
    if EVIDENCE_CODES.contains(&problem.code.as_ref()) {
        flagged.push(("evidence".to_owned(), page.msg(&problem.detail)));
    } else if problem.errors.is_empty() && problem.code != "notice_closed" {
        view.form_error = Some(page.msg(&problem.detail));
    }
    for (field, message) in flagged {
        if let Some(slot @ None) = view.errors.get_mut(&field) {
            *slot = Some(message.clone());
            view.summary.push((field, message));
        }
    }
    view.evidence_again = !view.summary.is_empty() || view.form_error.is_some();
    page.render(problem.status, "objection.html", view)
}

/// `/notices/{id}/object/received`: the confirmation after a filed objection (from the flash
/// message; without one, back to the notice).
#[get("/notices/{id:\\d+}/object/received")]
pub async fn objection_received(page: Page, id: web::Path<i64>) -> HttpResponse {
    let id = id.into_inner();
    match page.flash().cloned() {
        Some(message)
            if message["kind"] == "objection_received" && message["receipt"]["notice_id"] == id =>
        {
            page.render(StatusCode::OK, "received.html", message)
        }
        _ => page.redirect(&format!("/notices/{id}")),
    }
}
