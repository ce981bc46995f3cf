//! HTTP plumbing shared by every capability: the request-id / problem / metrics middleware,
//! the refusal of control characters in every input channel, the JSON body extractor, and
//! pagination.

pub mod input;
pub mod json;
pub mod metrics;
pub mod middleware;
pub mod pagination;
pub mod routes;

pub use json::Json;
pub use pagination::{Page, PageQuery};

use actix_web::{HttpMessage, HttpRequest};

/// The id of the current request (from a valid `X-Request-Id` header, or generated).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The request id of a request, as set by the middleware.
pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|r| r.0.clone())
}

/// The client's address: the connection's peer, or the address a trusted proxy forwarded
/// for (`REGISTRY_TRUSTED_PROXIES`, see [`crate::config::proxies`]).
pub fn client_ip(req: &HttpRequest, trusted: &crate::config::proxies::TrustedProxies) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".to_owned();
    };
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    trusted.client(peer, &forwarded).to_string()
}
