//! Open-data endpoints (public): for each list (`/pool/…` and `/bans/…`, one handler for both)
//! the list of versions, a signed snapshot and its detached signature, the change feed (JSON
//! and Atom); and the public keys.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use base64::Engine as _;

use super::feed::{self, FeedPage, FeedQuery};
use super::snapshot::{self, SnapshotDocument, SnapshotRef};
use super::{List, changes_after, current_version};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult, ProblemBody};
use crate::http::routes::Register;
use crate::signing::{self, PublishedKey};

/// Registers the open-data routes (one line in `startup::routes`).
pub fn configure(cfg: &mut impl Register) {
    cfg.service(snapshot_list)
        .service(snapshot_document)
        .service(snapshot_signature)
        .service(change_feed)
        .service(change_feed_atom)
        .service(list_keys)
        .service(keys_pem)
        .service(key_pem);
}

/// The versions of a list (a page after `since`), each with its snapshot's SHA-256.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SnapshotList {
    pub list: ListName,
    pub current_version: i64,
    /// The id of the key this service signs with now.
    pub key_id: String,
    pub items: Vec<SnapshotRef>,
    /// Ask again with `since` = this for the next page; `null` at the current version.
    pub next_since: Option<i64>,
}

async fn list_snapshots(
    state: web::Data<AppState>,
    list: List,
    query: FeedQuery,
) -> ApiResult<HttpResponse> {
    let key_id = state.signer.key_id.clone();
    let body = state
        .run(move |conn| {
            let current = current_version(conn, list)?;
            // `since` may be any non-negative i64: past the current version the page is empty.
            let from = query.since().saturating_add(1);
            let to = query.since().saturating_add(query.limit()).min(current);
            let items = snapshot::refs(conn, list, from, to)?;
            Ok(SnapshotList {
                list: match list {
                    List::Pool => ListName::Pool,
                    List::Bans => ListName::Bans,
                },
                current_version: current,
                key_id,
                next_since: (to < current && !items.is_empty()).then_some(to),
                items,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

fn no_version() -> ApiError {
    ApiError::not_found("该版本", "version")
}

async fn signed_snapshot(
    state: web::Data<AppState>,
    list: List,
    version: i64,
    signature_only: bool,
) -> ApiResult<HttpResponse> {
    let snap = state
        .run(move |conn| snapshot::at(conn, list, version)?.ok_or_else(no_version))
        .await?;
    let signature = state.signer.sign(&snap.bytes);
    let mut res = HttpResponse::Ok();
    res.insert_header(("X-Snapshot-Key-Id", state.signer.key_id.as_str()))
        .insert_header(("X-Snapshot-Sha256", snap.sha256.as_str()))
        .insert_header((
            "X-Snapshot-Signature",
            base64::engine::general_purpose::STANDARD.encode(signature),
        ));
    let file = format!("{}-{version}", list.as_str());
    Ok(if signature_only {
        res.insert_header((header::CONTENT_TYPE, "application/octet-stream"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}.json.sig\""),
            ))
            .body(signature.to_vec())
    } else {
        res.insert_header((header::CONTENT_TYPE, "application/json"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}.json\""),
            ))
            .body(snap.bytes)
    })
}

async fn list_changes(
    state: web::Data<AppState>,
    list: List,
    query: FeedQuery,
) -> ApiResult<HttpResponse> {
    let page = state
        .run(move |conn| {
            let current = current_version(conn, list)?;
            let changes = changes_after(conn, list, query.since(), query.limit())?;
            Ok(FeedPage::new(list, query.since(), current, changes)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn atom_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    list: List,
    query: FeedQuery,
) -> ApiResult<HttpResponse> {
    let since = query.since;
    let mut changes = state
        .run(move |conn| {
            let current = current_version(conn, list)?;
            // Without `since`, the newest changes (what a feed reader polls for).
            let after = since.map_or((current - feed::ATOM_ENTRIES).max(0), |s| s.max(0));
            Ok(changes_after(conn, list, after, feed::ATOM_ENTRIES)?)
        })
        .await?
        .into_iter()
        .map(feed::FeedChange::try_from)
        .collect::<diesel::QueryResult<Vec<_>>>()?;
    changes.reverse();
    let info = req.connection_info();
    let base = format!("{}://{}", info.scheme(), info.host());
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/atom+xml; charset=utf-8"))
        .body(feed::atom(list, &base, &changes, state.clock.now())))
}

/// A published list in a path: `pool` or `bans`.
#[derive(Debug, Clone, Copy, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListName {
    Pool,
    Bans,
}

impl From<ListName> for List {
    fn from(l: ListName) -> Self {
        match l {
            ListName::Pool => List::Pool,
            ListName::Bans => List::Bans,
        }
    }
}

/// List a list's versions (`pool` or `bans`), each with its snapshot's SHA-256 (a page after
/// `since`).
#[utoipa::path(
    tag = "open data",
    operation_id = "list_snapshots",
    params(("list" = ListName, Path, description = "`pool` or `bans`"), FeedQuery),
    responses(
        (status = 200, body = SnapshotList, description = "Versions after `since`, oldest first."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such list"),
    ),
)]
#[get("/{list:pool|bans}/snapshots")]
pub async fn snapshot_list(
    state: web::Data<AppState>,
    list: web::Path<ListName>,
    query: web::Query<FeedQuery>,
) -> ApiResult<HttpResponse> {
    list_snapshots(state, list.into_inner().into(), query.into_inner()).await
}

/// A whole list (the pool or the bans) at one version, as canonical JSON (RFC 8785): the exact
/// bytes the Ed25519 signature covers (in `X-Snapshot-Signature`, and raw at `…/signature`),
/// with the previous version's SHA-256 inside. Verify with `provider-registry verify-snapshot`
/// or OpenSSL.
#[utoipa::path(
    tag = "open data",
    operation_id = "get_snapshot",
    params(
        ("list" = ListName, Path, description = "`pool` or `bans`"),
        ("version" = i64, Path, minimum = 1, description = "the list's version"),
    ),
    responses(
        (status = 200, body = SnapshotDocument, content_type = "application/json", description = "The canonical snapshot, as an attachment.",
            headers(
                ("X-Snapshot-Signature" = String, description = "Base64 Ed25519 signature of the body."),
                ("X-Snapshot-Key-Id" = String, description = "The signing key's id (`GET /pool/keys`)."),
                ("X-Snapshot-Sha256" = String, description = "Hex SHA-256 of the body."),
            )),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such list or version yet"),
    ),
)]
#[get("/{list:pool|bans}/snapshots/{version:\\d+}")]
pub async fn snapshot_document(
    state: web::Data<AppState>,
    path: web::Path<(ListName, i64)>,
) -> ApiResult<HttpResponse> {
    let (list, version) = path.into_inner();
    signed_snapshot(state, list.into(), version, false).await
}

/// The detached Ed25519 signature (64 raw bytes) of a snapshot, for
/// `openssl pkeyutl -verify -rawin -sigfile`.
#[utoipa::path(
    tag = "open data",
    operation_id = "get_snapshot_signature",
    params(
        ("list" = ListName, Path, description = "`pool` or `bans`"),
        ("version" = i64, Path, minimum = 1, description = "the list's version"),
    ),
    responses(
        (status = 200, content_type = "application/octet-stream", body = inline(crate::documents::routes::FileBytes), description = "64 bytes.",
            headers(
                ("X-Snapshot-Signature" = String, description = "The same signature, base64."),
                ("X-Snapshot-Key-Id" = String, description = "The signing key's id."),
                ("X-Snapshot-Sha256" = String, description = "Hex SHA-256 of the snapshot."),
            )),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such list or version yet"),
    ),
)]
#[get("/{list:pool|bans}/snapshots/{version:\\d+}/signature")]
pub async fn snapshot_signature(
    state: web::Data<AppState>,
    path: web::Path<(ListName, i64)>,
) -> ApiResult<HttpResponse> {
    let (list, version) = path.into_inner();
    signed_snapshot(state, list.into(), version, true).await
}

/// A list's change feed (`pool` or `bans`): the changes after version `since`, oldest first
/// (follow `next_since`).
#[utoipa::path(
    tag = "open data",
    operation_id = "list_changes",
    params(("list" = ListName, Path, description = "`pool` or `bans`"), FeedQuery),
    responses(
        (status = 200, body = FeedPage, description = "Changes after `since`."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such list"),
    ),
)]
#[get("/{list:pool|bans}/changes")]
pub async fn change_feed(
    state: web::Data<AppState>,
    list: web::Path<ListName>,
    query: web::Query<FeedQuery>,
) -> ApiResult<HttpResponse> {
    list_changes(state, list.into_inner().into(), query.into_inner()).await
}

/// A list's changes as an Atom 1.0 feed: the newest 100, or up to 100 after `since`.
#[utoipa::path(
    tag = "open data",
    operation_id = "get_changes_atom",
    params(("list" = ListName, Path, description = "`pool` or `bans`"), FeedQuery),
    responses(
        (status = 200, content_type = "application/atom+xml", body = String, description = "Atom 1.0 (RFC 4287), newest first; `limit` is ignored."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such list"),
    ),
)]
#[get("/{list:pool|bans}/changes.atom")]
pub async fn change_feed_atom(
    req: HttpRequest,
    state: web::Data<AppState>,
    list: web::Path<ListName>,
    query: web::Query<FeedQuery>,
) -> ApiResult<HttpResponse> {
    atom_feed(req, state, list.into_inner().into(), query.into_inner()).await
}

/// The keys that signed snapshots: the current one and every earlier one.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct KeyList {
    /// The id of the key this service signs with now.
    pub current: String,
    pub keys: Vec<PublishedKey>,
}

/// The public keys of the snapshot signatures (Ed25519, SubjectPublicKeyInfo PEM), the current
/// one and every key that signed before a rotation.
#[utoipa::path(
    tag = "open data",
    operation_id = "list_signing_keys",
    responses((status = 200, body = KeyList, description = "Every key that signed, oldest first.")),
)]
#[get("/pool/keys")]
pub async fn list_keys(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let current = state.signer.key_id.clone();
    let published = state.run(|conn| Ok(signing::published(conn)?)).await?;
    Ok(HttpResponse::Ok().json(KeyList {
        current,
        keys: published,
    }))
}

/// Every public key as one PEM file (for `verify-snapshot --key`).
#[utoipa::path(
    tag = "open data",
    operation_id = "get_signing_keys_pem",
    responses((status = 200, content_type = "application/x-pem-file", body = String, description = "The PEM blocks, oldest first.")),
)]
#[get("/pool/keys.pem")]
pub async fn keys_pem(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let published = state.run(|conn| Ok(signing::published(conn)?)).await?;
    Ok(pem(published
        .into_iter()
        .map(|k| k.public_key_pem)
        .collect()))
}

/// One public key as PEM, by key id (for `openssl pkeyutl -verify -pubin -inkey`).
#[utoipa::path(
    tag = "open data",
    operation_id = "get_signing_key",
    params(("key_id" = String, Path, description = "key id (16 hex digits)")),
    responses(
        (status = 200, content_type = "application/x-pem-file", body = String, description = "SubjectPublicKeyInfo PEM."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`not_found`: no such key"),
    ),
)]
#[get("/pool/keys/{key_id}")]
pub async fn key_pem(
    state: web::Data<AppState>,
    key_id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let key_id = key_id.into_inner();
    let published = state.run(|conn| Ok(signing::published(conn)?)).await?;
    let key = published
        .into_iter()
        .find(|k| k.key_id == key_id)
        .ok_or_else(|| ApiError::not_found("密钥", "key"))?;
    Ok(pem(key.public_key_pem))
}

fn pem(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/x-pem-file"))
        .body(body)
}
