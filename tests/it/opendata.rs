//! Open data (issue 18): pool and ban versions — exactly one per admission, removal, expiry and
//! ban, in order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::TestApp;
use crate::common::flow;
use provider_registry::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const START: &str = "2026-03-02T10:00:00+08:00";
const ITEMS: &[&str] = &["sports.basketball"];

async fn version(app: &TestApp, list: &str) -> i64 {
    app.sql_i64(&format!(
        "SELECT version AS value FROM open_data_heads WHERE list = '{list}'"
    ))
    .await
}

async fn changes_of(app: &TestApp, list: &str, kind: &str, subject: i64) -> i64 {
    app.sql_i64(&format!(
        "SELECT COUNT(*) AS value FROM open_data_changes WHERE list = '{list}' AND kind = '{kind}' AND subject_id = {subject}"
    ))
    .await
}

/// Removes institution `institution_id` from the pool through an exit case decided ten days
/// later (after the statement window).
async fn remove(app: &TestApp, member: &mut flow::Applicant) {
    let case: Value = app
        .as_role(Role::Reviewer, Method::POST, "/api/v1/exit-cases")
        .await
        .json(&json!({"institution_id": member.institution_id, "grounds": ["illegal_conduct"], "statement": "督查发现违法违规行为"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let case = case["id"].as_i64().expect("case id");
    flow::travel(app, "2026-03-12T10:00:00+08:00", &mut [member]).await;
    let res = app
        .as_role(
            Role::Reviewer,
            Method::POST,
            &format!("/api/v1/exit-cases/{case}/decision"),
        )
        .await
        .json(&json!({"decision": "remove", "reasons": "经审议作出决定"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
}

#[tokio::test]
async fn every_admission_and_removal_makes_exactly_one_version_and_a_ban_one_ban_version() {
    let app = TestApp::spawn().await;
    app.set_clock(START).await;
    assert_eq!(version(&app, "pool").await, 0);
    assert_eq!(version(&app, "bans").await, 0);
    let round = app.open_round().await;
    let (mut first, _, first_entry) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    assert_eq!(version(&app, "pool").await, 1);
    let (_, _, second_entry) = flow::seed_pool_member(&app, 2, round, ITEMS).await;
    assert_eq!(version(&app, "pool").await, 2);
    assert_eq!(changes_of(&app, "pool", "admitted", first_entry).await, 1);
    assert_eq!(changes_of(&app, "pool", "admitted", second_entry).await, 1);

    remove(&app, &mut first).await;
    assert_eq!(version(&app, "pool").await, 3);
    assert_eq!(changes_of(&app, "pool", "removed", first_entry).await, 1);
    assert_eq!(version(&app, "bans").await, 1);
    assert_eq!(
        app.sql_i64(
            "SELECT COUNT(*) AS value FROM open_data_changes WHERE list = 'bans' AND kind = 'recorded'"
        )
        .await,
        1
    );
    // Versions are numbered 1, 2, 3 in the order of the changes, without gaps.
    assert_eq!(
        app.sql_i64("SELECT SUM(version) AS value FROM open_data_changes WHERE list = 'pool'")
            .await,
        6
    );
    // No personal identity number in any published record.
    let leaked = app
        .sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM open_data_changes WHERE record LIKE '%{}%' OR record LIKE '%{}%'",
            flow::resident_id(2),
            flow::resident_id(3)
        ))
        .await;
    assert_eq!(leaked, 0);
}
