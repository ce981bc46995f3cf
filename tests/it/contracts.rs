//! School contracts with pool members: each refusal, the two-school-year limit on both sides of
//! 31 August, who sees which contracts, evaluations once per term, the standing shown from
//! three evaluations and flagged to reviewers, and the daily job that ends contracts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::flow::{self, Applicant};
use crate::common::{PASSWORD, TestApp, assert_problem};
use provider_registry::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

const INTAKE: &str = "2026-06-01T10:00:00+08:00";
const IN_POOL: &str = "2026-09-10T10:00:00+08:00";

/// Moves the service clock directly (tokens are re-issued after a jump with `login_as`).
fn set_clock(app: &TestApp, now: &str) {
    let now = chrono::DateTime::parse_from_rfc3339(now).unwrap().to_utc();
    app.state.clock.settable().unwrap().set(now);
}

/// A token of the harness account of `role`, issued now by the service clock.
async fn login_as(app: &TestApp, role: Role) -> String {
    app.token(role).await;
    app.login(&format!("{}@test.local", role.as_str()), PASSWORD)
        .await
}

/// A second school with its own account; returns its token.
async fn other_school(app: &TestApp) -> String {
    let admin = login_as(app, Role::Admin).await;
    let school: Value = app
        .post("/api/v1/admin/schools")
        .bearer_auth(&admin)
        .json(&json!({"name": "南宁市兴宁区第二小学", "code": "2145010002", "district": "兴宁区"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = app
        .post("/api/v1/admin/users")
        .bearer_auth(&admin)
        .json(&json!({
            "email": "school2@test.local", "password": PASSWORD, "role": "school",
            "display_name": "第二小学教务处", "school_id": school["id"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    app.login("school2@test.local", PASSWORD).await
}

/// A pool member (basketball and dance) and an institution that only submitted.
async fn member_and_applicant(app: &TestApp) -> (Applicant, Applicant) {
    set_clock(app, INTAKE);
    let round = app.open_round().await;
    let (member, _) =
        flow::seed_pool_entry(app, 1, round, &["sports.basketball", "arts.dance"]).await;
    let (applicant, _) = flow::submitted(app, 2, round, &["sports.football"]).await;
    set_clock(app, IN_POOL);
    (member, applicant)
}

async fn contract(
    app: &TestApp,
    token: &str,
    institution_id: i64,
    items: &[&str],
    starts_on: &str,
    ends_on: &str,
) -> reqwest::Response {
    app.post("/api/v1/contracts")
        .bearer_auth(token)
        .json(&json!({
            "institution_id": institution_id, "items": items,
            "starts_on": starts_on, "ends_on": ends_on,
        }))
        .send()
        .await
        .unwrap()
}

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn contracts_are_refused_outside_the_pool_for_unapproved_items_and_bad_terms() {
    let app = TestApp::spawn().await;
    let (member, applicant) = member_and_applicant(&app).await;
    let school = login_as(&app, Role::School).await;
    let id = member.institution_id;

    let res = contract(
        &app,
        &school,
        applicant.institution_id,
        &["sports.football"],
        "2026-09-01",
        "2027-06-30",
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "not_in_pool").await;

    let res = contract(
        &app,
        &school,
        id,
        &["sports.basketball", "sports.football"],
        "2026-09-01",
        "2027-06-30",
    )
    .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "item_not_approved").await;
    assert_eq!(body["errors"][0]["field"], "items[1]");

    let res = contract(
        &app,
        &school,
        id,
        &["sports.basketball"],
        "2026-09-01",
        "2026-08-31",
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_term").await;

    // Two school years, counted from the school year of the start date (1 Sep – 31 Aug).
    let res = contract(
        &app,
        &school,
        id,
        &["sports.basketball"],
        "2026-08-31",
        "2027-09-01",
    )
    .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "term_too_long").await;
    assert_eq!(body["extra"]["latest_end"], "2027-08-31");
    let ok = created(
        contract(
            &app,
            &school,
            id,
            &["sports.basketball"],
            "2026-08-31",
            "2027-08-31",
        )
        .await,
    )
    .await;
    assert_eq!(ok["status"], "active");
    let res = contract(
        &app,
        &school,
        id,
        &["arts.dance"],
        "2026-09-01",
        "2028-09-01",
    )
    .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "term_too_long").await;
    assert_eq!(body["extra"]["latest_end"], "2028-08-31");
    let ok = created(
        contract(
            &app,
            &school,
            id,
            &["arts.dance", "arts.dance"],
            "2026-09-01",
            "2028-08-31",
        )
        .await,
    )
    .await;
    assert_eq!(ok["institution"]["id"], id);
    assert_eq!(
        ok["items"],
        json!([{"code": "arts.dance", "category": "arts", "name_zh": "舞蹈", "name_en": "Dance"}])
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM audit_events WHERE action = 'contract.created'")
            .await,
        2
    );
    // The pool shows the active contracts.
    let page: Value = app
        .get("/api/v1/pool")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["contract_count"], 2);

    // Only schools sign.
    let reviewer = login_as(&app, Role::Reviewer).await;
    let res = contract(
        &app,
        &reviewer,
        id,
        &["arts.dance"],
        "2026-09-01",
        "2027-06-30",
    )
    .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    // A removed entry is no longer a pool member.
    app.sql(&format!(
        "UPDATE pool_entries SET status = 'removed' WHERE institution_id = {id}"
    ))
    .await;
    let res = contract(
        &app,
        &school,
        id,
        &["arts.dance"],
        "2026-09-01",
        "2027-06-30",
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "not_in_pool").await;
}

#[tokio::test]
async fn an_entry_past_its_validity_cannot_be_contracted_even_before_the_expiry_job() {
    let app = TestApp::spawn().await;
    let (member, _) = member_and_applicant(&app).await;
    set_clock(&app, "2028-09-01T09:00:00+08:00");
    let school = login_as(&app, Role::School).await;
    let res = contract(
        &app,
        &school,
        member.institution_id,
        &["arts.dance"],
        "2028-09-01",
        "2029-06-30",
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "not_in_pool").await;
}

#[tokio::test]
async fn schools_see_only_their_own_contracts_institutions_theirs_and_reviewers_all() {
    let app = TestApp::spawn().await;
    let (member, applicant) = member_and_applicant(&app).await;
    let school = login_as(&app, Role::School).await;
    let school2 = other_school(&app).await;
    let mine = created(
        contract(
            &app,
            &school,
            member.institution_id,
            &["arts.dance"],
            "2026-09-01",
            "2027-06-30",
        )
        .await,
    )
    .await;
    let theirs = created(
        contract(
            &app,
            &school2,
            member.institution_id,
            &["sports.basketball"],
            "2026-09-01",
            "2027-06-30",
        )
        .await,
    )
    .await;

    let list = |token: String| {
        let app = &app;
        async move {
            let page: Value = app
                .get("/api/v1/contracts")
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    let (a, b) = (mine["id"].as_i64().unwrap(), theirs["id"].as_i64().unwrap());
    // The institutions' tokens were issued before the clock moved on.
    let member = Applicant {
        token: app.login(&member.email, PASSWORD).await,
        ..member
    };
    let applicant = Applicant {
        token: app.login(&applicant.email, PASSWORD).await,
        ..applicant
    };
    assert_eq!(list(school.clone()).await, [a]);
    assert_eq!(list(school2.clone()).await, [b]);
    assert_eq!(list(login_as(&app, Role::Reviewer).await).await, [b, a]);
    assert_eq!(list(member.token.clone()).await, [b, a]);
    assert!(list(applicant.token.clone()).await.is_empty());

    let get = |token: String, id: i64| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/contracts/{id}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(get(school.clone(), a).await.status(), StatusCode::OK);
    assert_problem(
        get(school.clone(), b).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        get(applicant.token.clone(), a).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(get(member.token.clone(), b).await.status(), StatusCode::OK);
    let res = get(login_as(&app, Role::Reviewer).await, a).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["school"]["name"], "测试小学");
    assert_eq!(body["evaluations"], json!([]));
    // Another school cannot evaluate a contract it did not sign.
    let res = app
        .post(&format!("/api/v1/contracts/{a}/evaluations"))
        .bearer_auth(&school2)
        .json(&json!({"term": "2026-2027-1", "quality": 5, "safety": 5, "punctuality": 5, "comment": "好"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

async fn evaluate(
    app: &TestApp,
    token: &str,
    contract: i64,
    term: &str,
    scores: [i32; 3],
) -> reqwest::Response {
    app.post(&format!("/api/v1/contracts/{contract}/evaluations"))
        .bearer_auth(token)
        .json(&json!({
            "term": term, "quality": scores[0], "safety": scores[1], "punctuality": scores[2],
            "comment": "教练认真负责，学生喜欢",
        }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_contract_is_evaluated_once_per_term_and_the_standing_shows_from_three_evaluations() {
    let app = TestApp::spawn().await;
    let (member, _) = member_and_applicant(&app).await;
    let school = login_as(&app, Role::School).await;
    let c = created(
        contract(
            &app,
            &school,
            member.institution_id,
            &["arts.dance"],
            "2026-09-01",
            "2028-08-31",
        )
        .await,
    )
    .await;
    let id = c["id"].as_i64().unwrap();

    let first = created(evaluate(&app, &school, id, "2026-2027-1", [5, 5, 5]).await).await;
    assert_eq!(first["term"], "2026-2027-1");
    let res = evaluate(&app, &school, id, "2026-2027-1", [1, 1, 1]).await;
    assert_problem(res, StatusCode::CONFLICT, "already_evaluated").await;
    let res = evaluate(&app, &school, id, "2026-2027-2", [4, 4, 4]).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "term_not_started").await;
    let res = evaluate(&app, &school, id, "2025-2026-2", [4, 4, 4]).await;
    assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "term_outside_contract",
    )
    .await;
    let res = evaluate(&app, &school, id, "2026-27-1", [4, 4, 4]).await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_school_term").await;
    assert_eq!(body["errors"][0]["code"], "invalid_school_term");
    let res = evaluate(&app, &school, id, "2026-2027-1", [6, 4, 4]).await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range").await;
    assert_eq!(body["errors"][0]["field"], "quality");

    let entry = |app: &TestApp, token: Option<String>| {
        let req = app.get(&format!("/api/v1/pool?q={}", member.name));
        async move {
            let req = match token {
                Some(t) => req.bearer_auth(t),
                None => req,
            };
            let page: Value = req.send().await.unwrap().json().await.unwrap();
            page["items"][0].clone()
        }
    };
    assert!(entry(&app, None).await["standing"].is_null());

    // The spring term, then the next autumn term: three evaluations.
    set_clock(&app, "2027-03-01T10:00:00+08:00");
    let school = login_as(&app, Role::School).await;
    created(evaluate(&app, &school, id, "2026-2027-2", [2, 2, 2]).await).await;
    assert!(
        entry(&app, None).await["standing"].is_null(),
        "two evaluations are not enough"
    );
    set_clock(&app, "2027-09-10T10:00:00+08:00");
    let school = login_as(&app, Role::School).await;
    created(evaluate(&app, &school, id, "2027-2028-1", [1, 1, 2]).await).await;
    let public = entry(&app, None).await;
    // (5 + 2 + 4/3) / 3 = 2.78
    assert_eq!(public["standing"], json!({"score": 2.78, "evaluations": 3}));
    assert!(public.get("flagged").is_none());

    // Under the threshold (3.0 by default): flagged to reviewers, who can filter on it.
    let reviewer = login_as(&app, Role::Reviewer).await;
    assert_eq!(entry(&app, Some(reviewer.clone())).await["flagged"], true);
    let flagged: Value = app
        .get("/api/v1/pool?flagged=true")
        .bearer_auth(&reviewer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(flagged["total"], 1);
    assert_eq!(flagged["items"][0]["institution_id"], member.institution_id);
    let res = app.get("/api/v1/pool?flagged=true").send().await.unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let detail: Value = app
        .get(&format!("/api/v1/contracts/{id}"))
        .bearer_auth(&school)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["evaluations"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_lower_threshold_unflags_the_same_standing() {
    let app = TestApp::spawn_with(&[("STANDING_FLAG_THRESHOLD", "2.5")]).await;
    let (member, _) = member_and_applicant(&app).await;
    let school = login_as(&app, Role::School).await;
    for (n, starts) in ["2026-09-01", "2026-09-02", "2026-09-03"]
        .iter()
        .enumerate()
    {
        let c = created(
            contract(
                &app,
                &school,
                member.institution_id,
                &["arts.dance"],
                starts,
                "2027-06-30",
            )
            .await,
        )
        .await;
        let scores = [[5, 5, 5], [2, 2, 2], [1, 1, 2]][n];
        created(
            evaluate(
                &app,
                &school,
                c["id"].as_i64().unwrap(),
                "2026-2027-1",
                scores,
            )
            .await,
        )
        .await;
    }
    let reviewer = login_as(&app, Role::Reviewer).await;
    let page: Value = app
        .get("/api/v1/pool")
        .bearer_auth(&reviewer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["standing"]["score"], 2.78);
    assert_eq!(page["items"][0]["flagged"], false);
}

#[tokio::test]
async fn contracts_end_on_their_end_date_by_the_daily_job() {
    let app = TestApp::spawn().await;
    let (member, _) = member_and_applicant(&app).await;
    let school = login_as(&app, Role::School).await;
    let c = created(
        contract(
            &app,
            &school,
            member.institution_id,
            &["arts.dance"],
            "2026-09-01",
            "2027-06-30",
        )
        .await,
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    let tick = |app: &TestApp| {
        let state = app.state.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = state.pool.get().unwrap();
                provider_registry::db::write_tx(&mut conn, |c| {
                    provider_registry::jobs::scheduler::tick(
                        c,
                        &provider_registry::startup::job_kinds::periodic(),
                        state.clock.now(),
                    )
                })
                .unwrap();
            })
            .await
            .unwrap();
        }
    };
    let status =
        format!("SELECT COUNT(*) AS value FROM contracts WHERE id = {id} AND status = 'active'");
    // On its last day it is still active.
    set_clock(&app, "2027-06-30T23:00:00+08:00");
    tick(&app).await;
    app.run_pending_jobs().await;
    assert_eq!(app.sql_i64(&status).await, 1);
    // The next day's job ends it.
    set_clock(&app, "2027-07-01T00:30:00+08:00");
    tick(&app).await;
    app.run_pending_jobs().await;
    assert_eq!(app.sql_i64(&status).await, 0);
    let school = login_as(&app, Role::School).await;
    let body: Value = app
        .get(&format!("/api/v1/contracts/{id}"))
        .bearer_auth(&school)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "ended");
    assert_eq!(body["ended_on"], "2027-06-30");
    assert_eq!(body["end_reason"], "expired");
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM audit_events WHERE action = 'contract.ended'")
            .await,
        1
    );
    let page: Value = app
        .get("/api/v1/pool")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["contract_count"], 0);
}
