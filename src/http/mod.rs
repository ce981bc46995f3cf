//! HTTP plumbing shared by every capability: the request-id / problem / metrics middleware,
//! the refusal of control characters in every input channel, the JSON body extractor, and
//! pagination.

pub mod cache;
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

/// The client's address, as seen by the server (`X-Forwarded-For` only when configured).
pub fn client_ip(req: &HttpRequest, trust_forwarded: bool) -> String {
    let info = req.connection_info();
    let ip = if trust_forwarded {
        info.realip_remote_addr()
    } else {
        info.peer_addr()
    };
    ip.unwrap_or("unknown").to_owned()
}
