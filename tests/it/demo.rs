//! `serve --demo`: the demo data loads on an empty database, every printed account signs in, and
//! the institutions stand at the stages the demo promises.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::TestApp;
use provider_registry::demo::{self, DEMO_PASSWORD};
use serde_json::Value;

#[tokio::test]
async fn demo_data_loads_once_with_every_workflow_stage() {
    let app = TestApp::spawn().await;
    // A date whose notice window the shipped calendars cover, set directly: the clock route
    // would create an admin account, and the demo loads only into an empty database.
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00").unwrap();
    app.state.clock.settable().unwrap().set(now.to_utc());
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
    for stage in [
        "draft",
        "submitted",
        "withdrawn",
        "returned",
        "rejected",
        "in_notice",
        "admitted",
    ] {
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

    // An open notice on the public board, and an open exit case for reviewers.
    let board: Value = app
        .get("/api/v1/notices")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(board["total"], 1, "{board}");
    let cases: Value = app
        .get("/api/v1/exit-cases?status=open")
        .bearer_auth(&reviewer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cases["total"], 1, "{cases}");

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
