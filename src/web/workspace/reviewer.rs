//! The reviewer's workspace (issue 16): the work queue, the dossier with the merged PDF inline
//! beside the cross-check findings, decisions (approve with items / reject / return with a
//! deadline), objections, notices from approved applications, exit cases (opened from a pool
//! member's dossier with grounds, facts and evidence; read; decided), the blacklist import
//! (pasted or a CSV file) with its line-by-line report, and the audited reveal of an identity
//! number. Every form post goes through [`SignedForm`]. Every page calls the service the JSON
//! handler calls (`review`,
//! `review::queue`, `objections`, `notices`, `applications`, `institutions`, `documents`)
//! through [`SignedIn`]; no SQL here. Reading is for bureau staff (reviewers and admins),
//! deciding for reviewers, as in the API.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::app::AppState;
use crate::applications::service::{self as applications, ListFilter};
use crate::applications::status::Status;
use crate::auth::{AuthUser, ReviewerRole, Roles, Staff};
use crate::clock::beijing_date;
use crate::documents::store::DocumentKind;
use crate::documents::{blobs, store as docs};
use crate::error::{ApiError, ApiResult};
use crate::exits::{self, DecisionKind as CaseDecision, DecisionRequest as CaseRequest, NewCase};
use crate::http::json::validation_issues;
use crate::institutions::{RevealRequest, reveal};
use crate::notices::service::{self as notices, NewNotice};
use crate::objections::{self, Outcome, Resolution};
use crate::review::queue::{self, QueueFilter, QueueKind};
use crate::review::{self, DecisionKind, DecisionRequest, Dossier};
use crate::sanctions::Ground;
use crate::web::Page;
use crate::web::forms::{Field, Form};
use crate::web::session::SignedIn;
use crate::web::workspace::signed_form::{Fields, Multipart, SignedForm};

/// Where a reviewer lands after signing in.
pub const HOME: &str = "/review";

/// The dossier's policy: the page CSP, plus the merged PDF embedded from this site.
const DOSSIER_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     object-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// Queue rows per page.
const PER_PAGE: i64 = 25;

type Read = SignedIn<Staff>;
type Decide = SignedIn<ReviewerRole>;

/// The reviewer's pages in the header.
pub fn links(page: &Page) -> Vec<(String, String)> {
    [
        ("/review", "queue"),
        ("/review/notices/new", "publish"),
        ("/review/blacklist", "blacklist"),
    ]
    .iter()
    .map(|(href, key)| ((*href).to_owned(), page.t(&format!("rev.nav.{key}"))))
    .collect()
}

/// Registers the reviewer's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(queue_page)
        .service(dossier_page)
        .service(document)
        .service(decide)
        .service(resolve_objection)
        .service(reveal_number)
        .service(new_notice)
        .service(publish_notice)
        .service(exit_case_page)
        .service(decide_exit_case)
        .service(new_exit_case)
        .service(open_exit_case)
        .service(blacklist_form)
        .service(import_blacklist);
}

// ---- forms ---------------------------------------------------------------------------------

type Posted = SignedForm<ReviewerRole>;

/// A refused form as a page shows it: each field's message next to the field, the rest on top.
#[derive(Debug, Default, Serialize)]
struct Refusal {
    /// Which form on the page (`approve`, `reject`, `return`, `objection-<id>`, …).
    form: String,
    fields: BTreeMap<String, String>,
    top: Vec<String>,
    /// The values typed, shown again.
    values: BTreeMap<String, String>,
}

impl Refusal {
    fn new(form: &str, posted: &Fields) -> Self {
        Self {
            form: form.to_owned(),
            values: posted.typed().cloned().collect(),
            ..Self::default()
        }
    }

    /// Places a service refusal; returns the status to answer with.
    fn of(mut self, page: &Page, err: &ApiError) -> (Self, StatusCode) {
        let status = match err {
            ApiError::Problem(p) => {
                if p.errors.is_empty() {
                    self.top.push(page.msg(&p.detail));
                }
                for issue in &p.errors {
                    // `approved_items[1]` is shown at `approved_items`.
                    let field = issue.field.split('[').next().unwrap_or_default().to_owned();
                    self.fields
                        .entry(field)
                        .and_modify(|m| {
                            m.push(' ');
                            m.push_str(issue.message.get(page.lang));
                        })
                        .or_insert_with(|| page.msg(&issue.message));
                }
                p.status
            }
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "reviewer form failed");
                self.top.push(page.t("error.internal_text"));
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (self, status)
    }
}

fn validated<T: Validate>(req: T) -> ApiResult<T> {
    req.validate()
        .map_err(|e| ApiError::validation(validation_issues(&e)))?;
    Ok(req)
}

// ---- the queue -----------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    kind: Option<String>,
    round_id: Option<String>,
    district: Option<String>,
    overdue: Option<String>,
    page: Option<i64>,
}

/// `/review`: the work queue in deadline order, with its filters (a GET form).
#[get("/review")]
pub async fn queue_page(
    s: Read,
    state: web::Data<AppState>,
    query: web::Query<QueueQuery>,
) -> HttpResponse {
    let q = query.into_inner();
    fn non_empty(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
    let filter = QueueFilter {
        kind: non_empty(&q.kind).and_then(|k| QueueKind::ALL.into_iter().find(|x| x.as_str() == k)),
        round_id: non_empty(&q.round_id).and_then(|r| r.parse().ok()),
        district: non_empty(&q.district).map(str::to_owned),
        overdue: match non_empty(&q.overdue) {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        },
    };
    let page_no = q.page.unwrap_or(1).max(1);
    let (u, ctx, f) = (s.user.clone(), s.ctx.clone(), filter.clone());
    let now = ctx.now;
    let result = state
        .run(move |conn| {
            let queue = queue::work_queue(conn, &u, &ctx, &f, (page_no - 1) * PER_PAGE, PER_PAGE)?;
            let rounds = crate::rounds::list(conn, now)?;
            Ok((queue, rounds))
        })
        .await;
    let (work, rounds) = match result {
        Ok(r) => r,
        Err(e) => return s.error(&e),
    };
    let pages = ((work.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let link = |p: i64| {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("kind", filter.kind.map(|k| k.as_str().to_owned())),
            ("round_id", filter.round_id.map(|r| r.to_string())),
            ("district", filter.district.clone()),
            ("overdue", filter.overdue.map(|o| o.to_string())),
        ] {
            if let Some(v) = v {
                ser.append_pair(k, &v);
            }
        }
        ser.append_pair("page", &p.to_string());
        format!("/review?{}", ser.finish())
    };
    s.render(
        StatusCode::OK,
        "reviewer_queue.html",
        serde_json::json!({
            "queue": work,
            "kinds": QueueKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            "rounds": rounds.iter().map(|r| (r.id, r.name.clone())).collect::<Vec<_>>(),
            "filter": {
                "kind": filter.kind.map(QueueKind::as_str),
                "round_id": filter.round_id,
                "district": filter.district,
                "overdue": filter.overdue,
            },
            "pager": {
                "page": page_no, "pages": pages,
                "prev": (page_no > 1).then(|| link(page_no - 1)),
                "next": (page_no < pages).then(|| link(page_no + 1)),
            },
        }),
    )
}

// ---- the dossier ---------------------------------------------------------------------------

/// Renders the dossier of application `id`, with a refused form if there is one.
async fn dossier_response<R: Roles>(
    s: &SignedIn<R>,
    state: &web::Data<AppState>,
    id: i64,
    status: StatusCode,
    refusal: Option<Refusal>,
    revealed: Option<serde_json::Value>,
) -> HttpResponse {
    let (u, ctx) = (s.user.clone(), s.ctx.clone());
    let result: ApiResult<Dossier> = state
        .run(move |conn| review::dossier(conn, &u, &ctx, id))
        .await;
    let d = match result {
        Ok(d) => d,
        Err(e) => return s.error(&e),
    };
    let today = beijing_date(s.ctx.now);
    let mut response = s.render(
        status,
        "reviewer_dossier.html",
        serde_json::json!({
            "d": d,
            "today": today,
            "can_decide": d.application.status == Status::Submitted
                && s.user.role() == crate::auth::Role::Reviewer,
            "is_reviewer": s.user.role() == crate::auth::Role::Reviewer,
            "proposed": d.application.proposed_items,
            "refusal": refusal,
            "revealed": revealed,
            "default_days": review::DEFAULT_RETURN_DAYS,
        }),
    );
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOSSIER_CSP),
    );
    response
}

/// `/review/applications/{id}`: the dossier — findings and re-registration flags beside the
/// merged PDF, profile, roster, inspections, standing, decisions, objections — and the forms.
#[get("/review/applications/{id:\\d+}")]
pub async fn dossier_page(s: Read, state: web::Data<AppState>, id: web::Path<i64>) -> HttpResponse {
    dossier_response(&s, &state, id.into_inner(), StatusCode::OK, None, None).await
}

/// `/review/documents/{id}`: a document for staff, inline, framable by this site's pages only
/// (the dossier embeds the merged PDF).
#[get("/review/documents/{id:\\d+}")]
pub async fn document(s: Read, state: web::Data<AppState>, id: web::Path<i64>) -> HttpResponse {
    let (u, id) = (s.user.clone(), id.into_inner());
    let result = state
        .run(move |conn| {
            let doc = docs::readable(conn, &u, id)?;
            let blob = blobs::complete(conn, doc.id, &doc.sha256)?;
            let mut bytes = Vec::with_capacity(usize::try_from(blob.size_bytes).unwrap_or(0));
            for seq in 0..blob.chunk_count {
                bytes.extend(blobs::chunk(conn, doc.id, &doc.sha256, seq)?);
            }
            Ok((doc, bytes))
        })
        .await;
    match result {
        Ok((doc, bytes)) => {
            let encoded: String =
                url::form_urlencoded::byte_serialize(doc.filename.as_bytes()).collect();
            HttpResponse::Ok()
                .content_type(doc.content_type.as_str())
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!(
                        "inline; filename=\"document-{}\"; filename*=UTF-8''{encoded}",
                        doc.id
                    ),
                ))
                .insert_header((header::CACHE_CONTROL, "private, no-store"))
                .insert_header((
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; frame-ancestors 'self'",
                ))
                .insert_header((header::X_FRAME_OPTIONS, "SAMEORIGIN"))
                .body(bytes)
        }
        Err(e) => s.error(&e),
    }
}

/// The decision a form posts.
fn decision_request(p: &Fields) -> DecisionRequest {
    let kind = match p.get("decision") {
        Some("approve") => DecisionKind::Approve,
        Some("reject") => DecisionKind::Reject,
        _ => DecisionKind::Return,
    };
    let non_empty = |v: String| (!v.trim().is_empty()).then_some(v);
    DecisionRequest {
        decision: kind,
        approved_items: (kind == DecisionKind::Approve).then(|| p.all("approved_items")),
        note: (kind == DecisionKind::Approve)
            .then(|| non_empty(p.text("note")))
            .flatten(),
        reasons: (kind != DecisionKind::Approve)
            .then(|| non_empty(p.text("reasons")))
            .flatten(),
        deadline_working_days: (kind == DecisionKind::Return)
            .then(|| p.text("deadline_working_days").trim().parse().ok())
            .flatten(),
    }
}

/// Posts a decision: approve (the items ticked), reject, or return with a deadline in working
/// days. Refusals come back next to their fields in the dossier.
#[post("/review/applications/{id:\\d+}/decision")]
pub async fn decide(s: Posted, state: web::Data<AppState>, id: web::Path<i64>) -> HttpResponse {
    let id = id.into_inner();
    let decision = decision_request(&s.form);
    let form = decision.decision.as_str();
    let (u, ctx) = (s.user.clone(), s.ctx.clone());
    let result = state
        .write(move |conn| {
            let decision = validated(decision)?;
            review::decide(conn, &u, &ctx, id, &decision)
        })
        .await;
    match result {
        Ok(app) => {
            let message = serde_json::json!({
                "kind": "decided", "decision": form, "status": app.status.as_str(),
                "deadline": app.return_deadline,
            });
            s.page
                .redirect_with_flash(&queue::application_page(id), &message)
        }
        Err(e) => {
            let (refusal, status) = Refusal::new(form, &s.form).of(&s.page, &e);
            dossier_response(&s.signed, &state, id, status, Some(refusal), None).await
        }
    }
}

/// Resolves an objection (upheld / dismissed, with reasons) from the dossier.
#[post("/review/objections/{id:\\d+}/resolution")]
pub async fn resolve_objection(
    s: Posted,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let id = id.into_inner();
    let posted = &s.form;
    let application_id: i64 = posted.text("application_id").parse().unwrap_or_default();
    let form = format!("objection-{id}");
    let outcome = match posted.get("outcome") {
        Some("upheld") => Some(Outcome::Upheld),
        Some("dismissed") => Some(Outcome::Dismissed),
        _ => None,
    };
    let (refusal, status) = if let Some(outcome) = outcome {
        let resolution = Resolution {
            outcome,
            reasons: posted.text("reasons").trim().to_owned(),
        };
        let (u, ctx) = (s.user.clone(), s.ctx.clone());
        match state
            .write(move |conn| {
                let resolution = validated(resolution)?;
                objections::resolve(conn, &u, &ctx, id, &resolution)
            })
            .await
        {
            Ok(resolved) => {
                let message = serde_json::json!({
                    "kind": "objection_resolved",
                    "outcome": posted.text("outcome"),
                    "status": resolved.application_status.as_str(),
                });
                return s.page.redirect_with_flash(
                    &queue::application_page(resolved.objection.application_id),
                    &message,
                );
            }
            Err(e) => Refusal::new(&form, posted).of(&s.page, &e),
        }
    } else {
        let mut r = Refusal::new(&form, posted);
        r.fields
            .insert("outcome".into(), s.page.t("rev.objection.choose_outcome"));
        (r, StatusCode::UNPROCESSABLE_ENTITY)
    };
    dossier_response(
        &s.signed,
        &state,
        application_id,
        status,
        Some(refusal),
        None,
    )
    .await
}

/// The audited reveal of one identity number (the legal representative's or a teacher's),
/// shown once in the dossier; the audit trail records who saw whose number.
#[post("/review/applications/{id:\\d+}/reveal")]
pub async fn reveal_number(
    s: Posted,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let id = id.into_inner();
    let request = match s.form.get("teacher_id").map(str::parse::<i64>) {
        Some(Ok(teacher_id)) => RevealRequest::Teacher { teacher_id },
        _ => RevealRequest::LegalRepresentative,
    };
    let (u, ctx) = (s.user.clone(), s.ctx.clone());
    let result = state
        .write(move |conn| {
            let app = applications::get(conn, &u, id)?;
            reveal(conn, &ctx, app.institution_id, &request)
        })
        .await;
    match result {
        Ok(r) => {
            let shown = serde_json::json!({
                "subject": r.subject, "teacher_id": r.teacher_id, "name": r.name,
                "number": r.number,
            });
            dossier_response(&s.signed, &state, id, StatusCode::OK, None, Some(shown)).await
        }
        Err(e) => {
            let (refusal, status) = Refusal::new("reveal", &s.form).of(&s.page, &e);
            dossier_response(&s.signed, &state, id, status, Some(refusal), None).await
        }
    }
}

// ---- notices -------------------------------------------------------------------------------

/// The approved applications a notice can be published for, oldest decision first.
fn approved(conn: &mut crate::db::DbConn, user: &AuthUser) -> ApiResult<Vec<serde_json::Value>> {
    let filter = ListFilter {
        status: Some(Status::Approved),
        ..ListFilter::default()
    };
    let (apps, _) = applications::list(conn, user, &filter, 0, i64::MAX)?;
    Ok(apps
        .into_iter()
        .rev()
        .map(|a| {
            serde_json::json!({
                "id": a.id, "institution_name": a.institution_name, "round_id": a.round_id,
                "district": a.district, "approved_items": a.approved_items,
                "decided_at": a.decided_at,
            })
        })
        .collect())
}

async fn notice_form(
    s: &Decide,
    state: &web::Data<AppState>,
    status: StatusCode,
    refusal: Option<Refusal>,
) -> HttpResponse {
    let u = s.user.clone();
    match state.run(move |conn| approved(conn, &u)).await {
        Ok(apps) => s.render(
            status,
            "reviewer_notice_new.html",
            serde_json::json!({
                "applications": apps,
                "today": beijing_date(s.ctx.now),
                "refusal": refusal,
            }),
        ),
        Err(e) => s.error(&e),
    }
}

/// `/review/notices/new`: publish a notice from approved applications.
#[get("/review/notices/new")]
pub async fn new_notice(s: Decide, state: web::Data<AppState>) -> HttpResponse {
    notice_form(&s, &state, StatusCode::OK, None).await
}

/// Publishes the notice; on success, the public notice page.
#[post("/review/notices")]
pub async fn publish_notice(s: Posted, state: web::Data<AppState>) -> HttpResponse {
    let posted = &s.form;
    let date = posted.text("publication_date");
    let Ok(publication_date) = date.trim().parse() else {
        let mut r = Refusal::new("notice", posted);
        r.fields.insert(
            "publication_date".into(),
            s.page.t("rev.notice.date_invalid"),
        );
        return notice_form(&s.signed, &state, StatusCode::UNPROCESSABLE_ENTITY, Some(r)).await;
    };
    let title = posted.text("title").trim().to_owned();
    let request = NewNotice {
        title: (!title.is_empty()).then_some(title),
        publication_date,
        application_ids: posted
            .all("application_ids")
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect(),
    };
    let (u, ctx) = (s.user.clone(), s.ctx.clone());
    match state
        .write(move |conn| {
            let request = validated(request)?;
            notices::publish(conn, &u, &ctx, &request)
        })
        .await
    {
        Ok(notice) => s.page.redirect(&format!("/notices/{}", notice.id)),
        Err(e) => {
            let (refusal, status) = Refusal::new("notice", posted).of(&s.page, &e);
            notice_form(&s.signed, &state, status, Some(refusal)).await
        }
    }
}

// ---- exit cases ----------------------------------------------------------------------------

async fn exit_case_response<R: Roles>(
    s: &SignedIn<R>,
    state: &web::Data<AppState>,
    id: i64,
    status: StatusCode,
    refusal: Option<Refusal>,
) -> HttpResponse {
    let u = s.user.clone();
    match state.run(move |conn| exits::get(conn, &u, id)).await {
        Ok(case) => s.render(
            status,
            "reviewer_exit_case.html",
            serde_json::json!({
                "case": case,
                "today": beijing_date(s.ctx.now),
                "is_reviewer": s.user.role() == crate::auth::Role::Reviewer,
                "refusal": refusal,
            }),
        ),
        Err(e) => s.error(&e),
    }
}

/// `/review/exit-cases/{id}`: an exit case — grounds with their evidence, the statement of
/// defence and its deadline, the decision (and the ban it recorded) — and the decision form.
#[get("/review/exit-cases/{id:\\d+}")]
pub async fn exit_case_page(
    s: Read,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    exit_case_response(&s, &state, id.into_inner(), StatusCode::OK, None).await
}

/// Decides an exit case: remove (the pool entry, contracts and a 36-month ban) or dismiss.
#[post("/review/exit-cases/{id:\\d+}/decision")]
pub async fn decide_exit_case(
    s: Posted,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let id = id.into_inner();
    let posted = &s.form;
    let decision = match posted.get("decision") {
        Some("remove") => Some(CaseDecision::Remove),
        Some("dismiss") => Some(CaseDecision::Dismiss),
        _ => None,
    };
    let (refusal, status) = match decision {
        None => {
            let mut r = Refusal::new("exit", posted);
            r.fields
                .insert("decision".into(), s.page.t("rev.exit.choose_decision"));
            (r, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Some(decision) => {
            let request = CaseRequest {
                decision,
                reasons: posted.text("reasons").trim().to_owned(),
            };
            let (u, ctx) = (s.user.clone(), s.ctx.clone());
            match state
                .write(move |conn| {
                    let request = validated(request)?;
                    exits::decide(conn, &u, &ctx, id, &request)
                })
                .await
            {
                Ok((case, _)) => {
                    let message = serde_json::json!({
                        "kind": "exit_decided", "status": case.status.as_str(),
                    });
                    return s
                        .page
                        .redirect_with_flash(&queue::exit_case_page(id), &message);
                }
                Err(e) => Refusal::new("exit", posted).of(&s.page, &e),
            }
        }
    };
    exit_case_response(&s.signed, &state, id, status, Some(refusal)).await
}

/// The form opening an exit case against a pool member: the seven grounds, the facts, an
/// optional evidence file.
fn new_case_form(page: &Page, institution_id: i64) -> Form {
    let grounds = Ground::ALL
        .iter()
        .map(|g| {
            (
                g.as_str().to_owned(),
                page.t(&format!("ground.{}", g.as_str())),
            )
        })
        .collect();
    Form::new("/review/exit-cases", page.t("rev.open_case.submit"))
        .multipart()
        .hidden("institution_id", institution_id.to_string())
        .field(
            Field::new("grounds", page.t("rev.open_case.grounds"), "checkboxes")
                .required()
                .options(grounds),
        )
        .field(
            Field::new("statement", page.t("rev.open_case.statement"), "textarea")
                .required()
                .hint(page.t("rev.open_case.statement_hint")),
        )
        .field(
            Field::new("evidence", page.t("rev.open_case.evidence"), "file")
                .accept("application/pdf,image/jpeg,image/png")
                .hint(page.t("rev.open_case.evidence_hint")),
        )
}

async fn new_case_response(
    s: &Decide,
    state: &web::Data<AppState>,
    status: StatusCode,
    institution_id: i64,
    form: Form,
) -> HttpResponse {
    let today = beijing_date(s.ctx.now);
    let result = state
        .run(move |conn| {
            let name = crate::institutions::profile(conn, institution_id, today)?.name;
            Ok((name, exits::in_pool(conn, institution_id)?))
        })
        .await;
    match result {
        Ok((name, in_pool)) => s.render(
            status,
            "reviewer_exit_new.html",
            serde_json::json!({ "institution": name, "in_pool": in_pool, "form": form }),
        ),
        Err(e) => s.error(&e),
    }
}

#[derive(Debug, Deserialize)]
pub struct NewCaseQuery {
    institution_id: i64,
}

/// `/review/exit-cases/new?institution_id=…`: open an exit case against a pool member (linked
/// from the dossier of an admitted application).
#[get("/review/exit-cases/new")]
pub async fn new_exit_case(
    s: Decide,
    state: web::Data<AppState>,
    q: web::Query<NewCaseQuery>,
) -> HttpResponse {
    let form = new_case_form(&s.page, q.institution_id);
    new_case_response(&s, &state, StatusCode::OK, q.institution_id, form).await
}

/// Opens the case through `exits::create` (`POST /exit-cases`): the form read by the API's
/// parser, the evidence stored as `exit_evidence` (sniffed, PDF text extracted) in the same
/// transaction as the case, so a refused case leaves no document behind.
#[post("/review/exit-cases")]
pub async fn open_exit_case(
    mut s: SignedForm<ReviewerRole, Multipart>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let p = &s.form.fields;
    let institution_id: i64 = p.text("institution_id").trim().parse().unwrap_or_default();
    let body = serde_json::json!({
        "institution_id": institution_id, "grounds": p.all("grounds"),
        "statement": p.text("statement").trim(),
    });
    let mut form = new_case_form(&s.page, institution_id);
    form.set("statement", p.text("statement"));
    // The grounds ticked, as `,a,b,` (the template checks `,code,` in it).
    form.set("grounds", format!(",{},", p.all("grounds").join(",")));
    let evidence = s.form.take_file("evidence");
    let result: ApiResult<i64> = async {
        let mut request: NewCase = crate::http::json::parse_valid(body.to_string().as_bytes())?;
        let evidence = match evidence? {
            Some(file) => Some(
                crate::documents::upload::prepare(
                    &state,
                    DocumentKind::ExitEvidence,
                    file.filename,
                    file.content,
                    None,
                    Some(s.user.id),
                )
                .await?,
            ),
            None => None,
        };
        let (u, ctx) = (s.user.clone(), s.ctx.clone());
        state
            .write(move |conn| {
                if let Some(doc) = &evidence {
                    request.evidence_document_ids = vec![docs::insert(conn, &ctx, doc)?.id];
                }
                Ok(exits::create(conn, &u, &ctx, &request)?.id)
            })
            .await
    }
    .await;
    match result {
        Ok(id) => s.page.redirect_with_flash(
            &queue::exit_case_page(id),
            &serde_json::json!({"kind": "exit_opened"}),
        ),
        Err(e) => {
            let status = match &e {
                // Refusals of the file itself (size, type, encrypted, unreadable) go next to it.
                ApiError::Problem(pr)
                    if pr.errors.is_empty() && pr.status != StatusCode::CONFLICT =>
                {
                    form.error("evidence", s.page.msg(&pr.detail));
                    pr.status
                }
                _ => form.refused(&s.page, &e),
            };
            new_case_response(&s.signed, &state, status, institution_id, form).await
        }
    }
}

// ---- blacklist -----------------------------------------------------------------------------

fn blacklist_page(
    s: &Decide,
    status: StatusCode,
    refusal: Option<Refusal>,
    lines: Vec<String>,
    imported: Option<crate::exits::blacklist::ImportOutcome>,
) -> HttpResponse {
    s.render(
        status,
        "reviewer_blacklist.html",
        serde_json::json!({ "refusal": refusal, "lines": lines, "imported": imported }),
    )
}

/// `/review/blacklist`: import a source's blacklist (CSV pasted: `uscc,name,source,listed_on,
/// reason`), all or nothing.
#[get("/review/blacklist")]
pub async fn blacklist_form(s: Decide) -> HttpResponse {
    blacklist_page(&s, StatusCode::OK, None, Vec::new(), None)
}

/// Imports the list, pasted or uploaded as a CSV file (a file chosen wins); a malformed list
/// is reported line by line and nothing is imported.
#[post("/review/blacklist")]
pub async fn import_blacklist(
    mut s: SignedForm<ReviewerRole, Multipart>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let csv = match s.form.take_file("file") {
        Ok(Some(file)) => match file.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => return s.error(&e),
        },
        Ok(None) => s.form.fields.text("csv").into_bytes(),
        Err(e) => return s.error(&e),
    };
    let raw_source = s.form.fields.text("source");
    let ctx = s.ctx.clone();
    let result = state
        .write(move |conn| {
            let source = crate::exits::blacklist::source(&raw_source)?;
            crate::exits::blacklist::import(conn, &ctx, &source, &csv)
        })
        .await;
    let posted = &s.form.fields;
    match result {
        Ok(outcome) => blacklist_page(&s.signed, StatusCode::OK, None, Vec::new(), Some(outcome)),
        Err(ApiError::Problem(p)) if p.code == "blacklist_malformed" => {
            let lines = p.errors.iter().map(|i| s.page.msg(&i.message)).collect();
            let mut refusal = Refusal::new("blacklist", posted);
            refusal.top.push(s.page.msg(&p.detail));
            blacklist_page(&s.signed, p.status, Some(refusal), lines, None)
        }
        Err(e) => {
            let (refusal, status) = Refusal::new("blacklist", posted).of(&s.page, &e);
            blacklist_page(&s.signed, status, Some(refusal), Vec::new(), None)
        }
    }
}
