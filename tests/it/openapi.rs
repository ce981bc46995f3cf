//! The OpenAPI document is the contract: any change to it shows up here, in review.
//! Run with `UPDATE_SNAPSHOTS=1` to accept a deliberate change.
//!
//! Beyond the snapshot: the document's own invariants (descriptions, operationIds, references,
//! the statuses every operation's shape implies), and, against the running service, that each
//! operation's security requirement is what its guard enforces.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use crate::common::{TestApp, assert_problem, fixture};
use provider_registry::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ROLES: [Role; 4] = [Role::Institution, Role::Reviewer, Role::School, Role::Admin];

fn document() -> Value {
    serde_json::to_value(provider_registry::openapi::document()).unwrap()
}

/// Every operation: (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    out
}

/// How an operation declares an account's token: `None` without one (public, or the operators'
/// `metrics_token`), `Some((optional, roles))` otherwise (no roles: any signed-in account).
fn security(op: &Value) -> Option<(bool, Vec<String>)> {
    let requirements = op["security"].as_array()?;
    if !requirements.iter().any(|r| r.get("bearer").is_some()) {
        return None;
    }
    let optional = requirements
        .iter()
        .any(|r| r.as_object().is_some_and(|o| o.is_empty()));
    let roles = requirements
        .iter()
        .filter_map(|r| r["bearer"].as_array())
        .flatten()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    Some((optional, roles))
}

#[test]
fn openapi_document_matches_the_snapshot() {
    let doc = serde_json::to_string_pretty(&provider_registry::openapi::document()).unwrap() + "\n";
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &doc).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert!(
        expected == doc,
        "the OpenAPI document changed; review it and rerun with UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn every_error_response_is_documented_as_problem_json() {
    for (method, path, op) in operations(&document()) {
        for (status, response) in op["responses"].as_object().unwrap() {
            // The readiness report is the body of its own 503 (for probes and operators).
            if (status.starts_with('4') || status.starts_with('5')) && path != "/readyz" {
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{method} {path} {status} is not documented as problem+json"
                );
            }
        }
    }
}

/// OpenAPI requires a description on every response object.
#[test]
fn every_response_has_a_description() {
    for (method, path, op) in operations(&document()) {
        for (status, response) in op["responses"].as_object().unwrap() {
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| !d.trim().is_empty()),
                "{method} {path} {status} has no description"
            );
        }
    }
}

/// Generated clients name their functions after operationIds: one per operation, stable,
/// `verb_resource`.
#[test]
fn operation_ids_are_unique_verb_resource_names() {
    let mut seen = BTreeSet::new();
    for (method, path, op) in operations(&document()) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(
            id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                && !id.starts_with('_')
                && !id.ends_with('_')
                && !id.contains("__"),
            "{method} {path}: `{id}` is not snake_case"
        );
        assert!(
            seen.insert(id.to_owned()),
            "operationId `{id}` is used twice"
        );
    }
}

/// Every `$ref` names a component that exists.
#[test]
fn every_reference_resolves() {
    fn walk(value: &Value, doc: &Value, at: &str) {
        match value {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                    let pointer = reference.trim_start_matches('#');
                    assert!(
                        doc.pointer(pointer).is_some(),
                        "{at}: `{reference}` does not resolve"
                    );
                }
                for (key, v) in map {
                    walk(v, doc, &format!("{at}/{key}"));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, doc, &format!("{at}/{i}"));
                }
            }
            _ => {}
        }
    }
    let doc = document();
    walk(&doc, &doc, "");
}

/// The statuses that follow from an operation's declaration are all documented (the
/// `FrameworkResponses` modifier of `src/openapi.rs` adds them): 400 for parameters and
/// bodies, 401 for a required token (every 401 with `WWW-Authenticate`), 403 for a role list,
/// 413 for bodies read whole, 415 for every body, 422 for JSON bodies, and 422
/// `control_character` everywhere.
#[test]
fn every_operation_documents_the_statuses_its_shape_implies() {
    for (method, path, op) in operations(&document()) {
        let responses = &op["responses"];
        let has = |status: &str| responses[status].is_object();
        let parameters = op["parameters"].as_array().cloned().unwrap_or_default();
        let body: Vec<String> = op["requestBody"]["content"]
            .as_object()
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default();
        let typed_path = parameters
            .iter()
            .any(|p| p["in"] == "path" && p["schema"]["type"] != "string");
        let query = parameters.iter().any(|p| p["in"] == "query");
        if typed_path || query || !body.is_empty() {
            assert!(has("400"), "{method} {path}: no 400");
        }
        if has("401") {
            assert!(
                responses["401"]["headers"]["WWW-Authenticate"].is_object(),
                "{method} {path}: 401 without WWW-Authenticate"
            );
        }
        assert!(
            responses["422"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("`control_character`")),
            "{method} {path}: no 422 `control_character`"
        );
        if let Some((false, roles)) = security(&op) {
            assert!(has("401"), "{method} {path}: no 401");
            if !roles.is_empty() && roles.len() < ROLES.len() {
                assert!(has("403"), "{method} {path}: no 403");
            }
        }
        if !body.is_empty() {
            assert!(has("415"), "{method} {path}: no 415");
            if body.iter().any(|t| t != "multipart/form-data") {
                assert!(has("413"), "{method} {path}: no 413");
            }
        }
        if body.iter().any(|t| t == "application/json") {
            assert!(has("422"), "{method} {path}: no 422");
        }
    }
}

/// A URL for an operation: every path parameter a number that matches no record, every
/// required query parameter given.
fn url(path: &str, op: &Value) -> String {
    let path = path
        .split('/')
        .map(|s| if s.starts_with('{') { "999999" } else { s })
        .collect::<Vec<_>>()
        .join("/");
    let query: Vec<String> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query" && p["required"] == true)
        .map(|p| format!("{}=1", p["name"].as_str().unwrap()))
        .collect();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// The status of a request whose body never finishes (one byte of the two announced): what a
/// guard answers before the body is read. (A complete but invalid body could be refused by the
/// body's extractor first, since actix polls a handler's extractors together.)
async fn status_before_the_body(app: &TestApp, method: &Method, url: &str, token: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "{method} {url} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let read = async {
        let mut buf = [0u8; 256];
        while !received.windows(2).any(|w| w == b"\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "{method} {url}: connection closed without a response"
            );
            received.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), read)
        .await
        .unwrap_or_else(|_| panic!("{method} {url}: no answer before the body was complete"));
    let line = String::from_utf8_lossy(&received).into_owned();
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

/// For every operation: without a token, a required token is 401 and a public operation is
/// never 401/403; with a token, a role the requirement lists (or any role, when it lists
/// none) gets past the guard, and every other role is 403. So the document's security is
/// exactly what the guards enforce.
#[tokio::test]
async fn each_operation_admits_exactly_the_roles_its_security_lists() {
    let app = TestApp::spawn().await;
    let mut tokens = Vec::new();
    for role in ROLES {
        tokens.push((role, app.token(role).await));
    }
    let doc = document();
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let url = url(&path, &op);
        let with_body = op["requestBody"].is_object();
        let send = |token: Option<&str>| {
            let mut req = app.request(method.clone(), &url);
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            if with_body {
                req = req.json(&json!({}));
            }
            req.send()
        };
        let anonymous = send(None).await.unwrap().status();
        match security(&op) {
            None | Some((true, _)) => assert!(
                anonymous != StatusCode::UNAUTHORIZED && anonymous != StatusCode::FORBIDDEN,
                "{method} {path} is documented as public but answers {anonymous} without a token"
            ),
            Some((false, _)) => assert_eq!(
                anonymous,
                StatusCode::UNAUTHORIZED,
                "{method} {path} without a token"
            ),
        }
        let Some((false, roles)) = security(&op) else {
            continue;
        };
        for (role, token) in &tokens {
            let admitted = roles.is_empty() || roles.iter().any(|r| r == role.as_str());
            if admitted {
                let status = send(Some(token)).await.unwrap().status();
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{method} {path} lists {roles:?} but answers {status} to {}",
                    role.as_str()
                );
            } else {
                let status = if with_body {
                    status_before_the_body(&app, &method, &url, token).await
                } else {
                    send(Some(token)).await.unwrap().status().as_u16()
                };
                assert_eq!(
                    status,
                    403,
                    "{method} {path} lists {roles:?}; as {}",
                    role.as_str()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} role checks ran");
}

/// The content types `GET /documents/{id}/content` is documented with are what it sends: the
/// stored type, or `application/octet-stream` when the client asks for that (generated
/// clients read any file that way) and not for the stored type.
#[tokio::test]
async fn a_document_downloads_as_its_stored_type_or_as_octet_stream_on_request() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Institution).await;
    let res = app
        .upload(
            &token,
            "service_plan",
            "plan.pdf",
            fixture("pdf/chromium.pdf"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let path = format!("/api/v1/documents/{id}/content");
    let doc = document();
    let documented: Vec<String> =
        doc["paths"]["/api/v1/documents/{id}/content"]["get"]["responses"]["200"]["content"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
    for (accept, expected) in [
        (None, "application/pdf"),
        (Some("*/*"), "application/pdf"),
        (Some("application/octet-stream"), "application/octet-stream"),
        (
            Some("application/pdf, application/octet-stream;q=0.5"),
            "application/pdf",
        ),
    ] {
        let mut req = app.get(&path).bearer_auth(&token);
        if let Some(accept) = accept {
            req = req.header("accept", accept);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(content_type, expected, "Accept: {accept:?}");
        assert!(documented.contains(&content_type), "{content_type}");
        assert_eq!(
            res.bytes().await.unwrap().as_ref(),
            fixture("pdf/chromium.pdf")
        );
    }
}

/// `PUT /blacklist` reads `application/octet-stream` as the CSV it documents (generated
/// clients cannot send `text/csv`), and refuses other types.
#[tokio::test]
async fn a_blacklist_is_read_from_an_octet_stream_as_from_text_csv() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Reviewer).await;
    let csv = format!(
        "uscc,name,source,listed_on,reason\n{},\"甲\",market,2026-02-01,严重违法失信\n",
        crate::common::flow::uscc(1)
    );
    let import = |content_type: &'static str| {
        app.put("/api/v1/blacklist?source=market")
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(csv.clone())
            .send()
    };
    for content_type in ["application/octet-stream", "text/csv; charset=utf-8"] {
        let res = import(content_type).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{content_type}");
    }
    let listed: Value = app
        .get("/api/v1/blacklist?source=market")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 1);
    assert_problem(
        import("text/plain").await.unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

/// The codes a response's description names are codes of the error vocabulary
/// (`src/error/codes.rs`) that come with that status, and every error response names one.
#[test]
fn every_code_an_error_response_names_comes_with_its_status() {
    use provider_registry::error::codes;
    for (method, path, op) in operations(&document()) {
        for (status, response) in op["responses"].as_object().unwrap() {
            let status: u16 = status.parse().unwrap();
            if status < 400 || path == "/readyz" {
                continue;
            }
            let description = response["description"].as_str().unwrap();
            let named: Vec<&codes::ErrorCode> = description
                .split('`')
                .skip(1)
                .step_by(2)
                .filter_map(codes::find)
                .collect();
            assert!(
                !named.is_empty(),
                "{method} {path} {status} names no code: {description}"
            );
            for code in named {
                assert!(
                    code.statuses.iter().any(|s| s.covers(status)),
                    "{method} {path} {status} names `{}`, which comes with {:?}",
                    code.code,
                    code.statuses
                );
            }
        }
    }
}
