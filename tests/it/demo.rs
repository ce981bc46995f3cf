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

/// The demo started on `date` (Beijing 10:00), and its first worker tick run: the periodic
/// jobs (sweep, reminders) and every e-mail they and the demo queued.
async fn demo_started_on(date: &str) -> TestApp {
    let app = TestApp::spawn().await;
    let now = chrono::DateTime::parse_from_rfc3339(&format!("{date}T10:00:00+08:00")).unwrap();
    app.state.clock.settable().unwrap().set(now.to_utc());
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || demo::load(&state).unwrap())
        .await
        .unwrap();
    app.tick_periodic().await;
    app.run_pending_jobs().await;
    app
}

/// The demo's own messages: the story's workflow e-mails (20), nothing from the pool's 300
/// members; from 1 November, while next year's calendar is not loaded, one more to the admin.
const DEMO_EMAILS: i64 = 20;

#[tokio::test]
async fn the_demo_is_calm_on_any_date_one_exit_case_and_only_its_own_emails() {
    // Before and after the 30 June sweep, in November (2027's calendar is not shipped: the
    // admin is told), and at the turn of a year whose successor is shipped.
    for (date, calendar_mail) in [
        ("2026-02-10", 0),
        ("2026-07-15", 0),
        ("2026-11-23", 1),
        ("2025-12-30", 0),
    ] {
        let app = demo_started_on(date).await;
        let cases = app
            .sql_i64("SELECT COUNT(*) AS value FROM exit_cases WHERE status = 'open'")
            .await;
        let emails = app
            .sql_i64("SELECT COUNT(*) AS value FROM jobs WHERE kind = 'email.send'")
            .await;
        eprintln!("{date}: {cases} open exit cases, {emails} e-mails");
        assert_eq!(cases, 1, "{date}: the one promised exit case");
        assert_eq!(
            emails,
            DEMO_EMAILS + calendar_mail,
            "{date}: e-mails at start-up"
        );
    }
}
