//! Receiving an upload: the multipart reader shared by both upload forms (a document, an
//! objection with evidence), streaming a file to a spooled temporary file (hashed, sniffed and
//! size-capped per chunk in the one pass), and how a received file is accepted.

use crate::app::AppState;
use crate::documents::store::{self, DocumentKind, Incoming, NewDocument};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use actix_multipart::Multipart;
use actix_web::{HttpRequest, web};
use futures_util::TryStreamExt;

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

pub(crate) type Received = (DocumentKind, String, Incoming);

/// Reads the form: a `kind` field and a `file` field, the file streamed to disk.
pub(crate) async fn receive(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    limit: u64,
) -> ApiResult<Received> {
    let mut form = Multipart::new(req.headers(), payload.into_inner());
    let mut kind: Option<DocumentKind> = None;
    let mut file: Option<(String, Incoming)> = None;
    while let Some(field) = form.try_next().await.map_err(|e| multipart_error(&e))? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "kind" => {
                let bytes = read_small(field).await?;
                kind = Some(parse_kind(&crate::http::input::form_text("kind", bytes)?)?);
            }
            "file" if file.is_none() => {
                let filename = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename().map(sanitize_filename))
                    .unwrap_or_else(|| "upload".to_owned());
                let incoming = receive_file(state, field, limit).await?;
                file = Some((filename, incoming));
            }
            _ => {
                // Other or repeated fields are read within a small bound and ignored.
                read_small(field).await?;
            }
        }
    }
    complete(kind, file)
}

/// The document kind typed in a form's `kind` field.
pub(crate) fn parse_kind(text: &str) -> ApiResult<DocumentKind> {
    DocumentKind::parse(text).ok_or_else(|| {
        ApiError::validation(vec![FieldIssue::new(
            "kind",
            "unknown_document_kind",
            Msg::new(
                format!("未知的材料类型“{}”。", text.trim()),
                format!("Unknown document kind “{}”.", text.trim()),
            ),
        )])
    })
}

/// A form's kind and file, or each one missing as a field issue.
pub(crate) fn complete(
    kind: Option<DocumentKind>,
    file: Option<(String, Incoming)>,
) -> ApiResult<Received> {
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
        (Some(kind), Some((filename, incoming))) => Ok((kind, filename, incoming)),
        _ => Err(ApiError::validation(missing)),
    }
}

/// Streams a file part to a spooled temporary file within `limit` bytes (413 `too_large`
/// past it); the file is removed if the request fails later.
pub async fn receive_file(
    state: &AppState,
    mut field: actix_multipart::Field,
    limit: u64,
) -> ApiResult<Incoming> {
    let mut incoming = Incoming::create(&state.settings.data_dir, limit)
        .map_err(|e| ApiError::Internal(e.into()))?;
    while let Some(chunk) = field.try_next().await.map_err(|e| multipart_error(&e))? {
        if !incoming
            .push(&chunk)
            .map_err(|e| ApiError::Internal(e.into()))?
        {
            return Err(store::too_large(limit));
        }
    }
    Ok(incoming)
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
