//! Blacklists (黑名单) imported by reviewers as CSV, one list per source; applicants on a list
//! are refused at submission and pool members on it get an exit case (ground `blacklisted`).
//!
//! The file is parsed completely before anything is written (RFC 4180: header
//! `uscc,name,source,listed_on,reason`, fields optionally in double quotes with `""` for a
//! quote, UTF-8 with or without BOM). Any bad line makes the whole import fail with every
//! problem listed by line number and field; otherwise the source's previous list is replaced
//! in one transaction.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit;
use crate::auth::Ctx;
use crate::credentials::Uscc;
use crate::db::columns::UtcTime;
use crate::db::schema::blacklist_entries;
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};

pub const COLUMNS: [&str; 5] = ["uscc", "name", "source", "listed_on", "reason"];

/// One valid row of a blacklist file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub uscc: String,
    pub name: String,
    pub source: String,
    pub listed_on: NaiveDate,
    pub reason: String,
}

/// One problem of a blacklist file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LineIssue {
    /// 1-based line number in the file (the header is line 1).
    pub line: usize,
    /// The column (`uscc`, `listed_on`, …), or `line` for the whole line.
    pub field: String,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

fn issue(line: usize, field: &str, code: &str, zh: String, en: String) -> LineIssue {
    LineIssue {
        line,
        field: field.to_owned(),
        code: code.to_owned(),
        message_zh: zh,
        message_en: en,
    }
}

/// Splits the text into records `(first line number, fields)`, or a quoting problem per record.
/// The `csv` crate reads the records (RFC 4180, CRLF or LF, blank lines skipped); it accepts
/// stray quotes, so each record's raw text is checked to be its fields written back strictly
/// (see [`strictly_quoted`]).
fn records(text: &str) -> Vec<(usize, Result<Vec<String>, LineIssue>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    // Line numbers are counted here: the reader's own count lags behind a CRLF.
    let (mut line, mut counted) = (1, 0);
    loop {
        let from = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
        let read = reader.read_record(&mut record);
        let to = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
        let span = text.get(from..to).unwrap_or("");
        let raw = span.trim_start_matches(['\r', '\n']);
        let start = from + (span.len() - raw.len());
        line += text.get(counted..start).unwrap_or("").matches('\n').count();
        counted = start;
        match read {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                out.push((line, Err(bad_quoting(line, &e.to_string()))));
                break;
            }
        }
        let fields: Vec<String> = record.iter().map(str::to_owned).collect();
        if fields.len() == 1 && fields[0].trim().is_empty() {
            continue;
        }
        if strictly_quoted(raw, &fields) {
            out.push((line, Ok(fields)));
        } else {
            out.push((line, Err(bad_quoting(line, ""))));
        }
    }
    out
}

fn bad_quoting(line: usize, detail: &str) -> LineIssue {
    issue(
        line,
        "line",
        "bad_quoting",
        format!("引号使用不当（引号须包住整个字段，字段内的引号写作两个引号）。{detail}"),
        format!(
            "Bad quoting (quotes must enclose a whole field; a quote inside is written twice). {detail}"
        )
        .trim_end()
        .to_owned(),
    )
}

/// Whether `raw` (one record's text with its line end) is exactly `fields` separated by commas,
/// each either bare (no quote in it) or wholly in double quotes with inner quotes doubled: the
/// `csv` crate reads `"a"b` as `ab` and an unclosed quote as the rest of the file, both refused
/// here.
fn strictly_quoted(raw: &str, fields: &[String]) -> bool {
    let mut rest = raw;
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            let Some(r) = rest.strip_prefix(',') else {
                return false;
            };
            rest = r;
        }
        let quoted = format!("\"{}\"", f.replace('"', "\"\""));
        if let Some(r) = rest.strip_prefix(quoted.as_str()) {
            rest = r;
        } else if let Some(r) = rest.strip_prefix(f.as_str()).filter(|_| !f.contains('"')) {
            rest = r;
        } else {
            return false;
        }
    }
    rest.chars().all(|c| c == '\r' || c == '\n')
}

/// Parses a whole file for `source`: every valid row, or every problem.
pub fn parse(bytes: &[u8], source: &str) -> Result<Vec<Row>, Vec<LineIssue>> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(vec![issue(
            1,
            "line",
            "not_utf8",
            "文件不是 UTF-8 编码。".into(),
            "The file is not UTF-8.".into(),
        )]);
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut recs = records(text).into_iter();
    let mut issues = Vec::new();
    match recs.next() {
        Some((_, Ok(h)))
            if h.len() == COLUMNS.len()
                && h.iter()
                    .zip(COLUMNS)
                    .all(|(a, b)| a.trim().eq_ignore_ascii_case(b)) => {}
        Some((line, _)) => issues.push(issue(
            line,
            "line",
            "bad_header",
            format!("表头应为 {}。", COLUMNS.join(",")),
            format!("The header must be {}.", COLUMNS.join(",")),
        )),
        None => issues.push(issue(
            1,
            "line",
            "empty_file",
            "文件为空。".into(),
            "The file is empty.".into(),
        )),
    }
    let mut rows: Vec<Row> = Vec::new();
    for (line, rec) in recs {
        let fields = match rec {
            Ok(f) => f,
            Err(e) => {
                issues.push(e);
                continue;
            }
        };
        if fields.len() != COLUMNS.len() {
            issues.push(issue(
                line,
                "line",
                "wrong_column_count",
                format!("应有 {} 列，实有 {} 列。", COLUMNS.len(), fields.len()),
                format!(
                    "Expected {} columns, found {}.",
                    COLUMNS.len(),
                    fields.len()
                ),
            ));
            continue;
        }
        let f: Vec<&str> = fields.iter().map(|s| s.trim()).collect();
        let before = issues.len();
        // The rule of every input channel: no control characters (lines only in `reason`).
        for (value, col) in fields.iter().zip(COLUMNS) {
            let multiline = crate::http::input::is_multiline(col);
            if let Some((position, c)) = crate::http::input::find(value, multiline) {
                let refused = crate::http::input::issue(col, position, c);
                issues.push(issue(
                    line,
                    col,
                    "control_character",
                    refused.message.zh.into_owned(),
                    refused.message.en.into_owned(),
                ));
            }
        }
        for (i, col) in COLUMNS.iter().enumerate() {
            if f[i].is_empty() {
                issues.push(issue(
                    line,
                    col,
                    "missing_value",
                    format!("缺少 {col}。"),
                    format!("{col} is missing."),
                ));
            }
        }
        let uscc = match Uscc::parse(f[0]) {
            Ok(u) => Some(u.as_str().to_owned()),
            Err(_) if f[0].is_empty() => None,
            Err(e) => {
                let reasons: Vec<&str> = e.reasons.iter().map(|r| r.code()).collect();
                issues.push(issue(
                    line,
                    "uscc",
                    "invalid_uscc",
                    format!("统一社会信用代码无效（{}）。", reasons.join("、")),
                    format!("Invalid credit code ({}).", reasons.join(", ")),
                ));
                None
            }
        };
        if !f[2].is_empty() && f[2] != source {
            issues.push(issue(
                line,
                "source",
                "source_mismatch",
                format!("来源“{}”与导入的来源“{source}”不符。", f[2]),
                format!(
                    "Source “{}” differs from the imported source “{source}”.",
                    f[2]
                ),
            ));
        }
        let listed_on = match NaiveDate::parse_from_str(f[3], "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) if f[3].is_empty() => None,
            Err(_) => {
                issues.push(issue(
                    line,
                    "listed_on",
                    "invalid_date",
                    format!("日期“{}”无效，应为 YYYY-MM-DD。", f[3]),
                    format!("Date “{}” is invalid; use YYYY-MM-DD.", f[3]),
                ));
                None
            }
        };
        if let Some(u) = &uscc
            && let Some(first) = rows.iter().find(|r| &r.uscc == u)
        {
            issues.push(issue(
                line,
                "uscc",
                "duplicate_uscc",
                format!("与第 {} 行重复。", first.line),
                format!("Duplicates line {}.", first.line),
            ));
        }
        if let (Some(uscc), Some(listed_on), true) = (uscc, listed_on, issues.len() == before) {
            rows.push(Row {
                line,
                uscc,
                name: f[1].to_owned(),
                source: f[2].to_owned(),
                listed_on,
                reason: f[4].to_owned(),
            });
        }
    }
    if issues.is_empty() {
        Ok(rows)
    } else {
        Err(issues)
    }
}

/// The 422 of a malformed file: every problem in `errors` (field `line N: column`) and in
/// `extra.lines`.
pub fn malformed(issues: Vec<LineIssue>) -> ApiError {
    let errors = issues
        .iter()
        .map(|i| {
            FieldIssue::new(
                format!("line {}: {}", i.line, i.field),
                i.code.clone(),
                Msg::new(
                    format!("第 {} 行：{}", i.line, i.message_zh),
                    format!("Line {}: {}", i.line, i.message_en),
                ),
            )
        })
        .collect();
    ApiError::rule(
        "blacklist_malformed",
        format!("黑名单文件有 {} 处错误，未导入任何记录。", issues.len()),
        format!(
            "The blacklist file has {} problems; nothing was imported.",
            issues.len()
        ),
    )
    .with_errors(errors)
    .with_extra(serde_json::json!({ "lines": issues }))
}

/// Replaces `source`'s list with `rows`; returns how many entries it had before. Audited.
pub fn replace(conn: &mut DbConn, ctx: &Ctx, source: &str, rows: &[Row]) -> ApiResult<usize> {
    let removed =
        diesel::delete(blacklist_entries::table.filter(blacklist_entries::source.eq(source)))
            .execute(conn)?;
    let now = db_time(ctx.now);
    // One INSERT per row: multi-row inserts are not portable through the MultiConnection.
    for r in rows {
        diesel::insert_into(blacklist_entries::table)
            .values((
                blacklist_entries::source.eq(source),
                blacklist_entries::uscc.eq(&r.uscc),
                blacklist_entries::name.eq(&r.name),
                blacklist_entries::listed_on.eq(r.listed_on),
                blacklist_entries::reason.eq(&r.reason),
                blacklist_entries::imported_at.eq(now),
            ))
            .execute(conn)?;
    }
    audit::record(
        conn,
        ctx,
        "blacklist.imported",
        "blacklist",
        source,
        serde_json::json!({ "source": source, "entries": rows.len(), "replaced": removed }),
    )?;
    Ok(removed)
}

/// The sources whose list names this credit code.
pub fn sources_listing(conn: &mut DbConn, uscc: &str) -> ApiResult<Vec<String>> {
    Ok(blacklist_entries::table
        .filter(blacklist_entries::uscc.eq(uscc))
        .order(blacklist_entries::source.asc())
        .select(blacklist_entries::source)
        .load(conn)?)
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = blacklist_entries)]
pub struct Entry {
    pub id: i64,
    pub source: String,
    pub uscc: String,
    pub name: String,
    pub listed_on: NaiveDate,
    pub reason: String,
    #[diesel(deserialize_as = chrono::NaiveDateTime)]
    #[schema(value_type = String, format = DateTime)]
    pub imported_at: UtcTime,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntryFilter {
    pub source: Option<String>,
    pub uscc: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    filter: &EntryFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(Vec<Entry>, i64)> {
    let query = || {
        let mut q = blacklist_entries::table.into_boxed();
        if let Some(s) = &filter.source {
            q = q.filter(blacklist_entries::source.eq(s.clone()));
        }
        if let Some(u) = &filter.uscc {
            q = q.filter(blacklist_entries::uscc.eq(u.trim().to_ascii_uppercase()));
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let items = query()
        .order((blacklist_entries::source.asc(), blacklist_entries::id.asc()))
        .offset(offset)
        .limit(limit)
        .select(Entry::as_select())
        .load(conn)?;
    Ok((items, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "91450103MA5L123454";

    fn codes(text: &str) -> Vec<(usize, String, String)> {
        match parse(text.as_bytes(), "市场监管") {
            Ok(_) => vec![],
            Err(e) => e.into_iter().map(|i| (i.line, i.field, i.code)).collect(),
        }
    }

    #[test]
    fn a_good_file_parses_with_quotes_bom_and_crlf() {
        let text = format!(
            "\u{feff}uscc,name,source,listed_on,reason\r\n{GOOD},\"某某, 有限公司\",市场监管,2026-05-01,\"严重违法 \"\"失信\"\"\"\r\n\r\n"
        );
        let rows = parse(text.as_bytes(), "市场监管").unwrap_or_default();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "某某, 有限公司");
        assert_eq!(rows[0].reason, "严重违法 \"失信\"");
        assert_eq!(rows[0].line, 2);
    }

    #[test]
    fn every_bad_line_is_reported_with_its_field() {
        let text = format!(
            "uscc,name,source,listed_on,reason\n\
             91450103MA5L123455,甲,市场监管,2026-05-01,r\n\
             {GOOD},乙,市场监管,2026-02-30,r\n\
             {GOOD},丙,市场监管\n\
             {GOOD},\"丁\"x,市场监管,2026-05-01,r\n\
             {GOOD},戊,民政,2026-05-01,r\n\
             {GOOD},,市场监管,2026-05-01,r\n\
             {GOOD},己,市场监管,2026-05-01,\"unterminated\n"
        );
        let got = codes(&text);
        let want = [
            (2, "uscc", "invalid_uscc"),
            (3, "listed_on", "invalid_date"),
            (4, "line", "wrong_column_count"),
            (5, "line", "bad_quoting"),
            (6, "source", "source_mismatch"),
            (7, "name", "missing_value"),
            (8, "line", "bad_quoting"),
        ];
        for (line, field, code) in want {
            assert!(
                got.iter()
                    .any(|(l, f, c)| *l == line && f == field && c == code),
                "{line} {field} {code}: {got:?}"
            );
        }
    }

    #[test]
    fn control_characters_are_refused_and_only_the_reason_may_span_lines() {
        let text = format!(
            "uscc,name,source,listed_on,reason\r\n\
             {GOOD},\"某\u{0}机构\",市场监管,2026-05-01,\"第一行\n第二行\"\r\n"
        );
        assert_eq!(
            codes(&text),
            vec![(2, "name".to_owned(), "control_character".to_owned())]
        );
        let fine = format!(
            "uscc,name,source,listed_on,reason\r\n{GOOD},某机构,市场监管,2026-05-01,\"第一行\n第二行\"\r\n"
        );
        assert!(codes(&fine).is_empty(), "{:?}", codes(&fine));
    }

    #[test]
    fn a_wrong_header_or_a_duplicate_is_refused() {
        assert_eq!(codes("a,b\n")[0].2, "bad_header");
        let dup = format!(
            "uscc,name,source,listed_on,reason\n{GOOD},a,市场监管,2026-05-01,r\n{GOOD},b,市场监管,2026-05-01,r\n"
        );
        assert_eq!(
            codes(&dup),
            vec![(3, "uscc".into(), "duplicate_uscc".into())]
        );
    }
}
