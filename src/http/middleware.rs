//! One middleware in front of every route: it gives each request an id (echoed in
//! `X-Request-Id`) and a tracing span, renders every error as problem+json in the client's
//! language (including the framework's own 404/405/413 defaults), and records the request in
//! the Prometheus metrics.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use tracing::Instrument;

use crate::error::{Lang, Problem};
use crate::http::RequestId;
use crate::ops::metrics::Metrics;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

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
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
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
    let method = req.method().clone();
    let path = req.path().to_owned();

    let span = tracing::info_span!("request", id = %request_id, %method, %path);
    let outcome = next.call(req).instrument(span.clone()).await;
    // Handlers' and extractors' errors arrive here as responses; an `Err` can only come from
    // a middleware further in, and is rendered by its own `ResponseError` (problem+json too).
    let response = outcome?.map_into_boxed_body();
    let mut response = render_problem(response, lang, &request_id);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }

    let status = response.status();
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
    let problem = response
        .response()
        .extensions()
        .get::<Problem>()
        .cloned()
        .unwrap_or_else(|| Problem::from_status(status));
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
