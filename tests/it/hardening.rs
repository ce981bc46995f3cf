//! Input and output hardening (ASVS V5, V13, V14) through HTTP, on SQLite and on PostgreSQL
//! (`TEST_DATABASE_URL`): control characters refused in every input channel with 422
//! `control_character` before anything is stored (NUL was a 500 on PostgreSQL and stored as is
//! on SQLite), the CSV export without live formulas and with its codes kept as text, and the
//! password policy wherever a password is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::flow::{self, Applicant};
use crate::common::{PASSWORD, TestApp, assert_problem, fixture};
use provider_registry::auth::Role;
use provider_registry::credentials::uscc::Uscc;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ITEMS: &[&str] = &["sports.basketball"];

/// The `errors[]` of a problem as `field:code`.
fn field_errors(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["field"].as_str().unwrap(),
                e["code"].as_str().unwrap()
            )
        })
        .collect()
}

/// Asserts a 422 `control_character` naming exactly `fields`.
async fn refused(res: reqwest::Response, fields: &[&str]) -> Value {
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "control_character").await;
    let expected: Vec<String> = fields
        .iter()
        .map(|f| format!("{f}:control_character"))
        .collect();
    assert_eq!(field_errors(&body), expected, "{body}");
    body
}

async fn count(app: &TestApp, table: &str) -> i64 {
    app.sql_i64(&format!("SELECT COUNT(*) AS value FROM {table}"))
        .await
}

// ---- control characters ---------------------------------------------------------------------

/// An application in an open notice: `(notice id, application id)`.
async fn open_notice(app: &TestApp) -> (i64, i64) {
    app.set_clock("2026-03-02T09:00:00+08:00").await;
    let round = app.open_round().await;
    let (_, application) = flow::approved(app, 1, round, ITEMS).await;
    let notice = flow::publish(app, &[application], "2026-03-02").await;
    (notice["id"].as_i64().unwrap(), application)
}

fn objection(application: i64, name: &str, grounds: &str) -> Value {
    json!({
        "application_id": application,
        "name": name,
        "mobile": "13912345678",
        "grounds": grounds,
    })
}

const GROUNDS: &str = "该机构的篮球教练并未持有有效的教师资格证书，与公示材料不符。";

#[tokio::test]
async fn a_public_objection_with_nul_is_refused_by_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let (notice, application) = open_notice(&app).await;
    let path = format!("/api/v1/notices/{notice}/objections");

    // JSON: NUL in a single-line and in a multi-line field, a line break in a one-line name.
    let res = app
        .post(&path)
        .json(&objection(
            application,
            "赵\u{0}六",
            &format!("{GROUNDS}\u{0}"),
        ))
        .send()
        .await
        .unwrap();
    let body = refused(res, &["grounds", "name"]).await;
    assert!(
        !body.to_string().contains('\u{0}'),
        "the value is not echoed"
    );
    let res = app
        .post(&path)
        .json(&objection(application, "赵\n六", GROUNDS))
        .send()
        .await
        .unwrap();
    refused(res, &["name"]).await;
    // DEL and C1 controls (U+0085 is a line break to log viewers) are refused too.
    for bad in ["赵\u{7f}六", "赵\u{85}六", "赵\u{9b}六"] {
        let res = app
            .post(&path)
            .json(&objection(application, bad, GROUNDS))
            .send()
            .await
            .unwrap();
        refused(res, &["name"]).await;
    }
    // The same objection as a multipart form (the evidence form), and a control character in
    // a JSON key.
    let form = reqwest::multipart::Form::new()
        .text("application_id", application.to_string())
        .text("name", "钱\u{0}七")
        .text("mobile", "13612345678")
        .text("grounds", GROUNDS)
        .part(
            "evidence",
            reqwest::multipart::Part::bytes(fixture("pdf/chromium.pdf")).file_name("证据.pdf"),
        );
    let res = app.post(&path).multipart(form).send().await.unwrap();
    refused(res, &["name"]).await;
    let res = app
        .post(&path)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"application_id":{application},"name":"赵六","mobile":"13912345678","grounds":"{GROUNDS}","x\u0000":1}}"#
        ))
        .send()
        .await
        .unwrap();
    refused(res, &["x\\u{0}"]).await;
    // The path parameter is checked like the body.
    let res = app
        .post(&format!("/api/v1/notices/{notice}%00/objections"))
        .json(&objection(application, "赵六", GROUNDS))
        .send()
        .await
        .unwrap();
    refused(res, &["id"]).await;

    assert_eq!(count(&app, "objections").await, 0);
    assert_eq!(
        count(&app, "documents WHERE kind = 'objection_evidence'").await,
        0
    );

    // Tabs and line breaks are kept in multi-line text.
    let grounds = format!("{GROUNDS}\n\t一、资格证书编号查询不到；\r\n\t二、授课记录与公示不符。");
    let res = app
        .post(&path)
        .json(&objection(application, "赵六", &grounds))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let list: Value = app
        .as_role(
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
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["grounds"], grounds.as_str());
}

#[tokio::test]
async fn nul_in_a_query_or_path_parameter_is_refused_by_its_name_on_every_route() {
    let app = TestApp::spawn().await;
    for (path, field) in [
        ("/api/v1/pool?q=%00", "q"),
        ("/api/v1/pool?q=%E5%8D%97%0A", "q"),
        ("/api/v1/pool?district=%C2%85", "district"),
        ("/api/v1/pool/export.csv?q=a%09b", "q"),
        ("/api/v1/institutions/status?uscc=%00", "uscc"),
        ("/api/v1/identifiers/uscc/91450103MA5L12345%00", "code"),
        ("/api/v1/pool?%00=1", "\\u{0}"),
    ] {
        let res = app.get(path).send().await.unwrap();
        refused(res, &[field]).await;
    }
    // The refusal speaks the client's language like every other problem.
    let res = app
        .get("/api/v1/pool?q=%00")
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let body = refused(res, &["q"]).await;
    assert!(
        body["detail"].as_str().unwrap().starts_with("The request"),
        "{body}"
    );
    // Ordinary searches, with encoded Chinese and spaces, still work.
    let res = app
        .get("/api/v1/pool?q=%E5%8D%97%E5%AE%81+%E4%B8%AD%E5%BF%83")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn nul_in_the_institution_profile_is_refused_and_the_profile_is_unchanged() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Institution).await;
    let profile = |address: &str, person: &str| {
        json!({
            "registration_kind": "business_licence",
            "registration_number": "91450103MA5L123454",
            "issuing_authority": "南宁市青秀区市场监督管理局",
            "authority_level": "county",
            "registered_address": address,
            "district": "青秀区",
            "legal_rep_name": "张三",
            "legal_rep_id": {"kind": "resident_id", "number": flow::resident_id(7)},
            "contact_person": person,
            "contact_mobile": "13800771234",
        })
    };
    for (address, person, fields) in [
        ("南宁市\u{0}青秀区", "王经理", vec!["registered_address"]),
        (
            "南宁市青秀区\n民族大道",
            "王\u{85}经理",
            vec!["contact_person", "registered_address"],
        ),
        (
            "南宁市青秀区\t民族大道",
            "王经理",
            vec!["registered_address"],
        ),
    ] {
        let res = app
            .put("/api/v1/institutions/me")
            .bearer_auth(&token)
            .json(&profile(address, person))
            .send()
            .await
            .unwrap();
        let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "control_character").await;
        let mut got = field_errors(&body);
        got.sort();
        let expected: Vec<String> = fields
            .iter()
            .map(|f| format!("{f}:control_character"))
            .collect();
        assert_eq!(got, expected);
    }
    let me: Value = app
        .get("/api/v1/institutions/me")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["registered_address"], Value::Null, "{me}");
    assert_eq!(me["contact_person"], Value::Null, "{me}");
    assert_eq!(
        count(
            &app,
            "audit_events WHERE action = 'institution.profile_updated'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn multipart_and_csv_text_fields_follow_the_same_rule() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Institution).await;
    let res = app
        .upload(
            &token,
            "service_plan\u{0}",
            "plan.pdf",
            fixture("pdf/chromium.pdf"),
        )
        .await;
    refused(res, &["kind"]).await;
    assert_eq!(count(&app, "documents").await, 0);

    let blacklist = "uscc,name,source,listed_on,reason\r\n\
                     91450103MA5L123454,\"某\u{0}机构\",市场监管,2026-05-01,\"第一行\n第二行\"\r\n";
    let res = app
        .as_role(
            Role::Reviewer,
            Method::PUT,
            "/api/v1/blacklist?source=市场监管",
        )
        .await
        .header("content-type", "text/csv")
        .body(blacklist)
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "blacklist_malformed").await;
    assert_eq!(
        field_errors(&body),
        vec!["line 2: name:control_character"],
        "the reason may span lines"
    );
    let res = app
        .as_role(Role::Reviewer, Method::PUT, "/api/v1/blacklist?source=%00")
        .await
        .header("content-type", "text/csv")
        .body(blacklist.replace('\u{0}', ""))
        .send()
        .await
        .unwrap();
    refused(res, &["source"]).await;
    assert_eq!(count(&app, "blacklist_entries").await, 0);
}

// ---- the CSV export ---------------------------------------------------------------------------

/// Before the round's pool starts, then inside its validity.
const INTAKE: &str = "2026-06-01T10:00:00+08:00";
const IN_POOL: &str = "2026-09-10T10:00:00+08:00";

fn set_clock(app: &TestApp, now: &str) {
    let now = chrono::DateTime::parse_from_rfc3339(now).unwrap().to_utc();
    app.state.clock.settable().unwrap().set(now);
}

/// A valid credit code of digits only (check character a digit too).
fn all_digit_uscc() -> String {
    (1..)
        .filter_map(|n: u32| Uscc::complete(&format!("52450100{n:09}")))
        .find(|c| c.chars().all(|ch| ch.is_ascii_digit()))
        .unwrap()
}

const HOSTILE_ADDRESS: &str = r#"=HYPERLINK("http://evil.example/","点击查看")"#;

/// A pool member whose address is a formula (set through the API: it is legitimate text) and
/// whose credit code is all digits; returns it, its code and the exported CSV.
async fn hostile_export(app: &TestApp) -> (Applicant, String, Vec<u8>) {
    set_clock(app, INTAKE);
    let round = app.open_round().await;
    let (member, _) = flow::seed_pool_entry(app, 1, round, ITEMS).await;
    let res = app
        .put("/api/v1/institutions/me")
        .bearer_auth(&member.token)
        .json(&json!({
            "registration_kind": "private_non_enterprise_certificate",
            "registration_number": "民证字第450100001号",
            "issuing_authority": "南宁市民政局",
            "authority_level": "city",
            "registered_address": HOSTILE_ADDRESS,
            "district": "青秀区",
            "legal_rep_name": "张三",
            "legal_rep_id": {"kind": "resident_id"},
            "contact_person": "-王经理",
            "contact_mobile": "13800771234",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let uscc = all_digit_uscc();
    app.sql(&format!(
        "UPDATE institutions SET uscc = '{uscc}' WHERE id = {}",
        member.institution_id
    ))
    .await;
    set_clock(app, IN_POOL);
    let res = app.get("/api/v1/pool/export.csv").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    (member, uscc, res.bytes().await.unwrap().to_vec())
}

/// RFC 4180 records of a CSV text (quotes, doubled quotes, line breaks inside quotes).
fn records(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

#[tokio::test]
async fn the_csv_export_has_no_live_formula_and_keeps_codes_as_text() {
    let app = TestApp::spawn().await;
    let (member, uscc, bytes) = hostile_export(&app).await;
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 byte-order mark");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'));
    let line = text
        .split("\r\n")
        .find(|l| l.starts_with(&format!("\"{}\",", member.institution_id)))
        .unwrap();
    // RFC 4180 quoting (every cell) of the neutralised address and of the tab-ended codes.
    assert!(
        line.contains(r#","'=HYPERLINK(""http://evil.example/"",""点击查看"")","#),
        "{line}"
    );
    assert!(line.contains(&format!(",\"{uscc}\t\",")), "{line}");
    assert!(line.contains(",\"13800771234\t\","), "{line}");
    assert!(line.contains(",\"'-王经理\","), "{line}");

    let rows = records(text);
    assert_eq!(rows[0][2], "统一社会信用代码");
    assert_eq!(rows[0][7], "联系电话");
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a cell a spreadsheet would run: {cell:?}"
            );
        }
    }
    let row = rows
        .iter()
        .find(|r| r[0] == member.institution_id.to_string())
        .unwrap();
    assert_eq!(row[2], format!("{uscc}\t"));
    assert_eq!(row[2].trim_end().len(), 18);
    assert_eq!(row[5], format!("'{HOSTILE_ADDRESS}"));
    assert_eq!(row[7], "13800771234\t");
}

/// Cells of the first sheet of a LibreOffice flat ODS document: (value type, formula, text).
fn fods_cells(doc: &str) -> Vec<Vec<(String, Option<String>, String)>> {
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[start..start + tag[start..].find('"')?].to_owned())
    };
    let unescape = |s: &str| {
        s.replace("<text:tab/>", "\t")
            .replace("&apos;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    doc.split("<table:table-row")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</table:table-row>").unwrap_or(row.len())];
            let mut cells = Vec::new();
            for cell in row.split("<table:table-cell").skip(1) {
                let tag = &cell[..cell.find('>').unwrap()];
                let repeat: usize =
                    attr(tag, "table:number-columns-repeated").map_or(1, |n| n.parse().unwrap());
                let text = cell
                    .split("<text:p>")
                    .skip(1)
                    .map(|p| unescape(&p[..p.find("</text:p>").unwrap()]))
                    .collect::<Vec<_>>()
                    .join("\n");
                let kind = attr(tag, "office:value-type").unwrap_or_default();
                for _ in 0..repeat.min(64) {
                    cells.push((kind.clone(), attr(tag, "table:formula"), text.clone()));
                }
            }
            cells
        })
        .collect()
}

/// Opens the export in LibreOffice Calc (headless, formulas evaluated: the worst case) and
/// reads the sheet it made. Needs `soffice` (Debian: libreoffice-calc-nogui); run with
/// `cargo nextest run --test it --run-ignored only hardening::`.
#[tokio::test]
#[ignore = "needs LibreOffice (soffice) on PATH"]
async fn libreoffice_opens_the_csv_export_with_text_codes_and_no_formula() {
    let app = TestApp::spawn().await;
    let (member, uscc, bytes) = hostile_export(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("pool.csv");
    std::fs::write(&csv, &bytes).unwrap();
    // UTF-8, comma, double quote, from line 1, English locale, quoted fields not forced to
    // text, special numbers detected, evaluate formulas.
    let filter =
        "Text - txt - csv (StarCalc):44,34,76,1,,1033,false,true,false,false,false,-1,true";
    let output = std::process::Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.path().join("profile").display()
        ))
        .arg("--headless")
        .arg(format!("--infilter={filter}"))
        .args(["--convert-to", "fods", "--outdir"])
        .arg(dir.path())
        .arg(&csv)
        .output()
        .expect("soffice (LibreOffice) must be installed for this test");
    assert!(output.status.success(), "{output:?}");
    let doc = std::fs::read_to_string(dir.path().join("pool.fods")).unwrap();
    assert!(!doc.contains("table:formula"), "no cell is a formula");
    let rows = fods_cells(&doc);
    assert_eq!(rows[0][2].2, "统一社会信用代码");
    let row = rows
        .iter()
        .find(|r| r[0].2 == member.institution_id.to_string())
        .unwrap();
    let (kind, formula, text) = &row[2];
    assert_eq!((kind.as_str(), formula), ("string", &None), "{row:?}");
    assert_eq!(text.trim_end(), uscc);
    assert_eq!(text.trim_end().chars().count(), 18);
    assert_eq!(row[5].0, "string");
    assert_eq!(row[5].2, format!("'{HOSTILE_ADDRESS}"));
    assert_eq!(
        (row[7].0.as_str(), row[7].2.as_str()),
        ("string", "13800771234\t")
    );
}

// ---- passwords --------------------------------------------------------------------------------

fn registration(email: &str, password: &str, n: u32) -> Value {
    json!({
        "email": email, "password": password, "display_name": "联系人",
        "institution_name": format!("南宁市第{n}艺术培训中心"), "uscc": flow::uscc(n),
        "entity_type": "private_non_enterprise_unit",
    })
}

/// A 422 whose first field error is `password` with `code` (the top-level code names the first
/// cause).
async fn password_refused(res: reqwest::Response, code: &str) {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        field_errors(&body),
        vec![format!("password:{code}")],
        "{body}"
    );
}

#[tokio::test]
async fn registration_refuses_short_and_common_passwords_and_counts_characters() {
    let app = TestApp::spawn().await;
    for (password, code) in [
        ("short-pw-11", "password_too_short"),
        ("Qwerty123456", "password_too_common"),
        ("PASSWORD1234", "password_too_common"),
        ("1q2w3e4r5t6y", "password_too_common"),
    ] {
        let res = app
            .post("/api/v1/auth/register")
            .json(&registration("new@example.cn", password, 31))
            .send()
            .await
            .unwrap();
        password_refused(res, code).await;
    }
    assert_eq!(count(&app, "users WHERE email = 'new@example.cn'").await, 0);
    // Twelve Chinese characters are twelve characters, whatever their bytes.
    let password = "课后服务机构备选库管理系";
    let res = app
        .post("/api/v1/auth/register")
        .json(&registration("new@example.cn", password, 31))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    app.login("new@example.cn", password).await;
}

#[tokio::test]
async fn admin_created_accounts_and_the_cli_refuse_common_passwords() {
    let app = TestApp::spawn().await;
    for (password, code) in [
        ("password1234", "password_too_common"),
        ("too-short", "password_too_short"),
    ] {
        let res = app
            .as_role(Role::Admin, Method::POST, "/api/v1/admin/users")
            .await
            .json(&json!({"email": "rev2@example.cn", "password": password,
                "role": "reviewer", "display_name": "审核员二"}))
            .send()
            .await
            .unwrap();
        password_refused(res, code).await;
    }
    let res = app
        .as_role(Role::Admin, Method::POST, "/api/v1/admin/users")
        .await
        .json(&json!({"email": "rev2@example.cn", "password": PASSWORD,
            "role": "reviewer", "display_name": "审核员二"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );

    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_provider-registry"))
        .args([
            "create-user",
            "--role",
            "admin",
            "--email",
            "cli@example.cn",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("REGISTRY_DATA_DIR", app.dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"QwertyUiop12\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr) + String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("password_too_common"), "{said}");
    assert_eq!(count(&app, "users WHERE email = 'cli@example.cn'").await, 0);
}
