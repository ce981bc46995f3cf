//! Applications through HTTP: drafts, the submission checks (every blocking finding at once,
//! warnings for the reviewer), withdrawal, isolation between institutions, lists and history.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{TestApp, assert_problem, fixture};
use provider_registry::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const NAME: &str = "南宁市青少年体育培训中心";
const USCC: &str = "52450100MJ9000002T";

/// An institution that registered and completed its profile, roster and inspections through
/// the API (the walk from registration to an application). Returns its token.
async fn complete_institution(app: &TestApp) -> String {
    app.register_institution("centre@example.cn", NAME, USCC)
        .await;
    let token = app
        .login("centre@example.cn", crate::common::PASSWORD)
        .await;
    let profile = json!({
        "registration_kind": "private_non_enterprise_certificate",
        "registration_number": "民证字第450100001号",
        "issuing_authority": "南宁市民政局",
        "authority_level": "city",
        "registered_address": "南宁市青秀区民族大道1号",
        "district": "青秀区",
        "legal_rep_name": "张三",
        "legal_rep_id": {"kind": "resident_id", "number": "450103198503120026"},
        "contact_person": "王经理",
        "contact_mobile": "13800771234",
        "contact_email": "centre@example.cn",
    });
    let res = app
        .put("/api/v1/institutions/me")
        .bearer_auth(&token)
        .json(&profile)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let teacher = json!({
        "name": "李老师",
        "identity": {"kind": "resident_id", "number": "45010219900715003X"},
        "credentials": [{"kind": "teacher_qualification", "number": "20154500212345678", "issuer": "南宁市教育局", "issued_on": "2015-07-01"}],
        "specialities": ["sports.basketball"],
        "criminal_check": {"date": "2026-01-10", "result": "clean", "issuer": "南宁市公安局青秀分局"},
    });
    let res = app
        .post("/api/v1/institutions/me/teachers")
        .bearer_auth(&token)
        .json(&teacher)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    for year in [2024, 2025] {
        let res = app
            .post("/api/v1/institutions/me/inspections")
            .bearer_auth(&token)
            .json(&json!({"year": year, "result": "passed", "authority": "南宁市民政局"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap()
        );
    }
    token
}

async fn teacher_id(app: &TestApp) -> i64 {
    app.sql_i64("SELECT CAST(MAX(id) AS BIGINT) AS value FROM teachers")
        .await
}

/// Uploads one document of every required kind and the merged PDF; returns their ids.
async fn upload_all(app: &TestApp, token: &str, merged: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    for kind in [
        "registration_certificate",
        "uscc_certificate",
        "legal_rep_id",
        "teacher_certificate",
        "inspection_record",
        "service_plan",
        "integrity_pledge",
    ] {
        let res = app
            .upload(
                token,
                kind,
                &format!("{kind}.pdf"),
                fixture("pdf/chromium.pdf"),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    let res = app
        .upload(
            token,
            "merged_pdf",
            &format!("{NAME}申报课后服务备选库材料.pdf"),
            fixture(&format!("pdf/{merged}")),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    ids
}

async fn draft(app: &TestApp, token: &str, round: i64, body: Value) -> reqwest::Response {
    let mut body = body;
    body["round_id"] = json!(round);
    app.post("/api/v1/applications")
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_complete_application_is_submitted_with_its_warnings() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let token = complete_institution(&app).await;
    let docs = upload_all(&app, &token, "libreoffice.pdf").await;
    let teacher = teacher_id(&app).await;
    let res = draft(&app, &token, round, json!({
        "proposed_items": ["sports.basketball", "sports.football"], "service_plan": "每周三次篮球与足球训练",
        "teacher_ids": [teacher], "document_ids": docs, "pledge_signed": true,
    })).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["status"], "draft");
    assert_eq!(created["proposed_items"][0]["name_zh"], "篮球");
    let id = created["id"].as_i64().unwrap();

    let res = app
        .post(&format!("/api/v1/applications/{id}/submit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    let submitted: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(submitted["status"], "submitted", "{text}");
    let warnings: Vec<&str> = submitted["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    // Football has no teacher; the teacher's certificate number is not in the merged PDF.
    assert!(warnings.contains(&"item_not_covered"), "{warnings:?}");
    assert!(!warnings.contains(&"uscc_not_in_pdf"), "{warnings:?}");
    assert!(!warnings.contains(&"name_not_in_pdf"), "{warnings:?}");

    // A second submission is not a legal transition; edits are closed.
    let res = app
        .post(&format!("/api/v1/applications/{id}/submit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "invalid_transition").await;
    let res = app
        .put(&format!("/api/v1/applications/{id}"))
        .bearer_auth(&token)
        .json(&json!({"service_plan": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "application_not_editable").await;

    let history: Value = app
        .get(&format!("/api/v1/applications/{id}/history"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["application.created", "application.submitted"]);
}

#[tokio::test]
async fn a_scanned_merged_pdf_is_a_warning_for_manual_verification() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let token = complete_institution(&app).await;
    let docs = upload_all(&app, &token, "scanned.pdf").await;
    let id = draft(&app, &token, round, json!({"proposed_items": ["sports.basketball"], "service_plan": "篮球", "teacher_ids": [teacher_id(&app).await], "document_ids": docs, "pledge_signed": true}))
        .await.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let submitted: Value = app
        .post(&format!("/api/v1/applications/{id}/submit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(
        submitted["warnings"][0]["code"], "merged_pdf_no_text",
        "{submitted}"
    );
}

#[tokio::test]
async fn an_empty_draft_lists_every_blocking_finding_at_once() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let token = app.token(Role::Institution).await;
    let id = draft(&app, &token, round, json!({}))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = app
        .post(&format!("/api/v1/applications/{id}/submit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "submission_blocked").await;
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    for expected in [
        "profile_incomplete",
        "invalid_legal_rep_id",
        "no_items",
        "service_plan_missing",
        "pledge_not_signed",
        "document_missing",
        "merged_pdf_missing",
        "annual_inspection_insufficient",
        "no_teachers",
    ] {
        assert!(
            codes.contains(&expected),
            "{expected} missing from {codes:?}"
        );
    }
    assert!(
        body["extra"]["blocking"][0]["rule"]
            .as_str()
            .unwrap()
            .contains("公告"),
        "{body}"
    );
    let state: Value = app
        .get(&format!("/api/v1/applications/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        state["status"], "draft",
        "a blocked submission changes nothing"
    );
}

#[tokio::test]
async fn inspections_must_be_two_consecutive_passes_ending_last_year_or_the_year_before() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let token = complete_institution(&app).await;
    let docs = upload_all(&app, &token, "libreoffice.pdf").await;
    let id = draft(&app, &token, round, json!({"proposed_items": ["sports.basketball"], "service_plan": "篮球", "teacher_ids": [teacher_id(&app).await], "document_ids": docs, "pledge_signed": true}))
        .await.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let blocked = |sql: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.sql(sql).await;
            let res = app
                .post(&format!("/api/v1/applications/{id}/submit"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            if res.status() == StatusCode::OK {
                return false;
            }
            let body: Value = res.json().await.unwrap();
            body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["code"] == "annual_inspection_insufficient")
        }
    };
    // A failed latest year blocks.
    assert!(blocked("UPDATE inspections SET result = 'failed' WHERE year = 2025").await);
    // Missed blocks too.
    assert!(blocked("UPDATE inspections SET result = 'missed' WHERE year = 2025").await);
    // 2023 and 2024 passed (later one is Y-2) but 2025 failed: the two latest are 2024/2025.
    assert!(blocked("INSERT INTO inspections (institution_id, year, result, authority, created_at, updated_at) SELECT institution_id, 2023, 'passed', 'x', created_at, updated_at FROM inspections WHERE year = 2024").await);
    // Without the 2025 record, 2023 + 2024 (ending Y-2) pass.
    assert!(!blocked("DELETE FROM inspections WHERE year = 2025").await);
}

#[tokio::test]
async fn academic_and_unknown_activities_are_refused_when_proposed() {
    let app = TestApp::spawn().await;
    let round = app.open_round().await;
    let token = app.token(Role::Institution).await;
    let res = draft(&app, &token, round, json!({"proposed_items": ["sports.basketball", "academic.mathematics", "英语", "sports.quidditch"]})).await;
    let body = assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "academic_subject_forbidden",
    )
    .await;
    let errors: Vec<(String, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (
                "proposed_items[1]".to_owned(),
                "academic_subject_forbidden".to_owned()
            ),
            (
                "proposed_items[2]".to_owned(),
                "academic_subject_forbidden".to_owned()
            ),
            (
                "proposed_items[3]".to_owned(),
                "unknown_category".to_owned()
            ),
        ]
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("非学科类")
    );
}

#[tokio::test]
async fn a_closed_round_answers_round_closed_at_draft_creation_and_at_submission() {
    let app = TestApp::spawn().await;
    let round = app.open_round().await;
    let token = app.token(Role::Institution).await;
    let id = draft(
        &app,
        &token,
        round,
        json!({"proposed_items": ["arts.dance"]}),
    )
    .await
    .json::<Value>()
    .await
    .unwrap()["id"]
        .as_i64()
        .unwrap();
    app.set_clock("2030-01-01T00:00:00+08:00").await;
    let token = app.token(Role::Institution).await; // signed in again at the new time

    let created = assert_problem(
        draft(&app, &token, round, json!({})).await,
        StatusCode::CONFLICT,
        "round_closed",
    )
    .await;
    // The incomplete draft would have many findings; the closed round is answered first, and
    // in the same words as at creation.
    let submitted = assert_problem(
        app.post(&format!("/api/v1/applications/{id}/submit"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
        "round_closed",
    )
    .await;
    assert_eq!(created["detail"], submitted["detail"]);
    assert_eq!(created["extra"], submitted["extra"]);
    assert!(created["extra"]["closes_at"].is_string(), "{created}");
    let unchanged: Value = app
        .get(&format!("/api/v1/applications/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged["status"], "draft");

    let res = draft(&app, &token, 9999, json!({})).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn another_institution_gets_404_on_every_read_and_write() {
    let app = TestApp::spawn().await;
    let round = app.open_round().await;
    let owner = app.token(Role::Institution).await;
    let id = draft(
        &app,
        &owner,
        round,
        json!({"proposed_items": ["arts.dance"]}),
    )
    .await
    .json::<Value>()
    .await
    .unwrap()["id"]
        .as_i64()
        .unwrap();
    app.register_institution("other@example.cn", "另一机构", USCC)
        .await;
    let other = app.login("other@example.cn", crate::common::PASSWORD).await;
    for (method, path) in [
        (Method::GET, format!("/api/v1/applications/{id}")),
        (Method::GET, format!("/api/v1/applications/{id}/history")),
        (Method::POST, format!("/api/v1/applications/{id}/submit")),
        (Method::POST, format!("/api/v1/applications/{id}/withdraw")),
    ] {
        let res = app
            .request(method, &path)
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    let res = app
        .put(&format!("/api/v1/applications/{id}"))
        .bearer_auth(&other)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let list: Value = app
        .get("/api/v1/applications")
        .bearer_auth(&other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    // Using someone else's document in one's own draft is refused too.
    let doc: Value = app
        .upload(&owner, "other", "x.pdf", fixture("pdf/libreoffice.pdf"))
        .await
        .json()
        .await
        .unwrap();
    let res = draft(&app, &other, round, json!({"document_ids": [doc["id"]]})).await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "unknown_document").await;
    assert_eq!(body["errors"][0]["code"], "unknown_document");
}

#[tokio::test]
async fn a_draft_can_be_withdrawn_once() {
    let app = TestApp::spawn().await;
    let round = app.open_round().await;
    let token = app.token(Role::Institution).await;
    let id = draft(&app, &token, round, json!({}))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = app
        .post(&format!("/api/v1/applications/{id}/withdraw"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "withdrawn");
    let res = app
        .post(&format!("/api/v1/applications/{id}/withdraw"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "invalid_transition").await;
}

#[tokio::test]
async fn reviewers_list_all_applications_with_filters() {
    let app = TestApp::spawn().await;
    let round = app.open_round().await;
    let token = app.token(Role::Institution).await;
    for items in [
        json!(["arts.dance"]),
        json!(["sports.basketball"]),
        json!(["sports.football", "arts.calligraphy"]),
    ] {
        draft(&app, &token, round, json!({"proposed_items": items})).await;
    }
    let app = &app;
    let list = |q: String| async move {
        let res = app
            .as_role(
                Role::Reviewer,
                Method::GET,
                &format!("/api/v1/applications{q}"),
            )
            .await
            .send()
            .await
            .unwrap();
        res.json::<Value>().await.unwrap()["total"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(list(String::new()).await, 3);
    assert_eq!(list("?category=arts".into()).await, 2);
    assert_eq!(list("?category=sports.basketball".into()).await, 1);
    assert_eq!(list("?status=draft".into()).await, 3);
    assert_eq!(list("?status=submitted".into()).await, 0);
    assert_eq!(list(format!("?round_id={round}")).await, 3);
    let res = app
        .as_role(
            Role::Reviewer,
            Method::GET,
            "/api/v1/applications?category=academic",
        )
        .await
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "unknown_category").await;
    let res = app
        .as_role(Role::School, Method::GET, "/api/v1/applications")
        .await
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn institutions_set_up_through_the_api_submit_independently() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (first, a) = crate::common::flow::submitted(&app, 1, round, &["sports.basketball"]).await;
    let (second, b) = crate::common::flow::submitted(&app, 2, round, &["arts.calligraphy"]).await;
    assert_ne!(first.institution_id, second.institution_id);
    assert_ne!(a, b);
    let list: Value = app
        .as_role(
            Role::Reviewer,
            Method::GET,
            "/api/v1/applications?status=submitted",
        )
        .await
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2, "{list}");
}

#[tokio::test]
async fn an_admin_closes_an_open_round_early_and_new_drafts_are_refused_at_once() {
    let app = TestApp::spawn().await;
    let round = app.open_round().await;
    let path = format!("/api/v1/rounds/{round}/close");
    // Not an admin: refused, the round still open.
    let reviewer = app.as_role(Role::Reviewer, Method::POST, &path).await;
    assert_eq!(
        reviewer.send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let closed: Value = app
        .as_role(Role::Admin, Method::POST, &path)
        .await
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(closed["id"], round);
    assert_eq!(closed["open_now"], false, "{closed}");
    let token = app.token(Role::Institution).await;
    assert_problem(
        draft(&app, &token, round, json!({})).await,
        StatusCode::CONFLICT,
        "round_closed",
    )
    .await;
    // Closing it again, or a round that does not exist.
    assert_problem(
        app.as_role(Role::Admin, Method::POST, &path)
            .await
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
        "round_not_open",
    )
    .await;
    assert_problem(
        app.as_role(Role::Admin, Method::POST, "/api/v1/rounds/999999/close")
            .await
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
