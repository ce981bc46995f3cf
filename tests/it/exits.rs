//! Exit cases through HTTP: each way of opening one (a school's termination, a reviewer, a
//! credential found false), the one open case per institution, the statement window in working
//! days (a holiday inside it), both decisions, and the removal cascade ending in a 36-month ban.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::flow::{self, Applicant};
use crate::common::{TestApp, assert_problem, fixture};
use provider_registry::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const START: &str = "2026-03-02T10:00:00+08:00";
const ITEMS: &[&str] = &["sports.basketball"];

async fn ok(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn as_reviewer(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.as_role(Role::Reviewer, method, path).await
}

/// A reviewer opens a case against a pool member; returns it.
async fn open_case(app: &TestApp, institution_id: i64, grounds: &[&str]) -> Value {
    ok(
        as_reviewer(app, Method::POST, "/api/v1/exit-cases")
            .await
            .json(&json!({"institution_id": institution_id, "grounds": grounds, "statement": "督查发现服务内容与约定不符"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await
}

async fn decide(app: &TestApp, case: i64, decision: &str) -> reqwest::Response {
    as_reviewer(
        app,
        Method::POST,
        &format!("/api/v1/exit-cases/{case}/decision"),
    )
    .await
    .json(&json!({"decision": decision, "reasons": "经审议作出决定"}))
    .send()
    .await
    .unwrap()
}

async fn file_statement(app: &TestApp, who: &Applicant, case: i64) -> reqwest::Response {
    app.post(&format!("/api/v1/exit-cases/{case}/statement"))
        .bearer_auth(&who.token)
        .json(&json!({"statement": "我机构对所述情形提出申辩", "document_ids": []}))
        .send()
        .await
        .unwrap()
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    app.sql_i64(&format!(
        "SELECT COUNT(*) AS value FROM audit_events WHERE action = '{action}'"
    ))
    .await
}

#[tokio::test]
async fn a_school_terminating_its_contract_ends_it_at_once_and_opens_one_case() {
    let app = TestApp::spawn().await;
    app.set_clock(START).await;
    let round = app.open_round().await;
    let (member, _, entry) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    let school = flow::school_id(&app).await;
    let first = flow::seed_contract(&app, school, &member, entry, ITEMS).await;
    let second = flow::seed_contract(&app, school, &member, entry, ITEMS).await;

    let school_token = app.token(Role::School).await;
    let evidence = ok(
        app.upload(
            &school_token,
            "exit_evidence",
            "情况说明.pdf",
            fixture("pdf/chromium.pdf"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    // A school uploads exit evidence only.
    let refused = app
        .upload(
            &school_token,
            "service_plan",
            "x.pdf",
            fixture("pdf/chromium.pdf"),
        )
        .await;
    assert_problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "document_kind_not_allowed",
    )
    .await;

    let body = ok(
        app.as_role(Role::School, Method::POST, &format!("/api/v1/contracts/{first}/terminate"))
            .await
            .json(&json!({"grounds": ["service_mismatch", "subcontracting"], "statement": "机构将课程转包给无资质个人", "evidence_document_ids": [evidence]}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["contract"]["status"], "terminated");
    assert_eq!(body["contract"]["ended_on"], "2026-03-02");
    assert_eq!(body["contract"]["end_reason"], "terminated_by_school");
    let case = &body["exit_case"];
    assert_eq!(case["status"], "open");
    assert_eq!(case["opened_by"], "school");
    assert_eq!(case["institution_id"], member.institution_id);
    let grounds = case["grounds"].as_array().unwrap();
    assert_eq!(grounds.len(), 2);
    assert_eq!(grounds[0]["ground"]["code"], "service_mismatch");
    assert_eq!(
        grounds[0]["ground"]["name_zh"],
        "服务质量、内容与约定明显不符"
    );
    assert_eq!(grounds[1]["ground"]["code"], "subcontracting");
    assert_eq!(grounds[0]["contract_id"], first);
    assert_eq!(grounds[0]["document_ids"], json!([evidence]));
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM contracts WHERE id = {first} AND status = 'terminated' AND end_reason = 'terminated_by_school'"
        ))
        .await,
        1
    );

    // The same contract cannot be terminated twice; the other contract's grounds join the case.
    let again = app
        .as_role(Role::School, Method::POST, &format!("/api/v1/contracts/{first}/terminate"))
        .await
        .json(&json!({"grounds": ["service_mismatch"], "statement": "再次", "evidence_document_ids": []}))
        .send()
        .await
        .unwrap();
    assert_problem(again, StatusCode::CONFLICT, "contract_not_active").await;
    let joined = ok(
        app.as_role(Role::School, Method::POST, &format!("/api/v1/contracts/{second}/terminate"))
            .await
            .json(&json!({"grounds": ["major_management_failure"], "statement": "学生受伤未及时处置", "evidence_document_ids": []}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(joined["exit_case"]["id"], case["id"]);
    assert_eq!(joined["exit_case"]["grounds"].as_array().unwrap().len(), 3);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM exit_cases")
            .await,
        1
    );
    assert_eq!(audit_count(&app, "contract.terminated").await, 2);
    assert_eq!(audit_count(&app, "exit_case.opened").await, 1);
    assert_eq!(audit_count(&app, "exit_case.ground_added").await, 3);

    // No grounds, or another school's evidence: refused.
    let none = app
        .as_role(
            Role::School,
            Method::POST,
            &format!("/api/v1/contracts/{second}/terminate"),
        )
        .await
        .json(&json!({"grounds": [], "statement": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The institution sees its own case; the school may not list cases.
    let mine = ok(
        app.get("/api/v1/exit-cases")
            .bearer_auth(&member.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["total"], 1);
    // The institution may read the evidence cited against it; another institution may not.
    let evidence_meta = app
        .get(&format!("/api/v1/documents/{evidence}"))
        .bearer_auth(&member.token)
        .send()
        .await
        .unwrap();
    assert_eq!(evidence_meta.status(), StatusCode::OK);
    let stranger = app.token(Role::Institution).await;
    let hidden = app
        .get(&format!("/api/v1/documents/{evidence}"))
        .bearer_auth(&stranger)
        .send()
        .await
        .unwrap();
    assert_problem(hidden, StatusCode::NOT_FOUND, "not_found").await;
    let school_list = app
        .as_role(Role::School, Method::GET, "/api/v1/exit-cases")
        .await
        .send()
        .await
        .unwrap();
    assert_problem(school_list, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn a_reviewer_opens_cases_only_against_pool_members() {
    let app = TestApp::spawn().await;
    app.set_clock(START).await;
    let round = app.open_round().await;
    let (member, _, _) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    let (applicant, _) = flow::submitted(&app, 2, round, ITEMS).await;

    let case = open_case(&app, member.institution_id, &["illegal_conduct"]).await;
    assert_eq!(case["opened_by"], "reviewer");
    assert_eq!(case["grounds"][0]["source"], "reviewer");
    assert_eq!(case["statement_due"], "2026-03-09");
    assert!(
        case["statement_closes_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-09T15:59:59")
    );
    // A second reviewer case joins the open one.
    let again = open_case(&app, member.institution_id, &["subcontracting"]).await;
    assert_eq!(again["id"], case["id"]);
    assert_eq!(again["grounds"].as_array().unwrap().len(), 2);

    let outside = as_reviewer(&app, Method::POST, "/api/v1/exit-cases")
        .await
        .json(&json!({"institution_id": applicant.institution_id, "grounds": ["illegal_conduct"], "statement": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(outside, StatusCode::CONFLICT, "not_in_pool").await;
    let empty = as_reviewer(&app, Method::POST, "/api/v1/exit-cases")
        .await
        .json(&json!({"institution_id": member.institution_id, "grounds": [], "statement": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(empty, StatusCode::UNPROCESSABLE_ENTITY, "grounds_missing").await;
    let unknown = as_reviewer(&app, Method::POST, "/api/v1/exit-cases")
        .await
        .json(&json!({"institution_id": member.institution_id, "grounds": ["bad_weather"], "statement": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Institutions cannot open cases; another institution cannot see this one.
    let by_institution = app
        .post("/api/v1/exit-cases")
        .bearer_auth(&applicant.token)
        .json(&json!({"institution_id": member.institution_id, "grounds": ["illegal_conduct"], "statement": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(by_institution, StatusCode::FORBIDDEN, "forbidden").await;
    let id = case["id"].as_i64().unwrap();
    let hidden = app
        .get(&format!("/api/v1/exit-cases/{id}"))
        .bearer_auth(&applicant.token)
        .send()
        .await
        .unwrap();
    assert_problem(hidden, StatusCode::NOT_FOUND, "not_found").await;
    let filtered = ok(
        as_reviewer(
            &app,
            Method::GET,
            "/api/v1/exit-cases?status=open&ground=subcontracting",
        )
        .await
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(filtered["total"], 1);
}

#[tokio::test]
async fn a_credential_found_false_opens_a_false_credentials_case() {
    let app = TestApp::spawn().await;
    app.set_clock(START).await;
    let round = app.open_round().await;
    let (member, _, _) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    let inst = member.institution_id;

    let genuine = ok(
        as_reviewer(
            &app,
            Method::POST,
            &format!(
                "/api/v1/institutions/{inst}/teachers/{}/verification",
                member.teacher_id
            ),
        )
        .await
        .json(&json!({"verdict": "genuine", "note": "已向发证机关核实"}))
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(genuine["exit_case"].is_null());

    let body = ok(
        as_reviewer(
            &app,
            Method::POST,
            &format!(
                "/api/v1/institutions/{inst}/teachers/{}/verification",
                member.teacher_id
            ),
        )
        .await
        .json(&json!({"verdict": "false", "note": "发证机关无此证书编号"}))
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    let case = &body["exit_case"];
    assert_eq!(case["opened_by"], "system");
    assert_eq!(case["grounds"][0]["ground"]["code"], "false_credentials");

    let inspection = app
        .sql_i64(&format!(
            "SELECT MAX(id) AS value FROM inspections WHERE institution_id = {inst}"
        ))
        .await;
    let joined = ok(
        as_reviewer(
            &app,
            Method::POST,
            &format!("/api/v1/institutions/{inst}/inspections/{inspection}/verification"),
        )
        .await
        .json(&json!({"verdict": "false", "note": "年检结论系伪造"}))
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(joined["exit_case"]["id"], case["id"]);
    assert_eq!(joined["exit_case"]["grounds"].as_array().unwrap().len(), 2);
    assert_eq!(audit_count(&app, "teacher.verified").await, 2);
    assert_eq!(audit_count(&app, "inspection.verified").await, 1);

    let missing = as_reviewer(
        &app,
        Method::POST,
        &format!("/api/v1/institutions/{inst}/teachers/999999/verification"),
    )
    .await
    .json(&json!({"verdict": "false", "note": "x"}))
    .send()
    .await
    .unwrap();
    assert_problem(missing, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn the_statement_window_is_five_working_days_with_the_national_day_holidays_skipped() {
    let app = TestApp::spawn().await;
    app.set_clock(START).await;
    let round = app.open_round().await;
    let (mut a, _, _) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    let (mut b, _, _) = flow::seed_pool_member(&app, 2, round, ITEMS).await;

    flow::travel(&app, "2026-09-28T10:00:00+08:00", &mut [&mut a, &mut b]).await;
    let case_a = open_case(&app, a.institution_id, &["service_mismatch"]).await;
    let case_b = open_case(&app, b.institution_id, &["service_mismatch"]).await;
    // 9-29, 9-30, (10-1…10-7 National Day), 10-8, 10-9, and the make-up working Saturday 10-10.
    assert_eq!(case_a["statement_due"], "2026-10-10");
    let (ca, cb) = (
        case_a["id"].as_i64().unwrap(),
        case_b["id"].as_i64().unwrap(),
    );

    flow::travel(&app, "2026-10-10T23:59:00+08:00", &mut [&mut a, &mut b]).await;
    let filed = ok(file_statement(&app, &a, ca).await, StatusCode::OK).await;
    assert_eq!(filed["statement"], "我机构对所述情形提出申辩");
    assert!(filed["statement_filed_at"].is_string());
    assert_problem(
        file_statement(&app, &a, ca).await,
        StatusCode::CONFLICT,
        "statement_already_filed",
    )
    .await;
    // Not someone else's case.
    assert_problem(
        file_statement(&app, &a, cb).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    flow::travel(&app, "2026-10-11T00:00:30+08:00", &mut [&mut a, &mut b]).await;
    let late = file_statement(&app, &b, cb).await;
    let body = assert_problem(late, StatusCode::CONFLICT, "statement_window_closed").await;
    assert_eq!(body["extra"]["statement_due"], "2026-10-10");
    assert_eq!(audit_count(&app, "exit_case.statement_filed").await, 1);
}

#[tokio::test]
async fn removal_waits_for_the_window_unless_the_statement_was_filed() {
    let app = TestApp::spawn().await;
    app.set_clock(START).await;
    let round = app.open_round().await;
    let (mut a, _, _) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    let (mut b, _, _) = flow::seed_pool_member(&app, 2, round, ITEMS).await;
    let ca = open_case(&app, a.institution_id, &["illegal_conduct"]).await["id"]
        .as_i64()
        .unwrap();
    let cb = open_case(&app, b.institution_id, &["illegal_conduct"]).await["id"]
        .as_i64()
        .unwrap();

    // Opened Monday 2026-03-02: due Monday 2026-03-09.
    flow::travel(&app, "2026-03-09T23:00:00+08:00", &mut [&mut a, &mut b]).await;
    let early = decide(&app, ca, "remove").await;
    let body = assert_problem(early, StatusCode::CONFLICT, "statement_window_open").await;
    assert_eq!(body["extra"]["statement_due"], "2026-03-09");
    // B has filed its statement: the reviewer need not wait.
    ok(file_statement(&app, &b, cb).await, StatusCode::OK).await;
    let removed = ok(decide(&app, cb, "remove").await, StatusCode::OK).await;
    assert_eq!(removed["status"], "removed");
    assert_eq!(removed["decision"]["decision"], "remove");

    flow::travel(&app, "2026-03-10T09:00:00+08:00", &mut [&mut a, &mut b]).await;
    let after = ok(decide(&app, ca, "remove").await, StatusCode::OK).await;
    assert_eq!(after["status"], "removed");
    assert_eq!(after["ban"]["decided_on"], "2026-03-10");
    assert_eq!(after["ban"]["last_day"], "2029-03-10");
    assert_eq!(after["ban"]["may_apply_from"], "2029-03-11");
    assert_problem(
        decide(&app, ca, "dismiss").await,
        StatusCode::CONFLICT,
        "exit_case_closed",
    )
    .await;
}

#[tokio::test]
async fn a_dismissed_case_leaves_the_member_in_the_pool() {
    let app = TestApp::spawn().await;
    app.set_clock(START).await;
    let round = app.open_round().await;
    let (member, _, entry) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    let case = open_case(&app, member.institution_id, &["service_mismatch"]).await["id"]
        .as_i64()
        .unwrap();
    // Dismissal needs no wait.
    let body = ok(decide(&app, case, "dismiss").await, StatusCode::OK).await;
    assert_eq!(body["status"], "dismissed");
    assert_eq!(body["decision"]["decision"], "dismiss");
    assert_eq!(body["decision"]["reasons"], "经审议作出决定");
    assert!(body["ban"].is_null());
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM pool_entries WHERE id = {entry} AND status = 'active'"
        ))
        .await,
        1
    );
    assert_eq!(app.sql_i64("SELECT COUNT(*) AS value FROM bans").await, 0);
    assert_problem(
        decide(&app, case, "remove").await,
        StatusCode::CONFLICT,
        "exit_case_closed",
    )
    .await;
    // A new ground opens a new case.
    let next = open_case(&app, member.institution_id, &["subcontracting"]).await;
    assert_ne!(next["id"].as_i64().unwrap(), case);
}

#[tokio::test]
async fn removal_ends_contracts_rejects_applications_removes_the_entry_and_bans_the_uscc() {
    let app = TestApp::spawn().await;
    app.set_clock(START).await;
    let round = app.open_round().await;
    let second_round = app.open_round().await;
    let (mut member, admitted, entry) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    let in_flight = flow::draft(&app, &member, second_round, ITEMS).await;
    flow::submit(&app, &member, in_flight).await;
    let school = flow::school_id(&app).await;
    let c1 = flow::seed_contract(&app, school, &member, entry, ITEMS).await;
    let c2 = flow::seed_contract(&app, school, &member, entry, ITEMS).await;
    let case = open_case(
        &app,
        member.institution_id,
        &["illegal_conduct", "subcontracting"],
    )
    .await["id"]
        .as_i64()
        .unwrap();

    flow::travel(&app, "2026-03-12T10:00:00+08:00", &mut [&mut member]).await;
    let body = ok(decide(&app, case, "remove").await, StatusCode::OK).await;
    assert_eq!(body["ban"]["decided_on"], "2026-03-12");
    assert_eq!(body["ban"]["last_day"], "2029-03-12");
    assert_eq!(body["ban"]["may_apply_from"], "2029-03-13");

    for c in [c1, c2] {
        assert_eq!(
            app.sql_i64(&format!("SELECT COUNT(*) AS value FROM contracts WHERE id = {c} AND status = 'ended' AND end_reason = 'institution_removed' AND ended_on = '2026-03-12'")).await,
            1,
            "contract {c}"
        );
    }
    assert_eq!(
        app.sql_i64(&format!("SELECT COUNT(*) AS value FROM pool_entries WHERE id = {entry} AND status = 'removed' AND ended_at IS NOT NULL")).await,
        1
    );
    let application = ok(
        app.get(&format!("/api/v1/applications/{in_flight}"))
            .bearer_auth(&member.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(application["status"], "rejected");
    assert_eq!(
        app.sql_i64(&format!("SELECT COUNT(*) AS value FROM applications WHERE id = {admitted} AND status = 'admitted'")).await,
        1,
        "the admitted application stays as history"
    );
    for action in [
        "exit_case.removed",
        "pool_entry.removed",
        "contract.ended",
        "application.rejected",
        "ban.recorded",
    ] {
        assert!(audit_count(&app, action).await >= 1, "{action}");
    }
    assert_eq!(audit_count(&app, "contract.ended").await, 2);

    let bans = ok(
        app.get("/api/v1/bans").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(bans["total"], 1);
    let ban = &bans["items"][0];
    assert_eq!(ban["uscc"], member.uscc);
    assert_eq!(ban["institution_name"], member.name);
    assert_eq!(ban["status"], "active");
    assert_eq!(ban["decided_on"], "2026-03-12");
    assert_eq!(ban["last_day"], "2029-03-12");
    assert_eq!(ban["may_apply_from"], "2029-03-13");
    let codes: Vec<&str> = ban["grounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["subcontracting", "illegal_conduct"]);
    assert_eq!(
        ban["grounds"][1]["name_zh"],
        "机构或其人员存在违法或严重违规行为"
    );
    // Nothing personal in the public list.
    let text = serde_json::to_string(&bans).unwrap();
    assert!(!text.contains("450103"), "{text}");
    // No longer a pool member: a new reviewer case is refused.
    let outside = as_reviewer(&app, Method::POST, "/api/v1/exit-cases")
        .await
        .json(&json!({"institution_id": member.institution_id, "grounds": ["illegal_conduct"], "statement": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(outside, StatusCode::CONFLICT, "not_in_pool").await;
}

#[tokio::test]
async fn a_ban_decided_on_29_february_lasts_through_28_february_three_years_later() {
    let app = TestApp::spawn().await;
    app.set_clock(START).await;
    let round = app.open_round().await;
    let (mut member, _, _) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    let case = open_case(&app, member.institution_id, &["false_credentials"]).await["id"]
        .as_i64()
        .unwrap();

    flow::travel(&app, "2028-02-29T10:00:00+08:00", &mut [&mut member]).await;
    let body = ok(decide(&app, case, "remove").await, StatusCode::OK).await;
    assert_eq!(body["ban"]["decided_on"], "2028-02-29");
    assert_eq!(body["ban"]["last_day"], "2031-02-28");
    assert_eq!(body["ban"]["may_apply_from"], "2031-03-01");

    // Late on the last day it is still banned.
    flow::travel(&app, "2031-02-28T23:55:00+08:00", &mut [&mut member]).await;
    let bans = ok(
        app.get("/api/v1/bans?status=active").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(bans["total"], 1);
    assert_eq!(bans["items"][0]["last_day"], "2031-02-28");
    assert_eq!(bans["items"][0]["may_apply_from"], "2031-03-01");
    let status = ok(
        app.get(&format!("/api/v1/institutions/status?uscc={}", member.uscc))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(status["status"], "banned");
    flow::travel(&app, "2031-03-01T00:00:00+08:00", &mut [&mut member]).await;
    let bans = ok(
        app.get("/api/v1/bans").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(bans["items"][0]["status"], "past");
    let active = ok(
        app.get("/api/v1/bans?status=active").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(active["total"], 0);
}

/// The blocking finding codes of a refused submission (422 `submission_blocked`).
fn blocking(body: &Value) -> Vec<&str> {
    body["extra"]["blocking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_removal_decided_on_20_october_2026_bans_through_20_october_2029_and_frees_the_next_day()
{
    let app = TestApp::spawn().await;
    app.set_clock(START).await;
    let round = app.open_round().await;
    let (mut member, _, _) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    let case = open_case(&app, member.institution_id, &["subcontracting"]).await["id"]
        .as_i64()
        .unwrap();
    ok(file_statement(&app, &member, case).await, StatusCode::OK).await;
    flow::travel(&app, "2026-10-20T10:00:00+08:00", &mut [&mut member]).await;
    let body = ok(decide(&app, case, "remove").await, StatusCode::OK).await;
    let dates = json!({"decided_on": "2026-10-20", "last_day": "2029-10-20", "may_apply_from": "2029-10-21"});
    assert_eq!(body["ban"], dates);

    // Late on the last day (the clock runs on from there): the institution brings its records up to date for a
    // round of 2029, so that the ban is the one thing in its way.
    flow::travel(&app, "2029-10-20T23:55:00+08:00", &mut [&mut member]).await;
    let second_round = app.open_round().await;
    ok(
        app.put(&format!("/api/v1/institutions/me/teachers/{}", member.teacher_id))
            .bearer_auth(&member.token)
            .json(&json!({
                "name": "李老师",
                "identity": {"kind": "resident_id", "number": flow::resident_id(3)},
                "credentials": [{"kind": "teacher_qualification", "number": "20154500210000001", "issuer": "南宁市教育局", "issued_on": "2015-07-01"}],
                "specialities": ITEMS,
                "criminal_check": {"date": "2029-10-08", "result": "clean", "issuer": "南宁市公安局青秀分局"},
            }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    for year in [2027, 2028] {
        ok(
            app.post("/api/v1/institutions/me/inspections")
                .bearer_auth(&member.token)
                .json(&json!({"year": year, "result": "passed", "authority": "南宁市民政局"}))
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
    }
    let application = flow::draft(&app, &member, second_round, ITEMS).await;
    let submit = || {
        app.post(&format!("/api/v1/applications/{application}/submit"))
            .bearer_auth(&member.token)
            .send()
    };
    let refused = assert_problem(
        submit().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "submission_blocked",
    )
    .await;
    assert_eq!(blocking(&refused), ["uscc_banned"], "{refused}");
    let finding = &refused["extra"]["blocking"][0];
    assert_eq!(finding["detail"], dates);
    assert!(
        finding["message_en"].as_str().unwrap().contains(
            "the last banned day is 2029-10-20; it may register and apply again from 2029-10-21"
        ),
        "{finding}"
    );
    let uscc = member.uscc.clone();
    let register = |email: &str| {
        app.post("/api/v1/auth/register")
            .json(&json!({
                "email": email, "password": crate::common::PASSWORD, "display_name": "联系人",
                "institution_name": "南宁市换壳培训中心", "uscc": uscc,
                "entity_type": "private_non_enterprise_unit",
            }))
            .send()
    };
    let refused = assert_problem(
        register("shell@example.cn").await.unwrap(),
        StatusCode::CONFLICT,
        "uscc_banned",
    )
    .await;
    for key in ["decided_on", "last_day", "may_apply_from"] {
        assert_eq!(refused["extra"][key], dates[key], "{refused}");
    }
    let status = ok(
        app.get(&format!("/api/v1/institutions/status?uscc={}", member.uscc))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        status,
        json!({"status": "banned", "name": member.name, "decided_on": "2026-10-20",
               "last_day": "2029-10-20", "may_apply_from": "2029-10-21",
               "grounds": ["subcontracting"]})
    );
    let active = ok(
        app.get("/api/v1/bans?status=active").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(active["total"], 1);
    assert_eq!(active["items"][0]["status"], "active");
    assert_eq!(active["items"][0]["may_apply_from"], "2029-10-21");

    // The next day it may apply: the same submission passes, and the look-up no longer says
    // banned (the credit code stays registered to the removed institution, so a second
    // registration is refused for that, not for the ban).
    flow::travel(&app, "2029-10-21T00:00:00+08:00", &mut [&mut member]).await;
    flow::submit(&app, &member, application).await;
    let status = ok(
        app.get(&format!("/api/v1/institutions/status?uscc={}", member.uscc))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(status["status"], "not_listed");
    let bans = ok(
        app.get("/api/v1/bans").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(bans["items"][0]["status"], "past");
    assert_eq!(bans["items"][0]["last_day"], "2029-10-20");
    assert_problem(
        register("shell@example.cn").await.unwrap(),
        StatusCode::CONFLICT,
        "uscc_taken",
    )
    .await;
}

#[tokio::test]
async fn concurrent_openers_end_up_in_one_case() {
    let app = TestApp::spawn().await;
    app.set_clock(START).await;
    let round = app.open_round().await;
    let (member, _, _) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    let token = app.token(Role::Reviewer).await;
    let send = |ground: &'static str| {
        app.post("/api/v1/exit-cases")
            .bearer_auth(&token)
            .json(&json!({"institution_id": member.institution_id, "grounds": [ground], "statement": "并发"}))
            .send()
    };
    let (a, b) = tokio::join!(send("illegal_conduct"), send("subcontracting"));
    let (a, b) = (
        ok(a.unwrap(), StatusCode::CREATED).await,
        ok(b.unwrap(), StatusCode::CREATED).await,
    );
    assert_eq!(a["id"], b["id"]);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM exit_cases")
            .await,
        1
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM exit_grounds")
            .await,
        2
    );
}

/// A fresh app with one pool member and an `illegal_conduct` case opened against it at START.
async fn member_with_open_case() -> (TestApp, Applicant, i64) {
    let app = TestApp::spawn().await;
    app.set_clock(START).await;
    let round = app.open_round().await;
    let (member, _, _) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    let case = open_case(&app, member.institution_id, &["illegal_conduct"]).await["id"]
        .as_i64()
        .unwrap();
    (app, member, case)
}

#[tokio::test]
async fn two_reviewers_removing_at_once_remove_and_ban_once() {
    let (app, mut member, case) = member_with_open_case().await;
    flow::travel(&app, "2026-03-10T09:00:00+08:00", &mut [&mut member]).await;
    let (a, b) = tokio::join!(decide(&app, case, "remove"), decide(&app, case, "remove"));
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let loser = if a.status() == StatusCode::CONFLICT {
        a
    } else {
        b
    };
    let body: Value = loser.json().await.unwrap();
    // Either it read the case already decided, or it lost the compare-and-set.
    assert!(
        ["exit_case_closed", "status_changed"].contains(&body["code"].as_str().unwrap()),
        "{body}"
    );
    for action in ["exit_case.removed", "pool_entry.removed", "ban.recorded"] {
        assert_eq!(audit_count(&app, action).await, 1, "{action}");
    }
    assert_eq!(app.sql_i64("SELECT COUNT(*) AS value FROM bans").await, 1);
}

#[tokio::test]
async fn a_corrupt_evidence_list_fails_the_read_instead_of_reading_as_empty() {
    let (app, _, case) = member_with_open_case().await;
    let path = format!("/api/v1/exit-cases/{case}");
    let read = ok(
        as_reviewer(&app, Method::GET, &path)
            .await
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(read["grounds"][0]["document_ids"], json!([]));
    app.sql(&format!(
        "UPDATE exit_grounds SET document_ids = 'not json' WHERE case_id = {case}"
    ))
    .await;
    let res = as_reviewer(&app, Method::GET, &path)
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
