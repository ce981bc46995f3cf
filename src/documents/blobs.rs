//! Document contents in the database, so that every instance serves every document.
//!
//! One `document_blobs` row per distinct content, keyed by its SHA-256 (identical uploads share
//! it), and the bytes in `blob_chunks` rows of at most [`CHUNK_BYTES`], written and read one
//! chunk at a time: neither an upload nor a download holds a whole file in memory. The same
//! tables on both backends (BLOB / BYTEA), so backups, `pg_dump` and the code are ordinary.

use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
use sha2::{Digest, Sha256};

use crate::db::schema::{blob_chunks, document_blobs};
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult, Msg};

/// The largest chunk stored in one row.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// A stored content: its size and how many chunks hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blob {
    pub size_bytes: i64,
    pub chunk_count: i32,
}

/// Stores the file at `path` as the content `sha256`, unless that content is stored already.
/// Returns whether it was written. The bytes are hashed while they are copied: content that
/// does not match its name is refused (and the caller's transaction rolls back).
pub fn put_file(
    conn: &mut DbConn,
    sha256: &str,
    path: &Path,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let internal =
        |e: std::io::Error| ApiError::Internal(anyhow::anyhow!("{}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(internal)?;
    let size = file.metadata().map_err(internal)?.len();
    let chunk_count = size.div_ceil(CHUNK_BYTES as u64);
    // MultiBackend cannot express `on_conflict`; both engines accept this statement. The
    // database arbitrates two uploads of the same content: the second inserts nothing (on
    // PostgreSQL it waits for the first to commit) and the first writes the chunks.
    let inserted = diesel::sql_query(
        "INSERT INTO document_blobs (sha256, size_bytes, chunk_count, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING",
    )
    .bind::<Text, _>(sha256)
    .bind::<BigInt, _>(i64::try_from(size).unwrap_or(i64::MAX))
    .bind::<Integer, _>(i32::try_from(chunk_count).unwrap_or(i32::MAX))
    .bind::<Timestamp, _>(db_time(now))
    .execute(conn)?;
    if inserted == 0 {
        return Ok(false);
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK_BYTES];
    let mut seq = 0i32;
    loop {
        let n = fill(&mut file, &mut buf).map_err(internal)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        diesel::insert_into(blob_chunks::table)
            .values((
                blob_chunks::sha256.eq(sha256),
                blob_chunks::seq.eq(seq),
                blob_chunks::data.eq(&buf[..n]),
            ))
            .execute(conn)?;
        seq += 1;
    }
    let actual = hex::encode(hasher.finalize());
    if actual != sha256 || i64::from(seq) != i64::try_from(chunk_count).unwrap_or(-1) {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "{} changed while it was stored: SHA-256 {actual}, expected {sha256}",
            path.display()
        )));
    }
    Ok(true)
}

/// Reads until `buf` is full or the file ends.
fn fill(file: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The stored content `sha256` when it is complete (every chunk present), or the problem
/// `document_content_missing` for document `document_id`.
pub fn complete(conn: &mut DbConn, document_id: i64, sha256: &str) -> ApiResult<Blob> {
    let blob: Option<(i64, i32)> = document_blobs::table
        .find(sha256)
        .select((document_blobs::size_bytes, document_blobs::chunk_count))
        .first(conn)
        .optional()?;
    let chunks: i64 = blob_chunks::table
        .filter(blob_chunks::sha256.eq(sha256))
        .count()
        .get_result(conn)?;
    match blob {
        Some((size_bytes, chunk_count)) if i64::from(chunk_count) == chunks => Ok(Blob {
            size_bytes,
            chunk_count,
        }),
        _ => {
            tracing::error!(
                document_id,
                sha256,
                chunks,
                "document content missing or incomplete in the database"
            );
            Err(content_missing(document_id))
        }
    }
}

/// Chunk `seq` of the content `sha256`.
pub fn chunk(conn: &mut DbConn, document_id: i64, sha256: &str, seq: i32) -> ApiResult<Vec<u8>> {
    blob_chunks::table
        .find((sha256, seq))
        .select(blob_chunks::data)
        .first(conn)
        .optional()?
        .ok_or_else(|| content_missing(document_id))
}

/// Whether any content is stored under `sha256`.
pub fn exists(conn: &mut DbConn, sha256: &str) -> ApiResult<bool> {
    Ok(document_blobs::table
        .find(sha256)
        .select(document_blobs::sha256)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// 410: the document is recorded but its content is not (or not wholly) in the database.
pub fn content_missing(document_id: i64) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::GONE,
        "document_content_missing",
        Msg::new(
            format!("文件 {document_id} 的内容缺失或不完整，无法下载，请联系管理员从备份恢复。"),
            format!(
                "The content of document {document_id} is missing or incomplete; \
                 an administrator can restore it from a backup."
            ),
        ),
    )
}

/// What moving a data directory's document files into the database did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Moved {
    /// Files stored in the database now.
    pub stored: usize,
    /// Files whose content the database held already.
    pub already_stored: usize,
    /// Files left in place: their content does not match their name, or they are not named
    /// by a SHA-256.
    pub skipped: Vec<String>,
}

/// Moves the content-addressed files of `<data dir>/documents/` (the storage before contents
/// moved into the database) into the database, one transaction per file, and removes each
/// file once its content is committed. Idempotent: a second run finds nothing to move.
pub fn move_files_in(
    conn: &mut DbConn,
    data_dir: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<Moved> {
    let root = data_dir.join("documents");
    let mut moved = Moved::default();
    if !root.is_dir() {
        return Ok(moved);
    }
    let mut dirs: Vec<_> = std::fs::read_dir(&root)?.collect::<Result<_, _>>()?;
    dirs.sort_by_key(std::fs::DirEntry::file_name);
    for dir in dirs.into_iter().filter(|d| d.path().is_dir()) {
        let mut files: Vec<_> = std::fs::read_dir(dir.path())?.collect::<Result<_, _>>()?;
        files.sort_by_key(std::fs::DirEntry::file_name);
        for file in files {
            let path = file.path();
            let name = file.file_name().to_string_lossy().into_owned();
            if !is_sha256(&name) {
                moved.skipped.push(path.display().to_string());
                continue;
            }
            match crate::db::write_tx(conn, |c| put_file(c, &name, &path, now)) {
                Ok(true) => moved.stored += 1,
                Ok(false) => moved.already_stored += 1,
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = ?e, "document file not moved");
                    moved.skipped.push(path.display().to_string());
                    continue;
                }
            }
            std::fs::remove_file(&path)?;
        }
        // Only removed when empty: skipped files stay where they were.
        let _ = std::fs::remove_dir(dir.path());
    }
    let _ = std::fs::remove_dir(&root);
    Ok(moved)
}

fn is_sha256(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lowercase_hex_of_64_digits_names_a_content() {
        assert!(is_sha256(&"ab".repeat(32)));
        assert!(!is_sha256(&"AB".repeat(32)));
        assert!(!is_sha256(&"ab".repeat(31)));
        assert!(!is_sha256("upload-1234"));
    }

    #[test]
    fn fill_reads_whole_chunks_from_short_reads() {
        struct Trickle(Vec<u8>);
        impl Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = 3.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0.drain(..n);
                Ok(n)
            }
        }
        let mut source = Trickle((0..10).collect());
        let mut buf = [0u8; 8];
        assert_eq!(fill(&mut source, &mut buf).unwrap(), 8);
        assert_eq!(fill(&mut source, &mut buf).unwrap(), 2);
        assert_eq!(fill(&mut source, &mut buf).unwrap(), 0);
    }
}
