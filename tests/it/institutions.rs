//! Institution data through HTTP: the profile, the teacher roster, annual inspections,
//! isolation between institutions, masking of identity numbers and the reviewer's audited
//! reveal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{TestApp, assert_problem};
use provider_registry::auth::Role;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

/// Valid resident ID numbers (GB 11643-1999 check characters).
const REP_ID: &str = "450103198503120026";
const TEACHER_ID: &str = "45010219900715003X";
const OTHER_TEACHER_ID: &str = "110105198801011236";
/// A valid teacher-qualification certificate number (2015, Guangxi, kind 2).
const TEACHER_NO: &str = "20154500212345678";

/// 2026-03-02 10:00 in Beijing.
const NOW: &str = "2026-03-02T10:00:00+08:00";

/// Sends a request; returns the status and the body (`null` when empty).
async fn call(req: RequestBuilder) -> (StatusCode, Value) {
    let (status, text) = call_text(req).await;
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, body)
}

async fn call_text(req: RequestBuilder) -> (StatusCode, String) {
    let res = req.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// A complete profile for the harness's institution (an enterprise: business licence).
fn profile_body() -> Value {
    json!({
        "registration_kind": "business_licence",
        "registration_number": "91450103MA5L123454",
        "issuing_authority": " 南宁市青秀区市场监督管理局 ",
        "authority_level": "county",
        "registered_address": "南宁市青秀区民族大道1号",
        "district": "青秀区",
        "legal_rep_name": "张三",
        "legal_rep_id": {"kind": "resident_id", "number": REP_ID},
        "contact_person": "王经理",
        "contact_mobile": "13800771234",
        "contact_email": "Contact@Example.cn",
    })
}

fn teacher_body() -> Value {
    json!({
        "name": "李老师",
        "identity": {"kind": "resident_id", "number": TEACHER_ID},
        "credentials": [
            {"kind": "teacher_qualification", "number": TEACHER_NO, "issuer": "南宁市教育局", "issued_on": "2015-07-01"},
            {"kind": "social_sports_instructor", "number": "TY2020450001", "issuer": "南宁市体育局", "issued_on": "2020-05-01", "level": "third"},
            {"kind": "heritage_inheritor", "number": "桂文旅发〔2019〕12号", "issuer": "广西壮族自治区文化和旅游厅", "issued_on": "2019-06-01", "level": "provincial"},
            {"kind": "professional_skill", "number": "ZJ-2018-001", "issuer": "南宁市人社局", "issued_on": "2018-01-01", "expires_on": "2025-12-31"},
        ],
        "specialities": ["sports.basketball", "arts.intangible_heritage"],
        "criminal_check": {"date": "2026-01-10", "result": "clean", "issuer": "南宁市公安局青秀分局"},
    })
}

/// The harness's institution, with the clock set; returns its token and institution id.
async fn institution(app: &TestApp) -> (String, i64) {
    app.set_clock(NOW).await;
    let token = app.token(Role::Institution).await;
    let (_, me) = call(app.get("/api/v1/me").bearer_auth(&token)).await;
    (token, me["institution"]["id"].as_i64().unwrap())
}

/// A second institution (a private non-enterprise unit); returns its token and id.
async fn other_institution(app: &TestApp) -> (String, i64) {
    let body = app
        .register_institution("other@example.cn", "另一机构", "52450100MJ9000002T")
        .await;
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["account"]["institution"]["id"].as_i64().unwrap(),
    )
}

async fn put_profile(app: &TestApp, token: &str, body: &Value) -> (StatusCode, Value) {
    call(
        app.put("/api/v1/institutions/me")
            .bearer_auth(token)
            .json(body),
    )
    .await
}

async fn create_teacher(app: &TestApp, token: &str, body: &Value) -> Value {
    let (status, teacher) = call(
        app.post("/api/v1/institutions/me/teachers")
            .bearer_auth(token)
            .json(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{teacher}");
    teacher
}

async fn create_inspection(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    call(
        app.post("/api/v1/institutions/me/inspections")
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

/// The field errors of a problem as `field:code` strings.
fn issues(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["field"].as_str().unwrap(),
                e["code"].as_str().unwrap()
            )
        })
        .collect()
}

fn png() -> Vec<u8> {
    vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0]
}

async fn upload_png(app: &TestApp, token: &str, kind: &str) -> i64 {
    let res = app.upload(token, kind, "scan.png", png()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

// ---- profile -----------------------------------------------------------------------------

#[tokio::test]
async fn the_profile_round_trips_with_the_identity_number_masked() {
    let app = TestApp::spawn().await;
    let (token, id) = institution(&app).await;

    let (status, empty) = call(app.get("/api/v1/institutions/me").bearer_auth(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(empty["id"], id);
    assert_eq!(empty["uscc"], "91450103MA5L123454");
    assert_eq!(empty["entity_type"], "enterprise");
    assert!(empty["registration_kind"].is_null());
    assert!(empty["legal_rep_id"].is_null());

    let (status, saved) = put_profile(&app, &token, &profile_body()).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (_, read) = call(app.get("/api/v1/institutions/me").bearer_auth(&token)).await;
    assert_eq!(saved, read);
    assert_eq!(read["name"], "测试培训中心");
    assert_eq!(read["registration_kind"], "business_licence");
    assert_eq!(read["authority_level"], "county");
    assert_eq!(read["issuing_authority"], "南宁市青秀区市场监督管理局");
    assert_eq!(read["contact_mobile"], "13800771234");
    assert_eq!(read["contact_email"], "contact@example.cn");
    assert_eq!(
        read["legal_rep_id"],
        json!({"kind": "resident_id", "number_masked": "450103********0026", "needs_manual_check": false})
    );
    assert!(!read.to_string().contains(REP_ID));
}

#[tokio::test]
async fn profile_validation_reports_every_field_error_at_once() {
    let app = TestApp::spawn().await;
    let (token, _) = institution(&app).await;
    let mut body = profile_body();
    body["registration_kind"] = json!("private_non_enterprise_certificate");
    body["authority_level"] = json!("township");
    body["district"] = json!("  ");
    body["legal_rep_id"]["number"] = json!("450103198503120027");
    body["contact_mobile"] = json!("12800771234");
    body["contact_email"] = json!("not-an-email");
    let res = app
        .put("/api/v1/institutions/me")
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "registration_kind_mismatch",
    )
    .await;
    let mut found = issues(&problem);
    found.sort();
    assert_eq!(
        found,
        [
            "authority_level:authority_level_too_low",
            "contact_email:invalid_email",
            "contact_mobile:invalid_mobile",
            "district:required",
            "legal_rep_id.number:bad_check_character",
            "registration_kind:registration_kind_mismatch",
        ]
    );
    let mismatch = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["code"] == "registration_kind_mismatch")
        .unwrap();
    assert!(
        mismatch["message"].as_str().unwrap().contains("营业执照"),
        "{mismatch}"
    );
    assert!(!problem.to_string().contains("450103198503120027"));

    // Nothing was saved.
    let (_, read) = call(app.get("/api/v1/institutions/me").bearer_auth(&token)).await;
    assert!(read["registration_kind"].is_null());
}

#[tokio::test]
async fn the_registration_certificate_must_fit_the_entity_type() {
    let app = TestApp::spawn().await;
    app.set_clock(NOW).await;
    let (token, _) = other_institution(&app).await;
    let mut body = profile_body();
    let (status, problem) = put_profile(&app, &token, &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        issues(&problem),
        ["registration_kind:registration_kind_mismatch"]
    );
    body["registration_kind"] = json!("private_non_enterprise_certificate");
    let (status, saved) = put_profile(&app, &token, &body).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        saved["registration_kind"],
        "private_non_enterprise_certificate"
    );
}

#[tokio::test]
async fn read_only_fields_cannot_be_set_through_the_profile() {
    let app = TestApp::spawn().await;
    let (token, _) = institution(&app).await;
    let mut body = profile_body();
    body["uscc"] = json!("52450100MJ9000002T");
    let res = app
        .put("/api/v1/institutions/me")
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    assert_eq!(issues(&problem), ["uscc:unknown_field"]);
}

#[tokio::test]
async fn a_profile_update_may_keep_the_stored_identity_number() {
    let app = TestApp::spawn().await;
    let (token, _) = institution(&app).await;
    put_profile(&app, &token, &profile_body()).await;

    let mut body = profile_body();
    body["contact_mobile"] = json!("13900001111");
    body["legal_rep_id"] = json!({"kind": "resident_id"});
    let (status, saved) = put_profile(&app, &token, &body).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["contact_mobile"], "13900001111");
    assert_eq!(saved["legal_rep_id"]["number_masked"], "450103********0026");

    // Another kind of document needs its own number.
    body["legal_rep_id"] = json!({"kind": "passport"});
    let (status, problem) = put_profile(&app, &token, &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(issues(&problem), ["legal_rep_id.number:required"]);
    body["legal_rep_id"] = json!({"kind": "passport", "number": "e12345678"});
    let (_, saved) = put_profile(&app, &token, &body).await;
    assert_eq!(
        saved["legal_rep_id"],
        json!({"kind": "passport", "number_masked": "E1*****78", "needs_manual_check": true})
    );
}

#[tokio::test]
async fn the_profile_update_is_audited_without_the_identity_number() {
    let app = TestApp::spawn().await;
    let (token, id) = institution(&app).await;
    put_profile(&app, &token, &profile_body()).await;
    let mut body = profile_body();
    body["district"] = json!("兴宁区");
    put_profile(&app, &token, &body).await;

    let (status, text) = call_text(
        app.as_role(
            Role::Reviewer,
            Method::GET,
            "/api/v1/audit?action=institution.profile_updated",
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!text.contains(REP_ID), "{text}");
    let page: Value = serde_json::from_str(&text).unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["entity_id"], id.to_string());
    assert_eq!(items[0]["summary"]["changed"], json!(["district"]));
    assert!(
        items[1]["summary"]["changed"]
            .as_array()
            .unwrap()
            .contains(&json!("legal_rep_id"))
    );
}

// ---- teacher roster ----------------------------------------------------------------------

#[tokio::test]
async fn teacher_credentials_are_kept_on_the_roster_with_their_flags() {
    let app = TestApp::spawn().await;
    let (token, _) = institution(&app).await;
    let teacher = create_teacher(&app, &token, &teacher_body()).await;
    assert_eq!(teacher["name"], "李老师");
    assert_eq!(
        teacher["identity"],
        json!({"kind": "resident_id", "number_masked": "450102********003X", "needs_manual_check": false})
    );
    let credentials = teacher["credentials"].as_array().unwrap();
    let flags: Vec<(bool, bool, bool, Value)> = credentials
        .iter()
        .map(|c| {
            (
                c["accepted"].as_bool().unwrap(),
                c["expired"].as_bool().unwrap(),
                c["needs_review"].as_bool().unwrap(),
                c["issue"].clone(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            (true, false, false, Value::Null),
            (
                false,
                false,
                false,
                json!("sports_instructor_level_too_low")
            ),
            (true, false, true, Value::Null),
            (false, true, false, json!("credential_expired")),
        ]
    );
    // As stored: the submitted credential, normalised.
    assert_eq!(credentials[0]["kind"], "teacher_qualification");
    assert_eq!(credentials[0]["number"], TEACHER_NO);
    assert_eq!(credentials[1]["level"], "third");
    assert_eq!(
        teacher["specialities"][0],
        json!({"code": "sports.basketball", "name_zh": "篮球", "name_en": "Basketball"})
    );
    assert_eq!(
        teacher["criminal_check"],
        json!({"date": "2026-01-10", "result": "clean", "issuer": "南宁市公安局青秀分局"})
    );
}

#[tokio::test]
async fn teachers_are_created_read_updated_and_removed() {
    let app = TestApp::spawn().await;
    let (token, _) = institution(&app).await;
    let first = create_teacher(&app, &token, &teacher_body()).await;
    let mut second_body = teacher_body();
    second_body["name"] = json!("陈老师");
    second_body["identity"]["number"] = json!(OTHER_TEACHER_ID);
    second_body["criminal_check"] = Value::Null;
    let second = create_teacher(&app, &token, &second_body).await;
    assert!(second["criminal_check"].is_null());
    let id = first["id"].as_i64().unwrap();
    let path = format!("/api/v1/institutions/me/teachers/{id}");

    let (status, read) = call(app.get(&path).bearer_auth(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, first);

    // A PUT replaces everything; the stored number is kept when left out.
    let update = json!({
        "name": "李老师（组长）",
        "identity": {"kind": "resident_id"},
        "credentials": [{"kind": "vocational_qualification", "number": "ZY-01", "issuer": "广西人社厅", "issued_on": "2021-03-01"}],
        "specialities": ["practice.robotics"],
    });
    let (status, updated) = call(app.put(&path).bearer_auth(&token).json(&update)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "李老师（组长）");
    assert_eq!(updated["identity"]["number_masked"], "450102********003X");
    assert_eq!(updated["credentials"].as_array().unwrap().len(), 1);
    assert_eq!(updated["specialities"][0]["code"], "practice.robotics");
    assert!(updated["criminal_check"].is_null());

    let (_, list) = call(
        app.get("/api/v1/institutions/me/teachers")
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 2);

    let res = app
        .request(Method::DELETE, &path)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, list) = call(
        app.get("/api/v1/institutions/me/teachers")
            .bearer_auth(&token),
    )
    .await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["陈老师"]);
    // A removed teacher is gone for every request.
    for req in [
        app.get(&path),
        app.put(&path).json(&update),
        app.request(Method::DELETE, &path),
    ] {
        assert_problem(
            req.bearer_auth(&token).send().await.unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }

    let (_, audit) = call(
        app.as_role(
            Role::Reviewer,
            Method::GET,
            "/api/v1/audit?entity_type=teacher",
        )
        .await,
    )
    .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "teacher.removed",
            "teacher.updated",
            "teacher.created",
            "teacher.created"
        ]
    );
}

#[tokio::test]
async fn invalid_teacher_data_is_reported_field_by_field() {
    let app = TestApp::spawn().await;
    let (token, _) = institution(&app).await;
    let mut body = teacher_body();
    body["name"] = json!("");
    body["identity"]["number"] = json!("45010219900715003Y");
    body["credentials"][1]["number"] = json!("20154500912345678");
    body["credentials"][1]["kind"] = json!("teacher_qualification");
    body["credentials"][2]["level"] = json!("galactic");
    body["criminal_check"]["date"] = json!("2026-12-01");
    let res = app
        .post("/api/v1/institutions/me/teachers")
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "required").await;
    let found = issues(&problem);
    for expected in [
        "name:required",
        "credentials[2].level:bad_level",
        "criminal_check.date:in_future",
    ] {
        assert!(
            found.contains(&expected.to_owned()),
            "{expected} in {found:?}"
        );
    }
    assert!(
        found.iter().any(|f| f.starts_with("identity.number:")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("credentials[1].number:")),
        "{found:?}"
    );
    let (_, list) = call(
        app.get("/api/v1/institutions/me/teachers")
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn an_academic_speciality_is_refused_citing_the_rule() {
    let app = TestApp::spawn().await;
    let (token, _) = institution(&app).await;
    let mut body = teacher_body();
    body["specialities"] = json!(["sports.basketball", "数学", "sports.quidditch"]);
    let res = app
        .post("/api/v1/institutions/me/teachers")
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "academic_subject_forbidden",
    )
    .await;
    assert_eq!(
        issues(&problem),
        [
            "specialities[1]:academic_subject_forbidden",
            "specialities[2]:unknown_category"
        ]
    );
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("第一条")
    );
}

// ---- annual inspections ------------------------------------------------------------------

#[tokio::test]
async fn inspections_are_recorded_once_per_year() {
    let app = TestApp::spawn().await;
    let (token, _) = institution(&app).await;
    let (status, y2024) = create_inspection(
        &app,
        &token,
        json!({"year": 2024, "result": "passed", "authority": "南宁市民政局"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{y2024}");
    let (status, _) = create_inspection(
        &app,
        &token,
        json!({"year": 2025, "result": "passed", "authority": "南宁市民政局"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let res = app
        .post("/api/v1/institutions/me/inspections")
        .bearer_auth(&token)
        .json(&json!({"year": 2025, "result": "failed", "authority": "南宁市民政局"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "inspection_year_exists").await;

    let path = format!("/api/v1/institutions/me/inspections/{}", y2024["id"]);
    let (status, updated) = call(
        app.put(&path)
            .bearer_auth(&token)
            .json(&json!({"year": 2024, "result": "missed", "authority": "南宁市民政局"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["result"], "missed");
    // Moving the record onto a year on record is the same conflict.
    let res = app
        .put(&path)
        .bearer_auth(&token)
        .json(&json!({"year": 2025, "result": "missed", "authority": "南宁市民政局"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "inspection_year_exists").await;

    let (_, list) = call(
        app.get("/api/v1/institutions/me/inspections")
            .bearer_auth(&token),
    )
    .await;
    let years: Vec<(i64, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["year"].as_i64().unwrap(), i["result"].as_str().unwrap()))
        .collect();
    assert_eq!(years, [(2025, "passed"), (2024, "missed")]);

    let res = app
        .request(Method::DELETE, &path)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, list) = call(
        app.get("/api/v1/institutions/me/inspections")
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // The year is free again.
    let (status, _) = create_inspection(
        &app,
        &token,
        json!({"year": 2024, "result": "passed", "authority": "南宁市民政局"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn an_inspection_year_must_lie_between_2000_and_this_year() {
    let app = TestApp::spawn().await;
    let (token, _) = institution(&app).await;
    for year in [1999, 2027] {
        let res = app
            .post("/api/v1/institutions/me/inspections")
            .bearer_auth(&token)
            .json(&json!({"year": year, "result": "passed", "authority": " "}))
            .send()
            .await
            .unwrap();
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "year_out_of_range").await;
        assert_eq!(
            issues(&problem),
            ["year:year_out_of_range", "authority:required"]
        );
    }
    let (status, _) = create_inspection(
        &app,
        &token,
        json!({"year": 2026, "result": "passed", "authority": "南宁市民政局"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_supporting_document_must_be_an_own_inspection_record() {
    let app = TestApp::spawn().await;
    let (token, _) = institution(&app).await;
    let (other, _) = other_institution(&app).await;
    let own_record = upload_png(&app, &token, "inspection_record").await;
    let own_plan = upload_png(&app, &token, "service_plan").await;
    let foreign_record = upload_png(&app, &other, "inspection_record").await;

    for document_id in [own_plan, foreign_record, 999_999] {
        let res = app
            .post("/api/v1/institutions/me/inspections")
            .bearer_auth(&token)
            .json(&json!({"year": 2025, "result": "passed", "authority": "南宁市民政局", "document_id": document_id}))
            .send()
            .await
            .unwrap();
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_document").await;
        assert_eq!(issues(&problem), ["document_id:invalid_document"]);
    }
    let (status, created) = create_inspection(
        &app,
        &token,
        json!({"year": 2025, "result": "passed", "authority": "南宁市民政局", "document_id": own_record}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["document_id"], own_record);
}

// ---- isolation, masking, staff access ----------------------------------------------------

#[tokio::test]
async fn another_institution_gets_404_for_every_read_and_write_of_foreign_records() {
    let app = TestApp::spawn().await;
    let (token, _) = institution(&app).await;
    let teacher = create_teacher(&app, &token, &teacher_body()).await;
    let (_, inspection) = create_inspection(
        &app,
        &token,
        json!({"year": 2025, "result": "passed", "authority": "南宁市民政局"}),
    )
    .await;
    let (other, _) = other_institution(&app).await;

    let teacher_path = format!("/api/v1/institutions/me/teachers/{}", teacher["id"]);
    let inspection_path = format!("/api/v1/institutions/me/inspections/{}", inspection["id"]);
    let attempts = [
        app.get(&teacher_path),
        app.put(&teacher_path).json(&teacher_body()),
        app.request(Method::DELETE, &teacher_path),
        app.put(&inspection_path)
            .json(&json!({"year": 2024, "result": "failed", "authority": "某局"})),
        app.request(Method::DELETE, &inspection_path),
    ];
    for req in attempts {
        let res = req.bearer_auth(&other).send().await.unwrap();
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    let (_, list) = call(
        app.get("/api/v1/institutions/me/teachers")
            .bearer_auth(&other),
    )
    .await;
    assert_eq!(list, json!([]));
    let (_, list) = call(
        app.get("/api/v1/institutions/me/inspections")
            .bearer_auth(&other),
    )
    .await;
    assert_eq!(list, json!([]));

    // The owner's records are untouched.
    let (_, read) = call(app.get(&teacher_path).bearer_auth(&token)).await;
    assert_eq!(read, teacher);
    let (_, list) = call(
        app.get("/api/v1/institutions/me/inspections")
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(list, json!([inspection]));
}

#[tokio::test]
async fn staff_read_profiles_rosters_and_inspections_masked() {
    let app = TestApp::spawn().await;
    let (token, id) = institution(&app).await;
    put_profile(&app, &token, &profile_body()).await;
    create_teacher(&app, &token, &teacher_body()).await;
    create_inspection(
        &app,
        &token,
        json!({"year": 2025, "result": "passed", "authority": "南宁市民政局"}),
    )
    .await;
    for role in [Role::Reviewer, Role::Admin] {
        let (status, profile) = call(
            app.as_role(role, Method::GET, &format!("/api/v1/institutions/{id}"))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            profile["legal_rep_id"]["number_masked"],
            "450103********0026"
        );
        let (status, teachers) = call(
            app.as_role(
                role,
                Method::GET,
                &format!("/api/v1/institutions/{id}/teachers"),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            teachers[0]["identity"]["number_masked"],
            "450102********003X"
        );
        let (status, inspections) = call(
            app.as_role(
                role,
                Method::GET,
                &format!("/api/v1/institutions/{id}/inspections"),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(inspections[0]["year"], 2025);
        for path in ["", "/teachers", "/inspections"] {
            let res = app
                .as_role(
                    role,
                    Method::GET,
                    &format!("/api/v1/institutions/999999{path}"),
                )
                .await
                .send()
                .await
                .unwrap();
            assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        }
    }
}

#[tokio::test]
async fn institutions_and_schools_cannot_call_staff_endpoints() {
    let app = TestApp::spawn().await;
    let (token, id) = institution(&app).await;
    let (other, other_id) = other_institution(&app).await;
    for (caller, target) in [(&token, id), (&token, other_id), (&other, id)] {
        for path in ["", "/teachers", "/inspections"] {
            let res = app
                .get(&format!("/api/v1/institutions/{target}{path}"))
                .bearer_auth(caller)
                .send()
                .await
                .unwrap();
            assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
        }
        let res = app
            .post(&format!("/api/v1/institutions/{target}/reveal"))
            .bearer_auth(caller)
            .json(&json!({"subject": "legal_representative"}))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let res = app
        .as_role(
            Role::School,
            Method::GET,
            &format!("/api/v1/institutions/{id}"),
        )
        .await
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    // Revealing is for reviewers, not admins.
    let res = app
        .as_role(
            Role::Admin,
            Method::POST,
            &format!("/api/v1/institutions/{id}/reveal"),
        )
        .await
        .json(&json!({"subject": "legal_representative"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    // Staff have no profile of their own.
    let res = app
        .as_role(Role::Reviewer, Method::GET, "/api/v1/institutions/me")
        .await
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app.get("/api/v1/institutions/me").send().await.unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn a_reviewer_reveal_is_audited_without_the_number() {
    let app = TestApp::spawn().await;
    let (token, id) = institution(&app).await;
    let reveal = format!("/api/v1/institutions/{id}/reveal");

    // Nothing to reveal yet.
    let res = app
        .as_role(Role::Reviewer, Method::POST, &reveal)
        .await
        .json(&json!({"subject": "legal_representative"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;

    put_profile(&app, &token, &profile_body()).await;
    let teacher = create_teacher(&app, &token, &teacher_body()).await;
    let (status, rep) = call(
        app.as_role(Role::Reviewer, Method::POST, &reveal)
            .await
            .json(&json!({"subject": "legal_representative"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rep}");
    assert_eq!(
        rep,
        json!({"subject": "legal_representative", "teacher_id": null, "name": "张三", "kind": "resident_id", "number": REP_ID})
    );
    let (status, revealed) = call(
        app.as_role(Role::Reviewer, Method::POST, &reveal)
            .await
            .json(&json!({"subject": "teacher", "teacher_id": teacher["id"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(revealed["number"], TEACHER_ID);

    // Another institution's teacher cannot be reached through this institution.
    let (other, other_id) = other_institution(&app).await;
    let mut body = teacher_body();
    body["identity"]["number"] = json!(OTHER_TEACHER_ID);
    let foreign = create_teacher(&app, &other, &body).await;
    let res = app
        .as_role(Role::Reviewer, Method::POST, &reveal)
        .await
        .json(&json!({"subject": "teacher", "teacher_id": foreign["id"]}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .as_role(
            Role::Reviewer,
            Method::POST,
            &format!("/api/v1/institutions/{other_id}/reveal"),
        )
        .await
        .json(&json!({"subject": "teacher"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;

    let (status, text) = call_text(
        app.as_role(
            Role::Reviewer,
            Method::GET,
            "/api/v1/audit?action=pii.revealed",
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !text.contains(REP_ID) && !text.contains(TEACHER_ID),
        "{text}"
    );
    let page: Value = serde_json::from_str(&text).unwrap();
    let events = page["items"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["actor_role"], "reviewer");
    assert_eq!(events[0]["entity_type"], "institution");
    assert_eq!(events[0]["entity_id"], id.to_string());
    assert_eq!(
        events[0]["summary"],
        json!({"subject": "teacher", "teacher_id": teacher["id"], "id_kind": "resident_id"})
    );
    assert_eq!(events[1]["summary"]["subject"], "legal_representative");
}

#[tokio::test]
async fn full_identity_numbers_appear_in_no_response_but_the_reveal() {
    let app = TestApp::spawn().await;
    let (token, id) = institution(&app).await;
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut record = |what: &str, (_, text): (StatusCode, String)| {
        seen.push((what.to_owned(), text));
    };

    record(
        "put profile",
        call_text(
            app.put("/api/v1/institutions/me")
                .bearer_auth(&token)
                .json(&profile_body()),
        )
        .await,
    );
    let mut invalid = profile_body();
    invalid["contact_mobile"] = json!("1");
    record(
        "invalid profile",
        call_text(
            app.put("/api/v1/institutions/me")
                .bearer_auth(&token)
                .json(&invalid),
        )
        .await,
    );
    record(
        "get profile",
        call_text(app.get("/api/v1/institutions/me").bearer_auth(&token)).await,
    );
    let created = call_text(
        app.post("/api/v1/institutions/me/teachers")
            .bearer_auth(&token)
            .json(&teacher_body()),
    )
    .await;
    let teacher: Value = serde_json::from_str(&created.1).unwrap();
    record("create teacher", created);
    let mut invalid = teacher_body();
    invalid["specialities"] = json!(["英语"]);
    record(
        "invalid teacher",
        call_text(
            app.post("/api/v1/institutions/me/teachers")
                .bearer_auth(&token)
                .json(&invalid),
        )
        .await,
    );
    let path = format!("/api/v1/institutions/me/teachers/{}", teacher["id"]);
    record(
        "get teacher",
        call_text(app.get(&path).bearer_auth(&token)).await,
    );
    record(
        "update teacher",
        call_text(app.put(&path).bearer_auth(&token).json(&teacher_body())).await,
    );
    record(
        "list teachers",
        call_text(
            app.get("/api/v1/institutions/me/teachers")
                .bearer_auth(&token),
        )
        .await,
    );
    for path in ["", "/teachers", "/inspections"] {
        record(
            "staff read",
            call_text(
                app.as_role(
                    Role::Reviewer,
                    Method::GET,
                    &format!("/api/v1/institutions/{id}{path}"),
                )
                .await,
            )
            .await,
        );
    }
    record(
        "audit",
        call_text(
            app.as_role(Role::Admin, Method::GET, "/api/v1/audit?per_page=100")
                .await,
        )
        .await,
    );
    record(
        "me",
        call_text(app.get("/api/v1/me").bearer_auth(&token)).await,
    );
    assert!(seen.len() >= 12);
    for (what, text) in &seen {
        for number in [REP_ID, TEACHER_ID, &TEACHER_ID.to_lowercase()] {
            assert!(!text.contains(number), "{what} shows a full number: {text}");
        }
    }

    // The one exception: the reviewer's reveal.
    let (_, revealed) = call_text(
        app.as_role(
            Role::Reviewer,
            Method::POST,
            &format!("/api/v1/institutions/{id}/reveal"),
        )
        .await
        .json(&json!({"subject": "teacher", "teacher_id": teacher["id"]})),
    )
    .await;
    assert!(revealed.contains(TEACHER_ID), "{revealed}");
}

// ---- the Rust API of the submission checks ----------------------------------------------

#[tokio::test]
async fn the_submission_checks_get_parsed_values_with_the_full_numbers() {
    use provider_registry::credentials::{CredentialKind, IdDocumentKind};
    use provider_registry::institutions as service;

    let app = TestApp::spawn().await;
    let (token, id) = institution(&app).await;
    put_profile(&app, &token, &profile_body()).await;
    let teacher = create_teacher(&app, &token, &teacher_body()).await;
    create_inspection(
        &app,
        &token,
        json!({"year": 2025, "result": "passed", "authority": "南宁市民政局"}),
    )
    .await;
    let (other, _) = other_institution(&app).await;
    create_teacher(&app, &other, &teacher_body()).await;

    let pool = app.state.pool.clone();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let (profile, roster, elsewhere, inspections) = tokio::task::spawn_blocking(move || {
        let conn = &mut pool.get().unwrap();
        let profile = service::profile(conn, id, today).unwrap();
        let roster = service::active_teachers(conn, id, today).unwrap();
        let elsewhere = service::teachers_on_other_rosters(conn, id, &roster).unwrap();
        (
            profile,
            roster,
            elsewhere,
            service::inspections(conn, id).unwrap(),
        )
    })
    .await
    .unwrap();

    let rep = profile.legal_rep_id.as_ref().unwrap();
    assert_eq!(rep.expose_number(), REP_ID);
    assert_eq!(rep.document().unwrap().kind(), IdDocumentKind::ResidentId);
    assert!(!format!("{profile:?}").contains(REP_ID));
    assert_eq!(roster.len(), 1);
    assert_eq!(roster[0].identity.expose_number(), TEACHER_ID);
    let kinds: Vec<CredentialKind> = roster[0]
        .credentials
        .iter()
        .map(|c| c.credential().unwrap().kind())
        .collect();
    assert_eq!(kinds[0], CredentialKind::TeacherQualification);
    assert!(
        roster[0].credentials[2]
            .credential()
            .unwrap()
            .needs_review()
    );
    assert_eq!(elsewhere, [teacher["id"].as_i64().unwrap()]);
    assert_eq!(inspections.len(), 1);
    assert_eq!(inspections[0].year, 2025);
    assert_eq!(inspections[0].result, service::InspectionResult::Passed);
}
