//! One middleware in front of every route: it gives each request an id (echoed in
//! `X-Request-Id`) and a tracing span, refuses oversized request heads, renders every error as
//! problem+json in the client's language (including the framework's own 404/405/413 defaults),
//! sets the security headers of every response, and records the request in the Prometheus
//! metrics.
//!
//! It sits *inside* `Compress` (see `startup`): it replaces error bodies, and a body replaced
//! after compression would keep a `Content-Encoding` that no longer describes it.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderMap, HeaderName,
    HeaderValue, REFERRER_POLICY, WWW_AUTHENTICATE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use tracing::Instrument;

use crate::error::{ApiError, Lang, Msg, Problem};
use crate::http::RequestId;
use crate::http::metrics::Metrics;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request target (path and query) served; longer ones get 414. Browsers and
/// proxies stop at about 8 KiB too, so nothing legitimate is longer.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The largest sum of header names and values served; larger heads get 431. (Past 128 KiB
/// or 96 headers the HTTP parser itself refuses the request before any service runs.)
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The content security policy of the Swagger UI (its scripts and styles are vendored and
/// served from `/docs`; it inlines styles and shows data: images).
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";
/// Everything else is data, never a document to render.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// A client-supplied request id is kept only if it is short and plain, so it cannot inject
/// anything into logs.
fn valid_request_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

pub async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    // Logged and counted as asked.
    let method = req.method().clone();
    // HEAD is GET without the body (RFC 9110 §9.3.2): routed as GET; the HTTP codec noted
    // the HEAD when it parsed the request and sends no body.
    if method == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let lang = Lang::from_accept_language(
        req.headers()
            .get("accept-language")
            .and_then(|v| v.to_str().ok()),
    );
    req.extensions_mut().insert(RequestId(request_id.clone()));
    req.extensions_mut().insert(lang);
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let path = req.path().to_owned();
    let private = is_private(&path, req.headers());
    let had_credentials = req.headers().contains_key(AUTHORIZATION);

    let span = tracing::info_span!("request", id = %request_id, %method, %path);
    let response = match oversized_head(&req) {
        Some(err) => req.error_response(err),
        // Handlers' and extractors' errors arrive here as responses; an `Err` can only come
        // from a middleware further in, and is rendered by its own `ResponseError`.
        None => next
            .call(req)
            .instrument(span.clone())
            .await?
            .map_into_boxed_body(),
    };
    let mut response = render_problem(response, lang, &request_id);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status();
    security_headers(
        response.headers_mut(),
        &path,
        private,
        had_credentials,
        status,
    );

    let elapsed = started.elapsed();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    if let Some(metrics) = metrics {
        metrics.observe_request(method.as_str(), &route, status.as_u16(), elapsed);
    }
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1e3,
            "served"
        )
    });
    Ok(response)
}

/// 414 for a request target over [`MAX_URI_BYTES`], 431 for headers over [`MAX_HEADER_BYTES`].
fn oversized_head(req: &ServiceRequest) -> Option<ApiError> {
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return Some(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            Msg::new(
                format!("请求地址过长（{uri_len} 字节，上限 {MAX_URI_BYTES} 字节）。"),
                format!(
                    "The request target is {uri_len} bytes long; at most {MAX_URI_BYTES} are served."
                ),
            ),
        ));
    }
    let header_len: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_len > MAX_HEADER_BYTES {
        return Some(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            Msg::new(
                format!("请求头过大（{header_len} 字节，上限 {MAX_HEADER_BYTES} 字节）。"),
                format!(
                    "The request headers take {header_len} bytes; at most {MAX_HEADER_BYTES} are served."
                ),
            ),
        ));
    }
    None
}

/// A response that no shared cache or browser history may keep: anything answered to
/// credentials, and the sign-in and registration answers that carry tokens.
fn is_private(path: &str, headers: &HeaderMap) -> bool {
    headers.contains_key(AUTHORIZATION) || path.starts_with("/api/v1/auth/")
}

/// The headers every response carries (ASVS V14.4): no MIME sniffing, no framing, no
/// referrer, a content security policy, `no-store` for private answers, and the RFC 6750
/// challenge on 401.
fn security_headers(
    headers: &mut HeaderMap,
    path: &str,
    private: bool,
    had_credentials: bool,
    status: StatusCode,
) {
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // A response that allows its own framing (a document the reviewer's dossier embeds,
    // `SAMEORIGIN`, with its CSP `frame-ancestors 'self'`) keeps it; everything else is `DENY`.
    if !headers.contains_key(X_FRAME_OPTIONS) {
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        let csp = if path == "/docs" || path.starts_with("/docs/") {
            DOCS_CSP
        } else {
            API_CSP
        };
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
    if private {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if status == StatusCode::UNAUTHORIZED && !headers.contains_key(WWW_AUTHENTICATE) {
        let challenge = if had_credentials {
            r#"Bearer realm="provider-registry", error="invalid_token""#
        } else {
            r#"Bearer realm="provider-registry""#
        };
        headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
}

/// Makes every error response problem+json in the request's language.
fn render_problem(
    response: ServiceResponse<BoxBody>,
    lang: Lang,
    request_id: &str,
) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() {
        return response;
    }
    let problem = response.response().extensions().get::<Problem>().cloned();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let handler_json = content_type.is_some_and(|v| v.starts_with("application/json"));
    // The portal's pages answer their own HTML error pages.
    let handler_html = content_type.is_some_and(|v| v.starts_with("text/html"));
    let problem = match problem {
        Some(problem) => problem,
        // A handler's own documented JSON answer (the readiness report of a 503) stays.
        None if handler_json || handler_html => return response,
        None => Problem::from_status(status),
    };
    let body =
        serde_json::to_vec(&problem.body(lang, Some(request_id.to_owned()))).unwrap_or_default();
    let mut response = response.map_body(|_, _| BoxBody::new(body));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    headers.remove(actix_web::http::header::CONTENT_LENGTH);
    response
}

#[cfg(test)]
mod tests {
    use actix_web::HttpResponse;
    use actix_web::body::MessageBody;
    use actix_web::test::TestRequest;

    use super::*;

    fn body_of(response: ServiceResponse<BoxBody>) -> serde_json::Value {
        let bytes = response.into_body().try_into_bytes().unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    #[test]
    fn a_handlers_own_json_error_answer_is_kept() {
        let response = TestRequest::default()
            .to_srv_response(HttpResponse::ServiceUnavailable().json(serde_json::json!({
                "database": false, "migrations": false
            })))
            .map_into_boxed_body();
        let rendered = render_problem(response, Lang::Zh, "r1");
        assert_eq!(
            rendered.headers().get(CONTENT_TYPE).unwrap(),
            "application/json"
        );
        assert_eq!(body_of(rendered)["database"], false);
    }

    #[test]
    fn a_framework_default_error_becomes_a_problem() {
        let response = TestRequest::default()
            .to_srv_response(HttpResponse::NotFound().body("plain text"))
            .map_into_boxed_body();
        let rendered = render_problem(response, Lang::En, "r2");
        assert_eq!(
            rendered.headers().get(CONTENT_TYPE).unwrap(),
            "application/problem+json"
        );
        let body = body_of(rendered);
        assert_eq!(body["code"], "not_found");
        assert_eq!(body["request_id"], "r2");
    }
}
