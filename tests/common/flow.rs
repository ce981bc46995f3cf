//! Whole-institution set-ups driven through the API: a registered institution with a complete
//! profile, roster and inspections, and its application as a draft or submitted. Each `n` gives
//! a distinct institution (its own USCC, e-mail, legal representative and teacher).

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{PASSWORD, TestApp, fixture};

/// A USCC of a private non-enterprise unit (民办非企业单位) in Nanning, valid under GB 32100.
pub fn uscc(n: u32) -> String {
    const CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let body = format!("52450100MJ{n:07}");
    let sum: u32 = body
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| CHARS.find(c).expect("USCC character") as u32 * w)
        .sum();
    let check = (31 - sum % 31) % 31;
    format!("{body}{}", CHARS.as_bytes()[check as usize] as char)
}

/// A resident identity number (GB 11643) born 1985–1994, with its check character.
pub fn resident_id(n: u32) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let body = format!(
        "450103{}{:02}{:02}{:03}",
        1985 + n % 10,
        1 + n % 12,
        1 + n % 28,
        n % 1000
    );
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = "10X98765432".as_bytes()[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

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
    for kind in [
        "registration_certificate",
        "uscc_certificate",
        "legal_rep_id",
        "teacher_certificate",
        "inspection_record",
        "service_plan",
        "integrity_pledge",
        "merged_pdf",
    ] {
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

/// STAND-IN until the review → notice → admission flow lands: institution `n` set up through
/// the API with a submitted application in `round` proposing `items`, then moved to `admitted`
/// and given an active pool entry (valid for the round's pool validity) with SQL. Returns the
/// applicant and the pool entry id. The integrator replaces the SQL with the real HTTP flow.
pub async fn seed_pool_entry(
    app: &TestApp,
    n: u32,
    round: i64,
    items: &[&str],
) -> (Applicant, i64) {
    let (applicant, application) = submitted(app, n, round, items).await;
    let items_json = serde_json::to_string(items).unwrap();
    let mut statements = format!(
        "UPDATE applications SET status = 'admitted', approved_items = '{items_json}' \
         WHERE id = {application};\
         INSERT INTO pool_entries (institution_id, application_id, round_id, items, status, \
         valid_from, valid_until, admitted_at, updated_at) \
         SELECT {institution}, {application}, id, '{items_json}', 'active', pool_valid_from, \
         pool_valid_until, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM rounds WHERE id = {round};",
        institution = applicant.institution_id,
    );
    for code in items {
        let category = code.split('.').next().unwrap();
        statements.push_str(&format!(
            "INSERT INTO pool_items (entry_id, code, category) SELECT id, '{code}', '{category}' \
             FROM pool_entries WHERE application_id = {application};"
        ));
    }
    app.sql(&statements).await;
    let entry = app
        .sql_i64(&format!(
            "SELECT id AS value FROM pool_entries WHERE application_id = {application}"
        ))
        .await;
    (applicant, entry)
}
