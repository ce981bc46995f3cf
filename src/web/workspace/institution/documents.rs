//! Uploads with their text-extraction status.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::documents::store::{self as documents, DocumentKind};
use crate::error::{ApiError, ApiResult};
use crate::web::Page;
use crate::web::forms::{Field, Form};
use crate::web::workspace::posted::options;

use crate::web::workspace::signed_form::Multipart;

use super::{Inst, InstForm, own, show};

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
/// extracted in the isolated child), the form's CSRF token checked by its guard.
#[post("/institution/documents")]
pub async fn upload(mut s: InstForm<Multipart>, state: web::Data<AppState>) -> HttpResponse {
    let mut form = upload_form(&s.page, state.settings.upload_max_bytes / (1024 * 1024));
    let result = match s.form.take_file("file") {
        Ok(file) => {
            crate::documents::routes::store_posted(
                &state,
                &s.user,
                s.ctx.clone(),
                s.form.fields.get("kind"),
                file.map(|f| (f.filename, f.content)),
            )
            .await
        }
        Err(refused) => Err(refused),
    };
    let status = match result {
        Ok(doc) => {
            return s.page.redirect_with_flash(
                "/institution/documents",
                &json!({"kind": "uploaded", "id": doc.id, "filename": doc.filename}),
            );
        }
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
        &s.signed,
        status,
        "inst_documents.html",
        documents_view(&s, &state, form),
    )
    .await
}
