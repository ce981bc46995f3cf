//! The pool for schools and the public: the search with each filter, pagination, the CSV and
//! JSON exports, one institution's entry, the USCC status look-up, validity by date and the
//! expiry job, and the one-second visibility of changes with the search cache on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::flow::{self, Applicant};
use crate::common::{TestApp, assert_problem};
use provider_registry::auth::{Ctx, Role};
use provider_registry::demo::pool_seed::{self as seed, SeedPlan};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Before the round's pool starts: applications can still be submitted.
const INTAKE: &str = "2026-06-01T10:00:00+08:00";
/// Inside the pool's validity (2026-09-01 … 2028-08-31).
const IN_POOL: &str = "2026-09-10T10:00:00+08:00";

/// Moves the service clock directly (jumps of years would expire the harness's admin token).
async fn set_clock(app: &TestApp, now: &str) {
    let now = chrono::DateTime::parse_from_rfc3339(now).unwrap().to_utc();
    app.state.clock.settable().unwrap().set(now);
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let res = app.get(path).send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{path}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(page: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["institution_id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

/// Three pool members: a sports + dance centre in 青秀区, a calligraphy school in 兴宁区, and a
/// robotics centre whose name holds a comma and quotes.
async fn three_members(app: &TestApp) -> (Applicant, Applicant, Applicant) {
    set_clock(app, INTAKE).await;
    let round = app.open_round().await;
    let (a, _) = flow::seed_pool_entry(app, 1, round, &["sports.basketball", "arts.dance"]).await;
    let (b, _) = flow::seed_pool_entry(app, 2, round, &["arts.calligraphy"]).await;
    let (c, _) = flow::seed_pool_entry(app, 3, round, &["practice.robotics"]).await;
    app.sql(&format!(
        "UPDATE institutions SET district = '兴宁区' WHERE id = {};\
         UPDATE institutions SET name = '南宁市\"启明\",机器人科技中心' WHERE id = {}",
        b.institution_id, c.institution_id
    ))
    .await;
    set_clock(app, IN_POOL).await;
    (a, b, c)
}

#[tokio::test]
async fn each_filter_narrows_the_pool_and_unknown_categories_are_refused() {
    let app = TestApp::spawn().await;
    let (a, b, c) = three_members(&app).await;
    let all = get_json(&app, "/api/v1/pool").await;
    assert_eq!(all["total"], 3);
    // Sorted by name, then entry id.
    let mut sorted = names(&all);
    sorted.sort();
    assert_eq!(names(&all), sorted);

    let sports = get_json(&app, "/api/v1/pool?category=sports").await;
    assert_eq!(ids(&sports), [a.institution_id]);
    let arts = get_json(&app, "/api/v1/pool?category=arts").await;
    assert_eq!(ids(&arts), [a.institution_id, b.institution_id]);
    let item = get_json(&app, "/api/v1/pool?category=arts.calligraphy").await;
    assert_eq!(ids(&item), [b.institution_id]);
    let district = get_json(&app, "/api/v1/pool?district=兴宁区").await;
    assert_eq!(ids(&district), [b.institution_id]);
    let name = get_json(&app, "/api/v1/pool?q=机器人").await;
    assert_eq!(ids(&name), [c.institution_id]);
    let combined = get_json(&app, "/api/v1/pool?category=arts&district=青秀区&q=青少年").await;
    assert_eq!(ids(&combined), [a.institution_id]);
    // LIKE wildcards are literal.
    assert_eq!(get_json(&app, "/api/v1/pool?q=%25").await["total"], 0);
    assert_eq!(get_json(&app, "/api/v1/pool?q=_").await["total"], 0);

    let unknown = app
        .get("/api/v1/pool?category=cooking")
        .send()
        .await
        .unwrap();
    let body = assert_problem(
        unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_category",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "category");
    let academic = app.get("/api/v1/pool?category=数学").send().await.unwrap();
    assert_problem(
        academic,
        StatusCode::UNPROCESSABLE_ENTITY,
        "academic_subject_forbidden",
    )
    .await;

    // The entry carries what a school needs and no personal identity number.
    let entry = &sports["items"][0];
    assert_eq!(entry["uscc"], a.uscc);
    assert_eq!(entry["entity_type"], "private_non_enterprise_unit");
    assert_eq!(entry["district"], "青秀区");
    assert_eq!(entry["contact"]["person"], "王经理");
    assert_eq!(entry["contact"]["mobile"], "13800771234");
    assert_eq!(entry["items"][0]["code"], "arts.dance");
    assert_eq!(entry["items"][1]["name_zh"], "篮球");
    assert_eq!(entry["valid_until"], "2028-08-31");
    assert_eq!(entry["contract_count"], 0);
    assert!(entry["standing"].is_null());
    assert!(entry.get("flagged").is_none());
    let text = all.to_string();
    for n in 1..=3 {
        assert!(!text.contains(&flow::resident_id(n * 2)));
        assert!(!text.contains(&flow::resident_id(n * 2 + 1)));
    }
}

#[tokio::test]
async fn only_active_entries_valid_today_are_listed_and_the_expiry_job_marks_lapsed_ones() {
    let app = TestApp::spawn().await;
    let (a, b, _) = three_members(&app).await;
    // A removed entry is not in the pool.
    app.sql(&format!(
        "UPDATE pool_entries SET status = 'removed' WHERE institution_id = {}",
        b.institution_id
    ))
    .await;
    assert_eq!(get_json(&app, "/api/v1/pool").await["total"], 2);
    // Before the pool's validity starts, nothing is listed.
    set_clock(&app, "2026-08-31T23:00:00+08:00").await;
    assert_eq!(get_json(&app, "/api/v1/pool").await["total"], 0);
    // The last valid day (Beijing) still lists them.
    set_clock(&app, "2028-08-31T23:59:00+08:00").await;
    assert_eq!(get_json(&app, "/api/v1/pool").await["total"], 2);
    // The next day they are gone even before the job has run …
    set_clock(&app, "2028-09-01T00:30:00+08:00").await;
    assert_eq!(get_json(&app, "/api/v1/pool").await["total"], 0);
    let active = format!(
        "SELECT COUNT(*) AS value FROM pool_entries WHERE status = 'active' AND institution_id = {}",
        a.institution_id
    );
    assert_eq!(app.sql_i64(&active).await, 1);
    // … and the daily job marks them expired, audited.
    tick_scheduler(&app).await;
    app.run_pending_jobs().await;
    assert_eq!(app.sql_i64(&active).await, 0);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM pool_entries WHERE status = 'expired'")
            .await,
        2
    );
    assert_eq!(
        app.sql_i64(
            "SELECT COUNT(*) AS value FROM audit_events WHERE action = 'pool_entry.expired'"
        )
        .await,
        2
    );
    // The removed entry stays removed.
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM pool_entries WHERE status = 'removed'")
            .await,
        1
    );
}

/// Enqueues the periodic jobs of the current period (what the worker's tick does).
async fn tick_scheduler(app: &TestApp) {
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.pool.get().unwrap();
        provider_registry::db::write_tx(&mut conn, |c| {
            provider_registry::jobs::scheduler::tick(
                c,
                &provider_registry::startup::job_kinds::periodic(),
                state.clock.now(),
            )
        })
        .unwrap();
    })
    .await
    .unwrap();
}

/// `count` realistic pool members seeded directly (the demo and benchmark seeding).
async fn seed_many(app: &TestApp, count: usize) {
    set_clock(app, INTAKE).await;
    let round = app.open_round().await;
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.pool.get().unwrap();
        let ctx = Ctx::system(state.clock.now());
        seed::seed(
            &mut conn,
            &ctx,
            &SeedPlan {
                round_id: round,
                count,
                first: 1,
                valid_from: "2026-09-01".parse().unwrap(),
                valid_until: "2028-08-31".parse().unwrap(),
            },
        )
        .unwrap();
    })
    .await
    .unwrap();
    set_clock(app, IN_POOL).await;
}

#[tokio::test]
async fn pages_hold_per_page_entries_with_the_total_and_per_page_is_capped() {
    let app = TestApp::spawn().await;
    seed_many(&app, 130).await;
    let first = get_json(&app, "/api/v1/pool?per_page=50").await;
    assert_eq!(
        (&first["page"], &first["per_page"], &first["total"]),
        (&Value::from(1), &Value::from(50), &Value::from(130))
    );
    assert_eq!(first["items"].as_array().unwrap().len(), 50);
    let third = get_json(&app, "/api/v1/pool?per_page=50&page=3").await;
    assert_eq!(third["items"].as_array().unwrap().len(), 30);
    let beyond = get_json(&app, "/api/v1/pool?per_page=50&page=4").await;
    assert_eq!(beyond["items"].as_array().unwrap().len(), 0);
    assert_eq!(beyond["total"], 130);
    // Pages are disjoint and follow one stable order.
    let second = get_json(&app, "/api/v1/pool?per_page=50&page=2").await;
    let mut all: Vec<i64> = Vec::new();
    for p in [&first, &second, &third] {
        all.extend(
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["entry_id"].as_i64().unwrap()),
        );
    }
    let mut unique = all.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 130);
    let capped = get_json(&app, "/api/v1/pool?per_page=1000").await;
    assert_eq!(capped["per_page"], 100);
    assert_eq!(capped["items"].as_array().unwrap().len(), 100);
    let default = get_json(&app, "/api/v1/pool").await;
    assert_eq!(default["per_page"], 20);
    // The seeded pool spans every category; the category counts add up with overlaps.
    for category in ["sports", "arts", "practice"] {
        let page = get_json(&app, &format!("/api/v1/pool?category={category}")).await;
        assert!(page["total"].as_i64().unwrap() > 20, "{category}");
        for e in page["items"].as_array().unwrap() {
            assert!(
                e["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|i| i["category"] == category)
            );
        }
    }
}

#[tokio::test]
async fn the_csv_export_opens_in_excel_with_chinese_text_and_escaped_names() {
    let app = TestApp::spawn().await;
    let (a, _, c) = three_members(&app).await;
    let res = app.get("/api/v1/pool/export.csv").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"pool-2026-09-10.csv\"")
    );
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 byte-order mark");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "\"机构编号\",\"机构名称\",\"统一社会信用代码\",\"主体类型\",\"所在城区\",\"地址\",\"联系人\",\"联系电话\",\"电子邮箱\",\"服务项目代码\",\"服务项目\",\"有效期至\",\"在履行合同数\",\"评价得分\""
    );
    assert_eq!(
        lines.len(),
        5,
        "header, three rows, and the final CRLF: {text}"
    );
    // Every cell quoted, quotes doubled.
    let robotics = lines
        .iter()
        .find(|l| l.starts_with(&format!("\"{}\",", c.institution_id)))
        .unwrap();
    assert!(
        robotics.contains(",\"南宁市\"\"启明\"\",机器人科技中心\","),
        "{robotics}"
    );
    let centre = lines
        .iter()
        .find(|l| l.starts_with(&format!("\"{}\",", a.institution_id)))
        .unwrap();
    assert_eq!(
        *centre,
        format!(
            "\"{}\",\"{}\",\"{}\t\",\"民办非企业单位\",\"青秀区\",\"南宁市青秀区民族大道1号\",\"王经理\",\"13800771234\t\",\"institution1@example.cn\",\"arts.dance;sports.basketball\",\"舞蹈、篮球\",\"2028-08-31\",\"0\",\"\"",
            a.institution_id, a.name, a.uscc
        )
    );
    // The same filters as the search.
    let bytes = app
        .get("/api/v1/pool/export.csv?category=practice")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        std::str::from_utf8(&bytes).unwrap().matches("\r\n").count(),
        2
    );
    let refused = app
        .get("/api/v1/pool/export.csv?category=英语")
        .send()
        .await
        .unwrap();
    assert_problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "academic_subject_forbidden",
    )
    .await;
}

#[tokio::test]
async fn the_json_export_holds_every_match_not_one_page() {
    let app = TestApp::spawn().await;
    seed_many(&app, 130).await;
    let export = get_json(&app, "/api/v1/pool/export.json?per_page=5").await;
    assert_eq!(export["total"], 130);
    assert_eq!(export["as_of"], "2026-09-10");
    assert_eq!(export["items"].as_array().unwrap().len(), 130);
    let sports = get_json(&app, "/api/v1/pool/export.json?category=sports").await;
    let search = get_json(&app, "/api/v1/pool?category=sports").await;
    assert_eq!(sports["total"], search["total"]);
    assert_eq!(sports["items"][0], search["items"][0]);
}

#[tokio::test]
async fn an_entry_shows_its_teachers_without_identity_numbers_and_its_notice() {
    let app = TestApp::spawn().await;
    let (a, _, _) = three_members(&app).await;
    app.sql(&format!(
        "INSERT INTO notices (title, round_id, publication_date, starts_on, ends_on, closes_at, \
         calendar_versions, explanation, window_history, status, created_at, updated_at) \
         SELECT '2026年第一批公示', id, '2026-07-01', '2026-07-01', '2026-07-07', \
         '2026-07-07 15:59:59', '{{}}', '[]', '[]', 'closed', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP \
         FROM rounds;\
         UPDATE pool_entries SET notice_id = (SELECT MAX(id) FROM notices) WHERE institution_id = {}",
        a.institution_id
    ))
    .await;
    let entry = get_json(&app, &format!("/api/v1/pool/{}", a.institution_id)).await;
    assert_eq!(entry["name"], a.name);
    assert_eq!(entry["teachers"][0]["name"], "李老师");
    assert_eq!(
        entry["teachers"][0]["credential_kinds"],
        serde_json::json!(["teacher_qualification"])
    );
    assert_eq!(
        entry["teachers"][0]["specialities"][0]["code"],
        "sports.basketball"
    );
    assert!(entry["teachers"][0].get("identity").is_none());
    assert!(!entry.to_string().contains(&flow::resident_id(3)));
    assert_eq!(entry["notice"]["title"], "2026年第一批公示");
    assert_eq!(entry["notice"]["ends_on"], "2026-07-07");
    // Not in the pool: 404; not a number: the route does not exist.
    let res = app.get("/api/v1/pool/999999").send().await.unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.get("/api/v1/pool/abc").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_status_look_up_answers_in_pool_banned_or_not_listed_and_explains_bad_codes() {
    let app = TestApp::spawn().await;
    let (a, b, _) = three_members(&app).await;
    let in_pool = get_json(
        &app,
        &format!("/api/v1/institutions/status?uscc={}", a.uscc.to_lowercase()),
    )
    .await;
    assert_eq!(in_pool["status"], "in_pool");
    assert_eq!(in_pool["institution_id"], a.institution_id);
    assert_eq!(in_pool["valid_until"], "2028-08-31");
    assert_eq!(in_pool["items"][1]["code"], "sports.basketball");

    // A ban from a removal wins over the entry, through its last day.
    app.sql(&format!(
        "UPDATE pool_entries SET status = 'removed' WHERE institution_id = {id};\
         INSERT INTO bans (institution_id, uscc, institution_name, grounds, decided_on, last_day, \
         may_apply_from, created_at) VALUES ({id}, '{uscc}', '{name}', '[\"subcontracting\"]', \
         '2026-09-05', '2029-09-05', '2029-09-06', CURRENT_TIMESTAMP)",
        id = b.institution_id,
        uscc = b.uscc,
        name = b.name
    ))
    .await;
    let banned = get_json(
        &app,
        &format!("/api/v1/institutions/status?uscc={}", b.uscc),
    )
    .await;
    assert_eq!(banned["status"], "banned");
    assert_eq!(banned["decided_on"], "2026-09-05");
    assert_eq!(banned["last_day"], "2029-09-05");
    assert_eq!(banned["may_apply_from"], "2029-09-06");
    assert_eq!(banned["grounds"], serde_json::json!(["subcontracting"]));
    // The last day is still banned; the day after it is over.
    set_clock(&app, "2029-09-05T23:55:00+08:00").await;
    let last = get_json(
        &app,
        &format!("/api/v1/institutions/status?uscc={}", b.uscc),
    )
    .await;
    assert_eq!(last["status"], "banned");
    set_clock(&app, "2029-09-06T00:00:00+08:00").await;
    let over = get_json(
        &app,
        &format!("/api/v1/institutions/status?uscc={}", b.uscc),
    )
    .await;
    assert_eq!(over["status"], "not_listed");
    set_clock(&app, IN_POOL).await;

    let unknown = get_json(
        &app,
        &format!("/api/v1/institutions/status?uscc={}", flow::uscc(77)),
    )
    .await;
    assert_eq!(unknown, serde_json::json!({"status": "not_listed"}));

    let mut bad = flow::uscc(77);
    bad.pop();
    bad.push(if flow::uscc(77).ends_with('0') {
        '1'
    } else {
        '0'
    });
    let res = app
        .get(&format!("/api/v1/institutions/status?uscc={bad}"))
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_uscc").await;
    assert_eq!(body["errors"][0]["field"], "uscc");
    assert_eq!(body["errors"][0]["code"], "bad_check_character");
    let res = app
        .get("/api/v1/institutions/status?uscc=12")
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_uscc").await;
    assert!(!body["errors"].as_array().unwrap().is_empty());
    // The other /institutions routes are untouched.
    app.refresh_tokens().await;
    let res = app
        .as_role(
            Role::Reviewer,
            Method::GET,
            &format!("/api/v1/institutions/{}", a.institution_id),
        )
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_pool_change_written_around_the_services_shows_within_one_second() {
    let app = TestApp::spawn().await;
    seed_many(&app, 5).await;
    assert_eq!(get_json(&app, "/api/v1/pool").await["total"], 5);
    app.sql(
        "UPDATE pool_entries SET status = 'removed' WHERE id = (SELECT MIN(id) FROM pool_entries)",
    )
    .await;
    let changed_at = std::time::Instant::now();
    loop {
        let total = get_json(&app, "/api/v1/pool").await["total"]
            .as_i64()
            .unwrap();
        if total == 4 {
            break;
        }
        assert!(
            changed_at.elapsed() < std::time::Duration::from_millis(1100),
            "the change did not show within one second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(changed_at.elapsed() <= std::time::Duration::from_millis(1100));
}

/// Runs `statement` as another instance would: nothing in this process hears of it (no
/// read-your-writes signal); only what the read model polls shows it.
async fn sql_elsewhere(app: &TestApp, statement: &str) {
    use diesel::connection::SimpleConnection;
    let pool = app.state.pool.clone();
    let statement = statement.to_owned();
    tokio::task::spawn_blocking(move || pool.get().unwrap().batch_execute(&statement).unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_change_made_elsewhere_shows_in_the_stored_search_and_the_cached_page_within_one_second()
{
    let app = TestApp::spawn().await;
    seed_many(&app, 5).await;
    let first = get_json(&app, "/api/v1/pool").await;
    let id = first["items"][0]["institution_id"].as_i64().unwrap();
    let old_name = first["items"][0]["name"].as_str().unwrap().to_owned();
    let page = || async {
        let res = app.get("/pool").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.text().await.unwrap()
    };
    // Twice each: the second answer is assembled from stored bytes, the page from the cache.
    let first_page = page().await;
    assert!(first_page.contains(&old_name));
    assert_eq!(get_json(&app, "/api/v1/pool").await, first);
    assert_eq!(page().await, first_page);
    const NEW_NAME: &str = "南宁市更名后体育培训中心";
    sql_elsewhere(
        &app,
        &format!(
            "UPDATE institutions SET name = '{NEW_NAME}', updated_at = '2099-01-01 00:00:00' \
             WHERE id = {id}"
        ),
    )
    .await;
    let changed_at = std::time::Instant::now();
    loop {
        let search = get_json(&app, "/api/v1/pool").await;
        let body = page().await;
        let in_search = names(&search).iter().any(|n| n == NEW_NAME);
        if in_search && body.contains(NEW_NAME) && !body.contains(&old_name) {
            assert!(!names(&search).contains(&old_name));
            break;
        }
        assert!(
            changed_at.elapsed() < std::time::Duration::from_millis(1100),
            "the rename did not show within one second (search: {in_search})"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_demo_data_gives_a_pool_of_hundreds_across_every_category() {
    let app = TestApp::spawn().await;
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || provider_registry::demo::load(&state).unwrap())
        .await
        .unwrap();
    let all = get_json(&app, "/api/v1/pool?per_page=100").await;
    assert_eq!(all["total"], 300);
    for category in ["sports", "arts", "practice"] {
        let page = get_json(&app, &format!("/api/v1/pool?category={category}")).await;
        assert!(
            page["total"].as_i64().unwrap() >= 100,
            "{category}: {}",
            page["total"]
        );
    }
    let districts: std::collections::HashSet<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["district"].as_str().unwrap().to_owned())
        .collect();
    assert!(districts.len() >= 7, "{districts:?}");
    let export = get_json(&app, "/api/v1/pool/export.json").await;
    let with_standing = export["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["standing"].is_null())
        .count();
    assert_eq!(with_standing, 30);
    // Every seeded credit code passes the public look-up.
    let uscc = all["items"][0]["uscc"].as_str().unwrap();
    let status = get_json(&app, &format!("/api/v1/institutions/status?uscc={uscc}")).await;
    assert_eq!(status["status"], "in_pool");
}
