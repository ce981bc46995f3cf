//! `POST /documents` (multipart upload), `GET /documents/{id}`, `/content`, `/text`.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::body::SizedStream;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use futures_util::TryStreamExt;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::{AnyRole, AuthUser, Authed, Ctx, Role, Roles};
use crate::documents::blobs;
use crate::documents::store::{self, Document, DocumentKind, Incoming, NewDocument};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg, ProblemBody};
use crate::pdf::PageText;

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
    let doc = store_upload(&state, &req, payload, &user, user.ctx.clone(), |_| Ok(())).await?;
    Ok(HttpResponse::Created().json(doc))
}

/// Receives an upload form (`kind`, `file`) and stores the document: what `POST /documents`
/// does, shared with the institution's upload page. `admit` sees the form's other small text
/// fields (a page's CSRF token) and may refuse before anything is stored.
pub async fn store_upload(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    user: &AuthUser,
    ctx: Ctx,
    admit: impl FnOnce(&BTreeMap<String, String>) -> ApiResult<()>,
) -> ApiResult<Document> {
    let limit = state.settings.upload_max_bytes;
    let received = receive(state, req, payload, limit).await;
    let (kind, filename, incoming, extra) = match received {
        Ok(parts) => parts,
        Err((temp, err)) => {
            if let Some(temp) = temp {
                let _ = std::fs::remove_file(temp);
            }
            return Err(err);
        }
    };
    if let Err(e) = admit(&extra) {
        let _ = std::fs::remove_file(&incoming.temp);
        return Err(e);
    }
    // Schools and reviewers upload only evidence for exit cases.
    if user.role() != Role::Institution && kind != DocumentKind::ExitEvidence {
        let _ = std::fs::remove_file(&incoming.temp);
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

/// Accepts a received file: recognised by content (PDF, JPEG, PNG), a PDF's text extracted in
/// the isolated child (encrypted and unreadable PDFs refused). Returns the document to record
/// with [`store::insert`] in the caller's transaction, which also stores its content in the
/// database; the spooled file is removed when the returned document (or a refusal) drops it.
pub async fn prepare(
    state: &AppState,
    kind: DocumentKind,
    filename: String,
    incoming: Incoming,
    institution_id: Option<i64>,
    uploaded_by: Option<i64>,
) -> ApiResult<NewDocument> {
    // `finish` flushes the file: off the async worker, like every other blocking step.
    let (spooled, sha256, size, head) = web::block(move || incoming.finish())
        .await?
        .map_err(|e| ApiError::Internal(e.into()))?;
    let Some(content_type) = store::sniff(&head) else {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            Msg::new(
                "只接受 PDF、JPEG 或 PNG 文件（按文件内容识别）。",
                "Only PDF, JPEG or PNG files are accepted (recognised by content).",
            ),
        ));
    };
    let (extraction, spooled) = if content_type == "application/pdf" {
        let sha = sha256.clone();
        let known = state
            .run(move |conn| store::known_extraction(conn, &sha))
            .await?;
        let (extraction, spooled) = match known {
            Some(e) => (e, spooled),
            None => {
                let extractor = state.pdf.clone();
                web::block(move || (extractor.extract(spooled.path()), spooled)).await?
            }
        };
        if let Some(refusal) = store::refusal(extraction.status, extraction.detail.as_deref()) {
            tracing::info!(status = extraction.status.as_str(), detail = ?extraction.detail, "PDF refused");
            return Err(refusal);
        }
        (Some(extraction), spooled)
    } else {
        (None, spooled)
    };
    Ok(NewDocument {
        institution_id,
        uploaded_by,
        kind,
        filename,
        content_type,
        size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
        sha256,
        extraction,
        content: spooled,
    })
}

type Received = (DocumentKind, String, Incoming, BTreeMap<String, String>);

/// Reads the form: a `kind` field and a `file` field, the file streamed to disk.
async fn receive(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    limit: u64,
) -> Result<Received, (Option<std::path::PathBuf>, ApiError)> {
    let mut form = Multipart::new(req.headers(), payload.into_inner());
    let mut kind: Option<DocumentKind> = None;
    let mut file: Option<(String, Incoming)> = None;
    let mut extra = BTreeMap::new();
    let temp_of = |file: &Option<(String, Incoming)>| file.as_ref().map(|(_, i)| i.temp.clone());
    loop {
        let field = match form.try_next().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err((temp_of(&file), multipart_error(&e))),
        };
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "kind" => {
                let bytes = read_small(field).await.map_err(|e| (temp_of(&file), e))?;
                let text = crate::http::input::form_text("kind", bytes)
                    .map_err(|e| (temp_of(&file), e))?;
                kind = Some(DocumentKind::parse(&text).ok_or_else(|| {
                    (
                        temp_of(&file),
                        ApiError::validation(vec![FieldIssue::new(
                            "kind",
                            "unknown_document_kind",
                            Msg::new(
                                format!("未知的材料类型“{}”。", text.trim()),
                                format!("Unknown document kind “{}”.", text.trim()),
                            ),
                        )]),
                    )
                })?);
            }
            "file" if file.is_none() => {
                let filename = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename().map(sanitize_filename))
                    .unwrap_or_else(|| "upload".to_owned());
                let mut incoming = Incoming::create(&state.settings.data_dir, limit)
                    .map_err(|e| (None, ApiError::Internal(e.into())))?;
                let mut field = field;
                loop {
                    let chunk = match field.try_next().await {
                        Ok(Some(chunk)) => chunk,
                        Ok(None) => break,
                        Err(e) => return Err((Some(incoming.temp.clone()), multipart_error(&e))),
                    };
                    match incoming.push(&chunk) {
                        Ok(true) => {}
                        Ok(false) => {
                            return Err((Some(incoming.temp.clone()), store::too_large(limit)));
                        }
                        Err(e) => {
                            return Err((
                                Some(incoming.temp.clone()),
                                ApiError::Internal(e.into()),
                            ));
                        }
                    }
                }
                file = Some((filename, incoming));
            }
            _ => {
                // Other or repeated fields are read within a small bound; the first value of
                // each other field is kept for the caller (a page's CSRF token).
                let bytes = read_small(field).await.map_err(|e| (temp_of(&file), e))?;
                if name != "file" && name != "kind" {
                    extra
                        .entry(name)
                        .or_insert_with(|| String::from_utf8_lossy(&bytes).into_owned());
                }
            }
        }
    }
    let mut missing = Vec::new();
    if kind.is_none() {
        missing.push(FieldIssue::new(
            "kind",
            "missing_field",
            Msg::new("缺少材料类型 kind。", "The form has no `kind` field."),
        ));
    }
    if file.is_none() {
        missing.push(FieldIssue::new(
            "file",
            "missing_field",
            Msg::new("缺少文件 file。", "The form has no `file` field."),
        ));
    }
    match (kind, file) {
        (Some(kind), Some((filename, incoming))) => Ok((kind, filename, incoming, extra)),
        (_, file) => Err((temp_of(&file), ApiError::validation(missing))),
    }
}

pub async fn read_small(mut field: actix_multipart::Field) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = field.try_next().await.map_err(|e| multipart_error(&e))? {
        out.extend_from_slice(&chunk);
        if out.len() > 4096 {
            return Err(ApiError::bad_request(
                "form_field_too_large",
                "表单字段过长。",
                "A form field is too long.",
            ));
        }
    }
    Ok(out)
}

pub fn multipart_error(err: &actix_multipart::MultipartError) -> ApiError {
    use actix_multipart::MultipartError as E;
    match err {
        E::ContentTypeMissing
        | E::ContentTypeParse
        | E::ContentTypeIncompatible
        | E::BoundaryMissing => ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            Msg::new(
                "上传须使用 multipart/form-data。",
                "Uploads must be multipart/form-data.",
            ),
        ),
        _ => ApiError::bad_request(
            "malformed_multipart",
            "上传的表单格式错误。",
            "The multipart form is malformed.",
        ),
    }
}

/// Keeps a display name: the last path component, without control characters, at most 200
/// characters.
pub fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.trim().is_empty() {
        "upload".to_owned()
    } else {
        clean
    }
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
