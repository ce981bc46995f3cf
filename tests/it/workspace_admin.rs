//! The admin's workspace and the reviewer's remaining pages through HTTP, as a browser uses
//! them ([`Browser`]): the admin pages answer an admin only; a form without its CSRF token is
//! refused by the one guard ([`SignedForm`](provider_registry::web::workspace::signed_form))
//! and changes nothing; accounts, schools, rounds, dead jobs and the audit check through their
//! pages; the calendar preview writes nothing and the confirmation recomputes the open notice;
//! the reviewer opens an exit case from a page and imports a blacklist file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{PASSWORD, TestApp, fixture, flow};
use crate::workspace::{Answer, Browser};
use provider_registry::auth::Role;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ITEMS: &[&str] = &["sports.basketball"];

async fn signed_in<'a>(app: &'a TestApp, role: Role, next: &str) -> Browser<'a> {
    app.token(role).await;
    let mut browser = Browser::new(app);
    let email = format!("{}@test.local", role.as_str());
    let signed = browser.sign_in(&email, PASSWORD, Some(next)).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    browser
}

async fn api(app: &TestApp, role: Role, path: &str) -> Value {
    let res = app
        .as_role(role, Method::GET, path)
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

/// Posts a multipart form from the browser (text fields, then files `(name, filename, bytes)`).
async fn post_multipart(
    browser: &mut Browser<'_>,
    path: &str,
    fields: &[(&str, &str)],
    files: Vec<(&str, &str, Vec<u8>)>,
) -> Answer {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    for (name, filename, bytes) in files {
        form = form.part(
            name.to_owned(),
            Part::bytes(bytes).file_name(filename.to_owned()),
        );
    }
    let req = browser.app.post(path).multipart(form);
    browser.send(req).await
}

/// The answer refuses the form with `status`, its message next to the input `field`.
fn refused_at(answer: &Answer, status: StatusCode, field: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    let id = format!("id=\"{field}-error\"");
    assert!(answer.body.contains(&id), "{field}: {}", answer.body);
}

/// A blacklist of source `market`: the header, then `lines`.
fn blacklist(lines: &[String]) -> Vec<u8> {
    let mut csv = "uscc,name,source,listed_on,reason\n".to_owned();
    for line in lines {
        csv.push_str(line);
        csv.push('\n');
    }
    csv.into_bytes()
}

/// Imports `csv` as a file through the reviewer's blacklist page.
async fn import_file(browser: &mut Browser<'_>, csrf: &str, csv: Vec<u8>) -> Answer {
    post_multipart(
        browser,
        "/review/blacklist",
        &[("csrf", csrf), ("source", "market"), ("csv", "")],
        vec![("file", "list.csv", csv)],
    )
    .await
}

const ADMIN_PAGES: &[&str] = &[
    "/admin",
    "/admin/schools",
    "/admin/rounds",
    "/admin/calendar",
    "/admin/jobs",
    "/admin/audit",
];

#[tokio::test]
async fn the_admin_pages_answer_an_admin_send_a_visitor_to_sign_in_and_refuse_a_reviewer() {
    let app = TestApp::spawn().await;
    let mut visitor = Browser::new(&app);
    for path in ADMIN_PAGES {
        let answer = visitor.get(path).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        assert!(answer.location().starts_with("/sign-in?next=%2Fadmin"));
    }
    let mut reviewer = signed_in(&app, Role::Reviewer, "/review").await;
    for path in ADMIN_PAGES {
        assert_eq!(
            reviewer.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let csrf = reviewer.get("/review").await.csrf();
    let refused = reviewer
        .post(
            "/admin/schools",
            &[
                ("csrf", &csrf),
                ("name", "某小学"),
                ("code", "X1"),
                ("district", "青秀区"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let mut admin = signed_in(&app, Role::Admin, "/admin").await;
    for path in ADMIN_PAGES {
        let answer = admin.get(path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        assert!(
            answer.body.contains("href=\"&#x2f;admin&#x2f;calendar\"")
                || answer.body.contains("href=\"/admin/calendar\"")
        );
    }
    // Signing in without `next` lands an admin on the workspace.
    let mut other = Browser::new(&app);
    let signed = other.sign_in("admin@test.local", PASSWORD, None).await;
    assert_eq!(signed.location(), "/admin");
    let schools = api(&app, Role::Admin, "/api/v1/admin/schools").await;
    assert_eq!(schools, json!([]), "the reviewer's post created nothing");
}

#[tokio::test]
async fn a_form_without_its_token_is_refused_by_the_guard_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let mut admin = signed_in(&app, Role::Admin, "/admin").await;
    let fields = [
        ("name", "青秀区第一小学"),
        ("code", "4501030001"),
        ("district", "青秀区"),
    ];
    for token in [None, Some("0".repeat(64))] {
        let mut posted: Vec<(&str, &str)> = fields.to_vec();
        if let Some(t) = &token {
            posted.push(("csrf", t));
        }
        let refused = admin.post("/admin/schools", &posted).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(
            refused.body.contains("表单已过期或来源无法验证"),
            "{}",
            refused.body
        );
    }
    let schools = api(&app, Role::Admin, "/api/v1/admin/schools").await;
    assert_eq!(schools, json!([]));

    // A reviewer's multipart form is checked the same way, before anything is imported.
    let mut reviewer = signed_in(&app, Role::Reviewer, "/review").await;
    let good = format!(
        "uscc,name,source,listed_on,reason\n{},甲,market,2026-02-01,严重违法失信\n",
        flow::uscc(2)
    );
    let refused = post_multipart(
        &mut reviewer,
        "/review/blacklist",
        &[("source", "market")],
        vec![("file", "list.csv", good.into_bytes())],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        api(&app, Role::Reviewer, "/api/v1/blacklist").await["total"],
        0
    );

    // With its token the same school is created, and shown.
    let csrf = admin.get("/admin/schools").await.csrf();
    let mut posted = fields.to_vec();
    posted.push(("csrf", &csrf));
    let created = admin.post("/admin/schools", &posted).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = admin.get("/admin/schools").await;
    assert!(page.body.contains("已添加学校 青秀区第一小学。"));
    let again = admin.post("/admin/schools", &posted).await;
    refused_at(&again, StatusCode::CONFLICT, "code");
}

#[tokio::test]
async fn accounts_rounds_jobs_and_the_audit_check_through_the_admin_pages() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let school = flow::school_id(&app).await;
    let mut admin = signed_in(&app, Role::Admin, "/admin").await;
    let csrf = admin.get("/admin").await.csrf();

    // A school account: a weak password is refused next to its field, then created.
    let school_id = school.to_string();
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("email", "teacher@school.test"),
        ("display_name", "王老师"),
        ("role", "school"),
        ("school_id", school_id.as_str()),
        ("password", "password"),
    ];
    let weak = admin.post("/admin/accounts", &fields).await;
    refused_at(&weak, StatusCode::UNPROCESSABLE_ENTITY, "password");
    assert!(
        weak.body.contains("teacher@school.test"),
        "the values typed are kept"
    );
    fields[5] = ("password", "Qingxiu-School-2026!");
    let created = admin.post("/admin/accounts", &fields).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let users = api(&app, Role::Admin, "/api/v1/admin/users?role=school").await;
    let account = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "teacher@school.test")
        .unwrap()
        .clone();
    assert_eq!(account["school"]["id"], school);
    let id = account["id"].as_i64().unwrap();
    let disabled = admin
        .post(&format!("/admin/accounts/{id}/disable"), &[("csrf", &csrf)])
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    let users = api(&app, Role::Admin, "/api/v1/admin/users?role=school").await;
    assert!(
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == id && u["disabled"] == true)
    );

    // A round opened (Beijing time), then closed early.
    let reversed = admin
        .post(
            "/admin/rounds",
            &[
                ("csrf", &csrf),
                ("name", "2026年第二批遴选"),
                ("opens_at", "2026-03-01T09:00"),
                ("closes_at", "2026-02-01T09:00"),
                ("pool_valid_from", "2026-09-01"),
                ("pool_valid_until", "2028-08-31"),
            ],
        )
        .await;
    refused_at(&reversed, StatusCode::UNPROCESSABLE_ENTITY, "closes_at");
    let opened = admin
        .post(
            "/admin/rounds",
            &[
                ("csrf", &csrf),
                ("name", "2026年第二批遴选"),
                ("opens_at", "2026-03-01T09:00"),
                ("closes_at", "2026-03-31T17:00"),
                ("pool_valid_from", "2026-09-01"),
                ("pool_valid_until", "2028-08-31"),
            ],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let rounds = app.get_value("/api/v1/rounds").await;
    assert!(
        rounds[0]["opens_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-01T01:00:00")
    );
    assert_eq!(rounds[0]["open_now"], true);
    let round = rounds[0]["id"].as_i64().unwrap();
    let page = admin.get("/admin/rounds").await;
    assert!(
        page.body.contains("2026-03-01 09:00 – 2026-03-31 17:00"),
        "{}",
        page.body
    );
    let closed = admin
        .post(&format!("/admin/rounds/{round}/close"), &[("csrf", &csrf)])
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let rounds = app.get_value("/api/v1/rounds").await;
    assert_eq!(rounds[0]["open_now"], false);
    assert!(
        rounds[0]["closes_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-02T02:0")
    );
    let twice = admin
        .post(&format!("/admin/rounds/{round}/close"), &[("csrf", &csrf)])
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);

    // A dead job, retried.
    assert!(
        admin
            .get("/admin/jobs")
            .await
            .body
            .contains(r#"id="no-jobs""#)
    );
    app.sql(
        "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, last_error, created_at, updated_at) \
         VALUES ('test.dead', '{}', 'dead', 3, 3, '2026-03-01 00:00:00', 'SMTP 550', '2026-03-01 00:00:00', '2026-03-01 00:00:00')",
    )
    .await;
    let job = app
        .sql_i64("SELECT id AS value FROM jobs WHERE kind = 'test.dead'")
        .await;
    let page = admin.get("/admin/jobs").await;
    assert!(page.body.contains("SMTP 550"));
    let retried = admin
        .post(&format!("/admin/jobs/{job}/retry"), &[("csrf", &csrf)])
        .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER);
    let pending = api(&app, Role::Admin, "/api/v1/admin/jobs?state=dead").await;
    assert_eq!(pending["total"], 0);

    // The audit chain verified through the page, as the API verifies it.
    let verified = admin.get("/admin/audit?verify=1").await;
    let api_result = api(&app, Role::Admin, "/api/v1/audit/verify").await;
    assert_eq!(api_result["ok"], true);
    assert!(verified.body.contains("审计链完整"), "{}", verified.body);
}

#[tokio::test]
async fn the_calendar_preview_writes_nothing_and_the_confirmation_recomputes_the_notice() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, a) = flow::approved(&app, 1, round, ITEMS).await;
    let notice = flow::publish(&app, &[a], "2026-03-02").await;
    let id = notice["id"].as_i64().unwrap();
    let window = |n: &Value| n["window"]["ends_on"].as_str().unwrap().to_owned();
    assert_eq!(window(&notice), "2026-03-06");
    let audit_events = "SELECT COUNT(*) AS value FROM audit_events";
    let before = app.sql_i64(audit_events).await;

    // A day off added on Wednesday 4 March: the window ends a working day later.
    let mut calendar: Value = serde_json::from_slice(&fixture("calendar/2026.json")).unwrap();
    let holidays = calendar["holidays"].as_array_mut().unwrap();
    holidays.push(json!({"name": "临时放假", "from": "2026-03-04", "to": "2026-03-04"}));
    holidays.sort_by_key(|h| h["from"].as_str().unwrap().to_owned());
    let mut admin = signed_in(&app, Role::Admin, "/admin/calendar").await;
    let csrf = admin.get("/admin/calendar").await.csrf();
    let preview = post_multipart(
        &mut admin,
        "/admin/calendar/preview",
        &[("csrf", &csrf), ("year", "2026")],
        vec![("file", "2026.json", calendar.to_string().into_bytes())],
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let row = preview
        .body
        .split(&format!("id=\"change-{id}\""))
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(row.contains("2026-03-02 – 2026-03-06"), "{row}");
    assert!(row.contains("2026-03-02 – 2026-03-09"), "{row}");
    assert!(row.contains("有变化"));
    assert!(preview.body.contains("将替换现有第 1 版。"));

    // Nothing written: the notice, the calendar's version and the audit trail are as before.
    let public = app.get_value(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(window(&public), "2026-03-06");
    assert_eq!(app.get_value("/api/v1/calendar/2026").await["version"], 1);
    assert_eq!(app.sql_i64(audit_events).await, before);

    // A broken file is refused next to the file input, by JSON path.
    let mut broken = calendar.clone();
    broken["holidays"][0]["to"] = json!("2025-12-31");
    let refused = post_multipart(
        &mut admin,
        "/admin/calendar/preview",
        &[("csrf", &csrf), ("year", "2026")],
        vec![("file", "2026.json", broken.to_string().into_bytes())],
    )
    .await;
    refused_at(&refused, StatusCode::UNPROCESSABLE_ENTITY, "file");
    assert!(refused.body.contains("holidays[0]"), "{}", refused.body);

    // Confirmed: the year is saved and the notice recomputed.
    let data = calendar.to_string();
    let confirm = [
        ("csrf", csrf.as_str()),
        ("year", "2026"),
        ("from_version", "1"),
        ("data", data.as_str()),
    ];
    let saved = admin.post("/admin/calendar", &confirm).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let public = app.get_value(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(window(&public), "2026-03-09");
    assert_eq!(public["earlier_windows"][0]["ends_on"], "2026-03-06");
    assert_eq!(app.get_value("/api/v1/calendar/2026").await["version"], 2);
    let page = admin.get("/admin/calendar").await;
    assert!(
        page.body
            .contains("已保存 2026 年日历（第 2 版），重新计算公示 1 件。"),
        "{}",
        page.body
    );

    // A confirmation of a preview made before that save is refused (the year moved on).
    let stale = admin.post("/admin/calendar", &confirm).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(app.get_value("/api/v1/calendar/2026").await["version"], 2);
}

#[tokio::test]
async fn the_reviewer_opens_an_exit_case_from_a_page_and_imports_a_blacklist_file() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (member, application, _) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    let mut reviewer = signed_in(&app, Role::Reviewer, "/review").await;
    let dossier = reviewer
        .get(&format!("/review/applications/{application}"))
        .await;
    let link = format!(
        "/review/exit-cases/new?institution_id={}",
        member.institution_id
    );
    assert!(
        dossier.body.replace("&#x2f;", "/").contains(&link),
        "{}",
        dossier.body
    );
    let form = reviewer.get(&link).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains(&member.name));
    assert!(form.body.contains("分包或转包"));
    let csrf = form.csrf();
    let institution_id = member.institution_id.to_string();

    // No ground chosen: refused next to the grounds, the facts kept.
    let refused = post_multipart(
        &mut reviewer,
        "/review/exit-cases",
        &[
            ("csrf", &csrf),
            ("institution_id", &institution_id),
            ("statement", "督查发现转包给无资质机构"),
        ],
        vec![],
    )
    .await;
    refused_at(&refused, StatusCode::UNPROCESSABLE_ENTITY, "grounds");
    assert!(refused.body.contains("督查发现转包给无资质机构"));
    assert_eq!(
        api(&app, Role::Reviewer, "/api/v1/exit-cases").await["total"],
        0
    );

    let opened = post_multipart(
        &mut reviewer,
        "/review/exit-cases",
        &[
            ("csrf", &csrf),
            ("institution_id", &institution_id),
            ("grounds", "subcontracting"),
            ("grounds", "service_mismatch"),
            ("statement", "督查发现转包给无资质机构"),
        ],
        vec![("evidence", "evidence.pdf", fixture("pdf/chromium.pdf"))],
    )
    .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let cases = api(&app, Role::Reviewer, "/api/v1/exit-cases").await;
    let case = &cases["items"][0];
    assert_eq!(case["institution_id"], member.institution_id);
    assert_eq!(case["grounds"].as_array().unwrap().len(), 2);
    assert_eq!(
        opened.location(),
        format!("/review/exit-cases/{}", case["id"])
    );
    let evidence = case["grounds"][0]["document_ids"][0]
        .as_i64()
        .expect("evidence attached");
    let document = reviewer.get(&format!("/review/documents/{evidence}")).await;
    assert_eq!(document.status, StatusCode::OK);
    let shown = reviewer.get(opened.location()).await;
    assert!(shown.body.contains("已立案"), "{}", shown.body);

    // The blacklist as a file: one bad line reported by line, nothing imported; then whole.
    let csrf = reviewer.get("/review/blacklist").await.csrf();
    let good = format!("{},甲,market,2026-02-01,严重违法失信", flow::uscc(2));
    let bad = "91450100MA5L0000OI,乙,market,2026-13-01,r".to_owned();
    let report = import_file(&mut reviewer, &csrf, blacklist(&[good.clone(), bad])).await;
    assert_eq!(
        report.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        report.body
    );
    assert!(report.body.contains("第 3 行"), "{}", report.body);
    assert!(
        !report.body.contains("第 2 行"),
        "only the bad line is reported"
    );
    let listed = api(&app, Role::Reviewer, "/api/v1/blacklist").await;
    assert_eq!(listed["total"], 0);
    let imported = import_file(&mut reviewer, &csrf, blacklist(&[good])).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert!(imported.body.contains("已导入"));
    assert_eq!(
        api(&app, Role::Reviewer, "/api/v1/blacklist").await["total"],
        1
    );
}
