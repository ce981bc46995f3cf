//! Snapshots: a list as it stood at one version, as canonical JSON (RFC 8785, JCS), rebuilt
//! deterministically from the change rows, so every request for version N gets the same bytes.
//!
//! The document (keys in JCS order):
//!
//! ```text
//! {"as_of":"<instant of change N>","count":<items>,"items":[<records by id>],"list":"pool",
//!  "previous_sha256":"<SHA-256 of snapshot N-1>"|null,"version":N}
//! ```
//!
//! `previous_sha256` chains each snapshot to the one before, so a copy holding versions N-1 and
//! N can check that nothing was dropped between them. The signature (by [`crate::signing`]) is
//! over exactly these bytes and travels beside them, with the key id, so the chain does not
//! change when the key is rotated. A version's hash is computed the first time a snapshot at or
//! after it is asked for and kept in its change row (`sha256`); computing a hash needs every
//! earlier one, so the first request after many changes walks them all once.

use std::collections::BTreeMap;

use chrono::SecondsFormat;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{Change, List};
use crate::db::schema::open_data_changes;
use crate::db::{self, DbConn};

/// Kinds of change after which the subject is no longer in its list.
const LEAVING: [&str; 2] = ["removed", "expired"];

/// A snapshot's canonical bytes and their SHA-256.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub version: i64,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// The shape of a snapshot document (for the OpenAPI description; the body is the canonical
/// bytes themselves).
#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotDocument {
    /// The instant of the change that made this version (UTC).
    #[schema(value_type = String, format = DateTime)]
    pub as_of: String,
    /// Number of items.
    pub count: i64,
    /// The entries (pool: `PublicEntry`) or bans (`PublicBan`), by id.
    pub items: Vec<serde_json::Value>,
    /// `pool` or `bans`.
    pub list: String,
    /// Hex SHA-256 of the snapshot of the previous version (`null` for version 1).
    pub previous_sha256: Option<String>,
    pub version: i64,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The canonical document of `change.version`, given the list's items after it. Records are
/// stored canonical, and JCS writes an array as its canonical elements joined by commas, so
/// the document is assembled around them (the test checks it against the canonicaliser).
fn render(
    list: List,
    change: &Change,
    previous: Option<&str>,
    items: &BTreeMap<i64, &str>,
) -> Vec<u8> {
    let as_of = change
        .occurred_at
        .and_utc()
        .to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let mut out = Vec::with_capacity(128 + items.values().map(|r| r.len() + 1).sum::<usize>());
    out.extend_from_slice(b"{\"as_of\":\"");
    out.extend_from_slice(as_of.as_bytes());
    out.extend_from_slice(format!("\",\"count\":{},\"items\":[", items.len()).as_bytes());
    for (i, record) in items.values().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(record.as_bytes());
    }
    out.extend_from_slice(
        format!("],\"list\":\"{}\",\"previous_sha256\":", list.as_str()).as_bytes(),
    );
    match previous {
        Some(h) => out.extend_from_slice(format!("\"{h}\"").as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(format!(",\"version\":{}}}", change.version).as_bytes());
    out
}

/// The list at `version` (`None` if there is no such version yet). Hashes of the versions
/// walked that were not stored yet are stored (in their own short write transaction).
pub fn at(conn: &mut DbConn, list: List, version: i64) -> QueryResult<Option<Snapshot>> {
    if version < 1 || version > super::current_version(conn, list)? {
        return Ok(None);
    }
    let changes: Vec<Change> = open_data_changes::table
        .filter(open_data_changes::list.eq(list.as_str()))
        .filter(open_data_changes::version.le(version))
        .order(open_data_changes::version.asc())
        .select(Change::as_select())
        .load(conn)?;
    let mut items: BTreeMap<i64, &str> = BTreeMap::new();
    let mut previous: Option<String> = None;
    let mut fresh: Vec<(i64, String)> = Vec::new();
    let mut snapshot = None;
    for change in &changes {
        if LEAVING.contains(&change.kind.as_str()) {
            items.remove(&change.subject_id);
        } else {
            items.insert(change.subject_id, &change.record);
        }
        let hash = if change.version == version || change.sha256.is_none() {
            let bytes = render(list, change, previous.as_deref(), &items);
            let hash = sha256_hex(&bytes);
            if change.sha256.is_none() {
                fresh.push((change.version, hash.clone()));
            }
            if change.version == version {
                snapshot = Some(Snapshot {
                    version,
                    bytes,
                    sha256: hash.clone(),
                });
            }
            hash
        } else {
            change.sha256.clone().unwrap_or_default()
        };
        previous = Some(hash);
    }
    if !fresh.is_empty() {
        db::write_tx(conn, |c| -> QueryResult<()> {
            for (v, hash) in &fresh {
                diesel::update(
                    open_data_changes::table
                        .filter(open_data_changes::list.eq(list.as_str()))
                        .filter(open_data_changes::version.eq(v))
                        .filter(open_data_changes::sha256.is_null()),
                )
                .set(open_data_changes::sha256.eq(hash))
                .execute(c)?;
            }
            Ok(())
        })?;
    }
    Ok(snapshot)
}

/// A version in the list of snapshots.
#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotRef {
    pub version: i64,
    /// What made this version: `admitted`, `removed`, `expired`, `items_changed` (pool) or
    /// `recorded` (bans).
    pub kind: String,
    #[schema(value_type = String, format = DateTime)]
    pub as_of: chrono::DateTime<chrono::Utc>,
    /// Hex SHA-256 of the snapshot's bytes (what the next version's `previous_sha256` says).
    pub sha256: String,
}

/// Versions `from..=to`, their hashes computed where missing.
pub fn refs(conn: &mut DbConn, list: List, from: i64, to: i64) -> QueryResult<Vec<SnapshotRef>> {
    if to < from.max(1) {
        return Ok(Vec::new());
    }
    // Computing `to` stores every hash up to it.
    at(conn, list, to)?;
    let rows: Vec<Change> = open_data_changes::table
        .filter(open_data_changes::list.eq(list.as_str()))
        .filter(open_data_changes::version.between(from, to))
        .order(open_data_changes::version.asc())
        .select(Change::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|c| SnapshotRef {
            version: c.version,
            kind: c.kind,
            as_of: c.occurred_at.and_utc(),
            sha256: c.sha256.unwrap_or_default(),
        })
        .collect())
}

/// What an offline check of a snapshot file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub list: String,
    pub version: i64,
    pub sha256: String,
    pub previous_sha256: Option<String>,
    /// The key whose signature matched.
    pub key_id: String,
}

/// Checks a snapshot file offline: `signature` (64 raw bytes, or their base64) is one of
/// `keys`' Ed25519 signature of exactly `bytes`, and the bytes are canonical JSON (RFC 8785)
/// of a snapshot document.
pub fn verify(
    bytes: &[u8],
    signature: &[u8],
    keys: &[ed25519_dalek::VerifyingKey],
) -> Result<Verified, String> {
    use base64::Engine as _;
    let signature = if signature.len() == 64 {
        signature.to_vec()
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(String::from_utf8_lossy(signature).trim())
            .map_err(|_| "the signature is neither 64 bytes nor their base64".to_owned())?
    };
    let key = keys
        .iter()
        .find(|k| crate::signing::verify(k, bytes, &signature))
        .ok_or_else(|| {
            format!(
                "the signature does not match the file under any of the {} key(s)",
                keys.len()
            )
        })?;
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    if serde_json_canonicalizer::to_vec(&value).ok().as_deref() != Some(bytes) {
        return Err("signed, but not canonical JSON (RFC 8785)".into());
    }
    Ok(Verified {
        list: value["list"].as_str().unwrap_or_default().to_owned(),
        version: value["version"].as_i64().unwrap_or_default(),
        sha256: sha256_hex(bytes),
        previous_sha256: value["previous_sha256"].as_str().map(str::to_owned),
        key_id: crate::signing::key_id(key),
    })
}

/// The hex SHA-256 of a file's bytes (to compare with the next snapshot's `previous_sha256`).
pub fn file_sha256(bytes: &[u8]) -> String {
    sha256_hex(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(version: i64, record: &str) -> Change {
        Change {
            version,
            kind: "admitted".into(),
            institution_id: 1,
            subject_id: version,
            occurred_at: chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
                .and_then(|d| d.and_hms_micro_opt(2, 0, 0, 120_000))
                .unwrap_or_default(),
            record: record.into(),
            sha256: None,
        }
    }

    #[test]
    fn the_assembled_document_is_what_the_canonicaliser_writes() {
        let a = serde_json_canonicalizer::to_string(&serde_json::json!({
            "name": "南宁市青秀区\"星光\"体育培训中心", "uscc": "52450100MJ0000001X", "n": 1e21, "items": [{"code": "sports.basketball"}]
        }))
        .unwrap_or_default();
        let b =
            serde_json_canonicalizer::to_string(&serde_json::json!({"z": null, "a": [true, 0.5]}))
                .unwrap_or_default();
        let mut items = BTreeMap::new();
        items.insert(2, b.as_str());
        items.insert(1, a.as_str());
        for previous in [None, Some("ab".repeat(32))] {
            let bytes = render(List::Pool, &change(7, &a), previous.as_deref(), &items);
            let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            assert_eq!(
                String::from_utf8(bytes.clone()).unwrap_or_default(),
                serde_json_canonicalizer::to_string(&value).unwrap_or_default()
            );
            assert_eq!(value["count"], 2);
            assert_eq!(value["as_of"], "2026-03-02T02:00:00.120Z");
            assert_eq!(value["items"][0]["uscc"], "52450100MJ0000001X");
        }
    }
}
