//! Public notices, objections and admission through HTTP with the settable clock: the
//! 5-working-day window of DESIGN.md §1.5 (Spring Festival and National Day examples), the
//! public board, objections inside and outside the window, the closing job admitting exactly
//! once, objection outcomes, recomputation after a calendar change and the per-IP rate limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::flow::{self, decide};
use crate::common::{TestApp, assert_problem, fixture};
use provider_registry::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ITEMS: &[&str] = &["sports.basketball"];

async fn reviewer_get(app: &TestApp, path: &str) -> Value {
    let res = app
        .as_role(Role::Reviewer, Method::GET, path)
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn status_of(app: &TestApp, id: i64) -> String {
    reviewer_get(app, &format!("/api/v1/applications/{id}")).await["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn public_notice(app: &TestApp, id: i64) -> Value {
    let res = app
        .get(&format!("/api/v1/notices/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn object(app: &TestApp, notice: i64, application: i64, mobile: &str) -> reqwest::Response {
    app.post(&format!("/api/v1/notices/{notice}/objections"))
        .json(&json!({
            "application_id": application,
            "name": "赵六",
            "mobile": mobile,
            "email": "zhao@example.cn",
            "grounds": "该机构的篮球教练并未持有有效的教师资格证书，与公示材料不符。",
        }))
        .send()
        .await
        .unwrap()
}

async fn publish_res(app: &TestApp, ids: &[i64], date: &str) -> reqwest::Response {
    app.as_role(Role::Reviewer, Method::POST, "/api/v1/notices")
        .await
        .json(&json!({"publication_date": date, "application_ids": ids}))
        .send()
        .await
        .unwrap()
}

fn dates(notice: &Value) -> (String, String, String) {
    let w = &notice["window"];
    (
        w["starts_on"].as_str().unwrap().to_owned(),
        w["ends_on"].as_str().unwrap().to_owned(),
        w["closes_at"].as_str().unwrap().to_owned(),
    )
}

fn counted_days(notice: &Value) -> Vec<String> {
    notice["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["working"] == true)
        .map(|d| d["date"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_whole_flow_from_submission_to_the_pool_around_the_spring_festival() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-02-12T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, clean) =
        flow::approved(&app, 1, round, &["sports.basketball", "sports.football"]).await;
    let (_, upheld) = flow::approved(&app, 2, round, ITEMS).await;
    let (_, dismissed) = flow::approved(&app, 3, round, ITEMS).await;
    let (_, not_noticed) = flow::submitted(&app, 4, round, ITEMS).await;

    // Friday 13 Feb 2026: Feb 13, Feb 14 (Saturday make-up day), Feb 24, 25, 26.
    app.set_clock("2026-02-13T09:00:00+08:00").await;
    let notice = flow::publish(&app, &[clean, upheld, dismissed], "2026-02-13").await;
    let id = notice["id"].as_i64().unwrap();
    assert_eq!(
        dates(&notice),
        (
            "2026-02-13".to_owned(),
            "2026-02-26".to_owned(),
            "2026-02-26T15:59:59Z".to_owned()
        )
    );
    assert_eq!(
        counted_days(&notice),
        [
            "2026-02-13",
            "2026-02-14",
            "2026-02-24",
            "2026-02-25",
            "2026-02-26"
        ]
    );
    assert_eq!(
        notice["window"]["calendar_versions"],
        json!([{"year": 2026, "version": 1}])
    );
    assert_eq!(notice["status"], "open");
    assert_eq!(status_of(&app, clean).await, "in_notice");

    // The public board: institutions and items, no personal data, the objection route.
    let res = app.get("/api/v1/notices").send().await.unwrap();
    let board: Value = res.json().await.unwrap();
    assert_eq!(board["total"], 1);
    let text = public_notice(&app, id).await.to_string();
    assert!(
        !text.contains("13800771234"),
        "contact mobile leaked: {text}"
    );
    assert!(!text.contains("张三"), "legal representative leaked");
    let public = public_notice(&app, id).await;
    assert_eq!(public["applications"].as_array().unwrap().len(), 3);
    assert_eq!(public["applications"][0]["uscc"], flow::uscc(1));
    assert_eq!(public["applications"][0]["district"], "青秀区");
    assert_eq!(
        public["applications"][0]["approved_items"][1]["code"],
        "sports.football"
    );
    assert_eq!(
        public["objection_route"]["path"],
        format!("/api/v1/notices/{id}/objections")
    );
    assert_eq!(
        public["objection_route"]["deadline"],
        "2026-02-26T15:59:59Z"
    );
    assert_eq!(public["accepting_objections"], true);

    // Objections during the window (no account); bad ones are refused field by field.
    let res = object(&app, id, upheld, "13912345678").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let receipt: Value = res.json().await.unwrap();
    assert!(receipt.get("mobile").is_none() && receipt.get("objector_mobile").is_none());
    let res = object(&app, id, dismissed, "12912345678").await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_mobile").await;
    assert_eq!(body["errors"][0]["field"], "mobile");
    let res = app
        .post(&format!("/api/v1/notices/{id}/objections"))
        .json(&json!({"application_id": dismissed, "name": "赵六", "mobile": "13912345678", "grounds": "  不合格  "}))
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "grounds_too_short").await;
    assert_eq!(body["errors"][0]["code"], "grounds_too_short");
    let res = object(&app, id, not_noticed, "13912345678").await;
    let body = assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "application_not_in_notice",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "application_not_in_notice");

    // The last minute of the window still counts (a minute, not a second: the set clock keeps
    // running, and the jobs below may take over a second on a loaded machine).
    app.set_clock("2026-02-26T23:59:00+08:00").await;
    let res = object(&app, id, dismissed, "13712345678").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.run_pending_jobs().await;
    assert_eq!(
        status_of(&app, clean).await,
        "in_notice",
        "not closed before its time"
    );

    // After the window: 409, and the closing job admits the application without objections.
    app.set_clock("2026-02-27T00:00:00+08:00").await;
    let res = object(&app, id, clean, "13712345678").await;
    assert_problem(res, StatusCode::CONFLICT, "notice_closed").await;
    app.run_pending_jobs().await;
    assert_eq!(status_of(&app, clean).await, "admitted");
    assert_eq!(status_of(&app, upheld).await, "in_notice");
    assert_eq!(status_of(&app, dismissed).await, "in_notice");
    let public = public_notice(&app, id).await;
    assert_eq!(public["status"], "closed");
    assert_eq!(public["accepting_objections"], false);
    assert_eq!(public["applications"][1]["objection_count"], 1);
    assert!(
        !public.to_string().contains("赵六"),
        "objector's name is for reviewers only"
    );
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM pool_entries WHERE application_id = {clean} AND status = 'active' AND valid_from = '2026-09-01' AND valid_until = '2028-08-31'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM pool_items i JOIN pool_entries e ON e.id = i.entry_id WHERE e.application_id = {clean} AND i.category = 'sports'"
        ))
        .await,
        2
    );
    // Running jobs again changes nothing.
    app.run_pending_jobs().await;
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM pool_entries")
            .await,
        1
    );

    // Reviewers see the objectors and resolve.
    let list = reviewer_get(
        &app,
        &format!("/api/v1/objections?notice_id={id}&status=pending"),
    )
    .await;
    assert_eq!(list["total"], 2);
    let by_app = |a: i64| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["application_id"] == a)
            .unwrap()
            .clone()
    };
    assert_eq!(by_app(upheld)["objector_mobile"], "13912345678");
    assert_eq!(by_app(upheld)["objector_name"], "赵六");
    let resolve = |o: Value, outcome: &'static str| {
        let app = &app;
        async move {
            app.as_role(
                Role::Reviewer,
                Method::POST,
                &format!("/api/v1/objections/{}/resolution", o["id"]),
            )
            .await
            .json(&json!({"outcome": outcome, "reasons": "经核查"}))
            .send()
            .await
            .unwrap()
        }
    };
    let res = resolve(by_app(upheld), "upheld").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap()["application_status"],
        "rejected"
    );
    assert_eq!(status_of(&app, upheld).await, "rejected");
    let res = resolve(by_app(dismissed), "dismissed").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["application_status"], "admitted");
    assert!(body["pool_entry_id"].is_i64());
    let res = resolve(by_app(dismissed), "upheld").await;
    assert_problem(res, StatusCode::CONFLICT, "objection_resolved").await;
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM pool_entries")
            .await,
        2
    );

    // Every step is audited, and the chain holds.
    for action in [
        "notice.published",
        "notice.closed",
        "objection.filed",
        "objection.resolved",
        "application.admitted",
    ] {
        assert!(
            app.sql_i64(&format!(
                "SELECT COUNT(*) AS value FROM audit_events WHERE action = '{action}'"
            ))
            .await
                > 0,
            "{action}"
        );
    }
    let verify = reviewer_get(&app, "/api/v1/audit/verify").await;
    assert_eq!(verify["ok"], true);
}

#[tokio::test]
async fn a_notice_published_before_national_day_ends_on_12_october() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-06-01T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, a) = flow::approved(&app, 1, round, ITEMS).await;
    let (_, b) = flow::approved(&app, 2, round, ITEMS).await;
    app.set_clock("2026-09-29T10:00:00+08:00").await;
    let notice = flow::publish(&app, &[a], "2026-09-30").await;
    assert_eq!(
        dates(&notice),
        (
            "2026-09-30".to_owned(),
            "2026-10-12".to_owned(),
            "2026-10-12T15:59:59Z".to_owned()
        )
    );
    assert_eq!(
        counted_days(&notice),
        [
            "2026-09-30",
            "2026-10-08",
            "2026-10-09",
            "2026-10-10",
            "2026-10-12"
        ]
    );
    // Before the start (the day before publication) no objection is accepted yet.
    let res = object(&app, notice["id"].as_i64().unwrap(), a, "13912345678").await;
    assert_problem(res, StatusCode::CONFLICT, "notice_closed").await;

    // Published on a holiday (3 Oct): it starts on the next working day, 8 Oct.
    let notice = flow::publish(&app, &[b], "2026-10-03").await;
    assert_eq!(
        dates(&notice),
        (
            "2026-10-08".to_owned(),
            "2026-10-13".to_owned(),
            "2026-10-13T15:59:59Z".to_owned()
        )
    );
    // The board lists the newest publication first.
    let board: Value = app
        .get("/api/v1/notices?per_page=1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(board["total"], 2);
    assert_eq!(board["items"][0]["publication_date"], "2026-10-03");
}

#[tokio::test]
async fn a_weekend_publication_starts_on_monday_and_backdating_is_refused() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-04T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, a) = flow::approved(&app, 1, round, ITEMS).await;
    let (_, submitted) = flow::submitted(&app, 2, round, ITEMS).await;

    let res = publish_res(&app, &[a], "2026-03-03").await;
    let body = assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "publication_backdated",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "publication_backdated");
    let res = publish_res(&app, &[submitted], "2026-03-07").await;
    let body = assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "application_not_approved",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "application_not_approved");
    assert_eq!(status_of(&app, a).await, "approved");

    // Saturday 7 March → Monday 9 to Friday 13 March.
    let notice = flow::publish(&app, &[a], "2026-03-07").await;
    assert_eq!(
        dates(&notice),
        (
            "2026-03-09".to_owned(),
            "2026-03-13".to_owned(),
            "2026-03-13T15:59:59Z".to_owned()
        )
    );
    // A window running into a year whose calendar is not loaded is refused, naming the year.
    let (_, b) = flow::approved(&app, 3, round, ITEMS).await;
    let res = publish_res(&app, &[b], "2026-12-29").await;
    let body = assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "calendar_year_missing",
    )
    .await;
    assert_eq!(body["extra"]["year"], 2027);
    assert_eq!(status_of(&app, b).await, "approved");
    // An application is published once.
    let res = publish_res(&app, &[a], "2026-03-07").await;
    assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "application_not_approved",
    )
    .await;
}

#[tokio::test]
async fn a_calendar_change_recomputes_an_open_notice_and_its_closing() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-06-01T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, a) = flow::approved(&app, 1, round, ITEMS).await;
    app.set_clock("2026-09-29T10:00:00+08:00").await;
    let notice = flow::publish(&app, &[a], "2026-09-30").await;
    let id = notice["id"].as_i64().unwrap();

    // The admin drops the Saturday make-up day of 10 October.
    let mut calendar: Value = serde_json::from_slice(&fixture("calendar/2026.json")).unwrap();
    calendar["makeup_workdays"]
        .as_array_mut()
        .unwrap()
        .retain(|d| d["date"] != "2026-10-10");
    let res = app
        .as_role(Role::Admin, Method::PUT, "/api/v1/calendar/2026")
        .await
        .json(&calendar)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );

    let public = public_notice(&app, id).await;
    assert_eq!(
        dates(&public),
        (
            "2026-09-30".to_owned(),
            "2026-10-13".to_owned(),
            "2026-10-13T15:59:59Z".to_owned()
        )
    );
    assert_eq!(
        public["window"]["calendar_versions"],
        json!([{"year": 2026, "version": 2}])
    );
    assert_eq!(public["earlier_windows"][0]["ends_on"], "2026-10-12");
    assert_eq!(
        public["earlier_windows"][0]["calendar_versions"],
        json!([{"year": 2026, "version": 1}])
    );
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM audit_events WHERE action = 'notice.recomputed' AND entity_id = '{id}'"
        ))
        .await,
        1
    );

    // The old closing instant passes without closing; objections are still accepted.
    app.set_clock("2026-10-13T00:00:01+08:00").await;
    app.run_pending_jobs().await;
    assert_eq!(status_of(&app, a).await, "in_notice");
    assert_eq!(public_notice(&app, id).await["accepting_objections"], true);
    // The new one closes it.
    app.set_clock("2026-10-14T00:00:00+08:00").await;
    app.run_pending_jobs().await;
    assert_eq!(status_of(&app, a).await, "admitted");
    assert_eq!(public_notice(&app, id).await["status"], "closed");
}

#[tokio::test]
async fn objections_are_rate_limited_per_client_address() {
    let app = TestApp::spawn_with(&[("OBJECTION_RATE_LIMIT", "2")]).await;
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, a) = flow::approved(&app, 1, round, ITEMS).await;
    let notice = flow::publish(&app, &[a], "2026-03-02").await;
    let id = notice["id"].as_i64().unwrap();
    app.set_clock("2026-03-02T09:10:00+08:00").await;
    for _ in 0..2 {
        assert_eq!(
            object(&app, id, a, "13912345678").await.status(),
            StatusCode::CREATED
        );
    }
    app.set_clock("2026-03-02T09:40:00+08:00").await;
    let res = object(&app, id, a, "13912345678").await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1790..=1810).contains(&retry_after), "{retry_after}");
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    app.set_clock("2026-03-02T10:10:30+08:00").await;
    assert_eq!(
        object(&app, id, a, "13912345678").await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn simultaneous_objections_from_one_address_stop_at_the_limit() {
    let app = TestApp::spawn_with(&[("OBJECTION_RATE_LIMIT", "3")]).await;
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, a) = flow::approved(&app, 1, round, ITEMS).await;
    let notice = flow::publish(&app, &[a], "2026-03-02").await;
    let id = notice["id"].as_i64().unwrap();
    let sent =
        futures_util::future::join_all((0..10).map(|_| object(&app, id, a, "13912345678"))).await;
    let created = sent
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    let limited = sent
        .iter()
        .filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((created, limited), (3, 7));
}

#[tokio::test]
async fn admitted_helper_puts_an_institution_in_the_pool() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let round = app.open_round().await;
    let (applicant, id) = flow::admitted(&app, 7, round, &["arts.vocal_music"]).await;
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT institution_id AS value FROM pool_entries WHERE application_id = {id}"
        ))
        .await,
        applicant.institution_id
    );
    // The refreshed token works at the new time.
    let res = app
        .get("/api/v1/me")
        .bearer_auth(&applicant.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Decisions on an admitted application are refused: it is no longer awaiting one.
    let res = decide(&app, id, json!({"decision": "reject", "reasons": "x"})).await;
    let body = assert_problem(res, StatusCode::CONFLICT, "status_changed").await;
    assert_eq!(body["extra"]["status"], "admitted");
}

/// Two workers with their own pools (two service instances) close 100 notices at once on
/// PostgreSQL; every application is admitted exactly once. On SQLite one worker runs them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_admit_each_application_of_100_closing_notices_exactly_once() {
    use provider_registry::jobs::registry::JobEnv;
    use provider_registry::jobs::worker::Worker;

    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let (applicant, _) = {
        let round = app.open_round().await;
        flow::submitted(&app, 1, round, ITEMS).await
    };
    // One institution, one application per round (a live application is unique per round).
    let mut ids = Vec::new();
    for _ in 0..100 {
        let round = app.open_round().await;
        let id = flow::draft(&app, &applicant, round, ITEMS).await;
        flow::submit(&app, &applicant, id).await;
        let res = decide(
            &app,
            id,
            json!({"decision": "approve", "approved_items": ITEMS}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        flow::publish(&app, &[id], "2026-03-02").await;
        ids.push(id);
    }
    app.set_clock("2026-03-07T00:00:00+08:00").await;
    let workers = if crate::common::is_postgres() { 2 } else { 1 };
    let url = provider_registry::db::DatabaseUrl::parse(&app.database_url).unwrap();
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let env = JobEnv {
                pool: provider_registry::db::build_pool(&url, 2).unwrap(),
                clock: app.state.clock.clone(),
                settings: app.state.settings.clone(),
            };
            let worker = Worker::new(format!("instance-{w}"), env, app.registry.clone());
            std::thread::spawn(move || worker.run_until_idle().unwrap())
        })
        .collect();
    let ran: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(ran >= 100, "{ran}");
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM pool_entries WHERE application_id IN ({list})"
        ))
        .await,
        100
    );
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(DISTINCT entity_id) AS value FROM audit_events WHERE action = 'application.admitted' AND entity_id IN ({})",
            ids.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(",")
        ))
        .await,
        100
    );
    assert_eq!(
        app.sql_i64(
            "SELECT COUNT(*) AS value FROM audit_events WHERE action = 'application.admitted'"
        )
        .await,
        100
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM notices WHERE status = 'closed'")
            .await,
        100
    );
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM applications WHERE status = 'admitted' AND id IN ({list})"
        ))
        .await,
        100
    );
    if crate::common::is_postgres() {
        let workers = app
            .sql_i64("SELECT COUNT(DISTINCT worker) AS value FROM job_runs")
            .await;
        assert_eq!(workers, 2, "both instances took part");
    }
}

#[tokio::test]
async fn an_objection_may_carry_an_evidence_file_as_a_multipart_form() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, a) = flow::approved(&app, 1, round, ITEMS).await;
    let notice = flow::publish(&app, &[a], "2026-03-02").await;
    let id = notice["id"].as_i64().unwrap();
    let form = |file: Vec<u8>, name: &str| {
        reqwest::multipart::Form::new()
            .text("application_id", a.to_string())
            .text("name", "钱七")
            .text("mobile", "13612345678")
            .text("grounds", "机构实际授课教师与公示材料中的教师不是同一人。")
            .part(
                "evidence",
                reqwest::multipart::Part::bytes(file).file_name(name.to_owned()),
            )
    };
    let res = app
        .post(&format!("/api/v1/notices/{id}/objections"))
        .multipart(form(b"just some text".to_vec(), "note.txt"))
        .send()
        .await
        .unwrap();
    assert_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_file_type",
    )
    .await;
    let res = app
        .post(&format!("/api/v1/notices/{id}/objections"))
        .multipart(form(fixture("pdf/chromium.pdf"), "证据.pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let list = reviewer_get(&app, &format!("/api/v1/objections?notice_id={id}")).await;
    assert_eq!(list["total"], 1);
    let doc = list["items"][0]["evidence_document_id"].as_i64().unwrap();
    assert_eq!(list["items"][0]["objector_name"], "钱七");
    let meta = reviewer_get(&app, &format!("/api/v1/documents/{doc}")).await;
    assert_eq!(meta["kind"], "objection_evidence");
    assert_eq!(meta["content_type"], "application/pdf");
    // A form without the required fields is refused by field.
    let res = app
        .post(&format!("/api/v1/notices/{id}/objections"))
        .multipart(reqwest::multipart::Form::new().text("name", "钱七"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
}

#[tokio::test]
async fn objections_resolved_during_the_window_leave_the_closing_to_the_job() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, kept) = flow::approved(&app, 1, round, ITEMS).await;
    let (_, removed) = flow::approved(&app, 2, round, ITEMS).await;
    let notice = flow::publish(&app, &[kept, removed], "2026-03-02").await;
    let id = notice["id"].as_i64().unwrap();
    for a in [kept, removed] {
        assert_eq!(
            object(&app, id, a, "13912345678").await.status(),
            StatusCode::CREATED
        );
    }
    let list = reviewer_get(&app, &format!("/api/v1/objections?notice_id={id}")).await;
    for o in list["items"].as_array().unwrap() {
        let outcome = if o["application_id"] == kept {
            "dismissed"
        } else {
            "upheld"
        };
        let res = app
            .as_role(
                Role::Reviewer,
                Method::POST,
                &format!("/api/v1/objections/{}/resolution", o["id"]),
            )
            .await
            .json(&json!({"outcome": outcome, "reasons": "经核查"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        // Dismissed inside the window: still in notice, the closing job admits it.
        assert_eq!(
            body["application_status"],
            if outcome == "dismissed" {
                "in_notice"
            } else {
                "rejected"
            }
        );
        assert!(body["pool_entry_id"].is_null());
    }
    flow::close_notice(&app, &notice).await;
    assert_eq!(status_of(&app, kept).await, "admitted");
    assert_eq!(status_of(&app, removed).await, "rejected");
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM pool_entries")
            .await,
        1
    );
}

/// `count` institutions with an approved application each in `round`, inserted directly
/// (serials from `first`); returns the application ids.
async fn seed_approved_applications(
    app: &TestApp,
    round: i64,
    count: usize,
    first: u32,
) -> Vec<i64> {
    use provider_registry::auth::Ctx;
    use provider_registry::demo::pool_seed::{SeedPlan, seed_approved};
    let (pool, now) = (app.state.pool.clone(), app.state.clock.now());
    tokio::task::spawn_blocking(move || {
        let plan = SeedPlan {
            round_id: round,
            count,
            first,
            valid_from: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            valid_until: chrono::NaiveDate::from_ymd_opt(2028, 8, 31).unwrap(),
        };
        seed_approved(&mut pool.get().unwrap(), &Ctx::system(now), &plan).unwrap()
    })
    .await
    .unwrap()
}

/// A notice of 450 applications (more than two of the closing job's batches of 200) whose
/// closing stopped after one committed batch: the job runs again and admits only the rest,
/// each application once, each admission e-mail queued once, the audit chain intact; the one
/// application with a pending objection waits.
#[tokio::test]
async fn a_large_notice_closes_in_batches_and_a_closing_stopped_between_batches_resumes_exactly_once()
 {
    use provider_registry::auth::Ctx;
    use provider_registry::notices::admission;

    const N: usize = 450;
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let round = app.open_round().await;
    let ids = seed_approved_applications(&app, round, N, 7000).await;
    let notice = flow::publish(&app, &ids, "2026-03-02").await;
    let notice_id = notice["id"].as_i64().unwrap();
    assert_eq!(notice["applications"].as_array().unwrap().len(), N);
    let objected = ids[300];
    let res = object(&app, notice_id, objected, "13912345678").await;
    assert_eq!(res.status(), StatusCode::CREATED);

    app.set_clock("2026-03-07T00:00:00+08:00").await;
    // An earlier run of the closing job committed its first batch and stopped.
    let (pool, now, first) = (
        app.state.pool.clone(),
        app.state.clock.now(),
        ids[..200].to_vec(),
    );
    tokio::task::spawn_blocking(move || {
        provider_registry::db::write_tx(&mut pool.get().unwrap(), |c| {
            admission::admit_batch(c, &Ctx::system(now), &first)
        })
        .unwrap()
    })
    .await
    .unwrap();
    app.run_pending_jobs().await;

    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let count = |sql: String| {
        let app = &app;
        async move { app.sql_i64(&sql).await }
    };
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) AS value FROM pool_entries WHERE application_id IN ({list})"
        ))
        .await,
        (N - 1) as i64
    );
    assert_eq!(
        count(format!("SELECT COUNT(*) AS value FROM applications WHERE status = 'admitted' AND id IN ({list})")).await,
        (N - 1) as i64
    );
    assert_eq!(status_of(&app, objected).await, "in_notice");
    assert_eq!(
        count(
            "SELECT COUNT(*) AS value FROM audit_events WHERE action = 'application.admitted'"
                .into()
        )
        .await,
        (N - 1) as i64
    );
    assert_eq!(
        count("SELECT COUNT(DISTINCT entity_id) AS value FROM audit_events WHERE action = 'application.admitted'".into()).await,
        (N - 1) as i64
    );
    // Each seeded institution has one address (its contact e-mail): one message per admission.
    assert_eq!(
        count("SELECT COUNT(*) AS value FROM jobs WHERE kind = 'email.send' AND dedup_key LIKE 'email:admitted:%'".into()).await,
        (N - 1) as i64
    );
    assert_eq!(
        count("SELECT COUNT(*) AS value FROM pool_items".into()).await,
        count(format!("SELECT COUNT(*) AS value FROM pool_items WHERE entry_id IN (SELECT id FROM pool_entries WHERE application_id IN ({list}))")).await,
    );
    let board = public_notice(&app, notice_id).await;
    assert_eq!(board["status"], "closed");
    let closed = app
        .as_role(
            Role::Admin,
            Method::GET,
            &format!("/api/v1/audit?action=notice.closed&entity_id={notice_id}"),
        )
        .await
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let summary = &closed["items"][0]["summary"];
    assert_eq!(summary["admitted"].as_array().unwrap().len(), N - 1);
    assert_eq!(summary["awaiting_objection_resolution"], json!([objected]));
    let verified = app
        .as_role(Role::Admin, Method::GET, "/api/v1/audit/verify")
        .await
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(verified["ok"], true, "{verified}");
}

/// The admission e-mails of a closing go through the outbox one record per batch: a notice of
/// 401 applications closes in three batches (200, 200, 1), so three `notify.admitted_batch`
/// jobs name every pool entry once between them, and 401 admission e-mails are queued, one per
/// entry. Handled again (its `done` mark lost, or an admin's retry), a batch's record queues
/// nothing more.
#[tokio::test]
async fn a_closing_records_one_notify_job_per_batch_and_each_admission_email_once_even_when_retried()
 {
    use diesel::prelude::*;
    use provider_registry::db::schema::jobs;

    const N: usize = 401;
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let round = app.open_round().await;
    let ids = seed_approved_applications(&app, round, N, 8000).await;
    flow::publish(&app, &ids, "2026-03-02").await;
    app.set_clock("2026-03-07T00:00:00+08:00").await;
    app.run_pending_jobs().await;

    let pool = app.state.pool.clone();
    let records: Vec<(String, String)> = tokio::task::spawn_blocking(move || {
        jobs::table
            .filter(jobs::kind.like("notify.admitted%"))
            .order(jobs::id.asc())
            .select((jobs::kind, jobs::payload))
            .load(&mut pool.get().unwrap())
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        records
            .iter()
            .all(|(kind, _)| kind == "notify.admitted_batch"),
        "{records:?}"
    );
    let batches: Vec<Vec<i64>> = records
        .iter()
        .map(|(_, payload)| {
            let payload: Value = serde_json::from_str(payload).unwrap();
            serde_json::from_value(payload["pool_entry_ids"].clone()).unwrap()
        })
        .collect();
    assert_eq!(
        batches.iter().map(Vec::len).collect::<Vec<_>>(),
        [200, 200, 1]
    );
    let named: std::collections::BTreeSet<i64> = batches.iter().flatten().copied().collect();
    assert_eq!(named.len(), N);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM pool_entries")
            .await,
        N as i64
    );
    let emails = "SELECT COUNT(*) AS value FROM jobs WHERE kind = 'email.send' AND dedup_key LIKE 'email:admitted:%'";
    assert_eq!(app.sql_i64(emails).await, N as i64);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM jobs WHERE kind = 'notify.admitted_batch' AND state = 'done'")
            .await,
        3
    );

    // The records are handled again: not one more e-mail.
    app.sql("UPDATE jobs SET state = 'pending', attempts = 1, locked_by = NULL, locked_until = NULL WHERE kind = 'notify.admitted_batch'")
        .await;
    app.run_pending_jobs().await;
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM jobs WHERE kind = 'notify.admitted_batch' AND state = 'done'")
            .await,
        3
    );
    assert_eq!(app.sql_i64(emails).await, N as i64);
}

/// Benchmark (not a test: ignored, run by `scripts/bench/notice-closing.sh`): closing a notice
/// of `BENCH_NOTICE_SIZE` (10,000) approved applications while three clients keep updating a
/// profile (other writes). Prints the closing job's time (one pass of a worker: the closing job
/// alone), the admissions, the other writes' p50/p99/max during it, then the time of the
/// notify records and e-mail deliveries that follow, and the e-mails queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "benchmark: scripts/bench/notice-closing.sh"]
async fn bench_closing_a_large_notice() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let size: usize = std::env::var("BENCH_NOTICE_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let round = app.open_round().await;
    let ids = seed_approved_applications(&app, round, size, 20_000).await;
    let started = std::time::Instant::now();
    let notice = flow::publish(&app, &ids, "2026-03-02").await;
    let publish = started.elapsed();
    assert_eq!(notice["applications"].as_array().unwrap().len(), size);
    // The publication's notices go out before the window ends (not part of the closing).
    let started = std::time::Instant::now();
    app.run_pending_jobs().await;
    let publication_mail = started.elapsed();
    app.set_clock("2026-03-07T00:00:00+08:00").await;

    let token = app.token(Role::Institution).await;
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (client, url, token, stop) = (
                app.client.clone(),
                format!("{}/api/v1/institutions/me", app.base),
                token.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let t = std::time::Instant::now();
                    let res = client
                        .put(&url)
                        .bearer_auth(&token)
                        .json(&flow::profile_update(&format!(
                            "南宁市青秀区民族大道{w}-{n}号"
                        )))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), StatusCode::OK);
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // One pass over the jobs due now: the closing job alone (the jobs it records come after).
    let started = std::time::Instant::now();
    let worker = provider_registry::jobs::worker::Worker::new(
        "bench-worker",
        provider_registry::jobs::registry::JobEnv {
            pool: app.state.pool.clone(),
            clock: app.state.clock.clone(),
            settings: app.state.settings.clone(),
        },
        app.registry.clone(),
    );
    let ran = tokio::task::spawn_blocking(move || worker.run_due().unwrap())
        .await
        .unwrap();
    let closing = started.elapsed();
    assert_eq!(ran, 1, "only the closing job was due");
    let admitted_by_job = app
        .sql_i64("SELECT COUNT(*) AS value FROM pool_entries")
        .await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for w in writers {
        latencies.extend(w.await.unwrap());
    }
    // Then the admissions' notify records (one per batch) and the e-mails' delivery.
    let started = std::time::Instant::now();
    app.run_pending_jobs().await;
    let mail = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    let admitted = app
        .sql_i64("SELECT COUNT(*) AS value FROM pool_entries")
        .await;
    let mails = app
        .sql_i64("SELECT COUNT(*) AS value FROM jobs WHERE dedup_key LIKE 'email:admitted:%'")
        .await;
    let backend = if crate::common::is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    println!(
        "BENCH notice-closing backend={backend} applications={size} publish={publish:.2?} \
         publication_mail={publication_mail:.2?} closing_job={closing:.2?} \
         admitted_by_job={admitted_by_job} notify_and_delivery={mail:.2?} admitted={admitted} \
         admission_emails={mails} other_writes={} p50={:.1?} p99={:.1?} max={:.1?}",
        latencies.len(),
        at(0.5),
        at(0.99),
        latencies.last().unwrap(),
    );
    assert_eq!(admitted_by_job, size as i64);
    assert_eq!(admitted, size as i64);
    assert_eq!(mails, size as i64);
}
