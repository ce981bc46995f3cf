//! The portal's stylesheet, served by the service itself (no CDN, no web fonts): pages link
//! `/assets/site.css?v=<hash>`, so the file is cached for a year (`immutable`) and a new build
//! changes the link; the `ETag` (the same content hash) answers revalidations with 304.

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get};
use sha2::{Digest, Sha256};

const SITE_CSS: &str = include_str!("site.css");

/// The first 16 hex digits of the stylesheet's SHA-256.
pub fn css_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hex::encode(&Sha256::digest(SITE_CSS.as_bytes())[..8]))
}

/// The link pages use.
pub fn css_url() -> String {
    format!("/assets/site.css?v={}", css_hash())
}

#[get("/assets/site.css")]
pub async fn stylesheet(req: HttpRequest) -> HttpResponse {
    let etag = format!("\"{}\"", css_hash());
    let cached = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if cached {
        HttpResponse::NotModified().finish()
    } else {
        HttpResponse::Ok()
            .content_type("text/css; charset=utf-8")
            .body(SITE_CSS)
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}
