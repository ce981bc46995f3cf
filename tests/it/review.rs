//! Review through HTTP: approve (a subset of the proposed items), reject, return for correction
//! with a working-day deadline enforced by a job, two reviewers at once, and the reviewer's
//! dossier.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::flow::{self, decide};
use crate::common::{PASSWORD, TestApp, assert_problem};
use provider_registry::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn status_of(app: &TestApp, id: i64) -> String {
    let body: Value = app
        .as_role(
            Role::Reviewer,
            Method::GET,
            &format!("/api/v1/applications/{id}"),
        )
        .await
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_reviewer_approves_a_subset_of_the_proposed_items() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-02-10T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, id) = flow::submitted(&app, 1, round, &["sports.basketball", "sports.football"]).await;

    let res = decide(
        &app,
        id,
        json!({"decision": "approve", "approved_items": ["sports.basketball", "arts.music"]}),
    )
    .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "item_not_proposed").await;
    assert_eq!(body["errors"][0]["field"], "approved_items[1]");
    assert_eq!(body["errors"][0]["code"], "item_not_proposed");
    let res = decide(
        &app,
        id,
        json!({"decision": "approve", "approved_items": []}),
    )
    .await;
    assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "approved_items_required",
    )
    .await;

    let res = decide(
        &app,
        id,
        json!({"decision": "approve", "approved_items": ["sports.basketball"], "note": "足球教练资质不足"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "approved");
    assert_eq!(body["approved_items"][0]["code"], "sports.basketball");
    assert_eq!(body["approved_items"].as_array().unwrap().len(), 1);
    assert_eq!(body["decision_note"], "足球教练资质不足");
    assert!(body["decided_at"].is_string());

    // A second decision is refused: the application is no longer awaiting one.
    let res = decide(&app, id, json!({"decision": "reject", "reasons": "重复"})).await;
    let body = assert_problem(res, StatusCode::CONFLICT, "status_changed").await;
    assert_eq!(body["extra"]["status"], "approved");
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM decisions WHERE application_id = {id}"
        ))
        .await,
        1
    );
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM audit_events WHERE action = 'application.approved' AND entity_id = '{id}'"
        ))
        .await,
        1
    );
    // Only reviewers decide.
    let res = app
        .as_role(
            Role::Admin,
            Method::POST,
            &format!("/api/v1/applications/{id}/decisions"),
        )
        .await
        .json(&json!({"decision": "reject", "reasons": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn rejection_and_return_need_reasons() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-02-10T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, id) = flow::submitted(&app, 1, round, &["sports.basketball"]).await;
    for body in [
        json!({"decision": "reject"}),
        json!({"decision": "return", "reasons": "  "}),
    ] {
        let res = decide(&app, id, body).await;
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "reasons_required").await;
        assert_eq!(problem["errors"][0]["code"], "reasons_required");
    }
    let res = decide(
        &app,
        id,
        json!({"decision": "reject", "reasons": "场地不符合安全要求"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(status_of(&app, id).await, "rejected");
}

#[tokio::test]
async fn two_reviewers_deciding_at_once_get_one_success_and_one_status_changed() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-02-10T10:00:00+08:00").await;
    let round = app.open_round().await;
    let res = app
        .as_role(Role::Admin, Method::POST, "/api/v1/admin/users")
        .await
        .json(&json!({"email": "second@test.local", "password": PASSWORD, "role": "reviewer", "display_name": "第二审核员"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let first = app.token(Role::Reviewer).await;
    let second = app.login("second@test.local", PASSWORD).await;
    // Several applications, so that the loser is sometimes the one that read first and
    // sometimes the one that read after the winner committed: the same answer either way.
    for n in 1..=4 {
        let (_, id) = flow::submitted(&app, n, round, &["sports.basketball"]).await;
        let path = format!("/api/v1/applications/{id}/decisions");
        let (a, b) = tokio::join!(
            app.post(&path)
                .bearer_auth(&first)
                .json(&json!({"decision": "approve", "approved_items": ["sports.basketball"]}))
                .send(),
            app.post(&path)
                .bearer_auth(&second)
                .json(&json!({"decision": "reject", "reasons": "资质材料不全"}))
                .send(),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let (winner, loser) = if a.status() == StatusCode::OK {
            (a, b)
        } else {
            (b, a)
        };
        assert_eq!(winner.status(), StatusCode::OK, "one of them wins");
        let won: Value = winner.json().await.unwrap();
        let lost = assert_problem(loser, StatusCode::CONFLICT, "status_changed").await;
        assert_eq!(lost["extra"]["status"], won["status"], "{lost}");
        assert_eq!(
            app.sql_i64(&format!(
                "SELECT COUNT(*) AS value FROM decisions WHERE application_id = {id}"
            ))
            .await,
            1
        );
    }
}

#[tokio::test]
async fn a_draft_cannot_be_decided() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-02-10T10:00:00+08:00").await;
    let round = app.open_round().await;
    let applicant = flow::institution(&app, 1, &["sports.basketball"]).await;
    let id = flow::draft(&app, &applicant, round, &["sports.basketball"]).await;
    let res = decide(&app, id, json!({"decision": "reject", "reasons": "未提交"})).await;
    assert_problem(res, StatusCode::CONFLICT, "invalid_transition").await;
    assert_eq!(status_of(&app, id).await, "draft");
}

#[tokio::test]
async fn a_returned_application_not_resubmitted_by_the_deadline_is_rejected_by_a_job() {
    let app = TestApp::spawn().await;
    // Friday before the Spring Festival: counting starts the next day (Sat 14 Feb, a make-up
    // working day), then 24, 25, 26, 27 Feb → deadline 2026-02-27.
    app.set_clock("2026-02-13T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, id) = flow::submitted(&app, 1, round, &["sports.basketball"]).await;
    let res = decide(
        &app,
        id,
        json!({"decision": "return", "reasons": "请补充场地安全证明"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "returned");
    assert_eq!(body["return_deadline"], "2026-02-27");

    app.set_clock("2026-02-27T23:59:59+08:00").await;
    app.run_pending_jobs().await;
    assert_eq!(status_of(&app, id).await, "returned");
    app.set_clock("2026-02-28T00:00:01+08:00").await;
    app.run_pending_jobs().await;
    assert_eq!(status_of(&app, id).await, "rejected");
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM audit_events WHERE action = 'application.rejected' AND entity_id = '{id}' AND actor_role = 'system'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn resubmission_before_the_deadline_avoids_the_automatic_rejection() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (applicant, id) = flow::submitted(&app, 1, round, &["sports.basketball"]).await;
    let res = decide(
        &app,
        id,
        json!({"decision": "return", "reasons": "请补充材料", "deadline_working_days": 2}),
    )
    .await;
    let body: Value = res.json().await.unwrap();
    // Mon 2 Mar: two working days after it → Wed 4 Mar.
    assert_eq!(body["return_deadline"], "2026-03-04");
    app.set_clock("2026-03-04T18:00:00+08:00").await;
    let applicant = flow::Applicant {
        token: app.login(&applicant.email, PASSWORD).await,
        ..applicant
    };
    flow::submit(&app, &applicant, id).await;
    // Returned again the same day with a later deadline: the first deadline's job, due at
    // midnight, must not reject it.
    let res = decide(
        &app,
        id,
        json!({"decision": "return", "reasons": "仍缺场地证明", "deadline_working_days": 3}),
    )
    .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["return_deadline"],
        "2026-03-09"
    );
    app.set_clock("2026-03-05T09:00:00+08:00").await;
    app.run_pending_jobs().await;
    assert_eq!(status_of(&app, id).await, "returned");
    let applicant = flow::Applicant {
        token: app.login(&applicant.email, PASSWORD).await,
        ..applicant
    };
    flow::submit(&app, &applicant, id).await;
    app.set_clock("2026-03-10T09:00:00+08:00").await;
    app.run_pending_jobs().await;
    assert_eq!(status_of(&app, id).await, "submitted");
    let res = decide(
        &app,
        id,
        json!({"decision": "return", "reasons": "x", "deadline_working_days": 0}),
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range").await;
}

#[tokio::test]
async fn a_return_deadline_in_a_year_without_a_calendar_is_refused_with_the_year() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-06-01T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, id) = flow::submitted(&app, 1, round, &["sports.basketball"]).await;
    // Five working days after 28 December run into 2027, whose calendar is not loaded.
    app.set_clock("2026-12-28T10:00:00+08:00").await;
    let res = decide(
        &app,
        id,
        json!({"decision": "return", "reasons": "请补充材料"}),
    )
    .await;
    let body = assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "calendar_year_missing",
    )
    .await;
    assert_eq!(body["extra"]["year"], 2027);
    assert_eq!(status_of(&app, id).await, "submitted");
}

#[tokio::test]
async fn the_reviewer_dossier_shows_findings_pdf_text_teachers_and_decisions() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-02-10T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (applicant, id) = flow::submitted(&app, 1, round, &["sports.basketball"]).await;
    let res = app
        .as_role(
            Role::Reviewer,
            Method::GET,
            &format!("/api/v1/applications/{id}/review"),
        )
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["application"]["id"], id);
    assert!(body["findings"]["warnings"].is_array());
    assert!(body["findings"]["blocking"].as_array().unwrap().is_empty());
    let pages = body["merged_pdf"]["pages"].as_array().unwrap();
    assert!(!pages.is_empty());
    assert!(pages[0]["text"].is_string());
    assert_eq!(body["teachers"][0]["id"], applicant.teacher_id);
    assert!(body["teachers"][0]["criminal_check"].is_object());
    // Identity numbers stay masked.
    assert!(
        body["teachers"][0]["identity"]["number_masked"]
            .as_str()
            .unwrap()
            .contains('*')
    );
    assert_eq!(body["inspections"].as_array().unwrap().len(), 2);
    assert!(body["decisions"].as_array().unwrap().is_empty());
    // Institutions cannot read the dossier.
    let res = app
        .get(&format!("/api/v1/applications/{id}/review"))
        .bearer_auth(&applicant.token)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}
