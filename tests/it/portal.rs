//! The public portal's pages through HTTP: every page answers HTML with its content, the page
//! CSP and under 60 KB; the objection form files through the API's own intake (evidence, field
//! errors next to their fields, CSRF refusal, the closed-window message); no identity number
//! on any page; browser addresses get the HTML 404, the API keeps problem+json.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::flow;
use crate::common::{TestApp, fixture};
use provider_registry::auth::Role;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const ITEMS: &[&str] = &["sports.basketball"];
const MAX_PAGE_BYTES: usize = 60 * 1024;

/// GETs a page; asserts HTML with the page CSP and the size limit; returns status and body.
async fn page(app: &TestApp, path: &str) -> (StatusCode, String) {
    let res = app.get(path).send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.text().await.unwrap();
    assert!(
        headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{path}: {:?}",
        headers[CONTENT_TYPE]
    );
    assert_eq!(
        headers[CONTENT_SECURITY_POLICY],
        provider_registry::web::PAGE_CSP,
        "{path}"
    );
    assert!(body.len() < MAX_PAGE_BYTES, "{path}: {} bytes", body.len());
    (status, body)
}

/// The CSRF cookie and the token of the objection form for `application`.
async fn form_token(app: &TestApp, notice: i64, application: i64) -> (String, String, String) {
    let res = app
        .get(&format!(
            "/notices/{notice}/object?application={application}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("csrf="))
        .expect("a csrf cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let body = res.text().await.unwrap();
    let token = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_owned();
    (cookie, token, body)
}

fn objection_form(token: &str, application: i64, mobile: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("csrf", token.to_owned())
        .text("application_id", application.to_string())
        .text("name", "孙八")
        .text("mobile", mobile.to_owned())
        .text(
            "grounds",
            "该机构公示的篮球教练并非实际授课教师，材料与实际不符。",
        )
}

async fn objections_of(app: &TestApp, notice: i64) -> Value {
    app.as_role(
        Role::Reviewer,
        Method::GET,
        &format!("/api/v1/objections?notice_id={notice}"),
    )
    .await
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

/// A round with institution 1 approved and published on 2 March 2026 (window to 6 March).
async fn open_notice(app: &TestApp) -> (i64, i64) {
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, application) = flow::approved(app, 1, round, ITEMS).await;
    let notice = flow::publish(app, &[application], "2026-03-02").await;
    (notice["id"].as_i64().unwrap(), application)
}

#[tokio::test]
async fn every_public_page_answers_html_in_chinese_or_english() {
    let app = TestApp::spawn().await;
    let (notice, _) = open_notice(&app).await;
    for (path, expected) in [
        ("/", "课后服务第三方机构备选库"),
        ("/notices", "入库公示"),
        (&format!("/notices/{notice}") as &str, "公示期逐日说明"),
        ("/pool", "备选库名单"),
        ("/pool?category=sports", "体育"),
        ("/bans", "清退与禁入"),
        ("/status", "机构状态查询"),
    ] {
        let (status, body) = page(&app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body.contains(expected), "{path} lacks {expected}");
        assert!(body.contains("lang=\"zh-CN\""), "{path}");
    }
    // The window explained day by day: 2–6 March 2026 are five plain working days.
    let (_, body) = page(&app, &format!("/notices/{notice}")).await;
    assert!(body.contains("2026-03-06"));
    assert!(body.contains("第 5 个工作日"));

    // English by the switch, then remembered by the cookie.
    let res = app.get("/pool?lang=en").send().await.unwrap();
    let remembered = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("lang=en"));
    assert!(remembered);
    assert!(res.text().await.unwrap().contains("Whitelist"));
    let res = app
        .get("/bans")
        .header(COOKIE, "lang=en")
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("Removals and bans"));
    let res = app
        .get("/")
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("lang=\"en\""));

    // An unknown category is shown next to its field.
    let (status, body) = page(&app, "/pool?category=nope").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"category-error\""));

    // The stylesheet: hashed link, a year of caching, 304 on revalidation.
    let res = app.get("/assets/site.css").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = res.headers()["etag"].clone();
    let res = app
        .get("/assets/site.css")
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn an_objection_filed_through_the_form_reaches_the_reviewer_with_its_evidence() {
    let app = TestApp::spawn().await;
    let (notice, application) = open_notice(&app).await;
    let (cookie, token, form) = form_token(&app, notice, application).await;
    assert!(form.contains("南宁市第1青少年课后服务中心"));

    // Field errors come back next to their fields, in Chinese, and nothing is filed.
    let res = app
        .post(&format!("/notices/{notice}/object"))
        .header(COOKIE, &cookie)
        .multipart(objection_form(&token, application, "12345"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("id=\"mobile-error\""), "{body}");
    assert!(body.contains("手机号码"));
    assert!(body.contains("value=\"孙八\""), "the typed name is kept");
    assert_eq!(objections_of(&app, notice).await["total"], 0);

    let form = objection_form(&token, application, "13912345678").part(
        "evidence",
        reqwest::multipart::Part::bytes(fixture("pdf/chromium.pdf")).file_name("证据.pdf"),
    );
    let res = app
        .post(&format!("/notices/{notice}/object"))
        .header(COOKIE, &cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/notices/{notice}/object/received"));
    let flash = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("flash="))
        .expect("a flash cookie");
    let flash = flash.split(';').next().unwrap().to_owned();
    let (status, body) = {
        let res = app
            .get(&location)
            .header(COOKIE, &flash)
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    };
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("异议已受理"));
    assert!(body.contains("南宁市第1青少年课后服务中心"));
    // Without the flash, the confirmation page sends the visitor back to the notice.
    let res = app.get(&location).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let list = objections_of(&app, notice).await;
    assert_eq!(list["total"], 1);
    let objection = &list["items"][0];
    assert_eq!(objection["objector_name"], "孙八");
    assert_eq!(objection["objector_mobile"], "13912345678");
    assert_eq!(objection["application_id"], application);
    assert!(objection["evidence_document_id"].is_i64());
    assert!(body.contains(&format!(">{}<", objection["id"])));
}

#[tokio::test]
async fn a_form_posted_without_its_csrf_token_is_refused_and_files_nothing() {
    let app = TestApp::spawn().await;
    let (notice, application) = open_notice(&app).await;
    let (cookie, token, _) = form_token(&app, notice, application).await;
    // The right token without its cookie (another site's post), and a forged token.
    for (cookie, token) in [(None, token.clone()), (Some(cookie), "00".repeat(32))] {
        let mut req = app.post(&format!("/notices/{notice}/object"));
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        let res = req
            .multipart(objection_form(&token, application, "13912345678"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.text().await.unwrap().contains("表单已过期"));
    }
    assert_eq!(objections_of(&app, notice).await["total"], 0);
}

#[tokio::test]
async fn after_the_window_the_form_shows_the_closed_message() {
    let app = TestApp::spawn().await;
    let (notice, application) = open_notice(&app).await;
    let (cookie, token, _) = form_token(&app, notice, application).await;
    // 6 March 23:59:59 Beijing is the last instant; one second later the window is over.
    app.set_clock("2026-03-07T00:00:00+08:00").await;
    let res = app
        .post(&format!("/notices/{notice}/object"))
        .header(COOKIE, &cookie)
        .multipart(objection_form(&token, application, "13912345678"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body = res.text().await.unwrap();
    assert!(body.contains("公示期已结束，不再受理异议"), "{body}");
    assert!(body.contains("2026-03-06 23:59:59"));
    assert!(!body.contains("<form method=\"post\""));
    let (status, body) = page(
        &app,
        &format!("/notices/{notice}/object?application={application}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("公示期已结束"));
    let (_, body) = page(&app, &format!("/notices/{notice}")).await;
    assert!(!body.contains("/object?application="));
    assert_eq!(objections_of(&app, notice).await["total"], 0);
}

#[tokio::test]
async fn the_notice_page_shows_a_change_made_elsewhere_within_one_second_and_the_window_at_once() {
    use diesel::connection::SimpleConnection;
    let app = TestApp::spawn().await;
    let (notice, application) = open_notice(&app).await;
    let path = format!("/notices/{notice}");
    let (_, first) = page(&app, &path).await;
    assert!(first.contains(&format!("/object?application={application}")));
    // The second visitor gets the kept page, without the first one's cookie.
    let res = app.get(&path).send().await.unwrap();
    assert!(
        res.headers()
            .get_all(SET_COOKIE)
            .iter()
            .any(|v| { v.to_str().unwrap().starts_with("csrf=") })
    );
    assert_eq!(res.text().await.unwrap(), first);
    // Renamed by another instance: nothing in this process hears of it.
    const TITLE: &str = "更正后的公示标题";
    let pool = app.state.pool.clone();
    let statement = format!("UPDATE notices SET title = '{TITLE}' WHERE id = {notice}");
    tokio::task::spawn_blocking(move || pool.get().unwrap().batch_execute(&statement).unwrap())
        .await
        .unwrap();
    let changed_at = std::time::Instant::now();
    while !page(&app, &path).await.1.contains(TITLE) {
        assert!(
            changed_at.elapsed() < std::time::Duration::from_millis(1100),
            "the new title did not show within one second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The window is the request's: past its end the kept notice shows closed at once.
    app.set_clock("2026-03-07T00:00:00+08:00").await;
    let (_, body) = page(&app, &path).await;
    assert!(body.contains("公示期已结束"), "{body}");
    assert!(!body.contains("/object?application="));
}

#[tokio::test]
async fn no_page_shows_an_identity_number_and_teachers_show_names_and_credential_kinds() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let round = app.open_round().await;
    let (applicant, _) = flow::admitted(&app, 3, round, ITEMS).await;
    let id = applicant.institution_id;
    // The round's pool is valid from 1 September.
    app.set_clock("2026-09-02T09:00:00+08:00").await;
    let teacher: Value = app
        .get(&format!("/api/v1/pool/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let teacher_name = teacher["teachers"][0]["name"].as_str().unwrap().to_owned();
    let (status, body) = page(&app, &format!("/pool/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&teacher_name));
    assert!(body.contains("资格"), "a credential kind label");
    let (_, status_body) = page(&app, &format!("/status?uscc={}", applicant.uscc)).await;
    assert!(status_body.contains("在备选库中"));
    let (_, search) = page(&app, "/pool?q=%E7%AC%AC3").await;
    assert!(search.contains(&format!("/pool/{id}")));
    // Every identity number the institution gave (its teachers, its legal representative):
    // they all follow flow::resident_id, and none appears on any page.
    let numbers: Vec<String> = (0..10).map(|n| flow::resident_id(3 + n)).collect();
    for path in [
        "/".to_owned(),
        "/notices".to_owned(),
        "/notices/1".to_owned(),
        "/pool".to_owned(),
        format!("/pool/{id}"),
        format!("/status?uscc={}", applicant.uscc),
        "/bans?status=active".to_owned(),
    ] {
        let (_, body) = page(&app, &path).await;
        for number in &numbers {
            assert!(!body.contains(number.as_str()), "{path} shows {number}");
            assert!(
                !body.contains(&number[..14]),
                "{path} shows part of {number}"
            );
        }
    }
}

#[tokio::test]
async fn the_status_page_explains_invalid_and_unknown_codes() {
    let app = TestApp::spawn().await;
    let (status, body) = page(&app, "/status?uscc=91450100MA5L0000OI").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("data-status=\"invalid\""));
    assert!(body.contains("<li>"), "the reasons are listed");
    let (status, body) = page(&app, &format!("/status?uscc={}", flow::uscc(77))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("data-status=\"not_listed\""));
}

#[tokio::test]
async fn browsers_get_the_html_404_and_the_api_keeps_problems() {
    let app = TestApp::spawn().await;
    let res = app
        .get("/no/such/page")
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(
        res.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(res.text().await.unwrap().contains("页面不存在"));
    // A client that does not ask for HTML gets the problem.
    let res = app.get("/no/such/page").send().await.unwrap();
    assert_eq!(res.headers()[CONTENT_TYPE], "application/problem+json");
    let (status, _) = page(&app, "/notices/999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let res = app.get("/api/v1/no-such").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers()[CONTENT_TYPE], "application/problem+json");
    let res = app.post("/pool").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "GET, HEAD");
}

/// The link on `body` whose address starts with `prefix`, HTML entities of `&` undone.
fn link(body: &str, prefix: &str) -> Option<String> {
    let start = body.find(&format!("href=\"{prefix}"))? + "href=\"".len();
    let end = start + body[start..].find('"')?;
    Some(body[start..end].replace("&amp;", "&"))
}

#[tokio::test]
async fn the_pool_page_links_to_the_csv_json_and_excel_exports_with_its_filters() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let round = app.open_round().await;
    let (applicant, _) = flow::admitted(&app, 3, round, ITEMS).await;
    app.set_clock("2026-09-02T09:00:00+08:00").await;
    let (status, body) = page(&app, "/pool?category=sports&q=%E7%AC%AC3").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&applicant.name));
    // The form keeps the category chosen (and only that one).
    assert!(
        body.contains("<option value=\"sports\" selected>"),
        "{body}"
    );
    assert_eq!(body.matches(" selected>").count(), 1);
    for (prefix, content_type) in [
        ("/api/v1/pool/export.csv", "text/csv; charset=utf-8"),
        ("/api/v1/pool/export.json", "application/json"),
        (
            "/api/v1/pool/export.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ] {
        let href = link(&body, prefix).unwrap_or_else(|| panic!("no link to {prefix}"));
        assert!(
            href.contains("category=sports") && href.contains("q=%E7%AC%AC3"),
            "{href} keeps the page's filters"
        );
        let res = app.get(&href).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{href}");
        assert_eq!(res.headers()[CONTENT_TYPE], content_type, "{href}");
        let bytes = res.bytes().await.unwrap();
        if prefix.ends_with("xlsx") {
            assert!(bytes.starts_with(b"PK"), "an XLSX is a zip file");
        } else {
            let text = String::from_utf8(bytes.to_vec()).unwrap();
            assert!(text.contains(&applicant.name), "{href} lists the match");
        }
    }
    // The filters narrow the exports the links name: another category matches nobody.
    let (_, body) = page(&app, "/pool?category=arts").await;
    let href = link(&body, "/api/v1/pool/export.json").unwrap();
    let export = app.get_value(&href).await;
    assert_eq!(export["total"], 0, "{href}");
}
