//! The OpenAPI document is the contract: any change to it shows up here, in review.
//! Run with `UPDATE_SNAPSHOTS=1` to accept a deliberate change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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
    let doc = serde_json::to_value(provider_registry::openapi::document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    if path == "/readyz" {
                        continue;
                    }
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status} is not documented as problem+json"
                    );
                }
            }
        }
    }
}
