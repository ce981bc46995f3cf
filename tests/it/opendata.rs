//! Open data (issue 18): pool and ban versions — exactly one per admission, removal, expiry and
//! ban, in order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::TestApp;
use crate::common::flow;
use provider_registry::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const START: &str = "2026-03-02T10:00:00+08:00";
const ITEMS: &[&str] = &["sports.basketball"];

async fn version(app: &TestApp, list: &str) -> i64 {
    app.sql_i64(&format!(
        "SELECT version AS value FROM open_data_heads WHERE list = '{list}'"
    ))
    .await
}

async fn changes_of(app: &TestApp, list: &str, kind: &str, subject: i64) -> i64 {
    app.sql_i64(&format!(
        "SELECT COUNT(*) AS value FROM open_data_changes WHERE list = '{list}' AND kind = '{kind}' AND subject_id = {subject}"
    ))
    .await
}

/// Removes institution `institution_id` from the pool through an exit case decided ten days
/// later (after the statement window).
async fn remove(app: &TestApp, member: &mut flow::Applicant) {
    let case: Value = app
        .as_role(Role::Reviewer, Method::POST, "/api/v1/exit-cases")
        .await
        .json(&json!({"institution_id": member.institution_id, "grounds": ["illegal_conduct"], "statement": "督查发现违法违规行为"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let case = case["id"].as_i64().expect("case id");
    flow::travel(app, "2026-03-12T10:00:00+08:00", &mut [member]).await;
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
}

#[tokio::test]
async fn every_admission_and_removal_makes_exactly_one_version_and_a_ban_one_ban_version() {
    let app = TestApp::spawn().await;
    app.set_clock(START).await;
    assert_eq!(version(&app, "pool").await, 0);
    assert_eq!(version(&app, "bans").await, 0);
    let round = app.open_round().await;
    let (mut first, _, first_entry) = flow::seed_pool_member(&app, 1, round, ITEMS).await;
    assert_eq!(version(&app, "pool").await, 1);
    let (_, _, second_entry) = flow::seed_pool_member(&app, 2, round, ITEMS).await;
    assert_eq!(version(&app, "pool").await, 2);
    assert_eq!(changes_of(&app, "pool", "admitted", first_entry).await, 1);
    assert_eq!(changes_of(&app, "pool", "admitted", second_entry).await, 1);

    remove(&app, &mut first).await;
    assert_eq!(version(&app, "pool").await, 3);
    assert_eq!(changes_of(&app, "pool", "removed", first_entry).await, 1);
    assert_eq!(version(&app, "bans").await, 1);
    assert_eq!(
        app.sql_i64(
            "SELECT COUNT(*) AS value FROM open_data_changes WHERE list = 'bans' AND kind = 'recorded'"
        )
        .await,
        1
    );
    // Versions are numbered 1, 2, 3 in the order of the changes, without gaps.
    assert_eq!(
        app.sql_i64("SELECT CAST(SUM(version) AS BIGINT) AS value FROM open_data_changes WHERE list = 'pool'")
            .await,
        6
    );
    // No personal identity number in any published record.
    let leaked = app
        .sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM open_data_changes WHERE record LIKE '%{}%' OR record LIKE '%{}%'",
            flow::resident_id(2),
            flow::resident_id(3)
        ))
        .await;
    assert_eq!(leaked, 0);
}

async fn get_ok(app: &TestApp, path: &str) -> reqwest::Response {
    let res = app.get(path).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res
}

async fn json_of(app: &TestApp, path: &str) -> Value {
    get_ok(app, path).await.json().await.unwrap()
}

/// Three pool members admitted and the first removed: pool versions 1–4, ban version 1.
async fn history(app: &TestApp) -> Vec<i64> {
    app.set_clock(START).await;
    let round = app.open_round().await;
    let (mut first, _, e1) = flow::seed_pool_member(app, 1, round, ITEMS).await;
    let (_, _, e2) = flow::seed_pool_member(app, 2, round, &["arts.dance"]).await;
    let (_, _, e3) = flow::seed_pool_member(app, 3, round, ITEMS).await;
    remove(app, &mut first).await;
    vec![e1, e2, e3]
}

#[tokio::test]
async fn the_feed_since_n_lists_exactly_the_changes_after_n_in_pages() {
    let app = TestApp::spawn().await;
    let entries = history(&app).await;
    let all = json_of(&app, "/api/v1/pool/changes").await;
    assert_eq!(all["current_version"], 4);
    assert_eq!(all["next_since"], Value::Null);
    let kinds: Vec<(i64, &str, i64)> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["version"].as_i64().unwrap(),
                c["kind"].as_str().unwrap(),
                c["subject_id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            (1, "admitted", entries[0]),
            (2, "admitted", entries[1]),
            (3, "admitted", entries[2]),
            (4, "removed", entries[0]),
        ]
    );
    for n in 0..=4 {
        let page = json_of(&app, &format!("/api/v1/pool/changes?since={n}")).await;
        let versions: Vec<i64> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["version"].as_i64().unwrap())
            .collect();
        assert_eq!(versions, ((n + 1)..=4).collect::<Vec<_>>(), "since {n}");
    }
    // Pages of two: follow next_since.
    let first = json_of(&app, "/api/v1/pool/changes?since=0&limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["next_since"], 2);
    let second = json_of(&app, "/api/v1/pool/changes?since=2&limit=2").await;
    assert_eq!(second["items"][0]["version"], 3);
    assert_eq!(second["next_since"], Value::Null);
    // The records are public facts only.
    let record = &all["items"][1]["record"];
    assert_eq!(record["items"][0]["code"], "arts.dance");
    assert!(record.get("legal_rep_id_number").is_none());
    // Bans: one recorded.
    let bans = json_of(&app, "/api/v1/bans/changes?since=0").await;
    assert_eq!(bans["current_version"], 1);
    assert_eq!(bans["items"][0]["kind"], "recorded");
    assert_eq!(bans["items"][0]["record"]["last_day"], "2029-03-12");
}

#[tokio::test]
async fn the_atom_feed_is_atom_1_0_with_an_entry_per_change() {
    let app = TestApp::spawn().await;
    history(&app).await;
    let res = get_ok(&app, "/api/v1/pool/changes.atom").await;
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let xml = res.text().await.unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let feed = doc.root_element();
    let atom = "http://www.w3.org/2005/Atom";
    assert_eq!(feed.tag_name().namespace(), Some(atom));
    assert_eq!(feed.tag_name().name(), "feed");
    let child = |n: roxmltree::Node<'_, '_>, name: &str| {
        n.children()
            .filter(|c| c.tag_name().name() == name && c.tag_name().namespace() == Some(atom))
            .count()
    };
    for required in ["id", "title", "updated", "author"] {
        assert_eq!(child(feed, required), 1, "feed/{required}");
    }
    let entries: Vec<_> = feed
        .children()
        .filter(|c| c.tag_name().name() == "entry")
        .collect();
    assert_eq!(entries.len(), 4);
    let ids: std::collections::HashSet<String> = entries
        .iter()
        .map(|e| {
            for required in ["id", "title", "updated", "link"] {
                assert_eq!(child(*e, required), 1, "entry/{required}");
            }
            e.children()
                .find(|c| c.tag_name().name() == "id")
                .and_then(|c| c.text())
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 4, "entry ids are unique");
    // Newest first: the removal.
    let title = entries[0]
        .children()
        .find(|c| c.tag_name().name() == "title")
        .and_then(|c| c.text())
        .unwrap();
    assert!(title.starts_with("清退出备选库"), "{title}");
    let link = entries[0]
        .children()
        .find(|c| c.tag_name().name() == "link")
        .and_then(|c| c.attribute("href"))
        .unwrap();
    assert!(link.ends_with("/api/v1/pool/snapshots/4"), "{link}");
    let since = get_ok(&app, "/api/v1/pool/changes.atom?since=3")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(since.matches("<entry>").count(), 1);
    let bans = get_ok(&app, "/api/v1/bans/changes.atom")
        .await
        .text()
        .await
        .unwrap();
    assert!(roxmltree::Document::parse(&bans).is_ok());
    assert_eq!(bans.matches("<entry>").count(), 1);
}

/// Runs `provider-registry verify-snapshot` (the built binary) on `file`.
fn verify_cli(
    file: &std::path::Path,
    key: &std::path::Path,
    previous: Option<&std::path::Path>,
) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_provider-registry"));
    cmd.arg("verify-snapshot").arg(file).arg("--key").arg(key);
    if let Some(p) = previous {
        cmd.arg("--previous").arg(p);
    }
    cmd.env_remove("REGISTRY_ENV").output().unwrap()
}

/// `openssl pkeyutl -verify -pubin -inkey KEY -rawin -in FILE -sigfile SIG` (OpenSSL 3).
fn verify_openssl(file: &std::path::Path, sig: &std::path::Path, key: &std::path::Path) -> bool {
    let out = std::process::Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(key)
        .arg("-rawin")
        .arg("-in")
        .arg(file)
        .arg("-sigfile")
        .arg(sig)
        .output()
        .expect("openssl 3 on PATH");
    out.status.success()
}

#[tokio::test]
async fn a_snapshot_verifies_with_the_cli_and_openssl_and_a_changed_byte_fails_both() {
    let app = TestApp::spawn().await;
    let entries = history(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let list = json_of(&app, "/api/v1/pool/snapshots").await;
    assert_eq!(list["current_version"], 4);
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
    let key_id = list["key_id"].as_str().unwrap().to_owned();
    let key = dir.path().join("key.pem");
    let pem = get_ok(&app, &format!("/api/v1/pool/keys/{key_id}"))
        .await
        .text()
        .await
        .unwrap();
    std::fs::write(&key, &pem).unwrap();
    let keys = json_of(&app, "/api/v1/pool/keys").await;
    assert_eq!(keys["current"], key_id.as_str());
    assert_eq!(keys["keys"][0]["public_key_pem"], pem.as_str());

    let mut files = Vec::new();
    for version in 1..=4 {
        let res = get_ok(&app, &format!("/api/v1/pool/snapshots/{version}")).await;
        assert_eq!(res.headers()["x-snapshot-key-id"], key_id.as_str());
        let bytes = res.bytes().await.unwrap();
        let sig = get_ok(&app, &format!("/api/v1/pool/snapshots/{version}/signature"))
            .await
            .bytes()
            .await
            .unwrap();
        assert_eq!(sig.len(), 64);
        let file = dir.path().join(format!("pool-{version}.json"));
        std::fs::write(&file, &bytes).unwrap();
        std::fs::write(dir.path().join(format!("pool-{version}.json.sig")), &sig).unwrap();
        // The same bytes on every request.
        let again = get_ok(&app, &format!("/api/v1/pool/snapshots/{version}"))
            .await
            .bytes()
            .await
            .unwrap();
        assert_eq!(bytes, again);
        files.push(file);
    }
    // Version 3 holds all three members, version 4 the two left; the chain links them.
    let v3: Value = serde_json::from_slice(&std::fs::read(&files[2]).unwrap()).unwrap();
    let v4: Value = serde_json::from_slice(&std::fs::read(&files[3]).unwrap()).unwrap();
    assert_eq!(v3["count"], 3);
    assert_eq!(v4["count"], 2);
    let ids: Vec<i64> = v4["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![entries[1], entries[2]]);
    assert_eq!(list["items"][2]["sha256"], v4["previous_sha256"]);
    use sha2::Digest;
    let h3 = hex::encode(sha2::Sha256::digest(std::fs::read(&files[2]).unwrap()));
    assert_eq!(list["items"][2]["sha256"], h3.as_str());
    assert_eq!(v3["previous_sha256"], list["items"][1]["sha256"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&std::fs::read(&files[0]).unwrap()).unwrap()["previous_sha256"],
        Value::Null
    );

    for (i, file) in files.iter().enumerate() {
        let sig = dir.path().join(format!("pool-{}.json.sig", i + 1));
        let out = verify_cli(file, &key, (i > 0).then(|| files[i - 1].as_path()));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("pool version {}", i + 1)));
        assert!(
            verify_openssl(file, &sig, &key),
            "openssl, version {}",
            i + 1
        );
    }

    // One changed byte (a digit of a credit code) fails both.
    let mut tampered = std::fs::read(&files[3]).unwrap();
    let at = tampered.windows(6).position(|w| w == b"\"uscc\"").unwrap() + 9;
    tampered[at] = if tampered[at] == b'1' { b'2' } else { b'1' };
    let bad = dir.path().join("pool-4-tampered.json");
    std::fs::write(&bad, &tampered).unwrap();
    let sig4 = dir.path().join("pool-4.json.sig");
    std::fs::copy(&sig4, dir.path().join("pool-4-tampered.json.sig")).unwrap();
    let out = verify_cli(&bad, &key, None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("signature does not match"));
    assert!(!verify_openssl(&bad, &sig4, &key));
    // The wrong previous snapshot fails the chain check.
    let out = verify_cli(&files[3], &key, Some(&files[1]));
    assert!(!out.status.success());

    // The ban list is signed the same way.
    let ban = get_ok(&app, "/api/v1/bans/snapshots/1")
        .await
        .bytes()
        .await
        .unwrap();
    let ban_sig = get_ok(&app, "/api/v1/bans/snapshots/1/signature")
        .await
        .bytes()
        .await
        .unwrap();
    let ban_file = dir.path().join("bans-1.json");
    std::fs::write(&ban_file, &ban).unwrap();
    std::fs::write(dir.path().join("bans-1.json.sig"), &ban_sig).unwrap();
    assert!(verify_cli(&ban_file, &key, None).status.success());
    assert!(verify_openssl(
        &ban_file,
        &dir.path().join("bans-1.json.sig"),
        &key
    ));
    let bans: Value = serde_json::from_slice(&ban).unwrap();
    assert_eq!(bans["list"], "bans");
    assert_eq!(bans["items"][0]["may_apply_from"], "2029-03-13");
    // No version 5 yet.
    assert_eq!(
        app.get("/api/v1/pool/snapshots/5")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

// ---- the XLSX export ----------------------------------------------------------------------

/// An 18-digit credit code of digits only: a spreadsheet that reads it as a number loses digits.
const NUMERIC_USCC: &str = "914501007083294563";
const LANDLINE: &str = "07711234567";
const FORMULA_ADDRESS: &str = "=HYPERLINK(\"http://evil.example\",\"点击\")";

/// Two pool members inside the validity; the first gets an all-numeric code, a landline and a
/// formula-like address. Returns the first's name.
async fn exported_members(app: &TestApp) -> String {
    app.set_clock(START).await;
    let round = app.open_round().await;
    let (first, _, _) = flow::seed_pool_member(app, 1, round, ITEMS).await;
    flow::seed_pool_member(app, 2, round, &["arts.dance"]).await;
    app.sql(&format!(
        "UPDATE institutions SET uscc = '{NUMERIC_USCC}', contact_mobile = '{LANDLINE}', \
         registered_address = '{}' WHERE id = {}",
        FORMULA_ADDRESS.replace('\'', "''"),
        first.institution_id
    ))
    .await;
    app.set_clock("2026-09-10T10:00:00+08:00").await;
    first.name
}

async fn xlsx_of(app: &TestApp, query: &str) -> Vec<u8> {
    let res = get_ok(app, &format!("/api/v1/pool/export.xlsx{query}")).await;
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    res.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn the_xlsx_export_has_text_codes_date_cells_and_the_search_filters() {
    use calamine::{Data, DataType, Reader, Xlsx};
    let app = TestApp::spawn().await;
    let name = exported_members(&app).await;
    let read = |bytes: Vec<u8>| {
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        book.worksheet_range("备选库").unwrap()
    };
    let sheet = read(xlsx_of(&app, "").await);
    assert_eq!(sheet.height(), 3, "header and two members");
    assert_eq!(
        sheet.get((0, 2)),
        Some(&Data::String("统一社会信用代码".into()))
    );
    let row = (1..3)
        .find(|r| sheet.get((*r, 1)) == Some(&Data::String(name.clone())))
        .expect("the first member's row");
    assert_eq!(
        sheet.get((row, 2)),
        Some(&Data::String(NUMERIC_USCC.into()))
    );
    assert_eq!(sheet.get((row, 7)), Some(&Data::String(LANDLINE.into())));
    assert_eq!(
        sheet.get((row, 5)),
        Some(&Data::String(FORMULA_ADDRESS.into()))
    );
    let valid_from = sheet.get((row, 11)).unwrap();
    assert!(valid_from.is_datetime(), "{valid_from:?}");
    assert_eq!(
        valid_from.as_date(),
        chrono::NaiveDate::from_ymd_opt(2026, 9, 1)
    );
    assert_eq!(
        sheet.get((row, 12)).unwrap().as_date(),
        chrono::NaiveDate::from_ymd_opt(2028, 8, 31)
    );
    // The search's filters: a category, and the search's refusals.
    let arts = read(xlsx_of(&app, "?category=arts").await);
    assert_eq!(arts.height(), 2);
    assert_eq!(arts.get((1, 9)), Some(&Data::String("arts.dance".into())));
    let res = app
        .get("/api/v1/pool/export.xlsx?category=math")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// The same workbook read by openpyxl (`scripts/opendata/check_xlsx.py`), a third-party reader.
/// `.ci/run` makes the virtualenv and passes its Python in `OPENPYXL_PYTHON`.
#[tokio::test]
#[ignore = "needs OPENPYXL_PYTHON (a Python with openpyxl); .ci/run provides it"]
async fn openpyxl_reads_the_xlsx_export_with_the_code_as_text_and_chinese_intact() {
    let python = std::env::var("OPENPYXL_PYTHON").expect(
        "OPENPYXL_PYTHON must name a Python with openpyxl (scripts/opendata/requirements.txt)",
    );
    let app = TestApp::spawn().await;
    let name = exported_members(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pool.xlsx");
    std::fs::write(&file, xlsx_of(&app, "").await).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/opendata/check_xlsx.py"
    );
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(&file)
        .args([
            NUMERIC_USCC,
            &name,
            LANDLINE,
            "2026-09-01",
            "2028-08-31",
            FORMULA_ADDRESS,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
}

#[tokio::test]
async fn extreme_paging_values_answer_an_empty_page_not_a_server_error() {
    let app = TestApp::spawn().await;
    for list in ["pool", "bans"] {
        for path in [
            format!(
                "/api/v1/{list}/snapshots?since=9223372036854775807&limit=-9223372036854775808"
            ),
            format!("/api/v1/{list}/snapshots?since=9223372036854775807&limit=9223372036854775807"),
            format!("/api/v1/{list}/changes?since=9223372036854775807&limit=9223372036854775807"),
        ] {
            let page = json_of(&app, &path).await;
            let items = page["items"].as_array().or(page["changes"].as_array());
            assert!(items.is_some_and(Vec::is_empty), "{path}: {page}");
        }
    }
}
