//! The signed-in workspaces through HTTP, as a browser uses them (cookies kept, forms posted
//! with their CSRF token): signing in and out with a database session, the same throttling and
//! disabled-account rules as the JSON API, CSRF refusals, `next` kept local, the session
//! cookie's attributes; then the institution's pages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use crate::common::{PASSWORD, TestApp, flow};
use provider_registry::auth::Role;
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_SECURITY_POLICY, COOKIE, HeaderMap, LOCATION, RETRY_AFTER, SET_COOKIE,
};
use serde_json::{Value, json};

const INSTITUTION_EMAIL: &str = "inst@test.local";
const INSTITUTION_NAME: &str = "青秀区星辰篮球培训中心";

/// A browser: keeps the cookies the service sets and sends them back.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookies: BTreeMap<String, String>,
    /// Extra headers sent with every request (e.g. `X-Forwarded-Proto`).
    pub headers: Vec<(&'static str, String)>,
}

/// One answer as the browser got it.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The `Set-Cookie` header for `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with(&format!("{name}=")))
    }

    /// The CSRF token of the page's first form.
    pub fn csrf(&self) -> String {
        self.body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a csrf field")
            .to_owned()
    }
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: BTreeMap::new(),
            headers: Vec::new(),
        }
    }

    fn keep(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let mut req = req.header(COOKIE, self.cookie_header());
        for (k, v) in &self.headers {
            req = req.header(*k, v);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        self.keep(&headers);
        let body = res.text().await.unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let req = self.app.get(path).header("accept", "text/html");
        self.send(req).await
    }

    /// Posts a urlencoded form.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let req = self.app.post(path).form(fields);
        self.send(req).await
    }

    /// Opens the sign-in page and signs in; returns the answer to the post.
    pub async fn sign_in(&mut self, email: &str, password: &str, next: Option<&str>) -> Answer {
        let form = self.get("/sign-in").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(
            form.body
                .contains(r#"<input type="email" id="email" name="email" required"#),
            "{}",
            form.body
        );
        let token = form.csrf();
        let mut fields = vec![
            ("csrf", token.as_str()),
            ("email", email),
            ("password", password),
        ];
        if let Some(next) = next {
            fields.push(("next", next));
        }
        self.post("/sign-in", &fields).await
    }

    /// Signs out through the header's button of `page`.
    pub async fn sign_out(&mut self, page: &Answer) -> Answer {
        let token = page.csrf();
        self.post("/sign-out", &[("csrf", token.as_str())]).await
    }
}

/// The status of `path` requested from `app` with nothing but a session cookie.
async fn with_session(app: &TestApp, path: &str, value: &str) -> StatusCode {
    app.get(path)
        .header(COOKIE, format!("session={value}"))
        .send()
        .await
        .unwrap()
        .status()
}

/// An institution account (registered through the API).
async fn institution(app: &TestApp) {
    app.register_institution(INSTITUTION_EMAIL, INSTITUTION_NAME, "91450103MA5L123454")
        .await;
}

#[tokio::test]
async fn an_institution_signs_in_reaches_its_workspace_and_signs_out_everywhere() {
    let app = TestApp::spawn().await;
    institution(&app).await;
    let mut browser = Browser::new(&app);

    // Not signed in: to the sign-in page, remembering where it was going.
    let before = browser.get("/institution?tab=1").await;
    assert_eq!(before.status, StatusCode::SEE_OTHER);
    assert_eq!(before.location(), "/sign-in?next=%2Finstitution%3Ftab%3D1");

    let signed = browser
        .sign_in(INSTITUTION_EMAIL, PASSWORD, Some("/institution?tab=1"))
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    assert_eq!(signed.location(), "/institution?tab=1");
    let cookie = signed.set_cookie("session").expect("a session cookie");
    let value = browser.cookies["session"].clone();
    assert_eq!(value.len(), 64);
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    assert!(
        !cookie.contains("Max-Age"),
        "ends with the browser: {cookie}"
    );

    let home = browser.get("/institution").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert_eq!(
        home.headers[CONTENT_SECURITY_POLICY],
        provider_registry::web::PAGE_CSP
    );
    assert!(home.body.contains(INSTITUTION_NAME));
    assert!(home.body.contains("退出登录"));
    assert!(
        home.body.contains("联系人（机构）"),
        "the header names the user"
    );

    // The JWT API is unchanged, and the cookie is no bearer token.
    assert_eq!(
        with_session(&app, "/api/v1/me", &value).await,
        StatusCode::UNAUTHORIZED
    );

    // Another instance on the same database accepts the session.
    let peer = app.spawn_peer(&[]).await;
    assert_eq!(
        with_session(&peer, "/institution", &value).await,
        StatusCode::OK
    );

    let out = browser.sign_out(&home).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/sign-in");
    assert!(out.set_cookie("session").unwrap().contains("Max-Age=0"));
    let notice = browser.get("/sign-in").await;
    assert!(notice.body.contains("您已退出登录"));

    // The old value is revoked on every instance.
    for base in [&app, &peer] {
        assert_eq!(
            with_session(base, "/institution", &value).await,
            StatusCode::SEE_OTHER
        );
    }
}

#[tokio::test]
async fn wrong_passwords_are_throttled_like_the_api_and_shown_in_the_form() {
    let app = TestApp::spawn().await;
    institution(&app).await;
    let mut browser = Browser::new(&app);
    for _ in 0..5 {
        let refused = browser
            .sign_in(INSTITUTION_EMAIL, "wrong-password-1", None)
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert!(refused.body.contains("邮箱或密码错误"), "{}", refused.body);
        assert!(
            refused
                .body
                .contains(&format!("value=\"{INSTITUTION_EMAIL}\""))
        );
        assert!(
            !refused.body.contains("wrong-password-1"),
            "the password is not echoed"
        );
        assert!(refused.set_cookie("session").is_none());
    }
    let locked = browser.sign_in(INSTITUTION_EMAIL, PASSWORD, None).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers.contains_key(RETRY_AFTER));
    assert!(locked.body.contains("请求过于频繁"), "{}", locked.body);
    // The same count locks the API.
    let api = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": INSTITUTION_EMAIL, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::TOO_MANY_REQUESTS);
    // After the window the right password opens a session.
    app.set_clock(&(app.state.clock.now() + chrono::Duration::minutes(16)).to_rfc3339())
        .await;
    let signed = browser.sign_in(INSTITUTION_EMAIL, PASSWORD, None).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    assert_eq!(signed.location(), "/institution");
}

#[tokio::test]
async fn a_disabled_account_is_signed_out_at_once_and_cannot_sign_in() {
    let app = TestApp::spawn().await;
    institution(&app).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(INSTITUTION_EMAIL, PASSWORD, None).await;
    assert_eq!(browser.get("/institution").await.status, StatusCode::OK);

    let id = app
        .sql_i64(&format!(
            "SELECT id AS value FROM users WHERE email = '{INSTITUTION_EMAIL}'"
        ))
        .await;
    app.disable_user(id).await;

    let next = browser.get("/institution").await;
    assert_eq!(next.status, StatusCode::SEE_OTHER);
    assert_eq!(next.location(), "/sign-in");
    assert!(!browser.cookies.contains_key("session"));
    let notice = browser.get("/sign-in").await;
    assert!(notice.body.contains("该账号已被停用"), "{}", notice.body);

    let again = browser.sign_in(INSTITUTION_EMAIL, PASSWORD, None).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(again.body.contains("该账号已被停用"));
    assert!(again.set_cookie("session").is_none());
}

#[tokio::test]
async fn forms_without_their_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    institution(&app).await;
    let mut browser = Browser::new(&app);
    browser.get("/sign-in").await;
    let forged = browser
        .post(
            "/sign-in",
            &[
                ("csrf", "0".repeat(64).as_str()),
                ("email", INSTITUTION_EMAIL),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.body.contains("表单已过期或来源无法验证"));
    assert!(forged.set_cookie("session").is_none());

    browser.sign_in(INSTITUTION_EMAIL, PASSWORD, None).await;
    let out = browser.post("/sign-out", &[("csrf", "forged")]).await;
    assert_eq!(out.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/institution").await.status,
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test]
async fn next_is_followed_only_to_local_paths_and_roles_are_kept_apart() {
    let app = TestApp::spawn().await;
    institution(&app).await;
    for next in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
    ] {
        let mut browser = Browser::new(&app);
        let signed = browser
            .sign_in(INSTITUTION_EMAIL, PASSWORD, Some(next))
            .await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER);
        assert_eq!(signed.location(), "/institution", "{next}");
    }
    // A reviewer's session does not open the institution's workspace.
    app.token(Role::Reviewer).await;
    let mut reviewer = Browser::new(&app);
    let signed = reviewer
        .sign_in("reviewer@test.local", PASSWORD, None)
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let refused = reviewer.get("/institution").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("无权"), "{}", refused.body);
}

#[tokio::test]
async fn the_session_cookie_is_secure_behind_tls_only() {
    // An https public address: Secure.
    let app = TestApp::spawn_with(&[("PUBLIC_BASE_URL", "https://registry.example.cn")]).await;
    institution(&app).await;
    let mut browser = Browser::new(&app);
    let signed = browser.sign_in(INSTITUTION_EMAIL, PASSWORD, None).await;
    assert!(signed.set_cookie("session").unwrap().contains("Secure"));
    drop(browser);

    // X-Forwarded-Proto from a peer that is not a trusted proxy: ignored.
    let plain = TestApp::spawn().await;
    institution(&plain).await;
    let mut browser = Browser::new(&plain);
    browser.headers.push(("x-forwarded-proto", "https".into()));
    let signed = browser.sign_in(INSTITUTION_EMAIL, PASSWORD, None).await;
    assert!(!signed.set_cookie("session").unwrap().contains("Secure"));

    // From a trusted proxy: Secure.
    let proxied = TestApp::spawn_with(&[("REGISTRY_TRUSTED_PROXIES", "127.0.0.1")]).await;
    institution(&proxied).await;
    let mut browser = Browser::new(&proxied);
    browser.headers.push(("x-forwarded-proto", "https".into()));
    let signed = browser.sign_in(INSTITUTION_EMAIL, PASSWORD, None).await;
    assert!(signed.set_cookie("session").unwrap().contains("Secure"));
}

#[tokio::test]
async fn a_session_ends_after_its_idle_time() {
    let app = TestApp::spawn().await;
    institution(&app).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(INSTITUTION_EMAIL, PASSWORD, None).await;
    let now = app.state.clock.now();
    app.set_clock(&(now + chrono::Duration::minutes(100)).to_rfc3339())
        .await;
    assert_eq!(browser.get("/institution").await.status, StatusCode::OK);
    app.set_clock(&(now + chrono::Duration::minutes(100 + 121)).to_rfc3339())
        .await;
    assert_eq!(
        browser.get("/institution").await.status,
        StatusCode::SEE_OTHER
    );
}

// ---- the institution's workspace ----------------------------------------------------------

/// The value of the first `<input … name="{name}" … value="…">` of a page.
fn input_value(body: &str, name: &str) -> Option<String> {
    let start = body.find(&format!("name=\"{name}\""))?;
    let rest = &body[start..];
    let end = rest.find('>')?;
    rest[..end]
        .split("value=\"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .map(str::to_owned)
}

/// Registers institution `n` through `/register`; the browser is then signed in.
async fn register_through_pages(browser: &mut Browser<'_>, n: u32) -> (String, String) {
    let form = browser.get("/register").await;
    assert_eq!(form.status, StatusCode::OK);
    let token = form.csrf();
    let (email, uscc) = (format!("pages{n}@example.cn"), flow::uscc(n));
    let post = |entity_type: &'static str| {
        let fields = vec![
            ("csrf", token.clone()),
            ("institution_name", INSTITUTION_NAME.to_owned()),
            ("uscc", uscc.clone()),
            ("entity_type", entity_type.to_owned()),
            ("display_name", "王经理".to_owned()),
            ("email", email.clone()),
            ("password", PASSWORD.to_owned()),
        ];
        fields
    };
    // A wrong entity type first: the refusal is shown next to its field, values kept.
    let refused = post_owned(browser, "/register", post("enterprise")).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains(r#"<p class="error" id="entity_type-error">"#),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    assert_eq!(
        input_value(&refused.body, "uscc").as_deref(),
        Some(uscc.as_str())
    );
    let done = post_owned(browser, "/register", post("private_non_enterprise_unit")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/institution/profile");
    (email, uscc)
}

/// Posts owned fields.
async fn post_owned(browser: &mut Browser<'_>, path: &str, fields: Vec<(&str, String)>) -> Answer {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post(path, &fields).await
}

/// The JSON of an API `GET` with a bearer token.
async fn api_get(app: &TestApp, path: &str, token: &str) -> Value {
    app.get(path)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Posts a form of the page at `path` (its CSRF token) to `action`.
async fn submit_form(
    browser: &mut Browser<'_>,
    path: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> Answer {
    let page = browser.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    let token = page.csrf();
    let mut all = vec![("csrf", token.as_str())];
    all.extend_from_slice(fields);
    browser.post(action, &all).await
}

/// Uploads a fixture through the upload page.
async fn upload_through_page(browser: &mut Browser<'_>, kind: &str, fixture: &str) -> Answer {
    let page = browser.get("/institution/documents").await;
    let token = page.csrf();
    let form = reqwest::multipart::Form::new()
        .text("csrf", token)
        .text("kind", kind.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(crate::common::fixture(fixture))
                .file_name(format!("{kind}.pdf")),
        );
    let req = browser.app.post("/institution/documents").multipart(form);
    browser.send(req).await
}

#[tokio::test]
async fn an_institution_builds_its_file_and_applies_through_pages_with_findings_next_to_fields() {
    let app = TestApp::spawn().await;
    let round = app.open_round().await;
    let mut browser = Browser::new(&app);
    let (email, _) = register_through_pages(&mut browser, 7).await;
    let token = app.login(&email, PASSWORD).await;

    // Profile: a bad mobile is shown next to its field; then saved.
    let profile = |mobile: &'static str| {
        vec![
            ("registration_kind", "private_non_enterprise_certificate"),
            ("registration_number", "民证字第450100007号"),
            ("issuing_authority", "南宁市民政局"),
            ("authority_level", "city"),
            ("registered_address", "南宁市青秀区民族大道7号"),
            ("district", "青秀区"),
            ("legal_rep_name", "张三"),
            ("legal_rep_id_kind", "resident_id"),
            ("contact_person", "王经理"),
            ("contact_mobile", mobile),
            ("contact_email", ""),
        ]
    };
    let id_number = flow::resident_id(14);
    let mut fields = profile("12345");
    fields.push(("legal_rep_id_number", id_number.as_str()));
    let refused = submit_form(
        &mut browser,
        "/institution/profile",
        "/institution/profile",
        &fields,
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains(r#"id="contact_mobile-error""#),
        "{}",
        refused.body
    );
    assert!(
        !refused.body.contains(&id_number),
        "the identity number is not shown again"
    );
    let mut fields = profile("13800771234");
    fields.push(("legal_rep_id_number", id_number.as_str()));
    let saved = submit_form(
        &mut browser,
        "/institution/profile",
        "/institution/profile",
        &fields,
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let shown = browser.get("/institution/profile").await;
    assert!(shown.body.contains("已保存"));
    assert!(!shown.body.contains(&id_number), "masked on the page");
    let api: Value = api_get(&app, "/api/v1/institutions/me", &token).await;
    assert_eq!(api["contact_mobile"], "13800771234");

    // Roster: one teacher with a credential and a criminal-record check.
    let teacher_id = flow::resident_id(15);
    let checked_on = (provider_registry::clock::beijing_date(app.state.clock.now())
        - chrono::Duration::days(30))
    .to_string();
    let added = submit_form(
        &mut browser,
        "/institution/teachers",
        "/institution/teachers",
        &[
            ("name", "李老师"),
            ("id_kind", "resident_id"),
            ("id_number", teacher_id.as_str()),
            ("speciality", "sports.basketball"),
            ("credential_kind", "teacher_qualification"),
            ("credential_number", "20154500210000007"),
            ("credential_issuer", "南宁市教育局"),
            ("credential_issued_on", "2015-07-01"),
            ("check_date", checked_on.as_str()),
            ("check_result", "clean"),
            ("check_issuer", "南宁市公安局青秀分局"),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let roster = browser.get("/institution/teachers").await;
    assert!(roster.body.contains("李老师") && !roster.body.contains(&teacher_id));
    let api: Value = api_get(&app, "/api/v1/institutions/me/teachers", &token).await;
    assert_eq!(api.as_array().unwrap().len(), 1);

    // Uploads: every kind, the merged PDF among them, each with its extraction status.
    for kind in flow::REQUIRED_DOCUMENTS {
        let up = upload_through_page(&mut browser, kind, "pdf/chromium.pdf").await;
        assert_eq!(up.status, StatusCode::SEE_OTHER, "{kind}: {}", up.body);
    }
    let docs = browser.get("/institution/documents").await;
    assert!(docs.body.contains("data-status=\"ok\""), "{}", docs.body);
    // An upload without its token stores nothing.
    let form = reqwest::multipart::Form::new()
        .text("csrf", "forged")
        .text("kind", "other")
        .part(
            "file",
            reqwest::multipart::Part::bytes(crate::common::fixture("pdf/chromium.pdf"))
                .file_name("x.pdf"),
        );
    let req = browser.app.post("/institution/documents").multipart(form);
    let forged = browser.send(req).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        forged.body.contains("表单已过期或来源无法验证"),
        "{}",
        forged.body
    );
    let docs_after = browser.get("/institution/documents").await;
    assert_eq!(docs_after.body.matches("<tr data-document=").count(), 8);

    // A draft without inspections, service plan or pledge: the submission is blocked and each
    // finding stands next to the field it concerns, with its rule.
    let doc_ids: Vec<String> = docs
        .body
        .split("<tr data-document=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect();
    let teacher: Value = api[0].clone();
    let teacher = teacher["id"].to_string();
    let round_s = round.to_string();
    let created = submit_form(
        &mut browser,
        "/institution/applications/new",
        "/institution/applications",
        &[
            ("round_id", round_s.as_str()),
            ("proposed_items", "sports.basketball"),
        ],
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let path = created.location().to_owned();
    let app_id: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
    let mut fields: Vec<(&str, &str)> = vec![
        ("round_id", round_s.as_str()),
        ("proposed_items", "sports.basketball"),
        ("teacher_ids", teacher.as_str()),
        ("action", "submit"),
    ];
    for id in &doc_ids {
        fields.push(("document_ids", id.as_str()));
    }
    let blocked = submit_form(&mut browser, &path, &path, &fields).await;
    assert_eq!(
        blocked.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        blocked.body
    );
    let section = |id: &str| {
        let start = blocked
            .body
            .find(&format!("id=\"{id}-findings\""))
            .unwrap_or_else(|| panic!("no findings for {id}: {}", blocked.body));
        blocked.body[start..start + blocked.body[start..].find("</div>").unwrap()].to_owned()
    };
    assert!(section("service_plan").contains("data-code=\"service_plan_missing\""));
    assert!(section("pledge_signed").contains("data-code=\"pledge_not_signed\""));
    assert!(section("inspections").contains("data-code=\"annual_inspection_insufficient\""));
    assert!(
        section("service_plan").contains("class=\"rule\""),
        "the rule is named"
    );
    // Nothing was submitted; the API agrees.
    let api: Value = api_get(&app, &format!("/api/v1/applications/{app_id}"), &token).await;
    assert_eq!(api["status"], "draft");

    // Inspections for the two years before this one, then the corrected form submits.
    let year = provider_registry::clock::beijing_date(app.state.clock.now())
        .format("%Y")
        .to_string()
        .parse::<i32>()
        .unwrap();
    for y in [year - 2, year - 1] {
        let y = y.to_string();
        let done = submit_form(
            &mut browser,
            "/institution/inspections",
            "/institution/inspections",
            &[
                ("year", y.as_str()),
                ("result", "passed"),
                ("authority", "南宁市民政局"),
            ],
        )
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    }
    fields.push(("service_plan", "每周三次课后训练，配备专职教练与安全员"));
    fields.push(("pledge_signed", "true"));
    let submitted = submit_form(&mut browser, &path, &path, &fields).await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    let shown = browser.get(&path).await;
    assert!(
        shown.body.contains("data-status=\"submitted\""),
        "{}",
        shown.body
    );
    assert!(
        shown.body.contains("data-action=\"application.submitted\""),
        "the history"
    );
    let api: Value = api_get(&app, &format!("/api/v1/applications/{app_id}"), &token).await;
    assert_eq!(api["status"], "submitted");
    let list = browser.get("/institution/applications").await;
    assert!(
        list.body
            .contains(&format!("/institution/applications/{app_id}"))
    );
}

#[tokio::test]
async fn the_institutions_e_mails_link_to_the_page_they_speak_about() {
    let app = TestApp::spawn_with(&[("PUBLIC_BASE_URL", "https://registry.example.cn/")]).await;
    app.set_clock("2026-02-13T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (applicant, id) = flow::submitted(&app, 9, round, &["sports.basketball"]).await;
    app.run_pending_jobs().await;
    let link = format!("https://registry.example.cn/institution/applications/{id}");
    let mut found = false;
    for file in std::fs::read_dir(app.dir.path().join("mail")).unwrap() {
        let raw = std::fs::read(file.unwrap().path()).unwrap();
        let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let to = msg
            .to()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .to_owned();
        let (text, html) = (msg.body_text(0).unwrap(), msg.body_html(0).unwrap());
        assert!(
            !text.contains("public-base-url.invalid") && !html.contains("public-base-url.invalid")
        );
        if to == applicant.email {
            assert!(text.contains(&link), "{text}");
            assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
            found = true;
        }
    }
    assert!(found, "the institution's message");
    // The link opens the application once signed in.
    let mut browser = Browser::new(&app);
    let path = format!("/institution/applications/{id}");
    let signed = browser
        .sign_in(&applicant.email, PASSWORD, Some(&path))
        .await;
    assert_eq!(signed.location(), path);
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-status=\"submitted\""));
}

#[tokio::test]
async fn a_file_over_the_size_cap_is_refused_next_to_its_input_and_nothing_is_stored() {
    let app = TestApp::spawn_with(&[("UPLOAD_MAX_BYTES", "2048")]).await;
    let mut browser = Browser::new(&app);
    register_through_pages(&mut browser, 11).await;
    let too_big = upload_through_page(&mut browser, "other", "pdf/chromium.pdf").await;
    assert_eq!(
        too_big.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        too_big.body
    );
    assert!(
        too_big
            .body
            .contains(r#"<p class="error" id="file-error">文件超过"#),
        "{}",
        too_big.body
    );
    let docs = browser.get("/institution/documents").await;
    assert_eq!(docs.body.matches("<tr data-document=").count(), 0);
}
