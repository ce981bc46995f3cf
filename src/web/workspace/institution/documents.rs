//! Uploads with their text-extraction status.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::documents::store::{self as documents, DocumentKind};
use crate::error::{ApiError, ApiResult};
use crate::web::Page;
use crate::web::forms::{Field, Form};
use crate::web::security;
use crate::web::workspace::posted::options;

use super::{Inst, own, show};

// ---- documents -----------------------------------------------------------------------------

/// The kinds an institution uploads for itself.
const OWN_KINDS: &[DocumentKind] = &[
    DocumentKind::RegistrationCertificate,
    DocumentKind::UsccCertificate,
    DocumentKind::LegalRepId,
    DocumentKind::TeacherCertificate,
    DocumentKind::CriminalRecordCheck,
    DocumentKind::InspectionRecord,
    DocumentKind::ServicePlan,
    DocumentKind::IntegrityPledge,
    DocumentKind::MergedPdf,
    DocumentKind::StatementOfDefence,
    DocumentKind::Other,
];

fn upload_form(page: &Page, max_mb: u64) -> Form {
    Form::new("/institution/documents", page.t("inst.documents.upload"))
        .multipart()
        .field(
            Field::new("kind", page.t("inst.documents.kind"), "select")
                .required()
                .options(options(page, "inst.enum", OWN_KINDS)),
        )
        .field(
            Field::new("file", page.t("inst.documents.file"), "file")
                .required()
                .accept("application/pdf,image/jpeg,image/png")
                .hint(
                    page.t("inst.documents.file_hint")
                        .replace("{mb}", &max_mb.to_string()),
                ),
        )
}

async fn documents_view(s: &Inst, state: &AppState, form: Form) -> ApiResult<Value> {
    let id = own(&s.user)?;
    let docs = state
        .run(move |conn| documents::all_of_institution(conn, id))
        .await?;
    Ok(json!({ "documents": docs, "form": form }))
}

/// `GET /institution/documents`: the uploads with their text-extraction status, and the
/// upload form.
#[get("/institution/documents")]
pub async fn documents_page(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    let form = upload_form(&s.page, state.settings.upload_max_bytes / (1024 * 1024));
    show(
        &s,
        StatusCode::OK,
        "inst_documents.html",
        documents_view(&s, &state, form),
    )
    .await
}

/// `POST /institution/documents`: the API's upload (size cap, type sniffed, PDF text
/// extracted in the isolated child), with the form's CSRF token checked before storing.
#[post("/institution/documents")]
pub async fn upload(
    s: Inst,
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    let mut form = upload_form(&s.page, state.settings.upload_max_bytes / (1024 * 1024));
    let (key, csrf_req) = (*s.page.key(), req.clone());
    let mut csrf_failed = false;
    let result = crate::documents::routes::store_upload(
        &state,
        &req,
        payload,
        &s.user,
        s.ctx.clone(),
        |extra| {
            if security::csrf_ok(&key, &csrf_req, extra.get("csrf").map(String::as_str)) {
                Ok(())
            } else {
                csrf_failed = true;
                Err(ApiError::forbidden())
            }
        },
    )
    .await;
    let status = match result {
        Ok(doc) => {
            return s.page.redirect_with_flash(
                "/institution/documents",
                &json!({"kind": "uploaded", "id": doc.id, "filename": doc.filename}),
            );
        }
        Err(_) if csrf_failed => form.csrf_failed(&s.page),
        Err(e) => {
            match &e {
                // Refusals of the file itself (size, type, encrypted, unreadable) go next to it.
                ApiError::Problem(p) if p.errors.is_empty() => {
                    form.error("file", s.page.msg(&p.detail));
                    p.status
                }
                _ => form.refused(&s.page, &e),
            }
        }
    };
    show(
        &s,
        status,
        "inst_documents.html",
        documents_view(&s, &state, form),
    )
    .await
}
