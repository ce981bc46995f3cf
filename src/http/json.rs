//! The JSON body extractor: content type, size cap, no control characters (see
//! [`crate::http::input`]), deserialisation with the path of the offending field, and
//! `validator` rules — each failure a problem with a stable code.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldIssue, Msg};
use crate::http::input;

/// Maximum JSON body size in bytes, unless the app data says otherwise.
pub const DEFAULT_JSON_LIMIT: usize = 256 * 1024;

/// The configured JSON body limit (app data).
#[derive(Debug, Clone, Copy)]
pub struct JsonLimit(pub usize);

/// A JSON request body, deserialised and validated.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<JsonLimit>>()
            .map_or(DEFAULT_JSON_LIMIT, |l| l.0);
        let content_type_ok = is_json_content_type(req);
        let declared_len = req
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    Msg::new(
                        "请求体须为 JSON（Content-Type: application/json）。",
                        "The body must be JSON (Content-Type: application/json).",
                    ),
                ));
            }
            if declared_len.is_some_and(|len| len > limit) {
                return Err(too_large(limit));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| {
                    ApiError::bad_request(
                        "body_read_failed",
                        "读取请求体失败。",
                        "The request body could not be read.",
                    )
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Json(parse_valid::<T>(&body)?))
        })
    }
}

/// A JSON body deserialised and checked by its `validator` rules: what the [`Json`] extractor
/// accepts (the workspace pages build the same body from a form and go through here too).
pub fn parse_valid<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, ApiError> {
    let value = parse_json::<T>(body)?;
    value
        .validate()
        .map_err(|e| ApiError::validation(validation_issues(&e)))?;
    Ok(value)
}

fn is_json_content_type(req: &HttpRequest) -> bool {
    let Some(ct) = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        Msg::new(
            format!("请求体超过 {limit} 字节上限。"),
            format!("The body exceeds the limit of {limit} bytes."),
        ),
    )
}

/// Deserialises, naming the failing field: syntax errors are 400 `malformed_json`; a key or
/// string holding a control character is 422 `control_character` with its JSON path; a body of
/// the wrong shape is 422 `invalid_body` with the field's path and what was wrong.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // Only a body that can hold a control character is parsed twice (once as a plain
    // document, to walk it); one that is not JSON at all is left to the syntax error below.
    if input::may_hold_control(body)
        && let Ok(document) = serde_json::from_slice::<serde_json::Value>(body)
    {
        input::check_json(&document)?;
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ApiError::bad_request(
                    "malformed_json",
                    format!(
                        "JSON 格式错误（第 {} 行第 {} 列）。",
                        inner.line(),
                        inner.column()
                    ),
                    format!(
                        "Malformed JSON at line {} column {}.",
                        inner.line(),
                        inner.column()
                    ),
                )
            }
            _ => {
                let text = inner.to_string();
                let (code, zh) = if text.starts_with("unknown field") {
                    ("unknown_field", "不允许的字段")
                } else if text.starts_with("missing field") {
                    ("missing_field", "缺少必填字段")
                } else if text.starts_with("invalid type") {
                    ("invalid_type", "字段类型错误")
                } else {
                    ("invalid_value", "字段取值无效")
                };
                // Only serde's own description (which names types and fields, never values
                // longer than the input token) goes back in English; Chinese gets a summary.
                let en = strip_position(&text);
                // serde_path_to_error's path ends at the unknown field itself, but at the
                // enclosing object for a missing one.
                let field = if code == "missing_field" {
                    join_path(&path, field_in_message(&text).unwrap_or_default())
                } else {
                    path.clone()
                };
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    Msg::new(
                        "请求体的结构或字段类型不正确。",
                        "The body does not have the expected shape.",
                    ),
                )
                .with_errors(vec![FieldIssue::new(
                    field,
                    code,
                    Msg::new(format!("{zh}：{en}"), en),
                )])
            }
        }
    })
}

fn strip_position(text: &str) -> String {
    text.find(" at line ")
        .map_or_else(|| text.to_owned(), |i| text[..i].to_owned())
}

fn field_in_message(text: &str) -> Option<&str> {
    let start = text.find('`')? + 1;
    let len = text[start..].find('`')?;
    Some(&text[start..start + len])
}

fn join_path(path: &str, field: &str) -> String {
    if path.is_empty() || path == "." {
        field.to_owned()
    } else if field.is_empty() {
        path.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// Flattens `validator` errors into field issues with JSON paths.
/// Sorted by field, so the first (whose code becomes the problem's `code`) does not depend on
/// hash order.
pub fn validation_issues(errors: &ValidationErrors) -> Vec<FieldIssue> {
    let mut out = Vec::new();
    collect(errors, "", &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

/// The stable code of a `validator` rule: its built-in rule names (`length`, `range`, …) are
/// not causes a client can act on, so they are named here.
fn rule_code(code: &str) -> String {
    match code {
        "length" => "invalid_length",
        "range" => "out_of_range",
        "email" => "invalid_email",
        other => other,
    }
    .to_owned()
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldIssue>) {
    for (field, kind) in errors.errors() {
        let path = join_path(prefix, field);
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let (zh, en) = describe(e);
                    out.push(FieldIssue::new(
                        path.clone(),
                        rule_code(&e.code),
                        Msg::new(zh, en),
                    ));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect(inner, &format!("{path}[{i}]"), out);
                }
            }
        }
    }
}

fn describe(e: &validator::ValidationError) -> (String, String) {
    if let Some(message) = &e.message {
        // Messages set on the rule are written as "中文|English".
        if let Some((zh, en)) = message.split_once('|') {
            return (zh.to_owned(), en.to_owned());
        }
        return (message.to_string(), message.to_string());
    }
    let param = |name: &str| e.params.get(name).map(|v| v.to_string());
    match e.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => (
                format!("长度须在 {min} 到 {max} 之间"),
                format!("length must be between {min} and {max}"),
            ),
            (Some(min), None) => (
                format!("长度至少为 {min}"),
                format!("length must be at least {min}"),
            ),
            (None, Some(max)) => (
                format!("长度不能超过 {max}"),
                format!("length must be at most {max}"),
            ),
            _ => ("长度不符合要求".into(), "invalid length".into()),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => (
                format!("取值须在 {min} 到 {max} 之间"),
                format!("must be between {min} and {max}"),
            ),
            _ => ("取值超出范围".into(), "out of range".into()),
        },
        "email" => (
            "邮箱地址格式不正确".into(),
            "not a valid email address".into(),
        ),
        "required" => ("必填".into(), "required".into()),
        other => (
            format!("不符合规则（{other}）"),
            format!("invalid ({other})"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u32,
    }

    fn issue(err: ApiError) -> (String, String) {
        match err {
            ApiError::Problem(p) => (
                p.code.to_string(),
                p.errors
                    .first()
                    .map(|e| format!("{}:{}", e.field, e.code))
                    .unwrap_or_default(),
            ),
            ApiError::Internal(_) => panic!("internal"),
        }
    }

    #[test]
    fn wrong_type_names_the_field() {
        let err = parse_json::<Body>(br#"{"name":"a","count":"x"}"#).unwrap_err();
        assert_eq!(
            issue(err),
            ("invalid_body".into(), "count:invalid_type".into())
        );
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let err = parse_json::<Body>(br#"{"name":"a","count":1,"extra":2}"#).unwrap_err();
        assert_eq!(
            issue(err),
            ("invalid_body".into(), "extra:unknown_field".into())
        );
        let err = parse_json::<Body>(br#"{"name":"a"}"#).unwrap_err();
        assert_eq!(
            issue(err),
            ("invalid_body".into(), "count:missing_field".into())
        );
    }

    #[test]
    fn syntax_errors_are_malformed_json() {
        let err = parse_json::<Body>(br#"{"name":"#).unwrap_err();
        assert_eq!(issue(err).0, "malformed_json");
    }
}
