//! Document records, and how a received file becomes one.
//!
//! An upload is spooled to a temporary file under the data directory (size cap, hash, type
//! sniffing, PDF text extraction read it there), then its content goes into the database in
//! the transaction that records the document ([`blobs`]): every instance serves every document.

use std::io::Write;
use std::path::Path;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::{AuthUser, Ctx, Owners, Role};
use crate::db::columns::UtcTime;
use crate::db::schema::{documents, exit_cases, exit_grounds};
use crate::db::{DbConn, JsonText, db_time};
use crate::documents::blobs;
pub use crate::documents::kind::{DocumentKind, sniff};
use crate::error::{ApiError, ApiResult, Msg};
use crate::pdf::{Extraction, PageText, Status as TextStatus};

/// A file being received: written to a temporary file while its hash and size are computed.
/// The file is removed when this (or the [`Spooled`] it becomes) is dropped, on every path:
/// accepted, refused, or a request that ended midway.
pub struct Incoming {
    file: tempfile::NamedTempFile,
    hasher: Sha256,
    pub size: u64,
    pub head: Vec<u8>,
    limit: u64,
}

impl Incoming {
    pub fn create(data_dir: &Path, limit: u64) -> std::io::Result<Self> {
        let dir = data_dir.join("tmp");
        std::fs::create_dir_all(&dir)?;
        let file = tempfile::Builder::new()
            .prefix("upload-")
            .tempfile_in(&dir)?;
        Ok(Self {
            file,
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
            limit,
        })
    }

    /// Appends a chunk; `Ok(false)` once the size cap is passed (nothing more is written).
    pub fn push(&mut self, chunk: &[u8]) -> std::io::Result<bool> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Ok(false);
        }
        if self.head.len() < 1024 {
            let take = (1024 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk)?;
        Ok(true)
    }

    /// Flushes and returns the spooled file with its hex SHA-256, size and first bytes.
    pub fn finish(mut self) -> std::io::Result<(Spooled, String, u64, Vec<u8>)> {
        self.file.flush()?;
        Ok((
            Spooled(self.file.into_temp_path()),
            hex::encode(self.hasher.finalize()),
            self.size,
            self.head,
        ))
    }
}

/// A received file waiting in the data directory's `tmp/` until its content is in the
/// database; removed when dropped, whether the upload was recorded or refused.
#[derive(Debug)]
pub struct Spooled(tempfile::TempPath);

impl Spooled {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

/// A document's metadata as shown to its owner and to reviewers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Document {
    pub id: i64,
    pub institution_id: Option<i64>,
    pub kind: DocumentKind,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// For PDFs: `ok`, `partial` (some pages unreadable), `no_text` (a scan) or
    /// `text_unreadable` (a valid PDF whose text could not be decoded): the last two need
    /// manual verification. PDFs needing a password and files that are not valid PDFs are
    /// refused at upload.
    pub text_status: Option<TextStatus>,
    pub page_count: Option<i32>,
    /// Which extractor read the text, or why pages could not be read.
    pub extraction_detail: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = documents)]
struct Row {
    id: i64,
    institution_id: Option<i64>,
    kind: String,
    filename: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    text_status: Option<String>,
    page_count: Option<i32>,
    extraction_detail: Option<String>,
    created_at: NaiveDateTime,
}

impl Row {
    fn into_document(self) -> Document {
        let text_status = self
            .text_status
            .as_deref()
            .and_then(|s| serde_json::from_value(serde_json::Value::String(s.to_owned())).ok());
        Document {
            id: self.id,
            institution_id: self.institution_id,
            kind: DocumentKind::parse(&self.kind).unwrap_or(DocumentKind::Other),
            filename: self.filename,
            content_type: self.content_type,
            size_bytes: self.size_bytes,
            sha256: self.sha256,
            text_status,
            page_count: self.page_count,
            extraction_detail: self.extraction_detail,
            created_at: self.created_at.into(),
        }
    }
}

/// What is recorded for a received, accepted file.
pub struct NewDocument {
    pub institution_id: Option<i64>,
    pub uploaded_by: Option<i64>,
    pub kind: DocumentKind,
    pub filename: String,
    pub content_type: &'static str,
    pub size_bytes: i64,
    pub sha256: String,
    pub extraction: Option<Extraction>,
    /// The received bytes, stored in the database by [`insert`] unless identical content is.
    pub content: Spooled,
}

pub fn insert(conn: &mut DbConn, ctx: &Ctx, doc: &NewDocument) -> ApiResult<Document> {
    let (status, page_count, pages, detail) = match &doc.extraction {
        Some(e) => (
            Some(e.status.as_str()),
            Some(i32::try_from(e.page_count).unwrap_or(i32::MAX)),
            Some(serde_json::to_string(&e.pages).unwrap_or_default()),
            e.detail.clone(),
        ),
        None => (None, None, None, None),
    };
    blobs::put_file(conn, &doc.sha256, doc.content.path(), ctx.now)?;
    let id: i64 = diesel::insert_into(documents::table)
        .values((
            documents::institution_id.eq(doc.institution_id),
            documents::uploaded_by.eq(doc.uploaded_by),
            documents::kind.eq(doc.kind.as_str()),
            documents::filename.eq(&doc.filename),
            documents::content_type.eq(doc.content_type),
            documents::size_bytes.eq(doc.size_bytes),
            documents::sha256.eq(&doc.sha256),
            documents::text_status.eq(status),
            documents::page_count.eq(page_count),
            documents::pages.eq(pages),
            documents::extraction_detail.eq(detail),
            documents::created_at.eq(db_time(ctx.now)),
        ))
        .returning(documents::id)
        .get_result(conn)?;
    audit::record(
        conn,
        ctx,
        "document.uploaded",
        "document",
        id,
        serde_json::json!({
            "kind": doc.kind.as_str(), "sha256": doc.sha256, "size_bytes": doc.size_bytes,
            "content_type": doc.content_type, "text_status": status, "institution_id": doc.institution_id,
        }),
    )?;
    get(conn, id)
}

fn get(conn: &mut DbConn, id: i64) -> ApiResult<Document> {
    documents::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Row::into_document)
        .ok_or_else(not_found)
}

fn not_found() -> ApiError {
    ApiError::not_found("文件", "document")
}

/// A document the user may read: the owning institution's, or any for bureau staff. Another
/// institution's document is "not found" (its existence is not disclosed).
pub fn readable(conn: &mut DbConn, user: &AuthUser, id: i64) -> ApiResult<Document> {
    let doc = get(conn, id)?;
    let allowed = match (user.role(), user.institution_id) {
        // The evidence cited against it in an exit case, so that it can answer it.
        (Role::Institution, Some(inst)) if doc.institution_id != Some(inst) => {
            cited_against(conn, inst, id)?
        }
        // A school reads only what it uploaded itself (evidence for an exit case).
        (Role::School, _) => {
            let uploaded_by: Option<i64> = documents::table
                .find(id)
                .select(documents::uploaded_by)
                .first(conn)?;
            user.may_see(Owners {
                uploaded_by,
                ..Owners::default()
            })
        }
        _ => user.may_see(Owners {
            institution_id: doc.institution_id,
            ..Owners::default()
        }),
    };
    if allowed { Ok(doc) } else { Err(not_found()) }
}

/// Whether the document is evidence cited in a ground of an exit case against the institution
/// (read here, from the exit tables, because readability is the documents' rule: the exit
/// capability sits above this one).
/// (the institution may read it to prepare its statement of defence).
fn cited_against(conn: &mut DbConn, institution_id: i64, document_id: i64) -> ApiResult<bool> {
    let lists: Vec<JsonText<Vec<i64>>> = exit_grounds::table
        .inner_join(exit_cases::table)
        .filter(exit_cases::institution_id.eq(institution_id))
        .select(exit_grounds::document_ids)
        .load(conn)?;
    Ok(lists.iter().any(|l| l.0.contains(&document_id)))
}

/// The extracted text of a readable PDF, page by page.
pub fn pages(conn: &mut DbConn, user: &AuthUser, id: i64) -> ApiResult<Vec<PageText>> {
    readable(conn, user, id)?;
    pages_of(conn, id)
}

/// A stored extraction of identical content, so the same bytes are never extracted twice.
pub fn known_extraction(conn: &mut DbConn, sha256: &str) -> ApiResult<Option<Extraction>> {
    type Stored = (Option<String>, Option<i32>, Option<String>, Option<String>);
    let row: Option<Stored> = documents::table
        .filter(documents::sha256.eq(sha256))
        .filter(documents::text_status.is_not_null())
        .select((
            documents::text_status,
            documents::page_count,
            documents::pages,
            documents::extraction_detail,
        ))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(status, page_count, pages, detail)| {
        Some(Extraction {
            status: serde_json::from_value(serde_json::Value::String(status?)).ok()?,
            page_count: u32::try_from(page_count?).ok()?,
            pages: serde_json::from_str(&pages?).ok()?,
            detail,
        })
    }))
}

/// Every document an institution has uploaded, newest first (its upload page).
pub fn all_of_institution(conn: &mut DbConn, institution_id: i64) -> ApiResult<Vec<Document>> {
    Ok(documents::table
        .filter(documents::institution_id.eq(institution_id))
        .order(documents::id.desc())
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Row::into_document)
        .collect())
}

/// Documents of an institution by id, for the checks of an application.
pub fn of_institution(
    conn: &mut DbConn,
    institution_id: i64,
    ids: &[i64],
) -> ApiResult<Vec<Document>> {
    Ok(documents::table
        .filter(documents::institution_id.eq(institution_id))
        .filter(documents::id.eq_any(ids))
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Row::into_document)
        .collect())
}

/// The extracted pages of one document (no access check: for the service's own checks).
pub fn pages_of(conn: &mut DbConn, id: i64) -> ApiResult<Vec<PageText>> {
    let pages: Option<JsonText<Vec<PageText>>> = documents::table
        .find(id)
        .select(documents::pages)
        .first(conn)?;
    Ok(pages.map(JsonText::into_inner).unwrap_or_default())
}

/// Refusals of an upload, as problems.
pub fn refusal(status: TextStatus, detail: Option<&str>) -> Option<ApiError> {
    match status {
        TextStatus::Encrypted => Some(ApiError::rule(
            "pdf_encrypted",
            "该 PDF 设置了打开密码，无法审核。请上传未加密的 PDF。",
            "The PDF needs a password to open; upload it without encryption.",
        )),
        TextStatus::Unreadable => Some(
            ApiError::rule(
                "pdf_unreadable",
                "文件不是有效的 PDF 或已损坏，无法读取。请重新导出后上传。",
                "The file is not a valid PDF or is damaged; export it again and upload it.",
            )
            .with_extra(serde_json::json!({ "detail": detail })),
        ),
        TextStatus::Ok | TextStatus::Partial | TextStatus::NoText | TextStatus::TextUnreadable => {
            None
        }
    }
}

pub fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
        Msg::new(
            format!("文件超过 {} MB 上限。", limit / (1024 * 1024)),
            format!(
                "The file exceeds the limit of {} MB.",
                limit / (1024 * 1024)
            ),
        ),
    )
}
