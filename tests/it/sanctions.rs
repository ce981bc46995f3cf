//! Sanctions through HTTP: a ban refuses registration and submission through its last day and
//! from the next day nothing stands in the way; the blacklist import (all or nothing, per source) refuses
//! listed applicants and opens cases for listed pool members; the annual-inspection sweep; the
//! re-registration flag.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::flow;
use crate::common::{PASSWORD, TestApp, assert_problem};
use provider_registry::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ITEMS: &[&str] = &["sports.basketball"];

async fn ok(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// A ban row for `uscc` (of institution `institution_id`): decided on the first date, banned
/// through the second, free to apply from the third.
async fn ban(
    app: &TestApp,
    institution_id: i64,
    uscc: &str,
    [decided_on, last_day, may_apply_from]: [&str; 3],
) {
    app.sql(&format!(
        "INSERT INTO bans (institution_id, uscc, institution_name, grounds, decided_on, last_day, may_apply_from, created_at) \
         VALUES ({institution_id}, '{uscc}', '被清退机构', '[\"illegal_conduct\"]', '{decided_on}', '{last_day}', '{may_apply_from}', '2023-03-01 00:00:00')"
    ))
    .await;
}

async fn register(app: &TestApp, n: u32) -> reqwest::Response {
    app.post("/api/v1/auth/register")
        .json(&json!({
            "email": format!("new{n}@example.cn"), "password": PASSWORD, "display_name": "联系人",
            "institution_name": format!("南宁市新{n}中心"), "uscc": flow::uscc(n),
            "entity_type": "private_non_enterprise_unit",
        }))
        .send()
        .await
        .unwrap()
}

async fn submit(app: &TestApp, token: &str, id: i64) -> reqwest::Response {
    app.post(&format!("/api/v1/applications/{id}/submit"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn codes(body: &Value, key: &str) -> Vec<String> {
    body["extra"][key]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

/// Enqueues the periodic jobs due by the service clock (as the worker's tick does) and runs them.
async fn tick_and_run(app: &TestApp) {
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.pool.get().unwrap();
        let periodic = provider_registry::startup::job_kinds::periodic();
        provider_registry::db::write_tx(&mut conn, |c| {
            provider_registry::jobs::scheduler::tick(c, &periodic, state.clock.now())
        })
        .unwrap();
    })
    .await
    .unwrap();
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn a_banned_uscc_cannot_register_through_the_last_day_and_may_from_the_next() {
    let app = TestApp::spawn().await;
    app.set_clock("2029-10-20T23:55:00+08:00").await;
    app.token(Role::Institution).await;
    let owner = app
        .sql_i64("SELECT id AS value FROM institutions WHERE uscc = '91450103MA5L123454'")
        .await;
    // Decided 2026-10-20: the last banned day is 2029-10-20 (the example).
    ban(
        &app,
        owner,
        &flow::uscc(50),
        ["2026-10-20", "2029-10-20", "2029-10-21"],
    )
    .await;

    // Late on the last day: still banned, and the problem says both dates.
    let body = assert_problem(
        register(&app, 50).await,
        StatusCode::CONFLICT,
        "uscc_banned",
    )
    .await;
    assert_eq!(body["extra"]["decided_on"], "2026-10-20");
    assert_eq!(body["extra"]["last_day"], "2029-10-20");
    assert_eq!(body["extra"]["may_apply_from"], "2029-10-21");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("最后一日为 2029-10-20") && detail.contains("自 2029-10-21 起"),
        "{detail}"
    );
    let en = app
        .post("/api/v1/auth/register")
        .header("accept-language", "en")
        .json(&json!({
            "email": "new50@example.cn", "password": PASSWORD, "display_name": "联系人",
            "institution_name": "南宁市新50中心", "uscc": flow::uscc(50),
            "entity_type": "private_non_enterprise_unit",
        }))
        .send()
        .await
        .unwrap();
    let en = assert_problem(en, StatusCode::CONFLICT, "uscc_banned").await;
    let detail = en["detail"].as_str().unwrap();
    assert!(
        detail.contains("the last banned day is 2029-10-20")
            && detail.contains("apply again from 2029-10-21"),
        "{detail}"
    );

    // The first instant of the next day: it may register.
    flow::travel(&app, "2029-10-21T00:00:00+08:00", &mut []).await;
    ok(register(&app, 50).await, StatusCode::CREATED).await;
}

#[tokio::test]
async fn a_banned_uscc_cannot_submit_through_the_last_day_and_may_from_the_next() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-02-27T10:00:00+08:00").await;
    let round = app.open_round().await;
    let mut applicant = flow::institution(&app, 1, ITEMS).await;
    let id = flow::draft(&app, &applicant, round, ITEMS).await;
    // Decided 2023-02-28: the last banned day is 2026-02-28 (a Saturday); free from 1 March.
    ban(
        &app,
        applicant.institution_id,
        &applicant.uscc,
        ["2023-02-28", "2026-02-28", "2026-03-01"],
    )
    .await;
    flow::travel(&app, "2026-02-28T23:55:00+08:00", &mut [&mut applicant]).await;

    let body = assert_problem(
        submit(&app, &applicant.token, id).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "submission_blocked",
    )
    .await;
    assert!(
        codes(&body, "blocking").contains(&"uscc_banned".to_owned()),
        "{body}"
    );
    let finding = body["extra"]["blocking"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "uscc_banned")
        .unwrap();
    assert_eq!(finding["detail"]["decided_on"], "2023-02-28");
    assert_eq!(finding["detail"]["last_day"], "2026-02-28");
    assert_eq!(finding["detail"]["may_apply_from"], "2026-03-01");
    assert!(
        finding["message_zh"]
            .as_str()
            .unwrap()
            .contains("自 2026-03-01 起"),
        "{finding}"
    );

    flow::travel(&app, "2026-03-01T00:00:00+08:00", &mut [&mut applicant]).await;
    flow::submit(&app, &applicant, id).await;
}

#[tokio::test]
async fn an_application_linked_to_a_banned_institution_is_flagged_without_the_id_number() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let banned = flow::institution(&app, 1, ITEMS).await;
    ban(
        &app,
        banned.institution_id,
        &banned.uscc,
        ["2026-01-05", "2029-01-05", "2029-01-06"],
    )
    .await;
    let successor = flow::institution(&app, 2, ITEMS).await;
    // The new entity's legal representative is the banned institution's.
    let number = flow::resident_id(2);
    app.sql(&format!(
        "UPDATE institutions SET legal_rep_id_number = '{number}' WHERE id = {}",
        successor.institution_id
    ))
    .await;
    let id = flow::draft(&app, &successor, round, ITEMS).await;
    let res = submit(&app, &successor.token, id).await;
    let text = res.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["status"], "submitted", "{text}");
    let warnings: Vec<&str> = body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(
        warnings.contains(&"linked_to_banned_institution"),
        "{warnings:?}"
    );
    assert!(
        !text.contains(&number),
        "the identity number leaked: {text}"
    );
    // The reviewer's dossier says which banned institution matched, and as what: the legal
    // representative, and (once the successor's teacher turns out to be the banned
    // institution's teacher) a teacher.
    app.sql(&format!(
        "UPDATE teachers SET id_number = '{}' WHERE id = {}",
        flow::resident_id(3),
        successor.teacher_id
    ))
    .await;
    let res = app
        .as_role(
            Role::Reviewer,
            Method::GET,
            &format!("/api/v1/applications/{id}/review"),
        )
        .await
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert!(!text.contains(&number) && !text.contains(&flow::resident_id(3)));
    let dossier: Value = serde_json::from_str(&text).unwrap();
    let links: Vec<(String, String, i64, String)> = dossier["re_registration"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["person_role"].as_str().unwrap().to_owned(),
                l["matched_as"].as_str().unwrap().to_owned(),
                l["banned_institution_id"].as_i64().unwrap(),
                l["ban_last_day"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        links,
        [
            (
                "legal_representative".to_owned(),
                "legal_representative".to_owned(),
                banned.institution_id,
                "2029-01-05".to_owned()
            ),
            (
                "teacher".to_owned(),
                "teacher".to_owned(),
                banned.institution_id,
                "2029-01-05".to_owned()
            ),
        ],
        "{dossier}"
    );
    assert_eq!(dossier["re_registration"][0]["banned_uscc"], banned.uscc);
    // An unrelated applicant is not flagged.
    let (_, other) = flow::submitted(&app, 3, round, ITEMS).await;
    let other = ok(
        app.as_role(
            Role::Reviewer,
            Method::GET,
            &format!("/api/v1/applications/{other}"),
        )
        .await
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(
        !other["warnings"]
            .to_string()
            .contains("linked_to_banned_institution")
    );
}

fn csv(rows: &[(String, &str)], source: &str) -> String {
    let mut out = String::from("uscc,name,source,listed_on,reason\n");
    for (uscc, name) in rows {
        out.push_str(&format!(
            "{uscc},\"{name}\",{source},2026-02-01,严重违法失信\n"
        ));
    }
    out
}

async fn import(app: &TestApp, source: &str, body: String) -> reqwest::Response {
    app.as_role(
        Role::Reviewer,
        Method::PUT,
        &format!("/api/v1/blacklist?source={source}"),
    )
    .await
    .header("content-type", "text/csv; charset=utf-8")
    .body(body)
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn a_blacklist_import_refuses_listed_applicants_and_opens_cases_for_listed_members() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let applicant = flow::institution(&app, 1, ITEMS).await;
    let (member, _, _) = flow::seed_pool_member(&app, 2, round, ITEMS).await;
    let id = flow::draft(&app, &applicant, round, ITEMS).await;

    let file = csv(
        &[(applicant.uscc.clone(), "甲"), (member.uscc.clone(), "乙")],
        "market",
    );
    let body = ok(import(&app, "market", file.clone()).await, StatusCode::OK).await;
    assert_eq!(body["entries"], 2);
    assert_eq!(body["replaced"], 0);
    assert_eq!(body["exit_case_ids"].as_array().unwrap().len(), 1);
    let case_id = body["exit_case_ids"][0].as_i64().unwrap();
    let case = ok(
        app.as_role(
            Role::Reviewer,
            Method::GET,
            &format!("/api/v1/exit-cases/{case_id}"),
        )
        .await
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(case["institution_id"], member.institution_id);
    assert_eq!(case["opened_by"], "system");
    assert_eq!(case["grounds"][0]["ground"]["code"], "blacklisted");

    let refused = assert_problem(
        submit(&app, &applicant.token, id).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "submission_blocked",
    )
    .await;
    assert!(codes(&refused, "blocking").contains(&"blacklisted".to_owned()));

    // Importing the same list again does not add the ground twice.
    ok(import(&app, "market", file).await, StatusCode::OK).await;
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM exit_grounds WHERE ground = 'blacklisted'")
            .await,
        1
    );
    // Another source's list is kept apart; replacing "market" with a list without the applicant
    // lets it submit.
    ok(
        import(
            &app,
            "courts",
            csv(&[(member.uscc.clone(), "乙")], "courts"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let replaced = ok(
        import(&app, "market", csv(&[(flow::uscc(77), "丙")], "market")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(replaced["replaced"], 2);
    let listed = ok(
        app.as_role(Role::Reviewer, Method::GET, "/api/v1/blacklist")
            .await
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["total"], 2);
    flow::submit(&app, &applicant, id).await;
    assert!(
        app.sql_i64(
            "SELECT COUNT(*) AS value FROM audit_events WHERE action = 'blacklist.imported'"
        )
        .await
            >= 4
    );
}

#[tokio::test]
async fn a_malformed_blacklist_is_reported_line_by_line_and_nothing_is_imported() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let good = csv(&[(flow::uscc(1), "甲")], "market");
    ok(import(&app, "market", good).await, StatusCode::OK).await;

    let bad = format!(
        "uscc,name,source,listed_on,reason\n\
         {},乙,market,2026-02-01,r\n\
         52450100MJ0000001X,丙,market,2026-02-01,r\n\
         {},丁,market,2026-13-01,r\n\
         {},戊,market\n\
         {},\"己\"x,market,2026-02-01,r\n",
        flow::uscc(2),
        flow::uscc(3),
        flow::uscc(4),
        flow::uscc(5)
    );
    let body = assert_problem(
        import(&app, "market", bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "blacklist_malformed",
    )
    .await;
    let lines: Vec<(i64, String, String)> = body["extra"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["line"].as_i64().unwrap(),
                l["field"].as_str().unwrap().to_owned(),
                l["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (3, "uscc".into(), "invalid_uscc".into()),
            (4, "listed_on".into(), "invalid_date".into()),
            (5, "line".into(), "wrong_column_count".into()),
            (6, "line".into(), "bad_quoting".into()),
        ]
    );
    assert_eq!(body["errors"][0]["field"], "line 3: uscc");
    // Nothing changed: the previous list is intact.
    let listed = ok(
        app.as_role(
            Role::Reviewer,
            Method::GET,
            "/api/v1/blacklist?source=market",
        )
        .await
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["uscc"], flow::uscc(1));

    let not_csv = app
        .as_role(
            Role::Reviewer,
            Method::PUT,
            "/api/v1/blacklist?source=market",
        )
        .await
        .json(&json!({"uscc": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(not_csv.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mismatch = import(&app, "market", csv(&[(flow::uscc(9), "庚")], "courts")).await;
    let body = assert_problem(
        mismatch,
        StatusCode::UNPROCESSABLE_ENTITY,
        "blacklist_malformed",
    )
    .await;
    assert_eq!(body["extra"]["lines"][0]["code"], "source_mismatch");
    let public = app.get("/api/v1/blacklist").send().await.unwrap();
    assert_eq!(public.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_inspection_sweep_opens_cases_from_the_day_after_the_configured_date() {
    let app = TestApp::spawn().await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (mut passed, _, _) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    let (mut failed, _, _) = flow::seed_pool_member(&app, 2, round, ITEMS).await;
    let (mut missing, _, _) = flow::seed_pool_member(&app, 3, round, ITEMS).await;
    app.sql(&format!(
        "UPDATE inspections SET result = 'failed' WHERE institution_id = {} AND year = 2025",
        failed.institution_id
    ))
    .await;
    app.sql(&format!(
        "DELETE FROM inspections WHERE institution_id = {} AND year = 2025",
        missing.institution_id
    ))
    .await;
    let cases = |inst: i64| {
        format!("SELECT COUNT(*) AS value FROM exit_cases WHERE institution_id = {inst}")
    };

    flow::travel(
        &app,
        "2026-06-30T12:00:00+08:00",
        &mut [&mut passed, &mut failed, &mut missing],
    )
    .await;
    tick_and_run(&app).await;
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM exit_cases")
            .await,
        0
    );

    flow::travel(
        &app,
        "2026-07-01T02:00:00+08:00",
        &mut [&mut passed, &mut failed, &mut missing],
    )
    .await;
    tick_and_run(&app).await;
    assert_eq!(app.sql_i64(&cases(passed.institution_id)).await, 0);
    assert_eq!(app.sql_i64(&cases(failed.institution_id)).await, 1);
    assert_eq!(app.sql_i64(&cases(missing.institution_id)).await, 1);
    let listed = ok(
        app.get("/api/v1/exit-cases")
            .bearer_auth(&failed.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let case = &listed["items"][0];
    assert_eq!(case["opened_by"], "system");
    assert_eq!(case["grounds"][0]["ground"]["code"], "annual_inspection");
    assert_eq!(case["statement_due"], "2026-07-08");

    // The next days' sweeps add nothing, even after a reviewer dismissed one case.
    let id = case["id"].as_i64().unwrap();
    ok(
        app.as_role(
            Role::Reviewer,
            Method::POST,
            &format!("/api/v1/exit-cases/{id}/decision"),
        )
        .await
        .json(&json!({"decision": "dismiss", "reasons": "已补交年检合格证明"}))
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    flow::travel(&app, "2026-07-02T02:00:00+08:00", &mut []).await;
    tick_and_run(&app).await;
    assert_eq!(
        app.sql_i64(
            "SELECT COUNT(*) AS value FROM exit_grounds WHERE ground = 'annual_inspection'"
        )
        .await,
        2
    );
    assert_eq!(app.sql_i64(&cases(failed.institution_id)).await, 1);
}

#[tokio::test]
async fn the_sweep_date_is_configurable() {
    let app = TestApp::spawn_with(&[("INSPECTION_SWEEP_DATE", "03-31")]).await;
    app.set_clock("2026-03-02T10:00:00+08:00").await;
    let round = app.open_round().await;
    let (mut member, _, _) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    app.sql(&format!(
        "DELETE FROM inspections WHERE institution_id = {} AND year = 2025",
        member.institution_id
    ))
    .await;
    flow::travel(&app, "2026-03-31T12:00:00+08:00", &mut [&mut member]).await;
    tick_and_run(&app).await;
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM exit_cases")
            .await,
        0
    );
    flow::travel(&app, "2026-04-01T12:00:00+08:00", &mut [&mut member]).await;
    tick_and_run(&app).await;
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) AS value FROM exit_cases")
            .await,
        1
    );
}

// ---- the migration to Civil Code dates ------------------------------------------------------

mod migration {
    use chrono::NaiveDate;
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
    use provider_registry::db::{self, DatabaseUrl, DbConn, schema::bans};

    const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
    const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
    const BAN_DATES: &str = "_ban_last_day";

    /// Applies the migrations before the one that dates bans by the Civil Code.
    fn migrate_before<DB: diesel::backend::Backend>(
        c: &mut impl MigrationHarness<DB>,
        source: impl Fn() -> EmbeddedMigrations,
    ) {
        loop {
            let pending = c.pending_migrations(source()).unwrap();
            if pending[0].name().to_string().ends_with(BAN_DATES) {
                return;
            }
            c.run_next_migration(source()).unwrap();
        }
    }

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        value: i64,
    }

    fn count(conn: &mut DbConn, query: &str) -> i64 {
        diesel::sql_query(query).load::<Count>(conn).unwrap()[0].value
    }

    /// (decision date, `ends_on` as the old rule stored it, the last day, may apply from).
    const ROWS: [(&str, &str, &str, &str); 5] = [
        ("2026-10-20", "2029-10-20", "2029-10-20", "2029-10-21"),
        ("2028-02-29", "2031-02-28", "2031-02-28", "2031-03-01"),
        ("2024-02-29", "2027-02-28", "2027-02-28", "2027-03-01"),
        ("2027-08-31", "2030-08-31", "2030-08-31", "2030-09-01"),
        ("2026-12-31", "2029-12-31", "2029-12-31", "2030-01-01"),
    ];

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn existing_bans_are_dated_by_the_civil_code_and_the_migration_reverts() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::common::empty_database_url(dir.path());
        let dropped = url.clone();
        tokio::task::spawn_blocking(move || {
            let pool = db::build_pool(&DatabaseUrl::parse(&url).unwrap(), 1).unwrap();
            let mut conn = pool.get().unwrap();
            match &mut *conn {
                DbConn::Sqlite(c) => migrate_before(c, || SQLITE),
                DbConn::Postgres(c) => migrate_before(c, || POSTGRES),
            }
            conn.batch_execute(
                "INSERT INTO institutions (name, uscc, entity_type, created_at, updated_at) \
                 VALUES ('被清退机构', '52450100MJ0000001X', 'private_non_enterprise_unit', \
                 '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            )
            .unwrap();
            for (decided, ends_on, _, _) in ROWS {
                conn.batch_execute(&format!(
                    "INSERT INTO bans (institution_id, uscc, institution_name, grounds, \
                     starts_on, ends_on, created_at) SELECT id, uscc, name, '[\"subcontracting\"]', \
                     '{decided}', '{ends_on}', '2026-01-01 00:00:00' FROM institutions"
                ))
                .unwrap();
            }

            db::run_migrations(&mut conn).unwrap();
            let dated: Vec<(NaiveDate, NaiveDate, NaiveDate)> = bans::table
                .order(bans::id)
                .select((bans::decided_on, bans::last_day, bans::may_apply_from))
                .load(&mut *conn)
                .unwrap();
            let expected: Vec<_> = ROWS
                .iter()
                .map(|(decided, _, last, from)| (d(decided), d(last), d(from)))
                .collect();
            assert_eq!(dated, expected);
            // The stored dates are the pure rule's.
            for (decided, last, from) in &dated {
                let p = provider_registry::sanctions::bans::BanPeriod::after_decision(*decided)
                    .unwrap();
                assert_eq!((p.last_day, p.may_apply_from), (*last, *from));
            }
            // The database refuses dates that disagree with each other.
            let wrong = conn.batch_execute(
                "INSERT INTO bans (institution_id, uscc, institution_name, grounds, decided_on, \
                 last_day, may_apply_from, created_at) SELECT id, uscc, name, '[]', \
                 '2026-10-20', '2029-10-20', '2029-10-20', '2026-01-01 00:00:00' FROM institutions",
            );
            assert!(wrong.is_err(), "may_apply_from must be the day after last_day");

            // Revert the later migrations too, then this one.
            loop {
                let reverted = match &mut *conn {
                    DbConn::Sqlite(c) => c.revert_last_migration(SQLITE),
                    DbConn::Postgres(c) => c.revert_last_migration(POSTGRES),
                }
                .unwrap();
                if reverted.to_string().starts_with("20261124000201") {
                    break;
                }
            }
            for (decided, ends_on, _, _) in ROWS {
                assert_eq!(
                    count(
                        &mut conn,
                        &format!(
                            "SELECT COUNT(*) AS value FROM bans WHERE starts_on = '{decided}' \
                             AND ends_on = '{ends_on}'"
                        )
                    ),
                    1,
                    "{decided}"
                );
            }
        })
        .await
        .unwrap();
        if crate::common::is_postgres() {
            let server = std::env::var("TEST_DATABASE_URL").unwrap();
            let name = dropped.rsplit_once('/').unwrap().1.to_owned();
            tokio::task::spawn_blocking(move || {
                let pool = db::build_pool(&DatabaseUrl::parse(&server).unwrap(), 1).unwrap();
                pool.get()
                    .unwrap()
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .unwrap();
            })
            .await
            .unwrap();
        }
    }
}
