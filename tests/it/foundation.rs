//! The service foundation through HTTP: errors as problem+json, accounts and roles, tokens,
//! login throttling, the audit chain, the job queue's admin side, the clock, operations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{PASSWORD, TestApp, assert_problem};
use provider_registry::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

// ---- errors ------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
}

#[tokio::test]
async fn wrong_types_and_unknown_fields_name_the_field() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": 5, "password": "x"}))
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    assert_eq!(body["errors"][0]["field"], "email");
    assert_eq!(body["errors"][0]["code"], "invalid_type");

    let res = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": "a@b.cn", "password": "x", "admin": true}))
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    assert_eq!(body["errors"][0]["field"], "admin");
    assert_eq!(body["errors"][0]["code"], "unknown_field");

    let res = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": "a@b.cn"}))
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    assert_eq!(body["errors"][0]["field"], "password");
    assert_eq!(body["errors"][0]["code"], "missing_field");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = TestApp::spawn_with(&[("JSON_BODY_LIMIT_BYTES", "1024")]).await;
    let big = json!({"email": "a@b.cn", "password": "x".repeat(4000)});
    let res = app
        .post("/api/v1/auth/login")
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/v1/auth/login")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let res = app
        .post("/api/v1/auth/login")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/no-such-thing").send().await.unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.get("/nothing/here").send().await.unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .request(Method::DELETE, "/api/v1/auth/login")
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED,
        "{status}"
    );
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn bad_query_and_path_parameters_are_400_problems() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Admin).await;
    let res = app
        .get("/api/v1/admin/users?page=abc")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    let res = app
        .post("/api/v1/admin/users/abc/disable")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_path").await;
}

#[tokio::test]
async fn messages_are_chinese_by_default_and_english_on_request() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/me").send().await.unwrap();
    let zh = assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert!(zh["detail"].as_str().unwrap().contains("登录"), "{zh}");
    let res = app
        .get("/api/v1/me")
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    let en = assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert!(en["detail"].as_str().unwrap().contains("Sign in"), "{en}");
    assert_eq!(en["title"], "Authentication required");
    let res = app
        .get("/api/v1/me")
        .header("accept-language", "zh-CN,en;q=0.5")
        .send()
        .await
        .unwrap();
    let zh2 = assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_eq!(zh2["detail"], zh["detail"]);
}

#[tokio::test]
async fn every_response_echoes_a_request_id() {
    let app = TestApp::spawn().await;
    let res = app
        .get("/healthz")
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let res = app
        .get("/api/v1/me")
        .header("x-request-id", "bad id\twith spaces")
        .send()
        .await
        .unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(generated, "bad id\twith spaces");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["request_id"], generated.as_str());
}

// ---- accounts ----------------------------------------------------------------------------

#[tokio::test]
async fn an_institution_registers_signs_in_and_sees_itself() {
    let app = TestApp::spawn().await;
    let body = app
        .register_institution(
            "Org@Example.cn",
            "南宁市青少年艺术中心",
            "91450103MA5L123454",
        )
        .await;
    assert_eq!(body["account"]["role"], "institution");
    assert_eq!(body["account"]["email"], "org@example.cn");
    assert_eq!(body["account"]["institution"]["uscc"], "91450103MA5L123454");
    let token = app.login("org@example.cn", PASSWORD).await;
    let me: Value = app
        .get("/api/v1/me")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["institution"]["name"], "南宁市青少年艺术中心");
}

#[tokio::test]
async fn registration_refuses_a_bad_uscc_a_mismatched_entity_type_and_a_short_password() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": "x@example.cn", "password": "short", "display_name": "x",
            "institution_name": "某机构", "uscc": "91450103MA5L123455", "entity_type": "enterprise"}))
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "password_too_short").await;
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"password_too_short"), "{codes:?}");
    assert!(codes.contains(&"bad_check_character"), "{codes:?}");

    let res = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": "x@example.cn", "password": PASSWORD, "display_name": "x",
            "institution_name": "某机构", "uscc": "91450103MA5L123454", "entity_type": "private_non_enterprise_unit"}))
        .send()
        .await
        .unwrap();
    let body = assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "entity_type_mismatch",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "entity_type_mismatch");

    // The top-level code names the cause; the validator's precise reason stays per field.
    let res = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": "x@example.cn", "password": PASSWORD, "display_name": "x",
            "institution_name": "某机构", "uscc": "91450103MA5L123455", "entity_type": "enterprise"}))
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_uscc").await;
    assert_eq!(body["errors"][0]["code"], "bad_check_character");
    assert_eq!(body["errors"][0]["field"], "uscc");
}

#[tokio::test]
async fn a_uscc_or_email_registers_once() {
    let app = TestApp::spawn().await;
    app.register_institution("a@example.cn", "甲机构", "91450103MA5L123454")
        .await;
    let again = |email: &str| {
        json!({"email": email, "password": PASSWORD, "display_name": "x", "institution_name": "乙机构",
               "uscc": "91450103MA5L123454", "entity_type": "enterprise"})
    };
    let res = app
        .post("/api/v1/auth/register")
        .json(&again("b@example.cn"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "uscc_taken").await;
    let mut body = again("A@example.cn");
    body["uscc"] = json!("52450100MJ9000002T");
    body["entity_type"] = json!("private_non_enterprise_unit");
    let res = app
        .post("/api/v1/auth/register")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "email_taken").await;
}

/// The password is hashed before the registration's write transaction: a taken e-mail is still
/// answered 409 `email_taken` (the institution written before the account rolls back with it,
/// so its credit code registers afterwards), and of two registrations of one e-mail at the
/// same moment exactly one is created and the other answered `email_taken`.
#[tokio::test]
async fn a_taken_email_is_refused_after_the_hash_and_leaves_nothing_half_written() {
    let app = TestApp::spawn().await;
    app.register_institution("first@example.cn", "甲机构", "91450103MA5L123454")
        .await;
    let body = |email: &str, uscc: &str| {
        json!({"email": email, "password": PASSWORD, "display_name": "x",
               "institution_name": "乙机构", "uscc": uscc,
               "entity_type": "private_non_enterprise_unit"})
    };
    let res = app
        .post("/api/v1/auth/register")
        .json(&body("First@Example.cn", "52450100MJ9000002T"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "email_taken").await;
    let written = "SELECT COUNT(*) AS value FROM institutions WHERE uscc = '52450100MJ9000002T'";
    assert_eq!(app.sql_i64(written).await, 0);
    assert_eq!(
        app.sql_i64(
            "SELECT COUNT(*) AS value FROM audit_events WHERE action = 'institution.registered'"
        )
        .await,
        1
    );
    let res = app
        .post("/api/v1/auth/register")
        .json(&body("second@example.cn", "52450100MJ9000002T"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    let (a, b) = tokio::join!(
        app.post("/api/v1/auth/register")
            .json(&body("same@example.cn", "52450100MJ9000003X"))
            .send(),
        app.post("/api/v1/auth/register")
            .json(&body("same@example.cn", "52450100MJ90000041"))
            .send(),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    let refused = if a.status() == StatusCode::CONFLICT {
        a
    } else {
        b
    };
    assert_problem(refused, StatusCode::CONFLICT, "email_taken").await;
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM institutions WHERE uscc IN ('52450100MJ9000003X', '52450100MJ90000041')")
            .await,
        1
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM users WHERE email = 'same@example.cn'")
            .await,
        1
    );

    // An admin's new account: the same answer for a taken e-mail, and nothing written.
    let res = app
        .as_role(Role::Admin, Method::POST, "/api/v1/admin/users")
        .await
        .json(&json!({"email": "SAME@example.cn", "password": PASSWORD,
                      "role": "reviewer", "display_name": "审核员"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "email_taken").await;
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM audit_events WHERE action = 'user.created' AND summary LIKE '%same@example.cn%'")
            .await,
        0
    );
}

#[tokio::test]
async fn role_guards_answer_401_without_a_token_and_403_with_the_wrong_role() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/admin/users").send().await.unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let res = app
        .get("/api/v1/admin/users")
        .bearer_auth("not-a-jwt")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_token").await;
    for role in [Role::Institution, Role::Reviewer, Role::School] {
        let res = app
            .as_role(role, Method::GET, "/api/v1/admin/users")
            .await
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let res = app
        .as_role(Role::Admin, Method::GET, "/api/v1/admin/users")
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .as_role(Role::Reviewer, Method::GET, "/api/v1/audit")
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn admins_create_accounts_and_disabling_one_revokes_its_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin).await;
    let res = app
        .post("/api/v1/admin/users")
        .bearer_auth(&admin)
        .json(&json!({"email": "rev2@example.cn", "password": PASSWORD, "role": "reviewer", "display_name": "审核员二"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let token = app.login("rev2@example.cn", PASSWORD).await;
    assert_eq!(
        app.get("/api/v1/me")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let res = app
        .post(&format!("/api/v1/admin/users/{id}/disable"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .get("/api/v1/me")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "account_disabled").await;
    let res = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": "rev2@example.cn", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "account_disabled").await;

    app.post(&format!("/api/v1/admin/users/{id}/enable"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/v1/me")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn school_accounts_need_a_school_and_institutions_cannot_be_created_by_admins() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin).await;
    let res = app.post("/api/v1/admin/users").bearer_auth(&admin)
        .json(&json!({"email": "s@example.cn", "password": PASSWORD, "role": "school", "display_name": "学校"}))
        .send().await.unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "school_required").await;
    assert_eq!(body["errors"][0]["code"], "school_required");
    let school: Value = app
        .post("/api/v1/admin/schools")
        .bearer_auth(&admin)
        .json(&json!({"name": "南宁市第一小学", "code": "2145010002", "district": "兴宁区"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = app.post("/api/v1/admin/users").bearer_auth(&admin)
        .json(&json!({"email": "s@example.cn", "password": PASSWORD, "role": "school", "display_name": "学校", "school_id": school["id"]}))
        .send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.json::<Value>().await.unwrap()["school"]["district"],
        "兴宁区"
    );
    let res = app.post("/api/v1/admin/users").bearer_auth(&admin)
        .json(&json!({"email": "i@example.cn", "password": PASSWORD, "role": "institution", "display_name": "机构"}))
        .send().await.unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "role_not_allowed").await;
    assert_eq!(body["errors"][0]["code"], "role_not_allowed");
}

#[tokio::test]
async fn five_failed_logins_in_15_minutes_lock_the_account_with_retry_after() {
    let app = TestApp::spawn().await;
    app.token(Role::Reviewer).await;
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let attempt = |pw: &'static str| {
        app.post("/api/v1/auth/login")
            .json(&json!({"email": "reviewer@test.local", "password": pw}))
            .send()
    };
    for _ in 0..5 {
        assert_problem(
            attempt("wrong-password-1").await.unwrap(),
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    // Locked now, even with the right password.
    let res = attempt(PASSWORD).await.unwrap();
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 800 && retry_after <= 900, "{retry_after}");
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    // 15 minutes later the window has passed.
    app.set_clock("2026-03-02T09:15:01+08:00").await;
    assert_eq!(attempt(PASSWORD).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn failures_spread_over_more_than_15_minutes_do_not_lock() {
    let app = TestApp::spawn().await;
    app.token(Role::Reviewer).await;
    for minute in [0, 4, 8, 12, 16, 20] {
        app.set_clock(&format!("2026-03-02T09:{minute:02}:00+08:00"))
            .await;
        let res = app
            .post("/api/v1/auth/login")
            .json(&json!({"email": "reviewer@test.local", "password": "wrong-password-1"}))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
}

#[tokio::test]
async fn tokens_expire_by_the_service_clock() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let token = app.login("admin@test.local", PASSWORD).await;
    app.set_clock("2026-03-02T16:59:00+08:00").await;
    assert_eq!(
        app.get("/api/v1/me")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    app.set_clock("2026-03-02T17:00:01+08:00").await;
    let res = app
        .get("/api/v1/me")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "token_expired").await;
}

// ---- clock -------------------------------------------------------------------------------

#[tokio::test]
async fn the_clock_endpoint_does_not_exist_without_the_test_clock_setting() {
    let app = TestApp::spawn_with(&[("REGISTRY_TEST_CLOCK", "0")]).await;
    let token = app.token(Role::Admin).await;
    let res = app
        .put("/api/v1/admin/clock")
        .bearer_auth(token)
        .json(&json!({"now": "2030-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn setting_the_clock_is_audited_and_reports_the_beijing_date() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Admin).await;
    let res = app
        .put("/api/v1/admin/clock")
        .bearer_auth(&token)
        .json(&json!({"now": "2026-02-12T16:30:00Z"}))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["today"], "2026-02-13");
    let events: Value = app
        .get("/api/v1/audit?action=clock.set")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["total"], 1);
}

// ---- audit -------------------------------------------------------------------------------

#[tokio::test]
async fn every_change_is_audited_in_a_verifiable_chain() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin).await;
    app.register_institution("a@example.cn", "甲机构", "91450103MA5L123454")
        .await;
    let events: Value = app
        .get("/api/v1/audit?entity_type=institution")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["total"], 1);
    let event = &events["items"][0];
    assert_eq!(event["action"], "institution.registered");
    assert_eq!(event["actor_role"], "institution");
    assert_eq!(event["summary"]["uscc"], "91450103MA5L123454");
    assert!(event["request_id"].as_str().is_some());
    let verify: Value = app
        .get("/api/v1/audit/verify")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verify["ok"], true, "{verify}");
    assert!(verify["events"].as_i64().unwrap() >= 2);
}

#[tokio::test]
async fn an_edited_audit_row_is_named_by_verify_and_by_the_cli() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin).await;
    for (email, uscc) in [
        ("a@example.cn", "91450103MA5L123454"),
        ("b@example.cn", "52450100MJ9000002T"),
    ] {
        let entity = if uscc.starts_with("52") {
            "private_non_enterprise_unit"
        } else {
            "enterprise"
        };
        let res = app.post("/api/v1/auth/register")
            .json(&json!({"email": email, "password": PASSWORD, "display_name": "x", "institution_name": "某机构", "uscc": uscc, "entity_type": entity}))
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    app.sql("UPDATE audit_events SET summary = '{\"uscc\":\"forged\"}' WHERE seq = 2")
        .await;
    let verify: Value = app
        .get("/api/v1/audit/verify")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verify["ok"], false);
    assert_eq!(verify["first_problem"]["kind"], "edited");
    assert_eq!(verify["first_problem"]["seq"], 2);

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_provider-registry"))
        .arg("verify-audit")
        .env("DATABASE_URL", &app.database_url)
        .env("REGISTRY_DATA_DIR", app.dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["first_problem"]["kind"], "edited");
    assert_eq!(
        report["first_problem"]["event_id"],
        verify["first_problem"]["event_id"]
    );
}

#[tokio::test]
async fn deleted_and_inserted_audit_rows_are_detected() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin).await;
    for i in 0..3 {
        app.post("/api/v1/admin/schools")
            .bearer_auth(&admin)
            .json(
                &json!({"name": format!("学校{i}"), "code": format!("C{i}"), "district": "青秀区"}),
            )
            .send()
            .await
            .unwrap();
    }
    let verify = || async {
        app.get("/api/v1/audit/verify")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    app.sql("DELETE FROM audit_events WHERE seq = 2").await;
    assert_eq!(verify().await["first_problem"]["kind"], "deleted");

    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin).await;
    app.post("/api/v1/admin/schools")
        .bearer_auth(&admin)
        .json(&json!({"name": "学校", "code": "C1", "district": "青秀区"}))
        .send()
        .await
        .unwrap();
    app.sql("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)")
        .await;
    let v: Value = app
        .get("/api/v1/audit/verify")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["first_problem"]["kind"], "tail_deleted");
}

// ---- jobs (admin side) -------------------------------------------------------------------

#[tokio::test]
async fn dead_jobs_are_listed_and_can_be_retried() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin).await;
    app.sql("INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at) \
             VALUES ('no.such.kind', '{}', 'pending', 0, 3, '2000-01-01 00:00:00', '2000-01-01 00:00:00', '2000-01-01 00:00:00')").await;
    app.run_pending_jobs().await;
    let dead: Value = app
        .get("/api/v1/admin/jobs?state=dead")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dead["total"], 1);
    let job = &dead["items"][0];
    assert!(job["last_error"].as_str().unwrap().contains("no handler"));
    let id = job["id"].as_i64().unwrap();
    let res = app
        .post(&format!("/api/v1/admin/jobs/{id}/retry"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let pending: Value = app
        .get("/api/v1/admin/jobs?state=pending")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pending["total"], 1);
    let res = app
        .post(&format!("/api/v1/admin/jobs/{id}/retry"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "job_not_dead").await;
    let res = app
        .post("/api/v1/admin/jobs/999999/retry")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .get("/api/v1/admin/jobs?state=bogus")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
}

// ---- operations --------------------------------------------------------------------------

#[tokio::test]
async fn metrics_are_not_served_without_an_operator_token() {
    let app = TestApp::spawn().await;
    let res = app.get("/metrics").send().await.unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn metrics_need_the_operator_token() {
    let app = TestApp::spawn_with(&[("METRICS_TOKEN", METRICS_TOKEN)]).await;
    let res = app.get("/metrics").send().await.unwrap();
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Bearer realm="provider-registry""#
    );
    assert_problem(res, StatusCode::UNAUTHORIZED, "metrics_token_required").await;
    // A user's token is not the operator's.
    let token = app.token(Role::Admin).await;
    let res = app.get("/metrics").bearer_auth(token).send().await.unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "metrics_token_required").await;
}

const METRICS_TOKEN: &str = "operator-scrape-token-0123456789";

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = TestApp::spawn_with(&[("METRICS_TOKEN", METRICS_TOKEN)]).await;
    let res = app.get("/healthz").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ready: Value = app
        .get("/readyz")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["ready"], true, "{ready}");
    let checks: Vec<(&str, bool)> = ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["ok"].as_bool().unwrap()))
        .collect();
    for name in ["database", "migrations", "storage"] {
        assert!(checks.contains(&(name, true)), "{name}: {ready}");
    }
    app.get("/api/v1/me").send().await.unwrap();
    let text = app
        .get("/metrics")
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"401\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\""),
        "{text}"
    );
    assert!(text.contains("jobs_dead 0"), "{text}");
}

#[tokio::test]
async fn the_docs_and_the_openapi_document_are_served() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .get("/api/v1/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/auth/register"]["post"].is_object());
    let res = app.get("/docs/").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("swagger"));
    let res = app.get("/docs/swagger-ui-bundle.js").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn internal_errors_are_a_generic_500_problem_without_the_cause() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin).await;
    // Break the database under the service: the query fails inside.
    app.sql(if crate::common::is_postgres() {
        "DROP TABLE schools CASCADE"
    } else {
        "DROP TABLE schools"
    })
    .await;
    let res = app
        .get("/api/v1/admin/schools")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::INTERNAL_SERVER_ERROR, "internal_error").await;
    let text = body.to_string();
    assert!(
        !text.contains("schools") && !text.to_lowercase().contains("no such table"),
        "{text}"
    );
    assert!(body["request_id"].as_str().is_some());
}

#[tokio::test]
async fn the_cli_creates_an_account_with_the_password_from_stdin() {
    use std::io::Write;
    let app = TestApp::spawn().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_provider-registry"))
        .args([
            "create-user",
            "--role",
            "reviewer",
            "--email",
            "cli@example.cn",
            "--name",
            "命令行审核员",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("REGISTRY_DATA_DIR", app.dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    let token = app.login("cli@example.cn", PASSWORD).await;
    let me: Value = app
        .get("/api/v1/me")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "reviewer");
}

// ---- what every client reads: compression and headers -------------------------------------

/// A client that decodes nothing, to see the bytes on the wire.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Decodes a body by its `Content-Encoding`, with decoders independent of the HTTP client.
fn decode(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match encoding {
        None => out.extend_from_slice(body),
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some("deflate") => {
            // RFC 9110 `deflate` is the zlib format.
            flate2::read::ZlibDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some("br") => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some(other) => panic!("unexpected content-encoding {other}"),
    }
    out
}

/// One request of each error class, sent with each encoding a browser accepts: the body is
/// encoded as the header says (or not at all) and decodes to the problem.
#[tokio::test]
async fn error_bodies_decode_under_every_encoding() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin).await;
    // An internal error: a table the handler needs is gone.
    app.sql("ALTER TABLE jobs RENAME TO jobs_gone").await;
    let client = raw_client();
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            "400",
            client
                .post(format!("{}/api/v1/auth/login", app.base))
                .header("content-type", "application/json")
                .body("{\"email\": "),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "401",
            client.get(format!("{}/api/v1/me", app.base)),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            "404",
            client.get(format!("{}/api/v1/nope", app.base)),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "405",
            client.delete(format!("{}/api/v1/pool", app.base)),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "415",
            client
                .post(format!("{}/api/v1/auth/login", app.base))
                .header("content-type", "text/plain")
                .body("x"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "500",
            client
                .get(format!("{}/api/v1/admin/jobs", app.base))
                .bearer_auth(&admin),
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
        ),
    ];
    for (label, request, status, code) in cases {
        let request = request.build().unwrap();
        for encoding in ["gzip", "deflate", "br", "identity", "gzip, deflate, br"] {
            let mut request = request.try_clone().unwrap();
            request.headers_mut().insert(
                "accept-encoding",
                reqwest::header::HeaderValue::from_static(encoding),
            );
            let res = client.execute(request).await.unwrap();
            assert_eq!(res.status(), status, "{label} with {encoding}");
            assert_eq!(res.headers()["content-type"], "application/problem+json");
            let sent = res
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_owned());
            match encoding {
                "identity" => assert_eq!(sent, None, "{label}"),
                "gzip, deflate, br" => assert!(sent.is_some(), "{label}: not compressed"),
                one => assert_eq!(sent.as_deref(), Some(one), "{label}"),
            }
            let body = decode(sent.as_deref(), &res.bytes().await.unwrap());
            let problem: Value = serde_json::from_slice(&body)
                .unwrap_or_else(|e| panic!("{label} with {encoding}: {e}"));
            assert_eq!(problem["code"], code, "{label} with {encoding}");
            assert_eq!(problem["status"], status.as_u16());
        }
    }
}

/// The suite's own client (what browsers send) reads a compressed success and a compressed
/// error alike.
#[tokio::test]
async fn the_browser_like_client_reads_compressed_answers() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/categories").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert!(body.is_object() || body.is_array());
    let res = app.get("/api/v1/nope").send().await.unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_known_path_with_another_method_answers_405_with_allow() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::DELETE, "/api/v1/pool")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "GET, HEAD");
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let res = app
        .request(Method::PATCH, "/api/v1/applications/5")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "GET, HEAD, PUT");
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let app = TestApp::spawn().await;
    let get = app.get("/api/v1/categories").send().await.unwrap();
    let res = app
        .request(Method::HEAD, "/api/v1/categories")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], get.headers()["content-type"]);
    assert!(res.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn oversized_request_targets_and_headers_answer_problems() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(20 * 1024);
    let res = app
        .get(&format!("/api/v1/pool?q={long}"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::URI_TOO_LONG, "uri_too_long").await;
    let res = app
        .get("/api/v1/pool")
        .header("x-filler", "b".repeat(40 * 1024))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::from_u16(431).unwrap(), "headers_too_large").await;
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/api/v1/categories", "/api/v1/nope", "/healthz"] {
        let res = app.get(path).send().await.unwrap();
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(
            h["content-security-policy"], "default-src 'none'; frame-ancestors 'none'",
            "{path}"
        );
    }
    let res = app.get("/docs/").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
}

#[tokio::test]
async fn sign_in_answers_are_never_stored_and_401_names_the_scheme() {
    let app = TestApp::spawn().await;
    app.token(Role::Reviewer).await;
    let res = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": "reviewer@test.local", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let res = app.get("/api/v1/me").send().await.unwrap();
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Bearer realm="provider-registry""#
    );
    let res = app
        .get("/api/v1/me")
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Bearer realm="provider-registry", error="invalid_token""#
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
}

/// A caller whose role may not use an endpoint learns that, not what was wrong with its body.
#[tokio::test]
async fn the_wrong_role_is_refused_before_the_body_is_judged() {
    let app = TestApp::spawn().await;
    let res = app
        .as_role(Role::School, Method::POST, "/api/v1/applications")
        .await
        .header("content-type", "application/json")
        .body("{\"round_id\": \"not a number\"")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .post("/api/v1/applications")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}
