//! The school's workspace and the institution's exit-case, contract and message pages through
//! HTTP, as a browser uses them ([`Browser`]): the role guard, the CSRF refusal, the
//! school-year rule's refusal next to the end date, a contract signed, evaluated once per term
//! and terminated with evidence through the pages (checked through the JSON API), the
//! statement of defence within its deadline and the form closed after it (settable clock),
//! and no identity number on any of these pages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::flow::{self, Applicant};
use crate::common::{PASSWORD, TestApp};
use crate::workspace::{Answer, Browser};
use provider_registry::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const INTAKE: &str = "2026-06-01T10:00:00+08:00";
const IN_POOL: &str = "2026-09-10T10:00:00+08:00";
const CSRF_FAILED: &str = "表单已过期或来源无法验证，请重新填写后提交。";

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

/// A pool member (basketball and dance) whose pool validity has started; the clock at
/// [`IN_POOL`].
async fn member(app: &TestApp) -> Applicant {
    app.set_clock(INTAKE).await;
    let round = app.open_round().await;
    let (member, _) =
        flow::seed_pool_entry(app, 1, round, &["sports.basketball", "arts.dance"]).await;
    app.refresh_tokens().await;
    app.set_clock(IN_POOL).await;
    member
}

async fn signed_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    let signed = browser.sign_in(email, PASSWORD, None).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    browser
}

async fn school(app: &TestApp) -> Browser<'_> {
    app.token(Role::School).await;
    signed_in(app, "school@test.local").await
}

fn unescaped(answer: &Answer) -> String {
    answer.body.replace("&#x2f;", "/")
}

/// The termination form posted as a browser does (multipart, with the evidence file).
async fn terminate(browser: &mut Browser<'_>, path: &str, csrf: &str, grounds: &[&str]) -> Answer {
    let mut form = reqwest::multipart::Form::new()
        .text("csrf", csrf.to_owned())
        .text("kind", "exit_evidence");
    for g in grounds {
        form = form.text(format!("ground_{g}"), "true");
    }
    form = form
        .text("statement", "督查发现该机构将篮球课转包给其他机构")
        .part(
            "file",
            reqwest::multipart::Part::bytes(crate::common::fixture("pdf/chromium.pdf"))
                .file_name("evidence.pdf"),
        );
    let req = browser.app.post(path).multipart(form);
    browser.send(req).await
}

#[tokio::test]
async fn the_school_pages_answer_a_school_only_and_refuse_forms_without_their_token() {
    let app = TestApp::spawn().await;
    let member = member(&app).await;

    let visitor = app
        .get("/school")
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(visitor.status(), StatusCode::SEE_OTHER);
    assert!(
        visitor.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/sign-in?next=")
    );

    let mut school = school(&app).await;
    let home = school.get("/school").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    let pool = school.get("/school/pool?category=sports").await;
    assert_eq!(pool.status, StatusCode::OK, "{}", pool.body);
    assert!(pool.body.contains(&member.name));
    let sign_link = format!(
        "/school/contracts/new?institution_id={}",
        member.institution_id
    );
    assert!(unescaped(&pool).contains(&sign_link));
    let bad = school.get("/school/pool?category=nonsense").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"q-error\""));
    assert_eq!(
        school.get("/institution/contracts").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        school.get("/institution/exit-cases").await.status,
        StatusCode::FORBIDDEN
    );

    let mut institution = signed_in(&app, &member.email).await;
    for path in ["/school", "/school/pool", &sign_link] {
        assert_eq!(
            institution.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }

    // No token: nothing signed, the form says why.
    let refused = school
        .post(
            "/school/contracts",
            &[
                ("institution_id", &member.institution_id.to_string()),
                ("items", "sports.basketball"),
                ("starts_on", "2026-09-01"),
                ("ends_on", "2027-08-31"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains(CSRF_FAILED));
    let contracts = api(&app, Role::School, "/api/v1/contracts").await;
    assert_eq!(contracts["total"], 0);
}

#[tokio::test]
async fn a_school_signs_within_two_school_years_evaluates_once_per_term_and_terminates_with_evidence()
 {
    let app = TestApp::spawn().await;
    let member = member(&app).await;
    let mut school = school(&app).await;
    let new = format!(
        "/school/contracts/new?institution_id={}",
        member.institution_id
    );
    let form = school.get(&new).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    // The rule comes before the form, with today's example in plain words.
    let rule_at = form.body.find("id=\"school-year-rule\"").unwrap();
    assert!(rule_at < form.body.find("name=\"starts_on\"").unwrap());
    assert!(form.body.contains("9 月 1 日"));
    assert!(form.body.contains("8 月 31 日"));
    assert!(
        form.body
            .contains("2026-09-10 开始：属于 2026–2027 学年，最晚于 2028-08-31 结束。")
    );
    let csrf = form.csrf();
    let id = member.institution_id.to_string();

    // Past two school years: refused next to the end date, nothing signed.
    let too_long = school
        .post(
            "/school/contracts",
            &[
                ("csrf", &csrf),
                ("institution_id", &id),
                ("items", "sports.basketball"),
                ("starts_on", "2026-09-01"),
                ("ends_on", "2028-09-30"),
            ],
        )
        .await;
    assert_eq!(
        too_long.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        too_long.body
    );
    let error = too_long
        .body
        .split("id=\"ends_on-error\">")
        .nth(1)
        .expect("the error next to the end date");
    assert!(error.starts_with("合同期限不得超过两个学年"), "{error}");
    assert!(error.contains("2028-08-31"));
    assert!(
        too_long.body.contains("value=\"2028-09-30\""),
        "the value typed is kept"
    );
    // An item the institution is not approved for: next to the items.
    let unapproved = school
        .post(
            "/school/contracts",
            &[
                ("csrf", &csrf),
                ("institution_id", &id),
                ("items", "sports.football"),
                ("starts_on", "2026-09-01"),
                ("ends_on", "2027-08-31"),
            ],
        )
        .await;
    assert_eq!(unapproved.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unapproved.body.contains("id=\"items-error\""));
    assert_eq!(
        api(&app, Role::School, "/api/v1/contracts").await["total"],
        0
    );

    let signed = school
        .post(
            "/school/contracts",
            &[
                ("csrf", &csrf),
                ("institution_id", &id),
                ("items", "sports.basketball"),
                ("items", "arts.dance"),
                ("starts_on", "2026-09-01"),
                ("ends_on", "2028-08-31"),
            ],
        )
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let page_path = signed.location().to_owned();
    let contract_id: i64 = page_path.rsplit('/').next().unwrap().parse().unwrap();
    let contract = api(
        &app,
        Role::School,
        &format!("/api/v1/contracts/{contract_id}"),
    )
    .await;
    assert_eq!(contract["status"], "active");
    assert_eq!(contract["ends_on"], "2028-08-31");
    assert_eq!(contract["items"].as_array().unwrap().len(), 2);

    // One evaluation per term; the second is refused next to the term.
    let page = school.get(&page_path).await;
    assert!(page.body.contains("合同已签订。"));
    let evaluate = format!("{page_path}/evaluations");
    let fields = [
        ("csrf", csrf.as_str()),
        ("term", "2026-2027-1"),
        ("quality", "5"),
        ("safety", "4"),
        ("punctuality", "5"),
        ("comment", "课程组织有序"),
    ];
    let first = school.post(&evaluate, &fields).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let again = school.post(&evaluate, &fields).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("id=\"term-error\""));
    let early = school
        .post(
            &evaluate,
            &[
                ("csrf", csrf.as_str()),
                ("term", "2027-2028-1"),
                ("quality", "5"),
                ("safety", "5"),
                ("punctuality", "5"),
                ("comment", ""),
            ],
        )
        .await;
    assert_eq!(
        early.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        early.body
    );
    assert!(early.body.contains("id=\"term-error\""));
    let contract = api(
        &app,
        Role::School,
        &format!("/api/v1/contracts/{contract_id}"),
    )
    .await;
    assert_eq!(contract["evaluations"].as_array().unwrap().len(), 1);

    // Termination: grounds are checked before the evidence is stored.
    let documents = "SELECT COUNT(*) AS value FROM documents";
    let before = app.sql_i64(documents).await;
    let terminate_path = format!("{page_path}/terminate");
    let no_ground = terminate(&mut school, &terminate_path, &csrf, &[]).await;
    assert_eq!(
        no_ground.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        no_ground.body
    );
    assert!(
        no_ground
            .body
            .contains("id=\"ground_false_credentials-error\"")
    );
    assert_eq!(app.sql_i64(documents).await, before);
    let no_token = terminate(&mut school, &terminate_path, "forged", &["subcontracting"]).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert_eq!(app.sql_i64(documents).await, before);
    let done = terminate(&mut school, &terminate_path, &csrf, &["subcontracting"]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(app.sql_i64(documents).await, before + 1);
    let contract = api(
        &app,
        Role::School,
        &format!("/api/v1/contracts/{contract_id}"),
    )
    .await;
    assert_eq!(contract["status"], "terminated");
    let cases = api(
        &app,
        Role::Reviewer,
        &format!(
            "/api/v1/exit-cases?institution_id={}",
            member.institution_id
        ),
    )
    .await;
    let case = &cases["items"][0];
    assert_eq!(case["status"], "open");
    assert_eq!(case["grounds"][0]["ground"]["code"], "subcontracting");
    assert_eq!(
        case["grounds"][0]["document_ids"].as_array().unwrap().len(),
        1
    );
    let case_id = case["id"].as_i64().unwrap();
    let shown = school.get(&page_path).await;
    assert!(shown.body.contains("已终止"));
    assert!(
        !shown.body.contains("id=\"terminate\""),
        "no forms on an ended contract"
    );

    // The institution: its contract and evaluation, its case, its statement, its messages.
    app.run_pending_jobs().await;
    let mut institution = signed_in(&app, &member.email).await;
    let contracts = institution.get("/institution/contracts").await;
    assert_eq!(contracts.status, StatusCode::OK, "{}", contracts.body);
    assert!(contracts.body.contains("测试小学"));
    assert!(contracts.body.contains("2026-2027-1"));
    assert!(contracts.body.contains("课程组织有序"));
    assert!(contracts.body.contains("已终止"));
    let list = institution.get("/institution/exit-cases").await;
    assert!(unescaped(&list).contains(&format!("/institution/exit-cases/{case_id}")));
    let case_path = format!("/institution/exit-cases/{case_id}");
    let case_page = institution.get(&case_path).await;
    assert_eq!(case_page.status, StatusCode::OK, "{}", case_page.body);
    assert!(case_page.body.contains("分包或转包"));
    assert!(
        case_page
            .body
            .contains("督查发现该机构将篮球课转包给其他机构")
    );
    assert!(
        case_page
            .body
            .contains(case["statement_due"].as_str().unwrap())
    );
    assert!(case_page.body.contains("name=\"statement\""));
    let token = case_page.csrf();
    let blank = institution
        .post(
            &format!("{case_path}/statement"),
            &[("csrf", &token), ("statement", " ")],
        )
        .await;
    assert_eq!(
        blank.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        blank.body
    );
    assert!(blank.body.contains("id=\"statement-error\""));
    let filed = institution
        .post(
            &format!("{case_path}/statement"),
            &[
                ("csrf", &token),
                ("statement", "篮球课由本机构教师授课，未转包"),
                ("document_id", ""),
            ],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let case = api(
        &app,
        Role::Reviewer,
        &format!("/api/v1/exit-cases/{case_id}"),
    )
    .await;
    assert_eq!(case["statement"], "篮球课由本机构教师授课，未转包");
    let after = institution.get(&case_path).await;
    assert!(after.body.contains("陈述申辩已提交。"));
    assert!(!after.body.contains("name=\"statement\""));

    app.run_pending_jobs().await;
    let messages = institution.get("/institution/messages").await;
    assert_eq!(messages.status, StatusCode::OK, "{}", messages.body);
    let queued = app
        .sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM jobs WHERE kind = 'email.send' AND dedup_key LIKE '%:{}'",
            member.email.to_lowercase()
        ))
        .await;
    assert!(queued > 0);
    let rows = messages
        .body
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .matches("<tr>")
        .count();
    assert_eq!(rows as i64, queued, "{}", messages.body);
    // The same list through the JSON API.
    let token = app.login(&member.email, PASSWORD).await;
    let res = app
        .get("/api/v1/me/messages")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let listed: Value = res.json().await.unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len() as i64, queued);
    let subject = listed[0]["subject"].as_str().unwrap();
    assert!(unescaped(&messages).contains(subject), "{subject}");
    assert!(
        listed
            .iter()
            .all(|m| m.get("text").is_none() && m.get("html").is_none())
    );

    // No page shows a full identity number (the legal representative's, the teacher's).
    let ids = [flow::resident_id(2), flow::resident_id(3)];
    let mut pages = Vec::new();
    for path in [
        "/institution",
        "/institution/profile",
        "/institution/teachers",
        "/institution/contracts",
        "/institution/exit-cases",
        &case_path,
        "/institution/messages",
    ] {
        pages.push((path.to_owned(), institution.get(path).await));
    }
    for path in ["/school", "/school/pool", &page_path] {
        pages.push((path.to_owned(), school.get(path).await));
    }
    for (path, page) in &pages {
        assert_eq!(page.status, StatusCode::OK, "{path}");
        for id in &ids {
            assert!(!page.body.contains(id.as_str()), "{path} shows {id}");
        }
    }
}

#[tokio::test]
async fn the_statement_form_closes_with_its_deadline() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (member, _, _) = flow::seed_pool_member(&app, 1, round, &["sports.basketball"]).await;
    let res = app
        .as_role(Role::Reviewer, Method::POST, "/api/v1/exit-cases")
        .await
        .json(&json!({"institution_id": member.institution_id, "grounds": ["service_mismatch"], "statement": "督查发现服务内容与约定不符"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let case: Value = res.json().await.unwrap();
    assert_eq!(case["statement_due"], "2026-03-09");
    let path = format!("/institution/exit-cases/{}", case["id"]);

    let mut institution = signed_in(&app, &member.email).await;
    let open = institution.get(&path).await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.body);
    assert!(
        open.body
            .contains("可在 2026-03-09 北京时间 23:59:59 前提交陈述申辩")
    );
    assert!(open.body.contains("name=\"statement\""));
    let forged = institution
        .post(
            &format!("{path}/statement"),
            &[("csrf", "forged"), ("statement", "申辩")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.body.contains(CSRF_FAILED));

    // The last minute of the last day: still open.
    app.set_clock("2026-03-09T23:59:00+08:00").await;
    let mut institution = signed_in(&app, &member.email).await;
    assert!(
        institution
            .get(&path)
            .await
            .body
            .contains("name=\"statement\"")
    );

    // The next day: closed, with the reason; a post is refused by the service.
    app.set_clock("2026-03-10T00:00:30+08:00").await;
    let mut institution = signed_in(&app, &member.email).await;
    let closed = institution.get(&path).await;
    assert_eq!(closed.status, StatusCode::OK);
    assert!(
        closed
            .body
            .contains("陈述申辩期限已于 2026-03-09 北京时间 23:59:59 届满，不能再提交。")
    );
    assert!(!closed.body.contains("name=\"statement\""));
    let late = institution
        .post(
            &format!("{path}/statement"),
            &[("csrf", &closed.csrf()), ("statement", "迟到的申辩")],
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert!(late.body.contains("陈述申辩期限已于 2026-03-09 届满。"));
    let case = api(
        &app,
        Role::Reviewer,
        &format!("/api/v1/exit-cases/{}", case["id"]),
    )
    .await;
    assert!(case["statement"].is_null());
}
