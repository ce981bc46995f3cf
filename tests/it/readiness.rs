//! Readiness tells the truth (database, migrations, PDF extractors, calendars), and admins
//! hear from 1 November when next year's working-day calendar is still missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use provider_registry::auth::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::TestApp;

async fn readiness(app: &TestApp) -> (StatusCode, Value) {
    let res = app.get("/readyz").send().await.unwrap();
    (res.status(), res.json().await.unwrap())
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))
}

#[tokio::test]
async fn readiness_lists_its_checks_and_a_missing_calendar_year_is_not_ready() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T02:00:00Z").await;
    let (status, report) = readiness(&app).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["ready"], true);
    for name in ["database", "migrations", "pdf_extractors", "calendar"] {
        assert_eq!(check(&report, name)["ok"], true, "{name}: {report}");
    }
    assert!(
        check(&report, "pdf_extractors")["detail"]
            .as_str()
            .unwrap()
            .starts_with("pdf-extract")
    );
    // 2027 is not shipped: a warning, not a reason to take the instance out of service.
    let next = check(&report, "calendar_next_year");
    assert_eq!(
        (next["ok"].as_bool(), next["required"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(next["detail"], "2027 not loaded");

    // In a year without its calendar, working-day deadlines cannot be computed: not ready.
    app.set_clock("2028-01-10T02:00:00Z").await;
    let (status, report) = readiness(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{report}");
    assert_eq!(report["ready"], false);
    assert_eq!(check(&report, "calendar")["detail"], "2028 not loaded");
}

async fn tick_and_run(app: &TestApp) {
    app.tick_periodic().await;
    app.run_pending_jobs().await;
}

async fn calendar_mails(app: &TestApp) -> i64 {
    app.sql_i64(
        "SELECT COUNT(*) AS value FROM jobs WHERE kind = 'email.send' \
         AND dedup_key LIKE 'email:calendar_missing:%' AND state = 'done'",
    )
    .await
}

#[tokio::test]
async fn admins_are_told_once_a_year_from_1_november_that_next_years_calendar_is_missing() {
    let app = TestApp::spawn().await;
    app.token(Role::Admin).await;
    app.token(Role::Reviewer).await;
    // 31 October, 10:00 Beijing: not yet.
    app.set_clock("2026-10-31T02:00:00Z").await;
    tick_and_run(&app).await;
    assert_eq!(calendar_mails(&app).await, 0);
    // 1 November: the admin (and only the admin) hears of it.
    app.set_clock("2026-11-01T02:00:00Z").await;
    tick_and_run(&app).await;
    assert_eq!(calendar_mails(&app).await, 1);
    let to = app
        .sql_i64(
            "SELECT COUNT(*) AS value FROM jobs WHERE dedup_key = \
             'email:calendar_missing:calendar_missing:2027:admin@test.local'",
        )
        .await;
    assert_eq!(to, 1, "addressed to the admin");
    // The following days: no second message for 2027.
    for day in ["2026-11-02T02:00:00Z", "2026-12-20T02:00:00Z"] {
        app.set_clock(day).await;
        tick_and_run(&app).await;
    }
    assert_eq!(calendar_mails(&app).await, 1);
}

#[tokio::test]
async fn no_calendar_mail_when_next_years_calendar_is_loaded() {
    let app = TestApp::spawn().await;
    app.token(Role::Admin).await;
    // 2026 is shipped with the service: on 1 November 2025 nothing is missing.
    app.set_clock("2025-11-01T02:00:00Z").await;
    tick_and_run(&app).await;
    assert_eq!(calendar_mails(&app).await, 0);
    let (_, report) = readiness(&app).await;
    assert_eq!(check(&report, "calendar_next_year")["ok"], true, "{report}");
}
