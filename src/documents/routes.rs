//! `POST /documents` (multipart upload), `GET /documents/{id}`, `/content`, `/text`.

use actix_web::body::SizedStream;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::{AnyRole, AuthUser, Authed, Ctx, Role, Roles};
use crate::documents::blobs;
use crate::documents::store::{self, Document, DocumentKind, Incoming};
use crate::documents::upload::{Received, complete, parse_kind, prepare, receive};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg, ProblemBody};
use crate::http::routes::Register;
use crate::pdf::PageText;

/// Registers the routes of this module, each once (the app and the OpenAPI document both come
/// from this registration: `crate::routes`).
pub fn configure(cfg: &mut impl Register) {
    cfg.service(upload)
        .service(metadata)
        .service(content)
        .service(document_text);
}

/// Who may upload: institutions (any kind), schools and reviewers (exit evidence only).
#[derive(Debug)]
pub struct Uploader;
impl Roles for Uploader {
    const ALLOWED: &'static [Role] = &[Role::Institution, Role::School, Role::Reviewer];
}

/// The multipart form of an upload (documentation only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// What the file is: `registration_certificate`, `uscc_certificate`, `legal_rep_id`,
    /// `teacher_certificate`, `criminal_record_check`, `inspection_record`, `service_plan`,
    /// `integrity_pledge`, `merged_pdf`, …
    kind: DocumentKind,
    /// The file: PDF, JPEG or PNG (recognised by content).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A file's bytes in a response (documentation only).
pub struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .into()
    }
}

impl ToSchema for FileBytes {}

/// Upload a document (multipart: `kind`, then `file`). PDFs have their text extracted in an
/// isolated process; encrypted or unreadable PDFs are refused. Schools and reviewers may
/// upload only `exit_evidence` (evidence for an exit case); institutions any kind.
#[utoipa::path(
    tag = "documents",
    operation_id = "upload_document",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = Document, description = "The stored document, with its text-extraction status for a PDF."),
        (status = 400, body = ProblemBody, content_type = "application/problem+json", description = "`malformed_multipart` or `form_field_too_large` (the `kind` field)"),
        (status = 413, body = ProblemBody, content_type = "application/problem+json", description = "`file_too_large` (more than `UPLOAD_MAX_BYTES`)"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json", description = "`unsupported_file_type`: not a PDF, JPEG or PNG by content"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "field errors, the first one's code also the problem's `code`: `unknown_document_kind`, `missing_field` (`kind` or `file`), `document_kind_not_allowed` (schools and reviewers upload `exit_evidence` only); `pdf_encrypted`, `pdf_unreadable`"),
    ),
    security(("bearer" = ["institution", "school", "reviewer"]))
)]
#[post("/documents")]
pub async fn upload(
    user: Authed<Uploader>,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let limit = state.settings.upload_max_bytes;
    if req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > limit + 64 * 1024)
    {
        return Err(store::too_large(limit));
    }
    let doc = store_upload(&state, &req, payload, &user, user.ctx.clone()).await?;
    Ok(HttpResponse::Created().json(doc))
}

/// Receives an upload form (`kind`, `file`) and stores the document: what `POST /documents`
/// does.
pub async fn store_upload(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    user: &AuthUser,
    ctx: Ctx,
) -> ApiResult<Document> {
    let limit = state.settings.upload_max_bytes;
    let (kind, filename, incoming) = receive(state, req, payload, limit).await?;
    store_received(state, user, ctx, (kind, filename, incoming)).await
}

/// Stores a document posted through a workspace page's form (its `kind` field as typed, its
/// file already spooled): the same checks as [`store_upload`] after its body is read.
pub async fn store_posted(
    state: &AppState,
    user: &AuthUser,
    ctx: Ctx,
    kind: Option<&str>,
    file: Option<(String, Incoming)>,
) -> ApiResult<Document> {
    let kind = kind.map(parse_kind).transpose()?;
    store_received(state, user, ctx, complete(kind, file)?).await
}

async fn store_received(
    state: &AppState,
    user: &AuthUser,
    ctx: Ctx,
    (kind, filename, incoming): Received,
) -> ApiResult<Document> {
    // Schools and reviewers upload only evidence for exit cases (the spooled file is removed
    // when `incoming` drops).
    if user.role() != Role::Institution && kind != DocumentKind::ExitEvidence {
        return Err(ApiError::validation(vec![FieldIssue::new(
            "kind",
            "document_kind_not_allowed",
            Msg::new(
                "学校和审核人员只能上传清退证据材料（exit_evidence）。",
                "Schools and reviewers may upload only exit evidence (exit_evidence).",
            ),
        )]));
    }
    let new = prepare(
        state,
        kind,
        filename,
        incoming,
        user.institution_id,
        Some(user.id),
    )
    .await?;
    state
        .write(move |conn| store::insert(conn, &ctx, &new))
        .await
}

/// A document's metadata, including its text-extraction status.
#[utoipa::path(
    tag = "documents",
    operation_id = "get_document",
    params(("id" = i64, Path, description = "document id")),
    responses(
        (status = 200, body = Document, description = "The document's metadata."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such document, or not one the caller may read"),
    ),
    security(("bearer" = []))
)]
#[get("/documents/{id}")]
pub async fn metadata(
    user: Authed<AnyRole>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, u) = (id.into_inner(), user.user.clone());
    Ok(HttpResponse::Ok().json(state.run(move |conn| store::readable(conn, &u, id)).await?))
}

/// Download a document (owner and bureau staff only).
#[utoipa::path(
    tag = "documents",
    operation_id = "get_document_content",
    params(("id" = i64, Path, description = "document id")),
    responses(
        (status = 200, description = "The file as an attachment, as its stored type (recognised by content at upload), or as `application/octet-stream` when `Accept` asks for that and not the stored type.",
            content(
                (inline(FileBytes) = "application/pdf"),
                (inline(FileBytes) = "image/jpeg"),
                (inline(FileBytes) = "image/png"),
                (inline(FileBytes) = "application/octet-stream"),
            )),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such document, or not one the caller may read"),
        (status = 410, body = ProblemBody, content_type = "application/problem+json", description = "`document_content_missing`: the document is recorded but its content is not (wholly) in the database"),
    ),
    security(("bearer" = []))
)]
#[get("/documents/{id}/content")]
pub async fn content(
    user: Authed<AnyRole>,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, u) = (id.into_inner(), user.user.clone());
    let (doc, blob) = state
        .run(move |conn| {
            let doc = store::readable(conn, &u, id)?;
            let blob = blobs::complete(conn, doc.id, &doc.sha256)?;
            Ok((doc, blob))
        })
        .await?;
    // One chunk in memory at a time, read in order as the client takes them.
    let (db, sha, doc_id) = (state.clone(), doc.sha256.clone(), doc.id);
    let chunks = futures_util::stream::try_unfold(0, move |seq| {
        let (db, sha) = (db.clone(), sha.clone());
        async move {
            if seq >= blob.chunk_count {
                return Ok::<_, ApiError>(None);
            }
            let bytes = db
                .run(move |conn| blobs::chunk(conn, doc_id, &sha, seq))
                .await?;
            Ok(Some((web::Bytes::from(bytes), seq + 1)))
        }
    });
    let body = SizedStream::new(u64::try_from(blob.size_bytes).unwrap_or(0), chunks);
    let disposition = format!(
        "attachment; filename=\"document-{}\"; filename*=UTF-8''{}",
        doc.id,
        percent_encode(&doc.filename)
    );
    let content_type = if asks_for_octet_stream(&req, &doc.content_type) {
        "application/octet-stream"
    } else {
        doc.content_type.as_str()
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body))
}

/// Whether `Accept` names `application/octet-stream` and not the stored type: generic clients
/// (generated ones in particular) read any file as bytes of that type.
fn asks_for_octet_stream(req: &HttpRequest, stored: &str) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let ranges: Vec<String> = accept
        .split(',')
        .filter_map(|r| r.split(';').next())
        .map(|r| r.trim().to_ascii_lowercase())
        .collect();
    ranges.iter().any(|r| r == "application/octet-stream") && !ranges.iter().any(|r| r == stored)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentText {
    pub document: Document,
    pub pages: Vec<PageText>,
}

/// The extracted, normalised text of a PDF, page by page (what reviewers compare).
#[utoipa::path(
    tag = "documents",
    operation_id = "get_document_text",
    params(("id" = i64, Path, description = "document id")),
    responses(
        (status = 200, body = DocumentText, description = "The metadata and the pages' text (no pages for images and text-less PDFs)."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such document, or not one the caller may read"),
    ),
    security(("bearer" = []))
)]
#[get("/documents/{id}/text")]
pub async fn document_text(
    user: Authed<AnyRole>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, u) = (id.into_inner(), user.user.clone());
    let body = state
        .run(move |conn| {
            let document = store::readable(conn, &u, id)?;
            let pages = store::pages(conn, &u, id)?;
            Ok(DocumentText { document, pages })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// RFC 8187 encoding of a file name for `filename*`.
fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
