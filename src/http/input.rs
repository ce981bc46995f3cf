//! No control characters in text input (ASVS V5.1.3/V5.1.4): one rule, checked once per input
//! channel before any handler or database sees the value, so SQLite and PostgreSQL behave
//! alike (PostgreSQL cannot store NUL in `text` and failed with 500; SQLite stored it as is).
//!
//! The rule ([`find`]): every control character (Unicode `Cc`: NUL and the other C0 controls
//! U+0000–U+001F, DEL U+007F and the C1 controls U+0080–U+009F) is refused, except that tab,
//! LF and CR are accepted in the free-text fields listed in [`MULTILINE_FIELDS`]. DEL and C1
//! are refused too: nobody types them, and some are line breaks or escapes to the programs
//! that later show the text (U+0085 NEL to log viewers, U+009B CSI to terminals).
//!
//! The channels:
//! - JSON bodies: [`check_json`] (called by [`crate::http::json::parse_json`], which every JSON
//!   body goes through) walks the parsed document, object keys included, and names each field by
//!   its JSON path;
//! - query strings and path segments of every route: the [`refuse_control_characters`]
//!   middleware names the query parameter, or the route's path parameter;
//! - multipart text fields (document `kind`, objection fields): [`form_text`];
//! - blacklist CSV cells: `sanctions::blacklist::parse` applies [`find`] to each cell.
//!
//! A refusal is 422 with the top-level `code` `control_character` and one `errors[]` entry per
//! offending field; the message names the character's position and code point, never the value.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use serde_json::Value;

use crate::error::{ApiError, ApiResult, FieldIssue, Msg};

/// The fields whose text may span lines (tab, LF and CR allowed), by their own name — the last
/// key of the JSON path, or the form / CSV column name: an objection's `grounds`; the `reasons`
/// of review decisions, objection resolutions and exit decisions (and the blacklist's `reason`
/// column); exit `statement`s; the `note` of a review decision or an exit verification; an
/// evaluation's `comment`; an application's `service_plan`. Every other text field is one line
/// (names, codes, numbers, e-mail addresses, telephone numbers, addresses, titles, filters).
pub const MULTILINE_FIELDS: [&str; 7] = [
    "grounds",
    "reasons",
    "reason",
    "statement",
    "note",
    "comment",
    "service_plan",
];

/// At most this many fields are listed in one refusal.
const MAX_ISSUES: usize = 20;

/// True when `field` (its own name, without path) is free text that may span lines.
pub fn is_multiline(field: &str) -> bool {
    MULTILINE_FIELDS.contains(&field)
}

/// The first refused character of `text` and its 1-based position (in characters), if any.
pub fn find(text: &str, multiline: bool) -> Option<(usize, char)> {
    text.chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !(multiline && matches!(c, '\t' | '\n' | '\r')))
        .map(|(i, c)| (i + 1, c))
}

/// The field issue for a refused character at `position` of `field`.
pub fn issue(field: impl Into<String>, position: usize, c: char) -> FieldIssue {
    let code_point = format!("U+{:04X}", u32::from(c));
    let message = if matches!(c, '\t' | '\n' | '\r') {
        Msg::new(
            format!("此字段须为单行文本，第 {position} 个字符是制表符或换行（{code_point}）。"),
            format!(
                "This field is a single line; character {position} is a tab or line break ({code_point})."
            ),
        )
    } else {
        Msg::new(
            format!("第 {position} 个字符是控制字符 {code_point}，不允许出现在文本中。"),
            format!(
                "Character {position} is the control character {code_point}, which text may not contain."
            ),
        )
    };
    FieldIssue::new(field, "control_character", message)
}

/// The 422 refusal listing `issues`.
pub fn refusal(mut issues: Vec<FieldIssue>) -> ApiError {
    issues.truncate(MAX_ISSUES);
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "control_character",
        Msg::new(
            "请求中含有不允许的控制字符（如 NUL），未做任何处理。",
            "The request holds control characters (such as NUL) that are not accepted; nothing was done.",
        ),
    )
    .with_errors(issues)
}

/// Checks one text value of `field` (named by its own name).
pub fn check(field: &str, text: &str) -> ApiResult<()> {
    match find(text, is_multiline(field)) {
        Some((position, c)) => Err(refusal(vec![issue(field, position, c)])),
        None => Ok(()),
    }
}

/// A field name fit to show: control characters (in an offending key) spelled as escapes.
fn printable(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

// ---- JSON bodies ------------------------------------------------------------------------------

/// Whether a JSON body can hold a control character at all: inside a JSON string a C0 control
/// can only be written escaped (a raw one is a syntax error), DEL and C1 can also be raw UTF-8.
/// Bodies without any of these skip the walk.
pub fn may_hold_control(body: &[u8]) -> bool {
    body.iter().any(|&b| b == b'\\' || b == 0x7f)
        || body
            .windows(2)
            .any(|w| w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1]))
}

/// Refuses a JSON document holding a control character in a key or a string (tab, LF and CR
/// allowed in the values of [`MULTILINE_FIELDS`]).
pub fn check_json(value: &Value) -> ApiResult<()> {
    let mut issues = Vec::new();
    walk(value, "", None, &mut issues);
    if issues.is_empty() {
        Ok(())
    } else {
        Err(refusal(issues))
    }
}

/// `key` is the name of the nearest enclosing object member (array elements inherit it).
fn walk(value: &Value, path: &str, key: Option<&str>, issues: &mut Vec<FieldIssue>) {
    if issues.len() >= MAX_ISSUES {
        return;
    }
    match value {
        Value::String(text) => {
            if let Some((position, c)) = find(text, key.is_some_and(is_multiline)) {
                issues.push(issue(path, position, c));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), key, issues);
            }
        }
        Value::Object(members) => {
            for (name, member) in members {
                let shown = printable(name);
                let child = if path.is_empty() {
                    shown
                } else {
                    format!("{path}.{shown}")
                };
                if let Some((position, c)) = find(name, false) {
                    issues.push(issue(child.clone(), position, c));
                    continue;
                }
                walk(member, &child, Some(name), issues);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

// ---- query strings and path segments ------------------------------------------------------------

/// Middleware in front of every route: refuses a request whose decoded query parameters
/// (names or values) or path segments hold a control character. All of them are single-line.
pub async fn refuse_control_characters<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let issues = uri_issues(&req);
    if !issues.is_empty() {
        return Ok(req.error_response(refusal(issues)).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

fn uri_issues(req: &ServiceRequest) -> Vec<FieldIssue> {
    let (path, query) = (req.path(), req.query_string());
    let mut issues = Vec::new();
    // A request line cannot carry raw control bytes (the HTTP parser refuses them): they can
    // only come percent-encoded.
    if path.contains('%') {
        let pattern = req.match_pattern();
        let names: Vec<&str> = pattern.as_deref().unwrap_or_default().split('/').collect();
        for (i, segment) in path.split('/').enumerate() {
            let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
            if let Some((position, c)) = find(&decoded, false) {
                issues.push(issue(path_parameter(names.get(i)), position, c));
            }
        }
    }
    if query.contains('%') {
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if let Some((position, c)) = find(&name, false) {
                issues.push(issue(printable(&name), position, c));
            } else if let Some((position, c)) = find(&value, false) {
                issues.push(issue(name.into_owned(), position, c));
            }
        }
    }
    issues
}

/// The name of a route's path parameter from its pattern segment (`{id}`, `{id:\d+}`), or
/// `path` for a literal segment or an unknown route.
fn path_parameter(pattern_segment: Option<&&str>) -> String {
    pattern_segment
        .and_then(|s| s.strip_prefix('{'))
        .and_then(|s| s.split([':', '}']).next())
        .filter(|name| !name.is_empty())
        .unwrap_or("path")
        .to_owned()
}

// ---- multipart text fields --------------------------------------------------------------------

/// A multipart text field's value: UTF-8 (400 `invalid_utf8` otherwise) without refused
/// control characters (422, naming the field by its form name).
pub fn form_text(name: &str, bytes: Vec<u8>) -> ApiResult<String> {
    let text = String::from_utf8(bytes).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_utf8",
            Msg::new(
                "表单字段须为 UTF-8 文本。",
                "Form fields must be UTF-8 text.",
            ),
        )
    })?;
    check(name, &text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(err: ApiError) -> (String, Vec<String>) {
        match err {
            ApiError::Problem(p) => (
                p.code.to_string(),
                p.errors
                    .iter()
                    .map(|e| format!("{}:{}", e.field, e.code))
                    .collect(),
            ),
            ApiError::Internal(_) => panic!("internal"),
        }
    }

    #[test]
    fn every_control_character_is_refused_and_only_multiline_text_keeps_tab_and_line_breaks() {
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let text = format!("ab{c}");
            let allowed_in_multiline = matches!(c, '\t' | '\n' | '\r');
            assert_eq!(find(&text, false), Some((3, c)), "{:X}", u32::from(c));
            assert_eq!(
                find(&text, true).is_none(),
                allowed_in_multiline,
                "{:X}",
                u32::from(c)
            );
        }
        for fine in [
            "南宁市青秀区民族大道1号",
            "O'Brien & Co. — «课后»",
            "\u{a0}\u{ad}\u{200b}",
        ] {
            assert_eq!(find(fine, false), None, "{fine}");
        }
    }

    #[test]
    fn the_json_walk_names_keys_and_values_by_path_and_allows_lines_in_free_text() {
        let body = json!({
            "name": "a\u{0}b",
            "grounds": "第一行\n第二行\t缩进\r\n",
            "teachers": [{"specialities": ["ok", "x\ny"]}],
            "bad\u{1}key": 1,
            "statement": "nul\u{0}",
        });
        let (code, mut issues) = fields(check_json(&body).unwrap_err());
        issues.sort();
        assert_eq!(code, "control_character");
        assert_eq!(
            issues,
            vec![
                "bad\\u{1}key:control_character",
                "name:control_character",
                "statement:control_character",
                "teachers[0].specialities[1]:control_character",
            ]
        );
        assert!(check_json(&json!({"grounds": "a\tb\nc", "reasons": "x\r\ny"})).is_ok());
    }

    #[test]
    fn the_prefilter_lets_through_every_body_that_could_hold_a_control_character() {
        assert!(!may_hold_control("{\"name\":\"南宁\"}".as_bytes()));
        assert!(may_hold_control(br#"{"name":"\u0000"}"#));
        assert!(may_hold_control("{\"name\":\"\u{85}\"}".as_bytes()));
        assert!(may_hold_control("{\"name\":\"\u{7f}\"}".as_bytes()));
    }

    #[test]
    fn path_parameters_are_named_from_the_route_pattern() {
        assert_eq!(path_parameter(Some(&"{id}")), "id");
        assert_eq!(path_parameter(Some(&"{code:[A-Z0-9]+}")), "code");
        assert_eq!(path_parameter(Some(&"pool")), "path");
        assert_eq!(path_parameter(None), "path");
    }

    #[test]
    fn form_text_must_be_utf8_without_control_characters() {
        assert_eq!(
            form_text("kind", b"service_plan".to_vec()).unwrap(),
            "service_plan"
        );
        assert_eq!(
            fields(form_text("kind", b"a\0".to_vec()).unwrap_err()),
            (
                "control_character".into(),
                vec!["kind:control_character".into()]
            )
        );
        assert!(form_text("grounds", b"a\nb".to_vec()).is_ok());
        assert_eq!(
            fields(form_text("kind", vec![0xff]).unwrap_err()).0,
            "invalid_utf8"
        );
    }
}
