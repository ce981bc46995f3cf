//! The reviewer's workspace through HTTP, as a browser uses it (the session cookie and the
//! forms' CSRF token, [`Browser`]): the pages answer for a reviewer, send a visitor without a
//! session to sign in and refuse an institution; decisions, notices, objections and the reveal
//! posted through the pages change what the API shows and are audited.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::flow;
use crate::common::{PASSWORD, TestApp};
use crate::workspace::Browser;
use provider_registry::auth::Role;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ITEMS: &[&str] = &["sports.basketball", "sports.football"];

async fn api(app: &TestApp, path: &str) -> Value {
    let res = app
        .as_role(Role::Reviewer, Method::GET, path)
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn audit_count(app: &TestApp, action: &str, entity_id: i64) -> i64 {
    app.sql_i64(&format!(
        "SELECT COUNT(*) AS value FROM audit_events WHERE action = '{action}' AND entity_id = '{entity_id}'"
    ))
    .await
}

/// A browser signed in as the harness's reviewer.
async fn reviewer(app: &TestApp) -> Browser<'_> {
    app.token(Role::Reviewer).await;
    let mut browser = Browser::new(app);
    let signed = browser
        .sign_in("reviewer@test.local", PASSWORD, Some("/review"))
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    browser
}

#[tokio::test]
async fn the_reviewer_pages_answer_a_reviewer_send_a_visitor_to_sign_in_and_refuse_an_institution()
{
    let app = TestApp::spawn().await;
    app.set_clock("2026-02-10T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (applicant, id) = flow::submitted(&app, 1, round, ITEMS).await;
    let dossier = api(&app, &format!("/api/v1/applications/{id}/review")).await;
    let pdf = dossier["merged_pdf"]["document_id"].as_i64().unwrap();
    let pages = [
        "/review".to_owned(),
        "/review?kind=awaiting_review&overdue=false".to_owned(),
        format!("/review/applications/{id}"),
        "/review/notices/new".to_owned(),
    ];

    let mut visitor = Browser::new(&app);
    for path in &pages {
        let answer = visitor.get(path).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        assert!(answer.location().starts_with("/sign-in?next=%2Freview"));
    }

    let mut browser = reviewer(&app).await;
    for path in &pages {
        let answer = browser.get(path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
    }
    let queue = browser.get("/review").await;
    assert!(queue.body.contains(&applicant.name));
    assert!(queue.body.contains("待审核申报"));
    // (minijinja escapes `/` in values.)
    assert!(
        queue
            .body
            .replace("&#x2f;", "/")
            .contains(&format!("href=\"/review/applications/{id}\""))
    );
    assert_eq!(
        queue.headers[CONTENT_SECURITY_POLICY],
        provider_registry::web::PAGE_CSP
    );
    let english = browser.get("/review?lang=en").await;
    assert!(english.body.contains("Awaiting review"));

    // The dossier: the merged PDF inline (its own CSP exception), identity numbers masked.
    let page = browser.get(&format!("/review/applications/{id}")).await;
    let csp = page.headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("object-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(page.body.contains(&format!("/review/documents/{pdf}")));
    assert!(page.body.contains("sports.football"));
    for n in [2, 3] {
        assert!(
            !page.body.contains(&flow::resident_id(n)),
            "a full identity number"
        );
    }
    let document = browser.get(&format!("/review/documents/{pdf}")).await;
    assert_eq!(document.status, StatusCode::OK);
    assert_eq!(document.headers[CONTENT_TYPE], "application/pdf");
    assert_eq!(document.headers["x-frame-options"], "SAMEORIGIN");
    assert!(
        document.headers[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'self'")
    );
    assert!(
        document.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );

    // An institution is refused every reviewer page.
    let mut institution = Browser::new(&app);
    let signed = institution.sign_in(&applicant.email, PASSWORD, None).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    for path in pages.iter().chain([&format!("/review/documents/{pdf}")]) {
        let answer = institution.get(path).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test]
async fn decisions_notices_and_objections_through_the_pages_change_the_application_and_are_audited()
{
    let app = TestApp::spawn().await;
    app.set_clock("2026-02-10T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (applicant, id) = flow::submitted(&app, 1, round, ITEMS).await;
    let mut browser = reviewer(&app).await;
    let dossier = format!("/review/applications/{id}");
    let decision = format!("{dossier}/decision");
    let csrf = browser.get(&dossier).await.csrf();

    // Refused: reasons missing (shown next to the field), a form without its token.
    let refused = browser
        .post(
            &decision,
            &[("csrf", &csrf), ("decision", "return"), ("reasons", " ")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains(r#"<p class="error" id="return-reasons-error">请填写理由。</p>"#),
        "{}",
        refused.body
    );
    let forged = browser
        .post(&decision, &[("decision", "reject"), ("reasons", "x")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let app_now = api(&app, &format!("/api/v1/applications/{id}")).await;
    assert_eq!(app_now["status"], "submitted");

    // Returned with 3 working days: Feb 11, 12, 13.
    let returned = browser
        .post(
            &decision,
            &[
                ("csrf", &csrf),
                ("decision", "return"),
                ("reasons", "请补充足球教练证书"),
                ("deadline_working_days", "3"),
            ],
        )
        .await;
    assert_eq!(returned.status, StatusCode::SEE_OTHER, "{}", returned.body);
    assert_eq!(returned.location(), dossier);
    let shown = browser.get(&dossier).await;
    assert!(shown.body.contains("已退回补正。"), "{}", shown.body);
    assert!(shown.body.contains("2026-02-13"));
    let app_now = api(&app, &format!("/api/v1/applications/{id}")).await;
    assert_eq!(app_now["status"], "returned");
    assert_eq!(app_now["return_deadline"], "2026-02-13");
    assert_eq!(audit_count(&app, "application.returned", id).await, 1);
    let queue = browser.get("/review?kind=return_due").await;
    assert!(queue.body.contains("2026-02-13"));

    // Resubmitted, then approved for one of the two items.
    flow::submit(&app, &applicant, id).await;
    let approved = browser
        .post(
            &decision,
            &[
                ("csrf", &csrf),
                ("decision", "approve"),
                ("approved_items", "sports.basketball"),
            ],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    let app_now = api(&app, &format!("/api/v1/applications/{id}")).await;
    assert_eq!(app_now["status"], "approved");
    assert_eq!(
        app_now["approved_items"],
        json!([{"code": "sports.basketball", "name_zh": app_now["approved_items"][0]["name_zh"]}])
    );
    assert_eq!(audit_count(&app, "application.approved", id).await, 1);

    // A notice from the approved application.
    let form = browser.get("/review/notices/new").await;
    assert!(form.body.contains(&applicant.name));
    let backdated = browser
        .post(
            "/review/notices",
            &[
                ("csrf", &csrf),
                ("application_ids", &id.to_string()),
                ("publication_date", "2026-02-09"),
            ],
        )
        .await;
    assert_eq!(backdated.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(backdated.body.contains("notice-publication_date-error"));
    let published = browser
        .post(
            "/review/notices",
            &[
                ("csrf", &csrf),
                ("application_ids", &id.to_string()),
                ("publication_date", "2026-02-10"),
            ],
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );
    assert!(published.location().starts_with("/notices/"));
    let app_now = api(&app, &format!("/api/v1/applications/{id}")).await;
    assert_eq!(app_now["status"], "in_notice");
    let notice: i64 = published.location()["/notices/".len()..].parse().unwrap();

    // An objection, dismissed through the dossier.
    let res = app
        .post(&format!("/api/v1/notices/{notice}/objections"))
        .json(&json!({
            "application_id": id, "name": "赵六", "mobile": "13912345678",
            "grounds": "该机构的篮球教练并未持有有效的教师资格证书，与公示材料不符。",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let objection: Value = res.json().await.unwrap();
    let objection = objection["id"].as_i64().unwrap();
    let page = browser.get(&dossier).await;
    assert!(page.body.contains(&format!("id=\"objection-{objection}\"")));
    let resolution = format!("/review/objections/{objection}/resolution");
    let no_outcome = browser
        .post(
            &resolution,
            &[("csrf", &csrf), ("application_id", &id.to_string())],
        )
        .await;
    assert_eq!(no_outcome.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_outcome.body.contains("请选择处理结果。"));
    let dismissed = browser
        .post(
            &resolution,
            &[
                ("csrf", &csrf),
                ("application_id", &id.to_string()),
                ("outcome", "dismissed"),
                ("reasons", "经核查，教练持有有效证书"),
            ],
        )
        .await;
    assert_eq!(
        dismissed.status,
        StatusCode::SEE_OTHER,
        "{}",
        dismissed.body
    );
    let objections = api(&app, &format!("/api/v1/objections?application_id={id}")).await;
    assert_eq!(objections["items"][0]["status"], "dismissed");
    assert_eq!(audit_count(&app, "objection.resolved", objection).await, 1);
}

#[tokio::test]
async fn the_reveal_of_an_identity_number_shows_it_once_and_is_audited() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-02-10T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (applicant, id) = flow::submitted(&app, 1, round, ITEMS).await;
    let mut browser = reviewer(&app).await;
    let dossier = format!("/review/applications/{id}");
    let page = browser.get(&dossier).await;
    let csrf = page.csrf();
    assert!(!page.body.contains(&flow::resident_id(3)));
    let shown = browser
        .post(
            &format!("{dossier}/reveal"),
            &[
                ("csrf", &csrf),
                ("teacher_id", &applicant.teacher_id.to_string()),
            ],
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(shown.body.contains(&flow::resident_id(3)));
    assert!(!shown.body.contains(&flow::resident_id(2)));
    assert_eq!(
        audit_count(&app, "pii.revealed", applicant.institution_id).await,
        1
    );
    // Only once: the dossier masks it again.
    let again = browser.get(&dossier).await;
    assert!(!again.body.contains(&flow::resident_id(3)));
    // Without the token nothing is revealed.
    let forged = browser
        .post(&format!("{dossier}/reveal"), &[("teacher_id", "1")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        audit_count(&app, "pii.revealed", applicant.institution_id).await,
        1
    );
}

#[tokio::test]
async fn an_exit_case_is_read_and_decided_through_its_page() {
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
    let id = case["id"].as_i64().unwrap();
    let path = format!("/review/exit-cases/{id}");

    let mut browser = reviewer(&app).await;
    let queue = browser.get("/review?kind=statement_due").await;
    assert!(queue.body.replace("&#x2f;", "/").contains(&path));
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&member.name));
    assert!(page.body.contains("服务质量、内容与约定明显不符"));
    assert!(page.body.contains("督查发现服务内容与约定不符"));
    assert!(page.body.contains("2026-03-09"), "the statement deadline");
    let csrf = page.csrf();
    let decision = format!("{path}/decision");
    let undecided = browser
        .post(&decision, &[("csrf", &csrf), ("reasons", "x")])
        .await;
    assert_eq!(undecided.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(undecided.body.contains("请选择决定。"));
    let dismissed = browser
        .post(
            &decision,
            &[
                ("csrf", &csrf),
                ("decision", "dismiss"),
                ("reasons", "经复核，服务内容符合约定"),
            ],
        )
        .await;
    assert_eq!(
        dismissed.status,
        StatusCode::SEE_OTHER,
        "{}",
        dismissed.body
    );
    assert_eq!(dismissed.location(), path);
    let shown = browser.get(&path).await;
    assert!(shown.body.contains("已撤销案件。"));
    let case = api(&app, &format!("/api/v1/exit-cases/{id}")).await;
    assert_eq!(case["status"], "dismissed");
    assert_eq!(audit_count(&app, "exit_case.dismissed", id).await, 1);

    // An institution is refused the page.
    let mut institution = Browser::new(&app);
    institution.sign_in(&member.email, PASSWORD, None).await;
    assert_eq!(institution.get(&path).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_blacklist_imported_through_its_page_is_reported_line_by_line_or_imported_whole() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let mut browser = reviewer(&app).await;
    let form = browser.get("/review/blacklist").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.csrf();
    let bad = format!(
        "uscc,name,source,listed_on,reason\n{},甲,market,2026-02-01,严重违法失信\n91450100MA5L0000OI,乙,market,2026-13-01,r\n",
        flow::uscc(2)
    );
    let refused = browser
        .post(
            "/review/blacklist",
            &[("csrf", &csrf), ("source", "market"), ("csv", &bad)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("第 3 行"), "{}", refused.body);
    assert!(refused.body.contains("未导入任何记录"));
    let listed = api(&app, "/api/v1/blacklist").await;
    assert_eq!(listed["total"], 0, "nothing was imported");

    let no_source = browser
        .post(
            "/review/blacklist",
            &[("csrf", &csrf), ("source", " "), ("csv", &bad)],
        )
        .await;
    assert!(no_source.body.contains(r#"id="blacklist-source-error""#));

    let good = format!(
        "uscc,name,source,listed_on,reason\n{},甲,market,2026-02-01,严重违法失信\n",
        flow::uscc(2)
    );
    let imported = browser
        .post(
            "/review/blacklist",
            &[("csrf", &csrf), ("source", "market"), ("csv", &good)],
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert!(imported.body.contains("已导入"));
    let listed = api(&app, "/api/v1/blacklist").await;
    assert_eq!(listed["total"], 1);
}
