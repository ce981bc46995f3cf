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

    app.set_clock("2026-02-27T23:59:00+08:00").await;
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

/// The work queue as a reviewer (or `role`) reads it with `query`.
async fn queue(app: &TestApp, query: &str) -> Value {
    let res = app
        .as_role(
            Role::Reviewer,
            Method::GET,
            &format!("/api/v1/review/queue{query}"),
        )
        .await
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// `(kind, deadline, overdue, working_days_left)` of each item, in queue order.
fn rows(queue: &Value) -> Vec<(String, Value, bool, Value)> {
    queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_owned(),
                i["deadline"].clone(),
                i["overdue"].as_bool().unwrap(),
                i["working_days_left"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_work_queue_orders_every_kind_of_work_by_its_working_day_deadline() {
    let app = TestApp::spawn().await;
    // Monday 2 March 2026.
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let items = &["sports.basketball"];
    // A pool member under an exit case opened today: statement due on the 5th working day
    // after today, Monday 9 March.
    let (mut member, _, _) = flow::seed_pool_member(&app, 1, round, items).await;
    let case: Value = app
        .as_role(Role::Reviewer, Method::POST, "/api/v1/exit-cases")
        .await
        .json(&json!({"institution_id": member.institution_id, "grounds": ["service_mismatch"], "statement": "督查发现服务内容与约定不符"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(case["statement_due"], "2026-03-09", "{case}");
    let case_id = case["id"].as_i64().unwrap();
    // A submitted application awaiting review.
    let (_, waiting) = flow::submitted(&app, 2, round, items).await;
    // One returned with 3 working days: resubmit by Thursday 5 March.
    let (_, returned) = flow::submitted(&app, 3, round, items).await;
    let res = decide(
        &app,
        returned,
        json!({"decision": "return", "reasons": "请补充教练证书", "deadline_working_days": 3}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // One in a notice published today (window Mar 2–6) with a pending objection.
    let (_, objected) = flow::approved(&app, 4, round, items).await;
    let notice = flow::publish(&app, &[objected], "2026-03-02").await;
    let res = app
        .post(&format!("/api/v1/notices/{}/objections", notice["id"]))
        .json(&json!({
            "application_id": objected, "name": "赵六", "mobile": "13912345678",
            "grounds": "该机构的篮球教练并未持有有效的教师资格证书，与公示材料不符。",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    let q = queue(&app, "").await;
    assert_eq!(q["today"], "2026-03-02");
    assert_eq!(
        rows(&q),
        vec![
            ("return_due".into(), json!("2026-03-05"), false, json!(4)),
            (
                "objection_pending".into(),
                json!("2026-03-06"),
                false,
                json!(5)
            ),
            ("statement_due".into(), json!("2026-03-09"), false, json!(6)),
            ("awaiting_review".into(), Value::Null, false, Value::Null),
        ]
    );
    assert_eq!(q["total"], 4);
    let items = q["items"].as_array().unwrap();
    assert_eq!(items[0]["application_id"], returned);
    assert_eq!(
        items[0]["link"]["page"],
        format!("/review/applications/{returned}")
    );
    assert_eq!(items[1]["application_id"], objected);
    assert!(items[1]["objection_id"].is_i64());
    assert_eq!(items[2]["exit_case_id"], case_id);
    assert_eq!(items[2]["institution_id"], member.institution_id);
    assert_eq!(
        items[2]["link"]["api"],
        format!("/api/v1/exit-cases/{case_id}")
    );
    assert_eq!(items[3]["application_id"], waiting);

    // Saturday 7 March: the return and the notice's window have passed (their jobs not yet
    // run); the statement is still due on Monday, one working day away.
    flow::travel(&app, "2026-03-07T10:00:00+08:00", &mut [&mut member]).await;
    let q = queue(&app, "").await;
    assert_eq!(
        rows(&q),
        vec![
            ("return_due".into(), json!("2026-03-05"), true, json!(0)),
            (
                "objection_pending".into(),
                json!("2026-03-06"),
                true,
                json!(0)
            ),
            ("statement_due".into(), json!("2026-03-09"), false, json!(1)),
            ("awaiting_review".into(), Value::Null, false, Value::Null),
        ]
    );
    // The statement is filed: the case is now the reviewer's to decide.
    let res = app
        .post(&format!("/api/v1/exit-cases/{case_id}/statement"))
        .bearer_auth(&member.token)
        .json(&json!({"statement": "我机构对所述情形提出申辩", "document_ids": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let q = queue(&app, "").await;
    assert_eq!(q["items"][2]["kind"], "exit_case_to_decide");
    let counts: Vec<(String, i64, i64)> = q["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["count"].as_i64().unwrap(),
                c["overdue"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(counts.contains(&("return_due".into(), 1, 1)));
    assert!(counts.contains(&("statement_due".into(), 0, 0)));
    assert!(counts.contains(&("exit_case_to_decide".into(), 1, 0)));

    // Filters: kind, overdue, district, round (exit cases belong to no round), pagination.
    let only = |q: &Value| rows(q).into_iter().map(|r| r.0).collect::<Vec<_>>();
    assert_eq!(only(&queue(&app, "?kind=return_due").await), ["return_due"]);
    assert_eq!(
        only(&queue(&app, "?overdue=true").await),
        ["return_due", "objection_pending"]
    );
    assert_eq!(
        only(&queue(&app, "?overdue=false").await),
        ["exit_case_to_decide", "awaiting_review"]
    );
    app.sql(&format!(
        "UPDATE institutions SET district = '西乡塘区' WHERE id = (SELECT institution_id FROM applications WHERE id = {waiting})"
    ))
    .await;
    assert_eq!(
        only(&queue(&app, "?district=%E8%A5%BF%E4%B9%A1%E5%A1%98%E5%8C%BA").await),
        ["awaiting_review"]
    );
    assert_eq!(
        only(&queue(&app, &format!("?round_id={round}")).await),
        ["return_due", "objection_pending", "awaiting_review"]
    );
    let second = queue(&app, "?per_page=1&page=2").await;
    assert_eq!(only(&second), ["objection_pending"]);
    assert_eq!(second["total"], 4);
    let res = app
        .as_role(
            Role::Reviewer,
            Method::GET,
            "/api/v1/review/queue?kind=nope",
        )
        .await
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;

    // The due jobs run: the missed return is rejected and leaves the queue; the objection
    // still holds its application.
    app.run_pending_jobs().await;
    assert_eq!(status_of(&app, returned).await, "rejected");
    assert_eq!(
        only(&queue(&app, "").await),
        [
            "objection_pending",
            "exit_case_to_decide",
            "awaiting_review"
        ]
    );
}

#[tokio::test]
async fn only_reviewers_and_admins_read_the_work_queue() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/review/queue").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    for role in [Role::Institution, Role::School] {
        let res = app
            .as_role(role, Method::GET, "/api/v1/review/queue")
            .await
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let res = app
        .as_role(Role::Admin, Method::GET, "/api/v1/review/queue")
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["total"], 0);
    assert_eq!(body["counts"].as_array().unwrap().len(), 5);
}
