//! Reference rules through HTTP: the working-day calendar, the activity catalogue, and the
//! credit-code check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{TestApp, assert_problem};
use provider_registry::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn working_days(app: &TestApp, from: &str, count: u32) -> reqwest::Response {
    app.get(&format!(
        "/api/v1/calendar/working-days?from={from}&count={count}"
    ))
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn the_shipped_calendars_are_loaded_on_first_start_with_their_notice() {
    let app = TestApp::spawn().await;
    for (year, notice) in [
        (2024, "国办发明电〔2023〕7号"),
        (2025, "国办发明电〔2024〕12号"),
        (2026, "国办发明电〔2025〕7号"),
    ] {
        let body: Value = app
            .get(&format!("/api/v1/calendar/{year}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["year"], year);
        assert_eq!(body["version"], 1);
        assert!(body["source"].as_str().unwrap().contains(notice), "{body}");
    }
    let years: Value = app
        .get("/api/v1/calendar")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(years.as_array().unwrap().len(), 3);
    let res = app.get("/api/v1/calendar/2031").send().await.unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_friday_before_the_spring_festival_2026_counts_to_26_february() {
    let app = TestApp::spawn().await;
    let body: Value = working_days(&app, "2026-02-13", 5)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["start"], "2026-02-13");
    assert_eq!(body["end"], "2026-02-26");
    let working: Vec<&str> = body["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["working"] == true)
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        working,
        [
            "2026-02-13",
            "2026-02-14",
            "2026-02-24",
            "2026-02-25",
            "2026-02-26"
        ]
    );
    let feb14 = &body["days"][1];
    assert_eq!(feb14["reason"]["kind"], "makeup_workday");
    let feb15 = &body["days"][2];
    assert_eq!(
        (
            feb15["working"].clone(),
            feb15["reason"]["kind"].clone(),
            feb15["reason"]["name"].clone()
        ),
        (json!(false), json!("holiday"), json!("春节"))
    );
    assert_eq!(
        body["calendar_versions"],
        json!([{"year": 2026, "version": 1}])
    );
}

#[tokio::test]
async fn the_day_before_national_day_2026_counts_to_12_october() {
    let app = TestApp::spawn().await;
    let body: Value = working_days(&app, "2026-09-30", 5)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["end"], "2026-10-12");
    let working: Vec<&str> = body["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["working"] == true)
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        working,
        [
            "2026-09-30",
            "2026-10-08",
            "2026-10-09",
            "2026-10-10",
            "2026-10-12"
        ]
    );
    let oct11 = body["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == "2026-10-11")
        .unwrap();
    assert_eq!(oct11["reason"]["kind"], "weekend");
}

#[tokio::test]
async fn counting_from_a_holiday_starts_at_the_next_working_day() {
    let app = TestApp::spawn().await;
    let body: Value = working_days(&app, "2026-10-01", 1)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (body["start"].clone(), body["end"].clone()),
        (json!("2026-10-08"), json!("2026-10-08"))
    );
}

#[tokio::test]
async fn a_missing_year_is_named_and_never_guessed() {
    let app = TestApp::spawn().await;
    let res = working_days(&app, "2026-12-28", 10).await;
    let body = assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "calendar_year_missing",
    )
    .await;
    assert_eq!(body["extra"]["year"], 2027);
    assert!(body["detail"].as_str().unwrap().contains("2027"), "{body}");
    let res = working_days(&app, "2023-12-29", 1).await;
    let body = assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "calendar_year_missing",
    )
    .await;
    assert_eq!(body["extra"]["year"], 2023);
}

#[tokio::test]
async fn bad_counts_and_dates_are_refused() {
    let app = TestApp::spawn().await;
    assert_problem(
        working_days(&app, "2026-03-02", 0).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "count_out_of_range",
    )
    .await;
    assert_problem(
        working_days(&app, "2026-03-02", 400).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "count_out_of_range",
    )
    .await;
    let res = app
        .get("/api/v1/calendar/working-days?from=2026-02-30&count=5")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    let res = app
        .get("/api/v1/calendar/working-days?count=5")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
}

fn calendar_2027() -> Value {
    json!({
        "year": 2027,
        "source": "国务院办公厅关于2027年部分节假日安排的通知",
        "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"}],
        "makeup_workdays": []
    })
}

#[tokio::test]
async fn an_admin_loads_a_new_year_and_each_change_bumps_its_version() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin).await;
    let res = app
        .put("/api/v1/calendar/2027")
        .bearer_auth(&admin)
        .json(&calendar_2027())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["version"], 1);
    // Now the count across the year boundary works, and names both versions.
    let body: Value = working_days(&app, "2026-12-28", 10)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["end"], "2027-01-11");
    assert_eq!(
        body["calendar_versions"],
        json!([{"year": 2026, "version": 1}, {"year": 2027, "version": 1}])
    );

    let mut changed = calendar_2027();
    changed["makeup_workdays"] = json!([{"date": "2027-01-09", "name": "元旦调休上班"}]);
    let res = app
        .put("/api/v1/calendar/2027")
        .bearer_auth(&admin)
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["version"], 2);
    let body: Value = working_days(&app, "2026-12-28", 10)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["end"], "2027-01-09");
    let events: Value = app
        .get("/api/v1/audit?action=calendar.updated")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["total"], 2);
    assert_eq!(events["items"][0]["summary"]["from_version"], 1);
    assert_eq!(events["items"][0]["summary"]["to_version"], 2);
}

#[tokio::test]
async fn a_bad_calendar_is_refused_with_every_problem_by_field() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin).await;
    let bad = json!({
        "year": 2027,
        "source": "x",
        "holidays": [{"name": "春节", "from": "2027-02-10", "to": "2027-02-05"}],
        "makeup_workdays": [{"date": "2027-02-03", "name": "调休"}]
    });
    let res = app
        .put("/api/v1/calendar/2027")
        .bearer_auth(&admin)
        .json(&bad)
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "range_reversed").await;
    let codes: Vec<(&str, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert!(
        codes.contains(&("holidays[0].to", "range_reversed")),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("makeup_workdays[0].date", "makeup_not_weekend")),
        "{codes:?}"
    );
    let res = app
        .put("/api/v1/calendar/2028")
        .bearer_auth(&admin)
        .json(&calendar_2027())
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "year_mismatch").await;
    assert!(
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "year_mismatch"),
        "{body}"
    );
    let res = app
        .as_role(Role::Reviewer, Method::PUT, "/api/v1/calendar/2027")
        .await
        .json(&calendar_2027())
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .put("/api/v1/calendar/2027")
        .json(&calendar_2027())
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn the_catalogue_lists_three_categories_and_the_refused_academic_subjects() {
    let app = TestApp::spawn().await;
    let body: Value = app
        .get("/api/v1/categories")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = body["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["sports", "arts", "practice"]);
    let arts: Vec<&str> = body["categories"][1]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    for required in [
        "arts.calligraphy",
        "arts.dance",
        "arts.drama",
        "arts.intangible_heritage",
        "arts.fine_arts",
    ] {
        assert!(arts.contains(&required), "{required}");
    }
    let academic: Vec<&str> = body["academic_subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name_zh"].as_str().unwrap())
        .collect();
    for subject in [
        "语文",
        "数学",
        "外语",
        "物理",
        "化学",
        "生物",
        "历史",
        "地理",
        "道德与法治",
    ] {
        assert!(academic.contains(&subject), "{subject}");
    }
}

#[tokio::test]
async fn a_valid_credit_code_is_explained() {
    let app = TestApp::spawn().await;
    let body: Value = app
        .get("/api/v1/identifiers/uscc/91450103MA5L123454")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["valid"], true);
    assert_eq!(body["entity_type"], "enterprise");
    assert_eq!(body["registration_authority"]["code"], "9");
    assert_eq!(body["region_code"], "450103");
    assert_eq!(body["province"], "广西壮族自治区");
    assert_eq!(body["in_bureau_region"], true);
    assert_eq!(body["warnings"], json!([]));
    // Lower case and separators are normalised, as official checkers do.
    let body: Value = app
        .get("/api/v1/identifiers/uscc/91450103ma5l-123454")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["normalized"], "91450103MA5L123454");
}

#[tokio::test]
async fn a_code_registered_outside_the_region_is_valid_with_a_warning() {
    let app = TestApp::spawn().await;
    let body: Value = app
        .get("/api/v1/identifiers/uscc/91350100M000100Y43")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["valid"], true);
    assert_eq!(body["in_bureau_region"], false);
    assert_eq!(body["warnings"][0]["code"], "region_outside_bureau");
}

#[tokio::test]
async fn an_invalid_credit_code_lists_each_reason() {
    let app = TestApp::spawn().await;
    let app = &app;
    let check = |code: &'static str| async move {
        let body: Value = app
            .get(&format!("/api/v1/identifiers/uscc/{code}"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["valid"], false, "{body}");
        body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(check("91450103MA5L123455").await, ["bad_check_character"]);
    assert!(
        check("91450103MA5L12345")
            .await
            .contains(&"bad_length".to_owned())
    );
    assert!(
        check("91450103MA5L1234I4")
            .await
            .contains(&"bad_charset".to_owned())
    );
    assert!(
        check("91AB0103MA5L123454")
            .await
            .contains(&"bad_region_code".to_owned())
    );
    let body: Value = app
        .get("/api/v1/identifiers/uscc/91450103MA5L123455")
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        body["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Check character"),
        "{body}"
    );
}
