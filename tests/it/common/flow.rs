//! Whole-institution set-ups driven through the API: a registered institution with a complete
//! profile, roster and inspections, and its application as a draft or submitted. Each `n` gives
//! a distinct institution (its own USCC, e-mail, legal representative and teacher).

use reqwest::StatusCode;
use serde_json::{Value, json};

use provider_registry::credentials::identity::ResidentId;
use provider_registry::credentials::uscc::Uscc;

use super::{PASSWORD, TestApp, fixture};

/// A USCC of a private non-enterprise unit (民办非企业单位) in Nanning, valid under GB 32100.
pub fn uscc(n: u32) -> String {
    Uscc::complete(&format!("52450100MJ{n:07}")).unwrap()
}

/// A resident identity number (GB 11643) born 1985–1994, with its check character.
pub fn resident_id(n: u32) -> String {
    ResidentId::complete(&format!(
        "450103{}{:02}{:02}{:03}",
        1985 + n % 10,
        1 + n % 12,
        1 + n % 28,
        n % 1000
    ))
    .unwrap()
}

/// The document kinds an application needs (DESIGN §1.2), the merged PDF last.
pub const REQUIRED_DOCUMENTS: [&str; 8] = [
    "registration_certificate",
    "uscc_certificate",
    "legal_rep_id",
    "teacher_certificate",
    "inspection_record",
    "service_plan",
    "integrity_pledge",
    "merged_pdf",
];

/// What a test needs to know about an institution it set up.
#[derive(Debug, Clone)]
pub struct Applicant {
    pub token: String,
    pub email: String,
    pub name: String,
    pub uscc: String,
    pub institution_id: i64,
    pub teacher_id: i64,
    pub document_ids: Vec<i64>,
}

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(
        status == StatusCode::CREATED || status == StatusCode::OK,
        "{status}: {text}"
    );
    serde_json::from_str(&text).unwrap()
}

/// Registers institution `n` and completes its profile, a teacher of `items`, the inspections of
/// the two years before the clock's year and one document of every required kind.
pub async fn institution(app: &TestApp, n: u32, items: &[&str]) -> Applicant {
    let email = format!("institution{n}@example.cn");
    let name = format!("南宁市第{n}青少年课后服务中心");
    let uscc = uscc(n);
    app.register_institution(&email, &name, &uscc).await;
    let token = app.login(&email, PASSWORD).await;
    let me: Value = app
        .get("/api/v1/me")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let institution_id = me["institution"]["id"].as_i64().expect("institution id");
    created(
        app.put("/api/v1/institutions/me")
            .bearer_auth(&token)
            .json(&json!({
                "registration_kind": "private_non_enterprise_certificate",
                "registration_number": format!("民证字第4501{n:05}号"),
                "issuing_authority": "南宁市民政局",
                "authority_level": "city",
                "registered_address": format!("南宁市青秀区民族大道{n}号"),
                "district": "青秀区",
                "legal_rep_name": "张三",
                "legal_rep_id": {"kind": "resident_id", "number": resident_id(n * 2)},
                "contact_person": "王经理",
                "contact_mobile": "13800771234",
                "contact_email": email,
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let teacher = created(
        app.post("/api/v1/institutions/me/teachers")
            .bearer_auth(&token)
            .json(&json!({
                "name": "李老师",
                "identity": {"kind": "resident_id", "number": resident_id(n * 2 + 1)},
                "credentials": [{"kind": "teacher_qualification", "number": format!("2015450021{n:07}"), "issuer": "南宁市教育局", "issued_on": "2015-07-01"}],
                "specialities": items,
                "criminal_check": {"date": "2026-01-10", "result": "clean", "issuer": "南宁市公安局青秀分局"},
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let year = provider_registry::clock::beijing_date(app.state.clock.now())
        .format("%Y")
        .to_string()
        .parse::<i32>()
        .unwrap();
    for year in [year - 2, year - 1] {
        created(
            app.post("/api/v1/institutions/me/inspections")
                .bearer_auth(&token)
                .json(&json!({"year": year, "result": "passed", "authority": "南宁市民政局"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
    }
    let mut document_ids = Vec::new();
    for kind in REQUIRED_DOCUMENTS {
        let res = app
            .upload(
                &token,
                kind,
                &format!("{kind}.pdf"),
                fixture("pdf/chromium.pdf"),
            )
            .await;
        document_ids.push(created(res).await["id"].as_i64().unwrap());
    }
    Applicant {
        token,
        email,
        name,
        uscc,
        institution_id,
        teacher_id: teacher["id"].as_i64().unwrap(),
        document_ids,
    }
}

/// A draft of `applicant` in `round` proposing `items`; returns its id.
pub async fn draft(app: &TestApp, applicant: &Applicant, round: i64, items: &[&str]) -> i64 {
    let body = created(
        app.post("/api/v1/applications")
            .bearer_auth(&applicant.token)
            .json(&json!({
                "round_id": round,
                "proposed_items": items,
                "service_plan": "每周三次课后训练，配备专职教练与安全员",
                "teacher_ids": [applicant.teacher_id],
                "document_ids": applicant.document_ids,
                "pledge_signed": true,
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    body["id"].as_i64().unwrap()
}

/// Submits application `id`, asserting that it passes the checks.
pub async fn submit(app: &TestApp, applicant: &Applicant, id: i64) {
    let body = created(
        app.post(&format!("/api/v1/applications/{id}/submit"))
            .bearer_auth(&applicant.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["status"], "submitted", "{body}");
}

/// Institution `n` with a submitted application in `round` proposing `items`.
pub async fn submitted(app: &TestApp, n: u32, round: i64, items: &[&str]) -> (Applicant, i64) {
    let applicant = institution(app, n, items).await;
    let id = draft(app, &applicant, round, items).await;
    submit(app, &applicant, id).await;
    (applicant, id)
}

/// A reviewer's decision on application `id`; returns the response.
pub async fn decide(app: &TestApp, id: i64, body: Value) -> reqwest::Response {
    app.as_role(
        provider_registry::auth::Role::Reviewer,
        reqwest::Method::POST,
        &format!("/api/v1/applications/{id}/decisions"),
    )
    .await
    .json(&body)
    .send()
    .await
    .unwrap()
}

/// Institution `n` with an application in `round` approved (as proposed) for `items`.
pub async fn approved(app: &TestApp, n: u32, round: i64, items: &[&str]) -> (Applicant, i64) {
    let (applicant, id) = submitted(app, n, round, items).await;
    let body = created(
        decide(
            app,
            id,
            json!({"decision": "approve", "approved_items": items}),
        )
        .await,
    )
    .await;
    assert_eq!(body["status"], "approved", "{body}");
    (applicant, id)
}

/// Publishes a notice for `ids` on `publication_date` (`YYYY-MM-DD`); returns the notice.
pub async fn publish(app: &TestApp, ids: &[i64], publication_date: &str) -> Value {
    let res = app
        .as_role(
            provider_registry::auth::Role::Reviewer,
            reqwest::Method::POST,
            "/api/v1/notices",
        )
        .await
        .json(&json!({"publication_date": publication_date, "application_ids": ids}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

/// Moves the clock one second past notice's closing instant and runs the due jobs (the notice
/// closes and its applications without objections are admitted).
pub async fn close_notice(app: &TestApp, notice: &Value) {
    let closes_at = chrono::DateTime::parse_from_rfc3339(
        notice["window"]["closes_at"].as_str().expect("closes_at"),
    )
    .unwrap();
    app.set_clock(&(closes_at + chrono::Duration::seconds(1)).to_rfc3339())
        .await;
    app.run_pending_jobs().await;
}

/// Institution `n` with an application in `round` approved for `items`, published in a notice
/// dated today (Beijing, by the service clock) and admitted to the pool: the clock is moved one
/// second past the notice's close and the jobs run (the clock stays there). Returns the
/// applicant and the application id; the pool entry is `pool_entries.application_id = id`.
pub async fn admitted(app: &TestApp, n: u32, round: i64, items: &[&str]) -> (Applicant, i64) {
    let (applicant, id) = approved(app, n, round, items).await;
    let today = provider_registry::clock::beijing_date(app.state.clock.now()).to_string();
    let notice = publish(app, &[id], &today).await;
    close_notice(app, &notice).await;
    let status: Value = app
        .as_role(
            provider_registry::auth::Role::Reviewer,
            reqwest::Method::GET,
            &format!("/api/v1/applications/{id}"),
        )
        .await
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "admitted", "{status}");
    // The clock moved days ahead: sign the institution in again.
    let applicant = Applicant {
        token: app.login(&applicant.email, PASSWORD).await,
        ..applicant
    };
    (applicant, id)
}

// ---- pool members and contracts --------------------------------------------------------------

/// Institution `n`, admitted to the pool of `round` for `items` through the real flow
/// (submitted, approved, published today, the notice closed by its job), with the clock put
/// back where it was. Returns the applicant, the application id and the pool entry id.
pub async fn seed_pool_member(
    app: &TestApp,
    n: u32,
    round: i64,
    items: &[&str],
) -> (Applicant, i64, i64) {
    let before = app.state.clock.now();
    let (applicant, application) = admitted(app, n, round, items).await;
    app.set_clock(&before.to_rfc3339()).await;
    let applicant = Applicant {
        token: app.login(&applicant.email, PASSWORD).await,
        ..applicant
    };
    let entry = app
        .sql_i64(&format!(
            "SELECT id AS value FROM pool_entries WHERE application_id = {application}"
        ))
        .await;
    (applicant, application, entry)
}

/// [`seed_pool_member`] without the application id: the applicant and its pool entry id.
pub async fn seed_pool_entry(
    app: &TestApp,
    n: u32,
    round: i64,
    items: &[&str],
) -> (Applicant, i64) {
    let (applicant, _, entry) = seed_pool_member(app, n, round, items).await;
    (applicant, entry)
}

/// The school of the harness's school account (`token(Role::School)`).
pub async fn school_id(app: &TestApp) -> i64 {
    app.token(provider_registry::auth::Role::School).await;
    app.sql_i64("SELECT school_id AS value FROM users WHERE email = 'school@test.local'")
        .await
}

/// An active contract of `school` with the pool member for `items`, inserted directly: the
/// exit-case tests run before the pool's validity starts, when `POST /contracts` (tested in
/// tests/contracts.rs) would refuse it. Returns its id.
pub async fn seed_contract(
    app: &TestApp,
    school: i64,
    applicant: &Applicant,
    entry: i64,
    items: &[&str],
) -> i64 {
    let codes = serde_json::to_string(items).unwrap().replace('\'', "''");
    app.sql(&format!(
        "INSERT INTO contracts (school_id, institution_id, pool_entry_id, items, starts_on, ends_on, status, created_at, updated_at) \
         VALUES ({school}, {}, {entry}, '{codes}', '2026-09-01', '2028-08-31', 'active', '2026-03-01 00:00:00', '2026-03-01 00:00:00')",
        applicant.institution_id
    ))
    .await;
    app.sql_i64(&format!(
        "SELECT MAX(id) AS value FROM contracts WHERE school_id = {school} AND institution_id = {}",
        applicant.institution_id
    ))
    .await
}

/// Moves the clock to `now` (any distance) and signs the harness's roles and `applicants` in
/// again.
pub async fn travel(app: &TestApp, now: &str, applicants: &mut [&mut Applicant]) {
    app.refresh_tokens().await;
    app.set_clock(now).await;
    for a in applicants.iter_mut() {
        a.token = app.login(&a.email, PASSWORD).await;
    }
}

/// A complete institution profile (`PUT /institutions/me`) at `address`: the writes other
/// tests run beside the work they measure or check.
pub fn profile_update(address: &str) -> Value {
    json!({
        "registration_kind": "business_licence",
        "registration_number": "91450103MA5L123454",
        "issuing_authority": "南宁市青秀区市场监督管理局",
        "authority_level": "county",
        "registered_address": address,
        "district": "青秀区",
        "legal_rep_name": "张三",
        "legal_rep_id": {"kind": "resident_id", "number": "450103198503120026"},
        "contact_person": "王经理",
        "contact_mobile": "13800771234",
    })
}
