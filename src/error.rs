//! The one error type of the API and its rendering as RFC 9457 `application/problem+json`.
//!
//! Every failure a client can see carries a stable snake_case `code`, a title and a detail in
//! Chinese and English (the language is chosen per request by [`crate::http::problem`]), and
//! field-level `errors`. Internal errors are logged once with their cause chain and answered
//! with a generic message; a cause is never serialised to the client. [`codes`] is the
//! catalogue of every code (the README's error vocabulary is generated from it).

pub mod codes;

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// A text in both languages of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub zh: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Msg {
    pub fn new(zh: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Self {
        Self {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// The language of a response: Chinese unless the client prefers English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Picks the preferred of `zh`/`en` from an `Accept-Language` header (RFC 9110 §12.5.4,
    /// quality values honoured); anything else, or no header, means Chinese.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let Some(header) = header else {
            return Self::Zh;
        };
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q=").map(|v| v.trim().parse::<f32>()))
                .and_then(Result::ok)
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or_default();
            let lang = match primary {
                "en" => Lang::En,
                "zh" => Lang::Zh,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Self::Zh, |(_, lang)| lang)
    }
}

/// One problem with one field of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    /// JSON path of the field (`teachers[2].credentials[0].number`), or a query/path name.
    pub field: String,
    pub code: Cow<'static, str>,
    pub message: Msg,
    /// What the issue is a case of, when its `code` is one reason among several of one
    /// cause (`bad_check_character` is a case of `invalid_uscc`); not sent as such, it becomes
    /// the problem's top-level `code` (see [`ApiError::validation`]).
    pub cause: Option<&'static str>,
}

impl FieldIssue {
    pub fn new(field: impl Into<String>, code: impl Into<Cow<'static, str>>, message: Msg) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message,
            cause: None,
        }
    }

    /// Marks the issue as one reason of `cause` (a validator's reasons of one value).
    pub fn caused_by(mut self, cause: &'static str) -> Self {
        self.cause = Some(cause);
        self
    }

    /// The code a client reads at the top of the problem when this issue comes first.
    fn cause_code(&self) -> Cow<'static, str> {
        self.cause.map_or_else(|| self.code.clone(), Cow::Borrowed)
    }
}

/// A client-visible failure: what [`ApiError::Problem`] carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub detail: Msg,
    pub errors: Vec<FieldIssue>,
    /// Seconds, for `429 Too Many Requests` (sent as `Retry-After`).
    pub retry_after: Option<u64>,
    /// Extra members of the problem object (e.g. the end date of a ban).
    pub extra: Option<serde_json::Value>,
}

/// The error type of every handler and service function.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{} {}", .0.status, .0.code)]
    Problem(Box<Problem>),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<Cow<'static, str>>, detail: Msg) -> Self {
        Self::Problem(Box::new(Problem {
            status,
            code: code.into(),
            detail,
            errors: Vec::new(),
            retry_after: None,
            extra: None,
        }))
    }

    /// 422 with field-level errors. The top-level `code` names the cause of the first field
    /// error (`invalid_uscc`, `academic_subject_forbidden`, `password_too_short`, …), so a
    /// client that reads only `code` still learns what is wrong; every field error, with its
    /// precise reason, stays in `errors`.
    pub fn validation(errors: Vec<FieldIssue>) -> Self {
        let code = errors
            .first()
            .map_or(Cow::Borrowed("validation_failed"), FieldIssue::cause_code);
        let detail = match errors.as_slice() {
            [only] => only.message.clone(),
            _ => Msg::new(
                "请求内容未通过校验，请按字段错误修改。",
                "The request did not pass validation; see the field errors.",
            ),
        };
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail).with_errors(errors)
    }

    /// 422: the request is well-formed but breaks a rule of the domain.
    pub fn rule(
        code: &'static str,
        zh: impl Into<Cow<'static, str>>,
        en: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, Msg::new(zh, en))
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(
        code: &'static str,
        zh: impl Into<Cow<'static, str>>,
        en: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(StatusCode::CONFLICT, code, Msg::new(zh, en))
    }

    /// Maps a database error to `conflict` when it is a unique-constraint violation (the
    /// database arbitrates uniqueness; DESIGN.md: never select-then-insert), and as any other
    /// database error otherwise: `.map_err(ApiError::on_unique(ApiError::conflict(…)))`.
    pub fn on_unique(conflict: ApiError) -> impl FnOnce(diesel::result::Error) -> ApiError {
        move |e| {
            if crate::db::is_unique_violation(&e) {
                conflict
            } else {
                e.into()
            }
        }
    }

    /// 400: the request itself is malformed.
    pub fn bad_request(
        code: &'static str,
        zh: impl Into<Cow<'static, str>>,
        en: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, Msg::new(zh, en))
    }

    /// 404 for a thing that does not exist or that the caller may not know exists.
    pub fn not_found(what_zh: &str, what_en: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            Msg::new(
                format!("{what_zh}不存在。"),
                format!("The {what_en} does not exist."),
            ),
        )
    }

    /// 404 for an address the service does not serve (unknown route, or one switched off by
    /// configuration): the same problem as the framework's own 404.
    pub fn no_route() -> Self {
        Self::Problem(Box::new(Problem::from_status(StatusCode::NOT_FOUND)))
    }

    pub fn unauthenticated(code: &'static str, zh: &'static str, en: &'static str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, Msg::new(zh, en))
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            Msg::new(
                "当前账号的角色无权执行此操作。",
                "Your role is not allowed to do this.",
            ),
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            Msg::new(
                format!("请求过于频繁，请在 {retry_after_secs} 秒后重试。"),
                format!("Too many attempts; try again in {retry_after_secs} seconds."),
            ),
        );
        if let Self::Problem(p) = &mut e {
            p.retry_after = Some(retry_after_secs);
        }
        e
    }

    pub fn with_errors(mut self, errors: Vec<FieldIssue>) -> Self {
        if let Self::Problem(p) = &mut self {
            p.errors = errors;
        }
        self
    }

    pub fn with_extra(mut self, extra: serde_json::Value) -> Self {
        if let Self::Problem(p) = &mut self {
            p.extra = Some(extra);
        }
        self
    }

    /// The stable code (`internal_error` for internal errors).
    pub fn code(&self) -> &str {
        match self {
            Self::Problem(p) => &p.code,
            Self::Internal(_) => "internal_error",
        }
    }

    /// The problem to show the client; internal errors become a generic one.
    pub fn problem(&self) -> Problem {
        match self {
            Self::Problem(p) => (**p).clone(),
            Self::Internal(_) => Problem {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "internal_error".into(),
                detail: Msg::new(
                    "服务器内部错误，请稍后重试；如持续出现请联系管理员并提供请求编号。",
                    "Internal server error; try again later, and give the request id to an administrator if it persists.",
                ),
                errors: Vec::new(),
                retry_after: None,
                extra: None,
            },
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        match err {
            diesel::result::Error::NotFound => Self::not_found("记录", "record"),
            e if crate::db::is_unique_violation(&e) => Self::conflict(
                "already_exists",
                "记录已存在，与现有数据冲突。",
                "A record with the same unique value already exists.",
            ),
            e => Self::Internal(anyhow::Error::new(e).context("database query failed")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::Internal(anyhow::Error::new(err).context("no database connection available"))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        Self::Internal(anyhow::anyhow!("blocking task failed: {err}"))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Problem(p) => p.status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(err) = self {
            // The one place internal errors are logged, with the whole cause chain.
            tracing::error!(error = ?err, "internal error");
        }
        problem_response(self.problem(), Lang::Zh)
    }
}

/// The JSON body of a problem (RFC 9457 members plus `code` and `errors`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemBody {
    /// A URI naming the kind of problem: `urn:problem:provider-registry:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `notice_closed`.
    pub code: String,
    pub errors: Vec<FieldErrorBody>,
    /// The request id (also in the `X-Request-Id` header), for support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Further facts specific to the code (e.g. `ban_ends_on`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub extra: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    pub field: String,
    pub code: String,
    pub message: String,
}

fn title(status: StatusCode, lang: Lang) -> String {
    let (zh, en) = match status.as_u16() {
        400 => ("请求格式错误", "Bad request"),
        401 => ("未登录或登录已失效", "Authentication required"),
        403 => ("无权访问", "Forbidden"),
        404 => ("未找到", "Not found"),
        405 => ("不支持的请求方法", "Method not allowed"),
        406 => ("无法提供所需格式", "Not acceptable"),
        409 => ("与当前状态冲突", "Conflict"),
        413 => ("请求内容过大", "Payload too large"),
        414 => ("请求地址过长", "URI too long"),
        415 => ("不支持的内容类型", "Unsupported media type"),
        422 => ("请求内容不符合规则", "Unprocessable content"),
        429 => ("请求过于频繁", "Too many requests"),
        431 => ("请求头过大", "Request header fields too large"),
        503 => ("服务暂不可用", "Service unavailable"),
        _ if status.is_server_error() => ("服务器内部错误", "Internal server error"),
        _ => ("请求失败", "Request failed"),
    };
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

impl Problem {
    pub fn body(&self, lang: Lang, request_id: Option<String>) -> ProblemBody {
        ProblemBody {
            type_: format!("urn:problem:provider-registry:{}", self.code),
            title: title(self.status, lang),
            status: self.status.as_u16(),
            detail: self.detail.get(lang).to_owned(),
            code: self.code.to_string(),
            errors: self
                .errors
                .iter()
                .map(|e| FieldErrorBody {
                    field: e.field.clone(),
                    code: e.code.to_string(),
                    message: e.message.get(lang).to_owned(),
                })
                .collect(),
            request_id,
            extra: self.extra.clone(),
        }
    }

    /// The generic problem for a status that a framework default produced (unknown route,
    /// wrong method, …) so that no plain-text error ever leaves the service.
    pub fn from_status(status: StatusCode) -> Self {
        let (code, zh, en): (&str, &str, &str) = match status.as_u16() {
            404 => ("not_found", "请求的地址不存在。", "No such resource."),
            405 => (
                "method_not_allowed",
                "该地址不支持此请求方法。",
                "This method is not allowed on this resource.",
            ),
            413 => (
                "payload_too_large",
                "请求内容超过大小上限。",
                "The request body is larger than allowed.",
            ),
            415 => (
                "unsupported_media_type",
                "不支持的内容类型。",
                "Unsupported content type.",
            ),
            414 => (
                "uri_too_long",
                "请求地址过长。",
                "The request target is too long.",
            ),
            431 => (
                "headers_too_large",
                "请求头过大。",
                "The request headers are too large.",
            ),
            400 => ("bad_request", "请求格式错误。", "The request is malformed."),
            401 => ("unauthenticated", "请先登录。", "Authentication required."),
            403 => ("forbidden", "无权访问。", "Forbidden."),
            408 => ("request_timeout", "请求超时。", "The request timed out."),
            _ if status.is_server_error() => (
                "internal_error",
                "服务器内部错误，请稍后重试。",
                "Internal server error; try again later.",
            ),
            _ => ("request_failed", "请求失败。", "The request failed."),
        };
        Problem {
            status,
            code: Cow::Owned(code.to_owned()),
            detail: Msg::new(zh.to_owned(), en.to_owned()),
            errors: Vec::new(),
            retry_after: None,
            extra: None,
        }
    }
}

/// Renders a problem in a language (the problem itself rides along in the response's
/// extensions so the middleware can re-render it in the client's language).
pub fn problem_response(problem: Problem, lang: Lang) -> HttpResponse {
    let mut builder = HttpResponse::build(problem.status);
    builder.content_type("application/problem+json");
    if let Some(secs) = problem.retry_after {
        builder.insert_header(("Retry-After", secs.to_string()));
    }
    let body = serde_json::to_vec(&problem.body(lang, None)).unwrap_or_default();
    let mut response = builder.body(body);
    response.extensions_mut().insert(problem);
    response
}
