//! E-mail notifications end to end: a real SMTP server on loopback (tests/common/smtp.rs)
//! receives what lettre sends; the file transport writes `.eml` files when SMTP is unset.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::smtp::{Mode, Received, Security, SmtpServer};
use crate::common::{TestApp, flow};
use mail_parser::{MessageParser, MimeHeaders};
use provider_registry::auth::Role;
use provider_registry::jobs::scheduler;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ITEMS: &[&str] = &["sports.basketball"];

async fn with_smtp(extra: &[(&str, &str)]) -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let mut vars = vec![("SMTP_URL", url.as_str())];
    vars.extend_from_slice(extra);
    (TestApp::spawn_with(&vars).await, smtp)
}

/// Enqueues the current period of the mail reminders (as the worker's tick would), then runs
/// every due job.
async fn tick_mail_reminders(app: &TestApp) {
    let pool = app.state.pool.clone();
    let now = app.state.clock.now();
    tokio::task::spawn_blocking(move || {
        let periodic: Vec<_> = provider_registry::startup::job_kinds::periodic()
            .into_iter()
            .filter(|p| p.kind.starts_with("mail."))
            .collect();
        let mut conn = pool.get().unwrap();
        provider_registry::db::write_tx(&mut conn, |c| scheduler::tick(c, &periodic, now)).unwrap();
    })
    .await
    .unwrap();
    app.run_pending_jobs().await;
}

/// Moves the service clock directly (a jump of a year outlives every access token).
fn jump(app: &TestApp, now: &str) {
    let now = chrono::DateTime::parse_from_rfc3339(now).unwrap().to_utc();
    app.state.clock.settable().unwrap().set(now);
}

/// The e-mail jobs as an admin sees them (`GET /admin/jobs`).
async fn email_jobs(app: &TestApp, state: Option<&str>) -> Vec<Value> {
    let path = match state {
        Some(s) => format!("/api/v1/admin/jobs?per_page=100&state={s}"),
        None => "/api/v1/admin/jobs?per_page=100".to_owned(),
    };
    let res = app
        .as_role(Role::Admin, Method::GET, &path)
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "email.send")
        .cloned()
        .collect()
}

fn recipients(messages: &[Received]) -> Vec<String> {
    let mut all: Vec<String> = messages.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    all.sort();
    all
}

/// Checks the MIME structure every message must have and returns (subject, text, html).
fn check_mime(raw: &[u8]) -> (String, String, String) {
    let text = String::from_utf8_lossy(raw);
    let subject_line = text
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .expect("a Subject header");
    assert!(
        subject_line.is_ascii() && subject_line.contains("=?utf-8?"),
        "the subject is RFC 2047 encoded: {subject_line}"
    );
    assert!(text.contains("MIME-Version: 1.0"), "{text}");
    let msg = MessageParser::default().parse(raw).expect("valid MIME");
    let ct = msg.content_type().expect("a Content-Type");
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("multipart", Some("alternative"))
    );
    let plain = msg.text_part(0).expect("a text part");
    let plain_ct = plain.content_type().unwrap();
    assert_eq!(
        (plain_ct.ctype(), plain_ct.subtype()),
        ("text", Some("plain"))
    );
    assert_eq!(plain_ct.attribute("charset"), Some("utf-8"));
    let html = msg.html_part(0).expect("an html part");
    let html_ct = html.content_type().unwrap();
    assert_eq!((html_ct.ctype(), html_ct.subtype()), ("text", Some("html")));
    assert_eq!(html_ct.attribute("charset"), Some("utf-8"));
    assert_eq!(
        msg.from().and_then(|a| a.first()).and_then(|a| a.address()),
        Some("noreply@registry.invalid")
    );
    assert!(msg.message_id().is_some());
    (
        msg.subject().unwrap().to_owned(),
        msg.body_text(0).unwrap().into_owned(),
        msg.body_html(0).unwrap().into_owned(),
    )
}

fn message_to<'a>(messages: &'a [Received], to: &str) -> &'a Received {
    let found: Vec<_> = messages.iter().filter(|m| m.rcpt_to == [to]).collect();
    assert_eq!(found.len(), 1, "exactly one message to {to}");
    found[0]
}

#[tokio::test]
async fn a_submission_mails_the_institution_and_every_enabled_reviewer_exactly_once() {
    let (app, smtp) = with_smtp(&[]).await;
    app.set_clock("2026-02-13T10:00:00+08:00").await;
    app.token(Role::Reviewer).await;
    // A second reviewer, and a disabled one who gets nothing.
    for (email, disable) in [("reviewer2@test.local", false), ("gone@test.local", true)] {
        let res = app
            .as_role(Role::Admin, Method::POST, "/api/v1/admin/users")
            .await
            .json(
                &json!({"email": email, "password": crate::common::PASSWORD, "role": "reviewer",
                          "display_name": "审核员"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        if disable {
            app.disable_user(id).await;
        }
    }
    let round = app.open_round().await;
    let (applicant, id) = flow::submitted(&app, 1, round, ITEMS).await;
    assert!(
        smtp.messages().is_empty(),
        "nothing is sent inside the request"
    );

    app.run_pending_jobs().await;
    let messages = smtp.messages();
    // The account e-mail and the profile's contact e-mail are the same address: one message.
    assert_eq!(
        recipients(&messages),
        vec![
            applicant.email.clone(),
            "reviewer2@test.local".to_owned(),
            "reviewer@test.local".to_owned()
        ]
    );
    let received = message_to(&messages, &applicant.email);
    assert_eq!(received.mail_from, "noreply@registry.invalid");
    let (subject, text, html) = check_mime(&received.data);
    assert_eq!(
        subject,
        format!("【课后服务备选库】申报已受理（申报编号 {id}）")
    );
    assert!(text.starts_with(&format!("{}：", applicant.name)), "{text}");
    assert!(text.contains("- 篮球"), "{text}");
    assert!(text.contains("2026年课后服务第三方机构遴选"), "{text}");
    assert!(html.contains("<li>篮球</li>"), "{html}");

    let (subject, text, _) = check_mime(&message_to(&messages, "reviewer@test.local").data);
    assert_eq!(
        subject,
        format!(
            "【课后服务备选库】新的入库申报待审核：“{}”（申报编号 {id}）",
            applicant.name
        )
    );
    assert!(text.starts_with("审核员："), "{text}");

    // Running the queue again sends nothing more.
    app.run_pending_jobs().await;
    assert_eq!(smtp.messages().len(), 3);

    // Admins see recipient and subject of each e-mail job, not the body.
    let jobs = email_jobs(&app, Some("done")).await;
    assert_eq!(jobs.len(), 3);
    for job in &jobs {
        let payload = job["payload"].as_object().unwrap();
        let mut keys: Vec<_> = payload.keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["key", "subject", "template", "to"], "{job}");
    }
}

#[tokio::test]
async fn a_failing_smtp_server_is_retried_with_backoff_then_delivers_once() {
    let (app, smtp) = with_smtp(&[]).await;
    app.set_clock("2026-02-13T10:00:00+08:00").await;
    app.token(Role::Reviewer).await;
    let round = app.open_round().await;
    smtp.set_mode(Mode::TempFail);
    let (applicant, _) = flow::submitted(&app, 2, round, ITEMS).await;

    // 451 to MAIL FROM: both messages wait for their retry.
    app.run_pending_jobs().await;
    assert!(smtp.messages().is_empty());
    let pending = email_jobs(&app, Some("pending")).await;
    assert_eq!(pending.len(), 2);
    for job in &pending {
        assert_eq!(job["attempts"], 1);
        assert!(job["last_error"].as_str().unwrap().contains("451"), "{job}");
    }
    // Not before the backoff (30 s) has passed.
    app.set_clock("2026-02-13T10:00:20+08:00").await;
    assert_eq!(app.run_pending_jobs().await, 0);

    // Then the server is down altogether: connections are refused.
    smtp.stop_listening().await;
    let connections = smtp.connections();
    app.set_clock("2026-02-13T10:00:45+08:00").await;
    assert_eq!(app.run_pending_jobs().await, 2);
    assert_eq!(
        smtp.connections(),
        connections,
        "nothing reached the server"
    );
    let pending = email_jobs(&app, Some("pending")).await;
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().all(|j| j["attempts"] == 2), "{pending:?}");

    // It recovers: the next attempt (60 s later) delivers each message once.
    smtp.resume().await;
    smtp.set_mode(Mode::Accept);
    app.set_clock("2026-02-13T10:02:30+08:00").await;
    assert_eq!(app.run_pending_jobs().await, 2);
    assert_eq!(
        recipients(&smtp.messages()),
        vec![applicant.email.clone(), "reviewer@test.local".to_owned()]
    );
    app.set_clock("2026-02-14T10:00:00+08:00").await;
    app.run_pending_jobs().await;
    assert_eq!(smtp.messages().len(), 2, "delivered once only");
    assert_eq!(email_jobs(&app, Some("done")).await.len(), 2);
}

#[tokio::test]
async fn a_refused_recipient_is_dead_at_once_and_an_admin_can_retry_it() {
    let (app, smtp) = with_smtp(&[]).await;
    app.set_clock("2026-02-13T10:00:00+08:00").await;
    app.token(Role::Reviewer).await;
    let round = app.open_round().await;
    smtp.refuse_recipient("institution3@example.cn");
    let (applicant, _) = flow::submitted(&app, 3, round, ITEMS).await;

    app.run_pending_jobs().await;
    assert_eq!(recipients(&smtp.messages()), vec!["reviewer@test.local"]);
    let dead = email_jobs(&app, Some("dead")).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    let job = &dead[0];
    assert_eq!(job["attempts"], 1, "a 5xx is not retried: {job}");
    assert!(job["last_error"].as_str().unwrap().contains("550"), "{job}");
    assert_eq!(job["payload"]["to"], applicant.email);
    assert!(
        job["payload"]["subject"]
            .as_str()
            .unwrap()
            .contains("申报已受理")
    );
    assert!(job["payload"].get("text").is_none() && job["payload"].get("html").is_none());

    // The address is fixed on the server's side; an admin puts the job back.
    smtp.accept_all_recipients();
    let res = app
        .as_role(
            Role::Admin,
            Method::POST,
            &format!("/api/v1/admin/jobs/{}/retry", job["id"]),
        )
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    app.run_pending_jobs().await;
    assert_eq!(
        recipients(&smtp.messages()),
        vec![applicant.email.clone(), "reviewer@test.local".to_owned()]
    );
    assert!(email_jobs(&app, Some("dead")).await.is_empty());
}

#[tokio::test]
async fn a_submission_that_fails_its_checks_sends_nothing() {
    let (app, smtp) = with_smtp(&[]).await;
    app.set_clock("2026-02-13T10:00:00+08:00").await;
    app.token(Role::Reviewer).await;
    let round = app.open_round().await;
    let applicant = flow::institution(&app, 4, ITEMS).await;
    let res = app
        .post("/api/v1/applications")
        .bearer_auth(&applicant.token)
        .json(&json!({"round_id": round, "proposed_items": ITEMS, "pledge_signed": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = app
        .post(&format!("/api/v1/applications/{id}/submit"))
        .bearer_auth(&applicant.token)
        .send()
        .await
        .unwrap();
    crate::common::assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "submission_blocked")
        .await;

    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM jobs WHERE kind = 'email.send'")
            .await,
        0
    );
    app.run_pending_jobs().await;
    assert!(smtp.messages().is_empty());
}

#[tokio::test]
async fn without_smtp_the_messages_are_eml_files_a_mail_client_can_open() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-02-13T10:00:00+08:00").await;
    app.token(Role::Reviewer).await;
    let round = app.open_round().await;
    let (applicant, id) = flow::submitted(&app, 5, round, ITEMS).await;
    app.run_pending_jobs().await;

    let dir = app.dir.path().join("mail");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| f.extension().unwrap() == "eml"));
    let mut subjects = Vec::new();
    for file in &files {
        let raw = std::fs::read(file).unwrap();
        let (subject, text, _) = check_mime(&raw);
        let msg = MessageParser::default().parse(&raw).unwrap();
        let to = msg
            .to()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .to_owned();
        assert!(text.contains(&applicant.name), "{text}");
        subjects.push((to, subject));
    }
    subjects.sort();
    assert_eq!(
        subjects,
        vec![
            (
                applicant.email.clone(),
                format!("【课后服务备选库】申报已受理（申报编号 {id}）")
            ),
            (
                "reviewer@test.local".to_owned(),
                format!(
                    "【课后服务备选库】新的入库申报待审核：“{}”（申报编号 {id}）",
                    applicant.name
                )
            ),
        ]
    );
}

#[tokio::test]
async fn the_annual_inspection_reminder_goes_out_from_the_configured_date_once_a_year() {
    let (app, smtp) = with_smtp(&[("INSPECTION_REMINDER_DATE", "05-15")]).await;
    app.set_clock("2026-02-13T10:00:00+08:00").await;
    let round = app.open_round().await;
    // Inspections for 2024 and 2025 on record; the application stays live.
    let (applicant, _) = flow::submitted(&app, 6, round, ITEMS).await;
    // An institution with no application is not concerned.
    flow::institution(&app, 7, ITEMS).await;
    app.run_pending_jobs().await;
    let before = smtp.messages().len();

    // In 2026, last year's (2025) record exists: nothing to remind.
    jump(&app, "2026-05-15T09:30:00+08:00");
    tick_mail_reminders(&app).await;
    assert_eq!(smtp.messages().len(), before);

    // 2027: the 2026 record is missing; not before the configured date …
    jump(&app, "2027-05-14T09:30:00+08:00");
    tick_mail_reminders(&app).await;
    assert_eq!(smtp.messages().len(), before);
    // … and on it, once.
    jump(&app, "2027-05-15T09:30:00+08:00");
    tick_mail_reminders(&app).await;
    let messages = smtp.messages();
    assert_eq!(messages.len(), before + 1);
    let reminder = messages.last().unwrap();
    assert_eq!(reminder.rcpt_to, vec![applicant.email.clone()]);
    let (subject, text, _) = check_mime(&reminder.data);
    assert_eq!(subject, "【课后服务备选库】请补充 2026 年度年检记录");
    assert!(text.contains("2027-06-30"), "{text}");

    jump(&app, "2027-05-16T09:30:00+08:00");
    tick_mail_reminders(&app).await;
    assert_eq!(smtp.messages().len(), before + 1, "once a year");
}

#[tokio::test]
async fn expiring_credentials_and_criminal_record_checks_are_announced_once_30_days_ahead() {
    let (app, smtp) = with_smtp(&[]).await;
    app.set_clock("2026-02-13T08:00:00+08:00").await;
    let round = app.open_round().await;
    // Its teacher's criminal-record check is dated 2026-01-10: valid until 2026-07-09.
    let (applicant, _) = flow::submitted(&app, 8, round, ITEMS).await;
    let res = app
        .post("/api/v1/institutions/me/teachers")
        .bearer_auth(&applicant.token)
        .json(&json!({
            "name": "赵教练",
            "identity": {"kind": "resident_id", "number": flow::resident_id(99)},
            "credentials": [{"kind": "social_sports_instructor", "number": "TY2020-0099",
                             "issuer": "南宁市体育局", "issued_on": "2020-03-01",
                             "expires_on": "2026-03-10", "level": "second"}],
            "specialities": ITEMS,
            "criminal_check": {"date": "2026-01-20", "result": "clean", "issuer": "南宁市公安局"},
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
    app.run_pending_jobs().await;
    let before = smtp.messages().len();

    // 09:30 on 13 February: the instructor certificate ends in 25 days.
    app.set_clock("2026-02-13T09:30:00+08:00").await;
    tick_mail_reminders(&app).await;
    let messages = smtp.messages();
    assert_eq!(messages.len(), before + 1);
    let (subject, text, _) = check_mime(&messages.last().unwrap().data);
    assert_eq!(
        subject,
        "【课后服务备选库】教师资质即将到期：赵教练（2026-03-10）"
    );
    assert!(
        text.contains("社会体育指导员证书") && text.contains("25 天"),
        "{text}"
    );
    assert!(
        !text.contains(&flow::resident_id(99)),
        "no identity number in mail"
    );

    // The next days: already announced.
    app.set_clock("2026-02-14T09:30:00+08:00").await;
    tick_mail_reminders(&app).await;
    assert_eq!(smtp.messages().len(), before + 1);

    // 15 June: the first teacher's check (valid until 9 July) is within 30 days; the second's
    // (until 19 July) is not yet.
    app.set_clock("2026-06-15T09:30:00+08:00").await;
    tick_mail_reminders(&app).await;
    let messages = smtp.messages();
    assert_eq!(messages.len(), before + 2);
    let last = messages.last().unwrap();
    assert_eq!(last.rcpt_to, vec![applicant.email.clone()]);
    let (subject, text, _) = check_mime(&last.data);
    assert_eq!(
        subject,
        "【课后服务备选库】教师违法犯罪记录查询即将过期：李老师"
    );
    assert!(
        text.contains("2026-07-09") && text.contains("24 天"),
        "{text}"
    );
}

/// Calls event functions in one transaction, as the capabilities owning the rows will.
async fn emit(
    app: &TestApp,
    f: impl FnOnce(
        &mut provider_registry::db::DbConn,
        chrono::DateTime<chrono::Utc>,
    ) -> provider_registry::error::ApiResult<()>
    + Send
    + 'static,
) {
    let pool = app.state.pool.clone();
    let now = app.state.clock.now();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        provider_registry::db::write_tx(&mut conn, |c| f(c, now)).unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn every_workflow_event_reaches_exactly_its_parties() {
    use provider_registry::mail::outbox::{Event, record};
    let (app, smtp) = with_smtp(&[]).await;
    app.set_clock("2026-02-13T10:00:00+08:00").await;
    app.token(Role::Reviewer).await;
    app.token(Role::School).await;
    let round = app.open_round().await;
    let (applicant, application) = flow::submitted(&app, 9, round, ITEMS).await;
    app.run_pending_jobs().await;
    let after_submission = smtp.messages().len();
    let institution = applicant.institution_id;

    // The rows the workflow capabilities will write (migration 000004), written here by SQL.
    let reviewer = app
        .sql_i64("SELECT id AS value FROM users WHERE email = 'reviewer@test.local'")
        .await;
    let school = app
        .sql_i64("SELECT school_id AS value FROM users WHERE email = 'school@test.local'")
        .await;
    let ts = "'2026-02-13 02:00:00'";
    for (kind, items, reasons, deadline) in [
        ("approve", "'[\"sports.basketball\"]'", "'[]'", "NULL"),
        (
            "return",
            "NULL",
            "'[\"营业执照不清晰\",\"缺少承诺书\"]'",
            "'2026-02-27'",
        ),
        ("reject", "NULL", "'年检不合格'", "NULL"),
    ] {
        app.sql(&format!(
            "INSERT INTO decisions (application_id, reviewer_id, kind, approved_items, reasons, \
             deadline, created_at) VALUES ({application}, {reviewer}, '{kind}', {items}, \
             {reasons}, {deadline}, {ts})"
        ))
        .await;
    }
    app.sql(&format!(
        "INSERT INTO notices (title, round_id, publication_date, starts_on, ends_on, closes_at, \
         calendar_versions, explanation, window_history, status, created_at, updated_at) VALUES \
         ('2026年第一批入库公示', {round}, '2026-02-13', '2026-02-13', '2026-02-26', \
         '2026-02-26 15:59:59', '{{}}', '[]', '[]', 'open', {ts}, {ts})"
    ))
    .await;
    let notice = app.sql_i64("SELECT MAX(id) AS value FROM notices").await;
    app.sql(&format!(
        "UPDATE applications SET notice_id = {notice} WHERE id = {application}"
    ))
    .await;
    app.sql(&format!(
        "INSERT INTO objections (notice_id, application_id, objector_name, objector_mobile, \
         objector_email, grounds, client_ip, status, resolution_reasons, created_at) VALUES \
         ({notice}, {application}, '张某某', '13900001111', 'objector@example.cn', \
         '教练无证上岗', '127.0.0.1', 'upheld', '经核实属实', {ts})"
    ))
    .await;
    let objection = app.sql_i64("SELECT MAX(id) AS value FROM objections").await;
    app.sql(&format!(
        "INSERT INTO pool_entries (institution_id, application_id, round_id, notice_id, items, \
         status, valid_from, valid_until, admitted_at, updated_at) VALUES ({institution}, \
         {application}, {round}, {notice}, '[\"sports.basketball\"]', 'active', '2026-09-01', \
         '2028-08-31', {ts}, {ts})"
    ))
    .await;
    let entry = app
        .sql_i64("SELECT MAX(id) AS value FROM pool_entries")
        .await;
    app.sql(&format!(
        "INSERT INTO contracts (school_id, institution_id, pool_entry_id, items, starts_on, \
         ends_on, status, ended_on, end_reason, created_at, updated_at) VALUES ({school}, \
         {institution}, {entry}, '[\"sports.basketball\"]', '2026-09-01', '2028-08-31', \
         'terminated', '2026-10-10', 'terminated_by_school', {ts}, {ts})"
    ))
    .await;
    let contract = app.sql_i64("SELECT MAX(id) AS value FROM contracts").await;
    app.sql(&format!(
        "INSERT INTO exit_cases (institution_id, status, opened_by, statement_due, statement, \
         statement_filed_at, created_at, updated_at) VALUES ({institution}, 'open', 'school', \
         '2026-10-16', '我方没有转包', '2026-10-12 02:00:00', {ts}, {ts})"
    ))
    .await;
    let case = app.sql_i64("SELECT MAX(id) AS value FROM exit_cases").await;
    app.sql(&format!(
        "INSERT INTO exit_grounds (case_id, ground, source, contract_id, statement, \
         document_ids, created_at) VALUES ({case}, 'subcontracting', 'school', {contract}, \
         '转包给个人', '[]', {ts})"
    ))
    .await;
    app.sql(&format!(
        "INSERT INTO bans (institution_id, uscc, institution_name, exit_case_id, grounds, \
         decided_on, last_day, may_apply_from, created_at) VALUES ({institution}, '{}', '{}', \
         {case}, '[\"subcontracting\"]', '2026-10-20', '2029-10-20', '2029-10-21', {ts})",
        applicant.uscc, applicant.name
    ))
    .await;
    let ban = app.sql_i64("SELECT MAX(id) AS value FROM bans").await;
    let decisions: Vec<i64> = {
        let first = app.sql_i64("SELECT MIN(id) AS value FROM decisions").await;
        (first..first + 3).collect()
    };

    // Recorded as the capabilities record them; the notify handler decides who hears of each.
    let all = move |c: &mut provider_registry::db::DbConn, now| {
        for d in &decisions {
            record(c, now, Event::ApplicationDecided { decision_id: *d })?;
        }
        record(c, now, Event::NoticePublished { notice_id: notice })?;
        record(
            c,
            now,
            Event::ObjectionFiled {
                objection_id: objection,
            },
        )?;
        record(
            c,
            now,
            Event::ObjectionResolved {
                objection_id: objection,
            },
        )?;
        record(
            c,
            now,
            Event::AdmittedBatch {
                pool_entry_ids: vec![entry],
            },
        )?;
        record(
            c,
            now,
            Event::ContractCreated {
                contract_id: contract,
            },
        )?;
        record(
            c,
            now,
            Event::ContractEnded {
                contract_id: contract,
            },
        )?;
        record(c, now, Event::ExitCaseOpened { case_id: case })?;
        record(c, now, Event::StatementReceived { case_id: case })?;
        record(c, now, Event::RemovedAndBanned { ban_id: ban })
    };
    emit(&app, all.clone()).await;
    app.run_pending_jobs().await;

    let messages = smtp.messages()[after_submission..].to_vec();
    let subjects_to = |to: &str| -> Vec<String> {
        messages
            .iter()
            .filter(|m| m.rcpt_to == [to])
            .map(|m| check_mime(&m.data).0)
            .collect()
    };
    let p = "【课后服务备选库】";
    assert_eq!(
        subjects_to(&applicant.email),
        vec![
            format!("{p}申报审核通过（申报编号 {application}）"),
            format!("{p}申报退回补正（申报编号 {application}）"),
            format!("{p}申报未通过审核（申报编号 {application}）"),
            format!("{p}入库公示已发布：2026年第一批入库公示"),
            format!("{p}公示期间收到针对贵机构的异议"),
            format!("{p}贵机构已纳入课后服务备选库"),
            format!("{p}课后服务协议已签订（协议编号 {contract}）"),
            format!("{p}课后服务协议已终止（协议编号 {contract}）"),
            format!("{p}退出程序已启动，请于 2026-10-16 前陈述申辩"),
            format!("{p}贵机构已被移出备选库"),
        ]
    );
    assert_eq!(
        subjects_to("reviewer@test.local"),
        vec![
            format!(
                "{p}新的公示异议待处理：针对“{}”（异议编号 {objection}）",
                applicant.name
            ),
            format!(
                "{p}新的退出案件待处理：“{}”（案件编号 {case}）",
                applicant.name
            ),
            format!("{p}收到陈述申辩：{}（案件 {case}）", applicant.name),
        ]
    );
    assert_eq!(
        subjects_to("objector@example.cn"),
        vec![format!("{p}您提出的异议已处理")]
    );
    assert_eq!(
        subjects_to("school@test.local"),
        vec![
            format!("{p}课后服务协议已签订（协议编号 {contract}）"),
            format!("{p}课后服务协议已终止（协议编号 {contract}）"),
        ]
    );
    assert_eq!(messages.len(), 16, "nobody else got anything");

    let body = |subject_part: &str, to: &str| -> String {
        let m = messages
            .iter()
            .find(|m| m.rcpt_to == [to] && check_mime(&m.data).0.contains(subject_part))
            .unwrap();
        check_mime(&m.data).1
    };
    let returned = body("退回补正", &applicant.email);
    assert!(
        returned.contains("1. 营业执照不清晰") && returned.contains("2. 缺少承诺书"),
        "{returned}"
    );
    assert!(returned.contains("2026-02-27"), "{returned}");
    assert!(body("未通过审核", &applicant.email).contains("1. 年检不合格"));
    let objection_text = body("异议", &applicant.email);
    assert!(objection_text.contains("教练无证上岗"), "{objection_text}");
    for personal in ["张某某", "13900001111", "objector@example.cn"] {
        assert!(
            !objection_text.contains(personal),
            "no objector data: {objection_text}"
        );
    }
    assert!(body("您提出的异议", "objector@example.cn").contains("异议成立"));
    let banned = body("移出", &applicant.email);
    assert!(
        banned.contains("分包或转包")
            && banned.contains("本决定于 2026-10-20 作出")
            && banned.contains("禁入期最后一日：2029-10-20")
            && banned.contains("可重新申请之日：2029-10-21"),
        "{banned}"
    );
    let banned_html = messages
        .iter()
        .map(|m| check_mime(&m.data))
        .find(|(subject, _, _)| subject.contains("移出"))
        .unwrap()
        .2;
    assert!(
        banned_html.contains("禁入期最后一日：<strong>2029-10-20</strong>")
            && banned_html.contains("可重新申请之日：<strong>2029-10-21</strong>"),
        "{banned_html}"
    );
    assert!(body("已终止", "school@test.local").contains("学校依据退出情形提前终止协议"));
    assert!(body("纳入", &applicant.email).contains("2026-09-01 至 2028-08-31"));

    // The same events again (a retried request, another instance): nothing new.
    emit(&app, all).await;
    app.run_pending_jobs().await;
    assert_eq!(smtp.messages().len(), after_submission + 16);
}

/// A submission's messages go over TLS to a server whose certificate is signed by the CA of
/// `SMTP_CA_FILE`.
async fn delivered_over(security: Security) {
    let smtp = SmtpServer::start_with(security).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, smtp.ca_pem()).unwrap();
    let url = smtp.url();
    let app = TestApp::spawn_with(&[
        ("SMTP_URL", url.as_str()),
        ("SMTP_CA_FILE", ca.to_str().unwrap()),
    ])
    .await;
    app.set_clock("2026-02-13T10:00:00+08:00").await;
    app.token(Role::Reviewer).await;
    let round = app.open_round().await;
    let (applicant, _) = flow::submitted(&app, 10, round, ITEMS).await;
    app.run_pending_jobs().await;
    let messages = smtp.messages();
    assert_eq!(
        recipients(&messages),
        vec![applicant.email.clone(), "reviewer@test.local".to_owned()],
        "{:?}",
        email_jobs(&app, None).await
    );
    assert!(messages.iter().all(|m| m.tls), "{security:?}");
    check_mime(&messages[0].data);
}

#[tokio::test]
async fn starttls_delivers_to_a_server_of_a_private_ca() {
    delivered_over(Security::StartTls).await;
}

#[tokio::test]
async fn implicit_tls_delivers_to_a_server_of_a_private_ca() {
    delivered_over(Security::Implicit).await;
}

#[tokio::test]
async fn an_untrusted_certificate_is_not_sent_to_and_is_retried() {
    let smtp = SmtpServer::start_with(Security::StartTls).await;
    let url = smtp.url();
    let app = TestApp::spawn_with(&[("SMTP_URL", url.as_str())]).await;
    app.set_clock("2026-02-13T10:00:00+08:00").await;
    app.token(Role::Reviewer).await;
    let round = app.open_round().await;
    flow::submitted(&app, 11, round, ITEMS).await;
    app.run_pending_jobs().await;
    assert!(smtp.messages().is_empty());
    let pending = email_jobs(&app, Some("pending")).await;
    assert_eq!(pending.len(), 2);
    assert!(
        pending
            .iter()
            .all(|j| j["last_error"].as_str().unwrap().contains("certificate")),
        "{pending:?}"
    );
}

/// Runs the due jobs and returns the messages that arrived since the last call, as sorted
/// (recipient, subject) pairs, each checked as valid MIME; `bodies` collects their text and HTML.
async fn step(
    app: &TestApp,
    smtp: &SmtpServer,
    seen: &mut usize,
    bodies: &mut Vec<(String, String, String)>,
) -> Vec<(String, String)> {
    app.run_pending_jobs().await;
    let messages = smtp.messages();
    let mut got = Vec::new();
    for m in &messages[*seen..] {
        assert_eq!(m.rcpt_to.len(), 1, "one recipient per message");
        let (subject, text, html) = check_mime(&m.data);
        assert!(
            subject.starts_with("【课后服务备选库】"),
            "the Chinese subject decodes: {subject}"
        );
        // Text and HTML together, so content checks (and absences) cover both parts.
        bodies.push((
            m.rcpt_to[0].clone(),
            subject.clone(),
            format!("{text}\n{html}"),
        ));
        got.push((m.rcpt_to[0].clone(), subject));
    }
    *seen = messages.len();
    got.sort();
    got
}

fn pairs(expected: &[(&str, String)]) -> Vec<(String, String)> {
    let mut all: Vec<_> = expected
        .iter()
        .map(|(to, s)| ((*to).to_owned(), s.clone()))
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn a_full_flow_from_submission_to_removal_mails_each_party_exactly_its_messages() {
    let (app, smtp) = with_smtp(&[]).await;
    let p = "【课后服务备选库】";
    let reviewer = "reviewer@test.local";
    let school = "school@test.local";
    let mut seen = 0;
    let mut bodies = Vec::new();
    // Monday 1 June 2026: the round is open; the pool is valid from 1 September.
    app.set_clock("2026-06-01T10:00:00+08:00").await;
    app.token(Role::Reviewer).await;
    let school_id = flow::school_id(&app).await;
    let round = app.open_round().await;

    // Two institutions submit: each is told, the reviewer gets new work.
    let (mut kept, kept_app) = flow::submitted(&app, 21, round, ITEMS).await;
    let (dropped, dropped_app) = flow::submitted(&app, 22, round, ITEMS).await;
    let (k, d) = (kept.email.clone(), dropped.email.clone());
    assert_eq!(
        step(&app, &smtp, &mut seen, &mut bodies).await,
        pairs(&[
            (&k, format!("{p}申报已受理（申报编号 {kept_app}）")),
            (&d, format!("{p}申报已受理（申报编号 {dropped_app}）")),
            (
                reviewer,
                format!(
                    "{p}新的入库申报待审核：“{}”（申报编号 {kept_app}）",
                    kept.name
                )
            ),
            (
                reviewer,
                format!(
                    "{p}新的入库申报待审核：“{}”（申报编号 {dropped_app}）",
                    dropped.name
                )
            ),
        ])
    );

    // The reviewer approves both.
    for id in [kept_app, dropped_app] {
        let res = flow::decide(
            &app,
            id,
            json!({"decision": "approve", "approved_items": ITEMS}),
        )
        .await;
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }
    assert_eq!(
        step(&app, &smtp, &mut seen, &mut bodies).await,
        pairs(&[
            (&k, format!("{p}申报审核通过（申报编号 {kept_app}）")),
            (&d, format!("{p}申报审核通过（申报编号 {dropped_app}）")),
        ])
    );

    // The notice is published: each listed institution is told.
    let notice = flow::publish(&app, &[kept_app, dropped_app], "2026-06-01").await;
    let notice_id = notice["id"].as_i64().unwrap();
    let title = notice["title"].as_str().unwrap().to_owned();
    assert_eq!(
        step(&app, &smtp, &mut seen, &mut bodies).await,
        pairs(&[
            (&k, format!("{p}入库公示已发布：{title}")),
            (&d, format!("{p}入库公示已发布：{title}")),
        ])
    );

    // An objection against each, with the objector's e-mail.
    let mut objections = Vec::new();
    for (n, application) in [(1, kept_app), (2, dropped_app)] {
        let res = app
            .post(&format!("/api/v1/notices/{notice_id}/objections"))
            .json(&json!({
                "application_id": application,
                "name": format!("异议人{n}"),
                "mobile": format!("1390000111{n}"),
                "email": format!("objector{n}@example.cn"),
                "grounds": format!("该机构的篮球教练并未持有有效证书，与公示材料不符（第{n}份）。"),
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        objections.push(
            app.sql_i64(&format!(
                "SELECT id AS value FROM objections WHERE application_id = {application}"
            ))
            .await,
        );
    }
    let filed =
        |name: &str, id: i64| format!("{p}新的公示异议待处理：针对“{name}”（异议编号 {id}）");
    assert_eq!(
        step(&app, &smtp, &mut seen, &mut bodies).await,
        pairs(&[
            (&k, format!("{p}公示期间收到针对贵机构的异议")),
            (&d, format!("{p}公示期间收到针对贵机构的异议")),
            (reviewer, filed(&kept.name, objections[0])),
            (reviewer, filed(&dropped.name, objections[1])),
        ])
    );
    // The institution learns the grounds, nothing about the objector.
    for (n, to) in [(1, &k), (2, &d)] {
        let (_, _, text) = bodies
            .iter()
            .find(|(t, s, _)| t == to && s.contains("异议"))
            .unwrap();
        assert!(text.contains(&format!("（第{n}份）")), "{text}");
        for personal in [
            format!("异议人{n}"),
            format!("1390000111{n}"),
            format!("objector{n}@example.cn"),
        ] {
            assert!(!text.contains(&personal), "no objector data: {text}");
        }
    }

    // Dismissed for the first (it waits for the closing), upheld for the second (rejected).
    for (id, outcome) in [(objections[0], "dismissed"), (objections[1], "upheld")] {
        let res = app
            .as_role(
                Role::Reviewer,
                Method::POST,
                &format!("/api/v1/objections/{id}/resolution"),
            )
            .await
            .json(&json!({"outcome": outcome, "reasons": "经核查教练持证情况"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{}",
            res.text().await.unwrap()
        );
    }
    assert_eq!(
        step(&app, &smtp, &mut seen, &mut bodies).await,
        pairs(&[
            ("objector1@example.cn", format!("{p}您提出的异议已处理")),
            ("objector2@example.cn", format!("{p}您提出的异议已处理")),
            (&d, format!("{p}申报未通过审核（申报编号 {dropped_app}）")),
        ])
    );
    let text_of = |bodies: &[(String, String, String)], to: &str, part: &str| -> String {
        let found: Vec<_> = bodies
            .iter()
            .filter(|(t, s, _)| t == to && s.contains(part))
            .collect();
        assert_eq!(found.len(), 1, "one {part} to {to}");
        found[0].2.clone()
    };
    assert!(
        text_of(&bodies, "objector1@example.cn", "异议").contains("异议不成立"),
        "dismissed"
    );
    let upheld = text_of(&bodies, "objector2@example.cn", "异议");
    assert!(upheld.contains("异议成立") && upheld.contains("经核查教练持证情况"));
    assert!(text_of(&bodies, &d, "未通过").contains("公示期间的异议经核查成立"));

    // The window closes: the first is admitted, the rejected one gets nothing more.
    flow::close_notice(&app, &notice).await;
    assert_eq!(
        step(&app, &smtp, &mut seen, &mut bodies).await,
        pairs(&[(&k, format!("{p}贵机构已纳入课后服务备选库"))])
    );
    assert!(text_of(&bodies, &k, "纳入").contains("2026-09-01 至 2028-08-31"));

    // September: the school signs a contract with the pool member; both are told.
    flow::travel(&app, "2026-09-10T10:00:00+08:00", &mut [&mut kept]).await;
    let res = app
        .as_role(Role::School, Method::POST, "/api/v1/contracts")
        .await
        .json(
            &json!({"institution_id": kept.institution_id, "items": ITEMS,
                      "starts_on": "2026-09-01", "ends_on": "2027-06-30"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let contract = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT school_id AS value FROM contracts WHERE id = {contract}"
        ))
        .await,
        school_id
    );
    let signed = format!("{p}课后服务协议已签订（协议编号 {contract}）");
    assert_eq!(
        step(&app, &smtp, &mut seen, &mut bodies).await,
        pairs(&[(&k, signed.clone()), (school, signed)])
    );

    // The school terminates it with a ground: the contract ends and an exit case opens.
    let res = app
        .as_role(
            Role::School,
            Method::POST,
            &format!("/api/v1/contracts/{contract}/terminate"),
        )
        .await
        .json(
            &json!({"grounds": ["subcontracting"], "statement": "机构将课程转包给无资质个人",
                      "evidence_document_ids": []}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let body: Value = res.json().await.unwrap();
    let case = body["exit_case"]["id"].as_i64().unwrap();
    let due = body["exit_case"]["statement_due"]
        .as_str()
        .unwrap()
        .to_owned();
    let ended = format!("{p}课后服务协议已终止（协议编号 {contract}）");
    assert_eq!(
        step(&app, &smtp, &mut seen, &mut bodies).await,
        pairs(&[
            (&k, ended.clone()),
            (school, ended),
            (&k, format!("{p}退出程序已启动，请于 {due} 前陈述申辩")),
            (
                reviewer,
                format!("{p}新的退出案件待处理：“{}”（案件编号 {case}）", kept.name)
            ),
        ])
    );
    assert!(text_of(&bodies, school, "已终止").contains("学校依据退出情形提前终止协议"));
    assert!(text_of(&bodies, &k, "退出程序").contains("分包或转包"));

    // The institution files its statement; the reviewer is told.
    let res = app
        .post(&format!("/api/v1/exit-cases/{case}/statement"))
        .bearer_auth(&kept.token)
        .json(&json!({"statement": "我机构对所述情形提出申辩", "document_ids": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(
        step(&app, &smtp, &mut seen, &mut bodies).await,
        pairs(&[(
            reviewer,
            format!("{p}收到陈述申辩：{}（案件 {case}）", kept.name)
        )])
    );

    // The reviewer removes it: it is banned; the contract had already ended, so the school
    // hears nothing more.
    let res = app
        .as_role(
            Role::Reviewer,
            Method::POST,
            &format!("/api/v1/exit-cases/{case}/decision"),
        )
        .await
        .json(&json!({"decision": "remove", "reasons": "经审议作出决定"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let removed: Value = res.json().await.unwrap();
    let last_day = removed["ban"]["last_day"].as_str().unwrap().to_owned();
    let may_apply_from = removed["ban"]["may_apply_from"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        step(&app, &smtp, &mut seen, &mut bodies).await,
        pairs(&[(&k, format!("{p}贵机构已被移出备选库"))])
    );
    let banned = text_of(&bodies, &k, "移出");
    // Both dates, in the text and in the HTML part.
    assert!(
        banned.contains("分包或转包")
            && banned.matches(&last_day).count() == 2
            && banned.matches(&may_apply_from).count() == 2,
        "{banned}"
    );

    // Totals per party, and nothing more on a later run.
    let count = |to: &str| bodies.iter().filter(|(t, _, _)| t == to).count();
    assert_eq!(count(&k), 9);
    assert_eq!(count(&d), 5);
    assert_eq!(count(reviewer), 6);
    assert_eq!(count(school), 2);
    assert_eq!(count("objector1@example.cn"), 1);
    assert_eq!(count("objector2@example.cn"), 1);
    assert_eq!(bodies.len(), 24, "nobody else got anything");
    app.set_clock("2026-09-20T10:00:00+08:00").await;
    assert!(step(&app, &smtp, &mut seen, &mut bodies).await.is_empty());
}
