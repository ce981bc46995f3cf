//! `serve --demo`: the demo data loads on an empty database, every printed account signs in, and
//! the institutions stand at the stages the demo promises.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use provider_registry::demo::{self, DEMO_PASSWORD};
use serde_json::Value;

#[tokio::test]
async fn demo_data_loads_once_with_applications_at_every_intake_stage() {
    let app = TestApp::spawn().await;
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || demo::load(&state))
        .await
        .unwrap()
        .unwrap();

    let reviewer = app.login("reviewer@demo.local", DEMO_PASSWORD).await;
    for email in [
        "admin@demo.local",
        "school@demo.local",
        "institution@demo.local",
    ] {
        app.login(email, DEMO_PASSWORD).await;
    }
    for stage in ["draft", "submitted", "withdrawn", "admitted"] {
        let list: Value = app
            .get(&format!("/api/v1/applications?status={stage}"))
            .bearer_auth(&reviewer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            list["total"].as_i64().unwrap() >= 1,
            "no {stage} application: {list}"
        );
    }

    // The demo institution's own draft passes every check when it submits it.
    let token = app.login("institution@demo.local", DEMO_PASSWORD).await;
    let own: Value = app
        .get("/api/v1/applications?status=draft")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = own["items"][0]["id"].as_i64().unwrap();
    let res = app
        .post(&format!("/api/v1/applications/{id}/submit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // A second load leaves the data alone.
    let users = app.sql_i64("SELECT COUNT(*) AS value FROM users").await;
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || demo::load(&state))
        .await
        .unwrap()
        .unwrap();
    let again = app.sql_i64("SELECT COUNT(*) AS value FROM users").await;
    assert_eq!(again, users);
}
