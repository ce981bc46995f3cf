//! What the workspaces' form handlers share: a posted urlencoded form, the step from its
//! values to the API's JSON body (read by the API's own parser), enum options and the
//! renaming of a refusal's issue paths onto the form's inputs.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::app::AppState;
use crate::auth::{AuthUser, Ctx, Roles};
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult, Lang};
use crate::web::Page;
use crate::web::forms::Form;
use crate::web::security;
use crate::web::session::SignedIn;

/// A posted urlencoded form, repeated names kept (checkbox lists).
pub struct Posted(Vec<(String, String)>);

impl Posted {
    pub fn parse(body: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether the form's CSRF token matches the request's cookie.
    pub fn csrf_ok(&self, page: &Page, req: &HttpRequest) -> bool {
        security::csrf_ok(page.key(), req, Some(self.get("csrf")))
    }

    /// Puts the posted values back into the form's fields.
    pub fn refill(&self, form: &mut Form) {
        for (name, value) in &self.0 {
            if name != "csrf" {
                form.set(name, value.clone());
            }
        }
    }

    /// The value as a JSON integer when it reads as one, else as the string typed (so the
    /// API's parser refuses it with its own message).
    pub fn int(&self, name: &str) -> Value {
        let raw = self.get(name).trim();
        raw.parse::<i64>()
            .map_or_else(|_| Value::String(raw.to_owned()), Value::from)
    }
}

/// `Some(text)` unless blank.
pub fn opt(text: &str) -> Value {
    match text.trim() {
        "" => Value::Null,
        t => Value::String(t.to_owned()),
    }
}

/// Reads a body built from a form the way the JSON API reads its body.
pub fn parse<T: DeserializeOwned + validator::Validate>(body: &Value) -> ApiResult<T> {
    crate::http::json::parse_valid::<T>(body.to_string().as_bytes())
}

/// The wire name of an enum value (`resident_id`).
pub fn wire<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `(value, label)` options of an enum, labels from `<prefix>.<value>` (`inst.enum`).
pub fn options<T: Serialize>(page: &Page, prefix: &str, all: &[T]) -> Vec<(String, String)> {
    all.iter()
        .map(|v| {
            let w = wire(v);
            let label = page.t(&format!("{prefix}.{w}"));
            (w, label)
        })
        .collect()
}

/// Renames the fields of a refusal's issues whose path starts with one of `renames`' first
/// names, so that they land on the form's input (`identity.number` → `id_number`).
pub fn rename_issues(err: ApiError, renames: &[(&str, &str)]) -> ApiError {
    match err {
        ApiError::Problem(mut p) => {
            for issue in &mut p.errors {
                if let Some((_, to)) = renames.iter().find(|(from, _)| {
                    issue.field == *from
                        || issue.field.starts_with(&format!("{from}."))
                        || issue.field.starts_with(&format!("{from}["))
                }) {
                    issue.field = (*to).to_owned();
                }
            }
            ApiError::Problem(p)
        }
        other => other,
    }
}

/// The HTTP status of a refusal.
pub fn problem_status(e: &ApiError) -> StatusCode {
    match e {
        ApiError::Problem(p) => p.status,
        ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The form's refusal when its CSRF token does not match.
pub fn csrf_refusal() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        crate::error::Msg::new(
            crate::web::i18n::text(Lang::Zh, "form.csrf_failed"),
            crate::web::i18n::text(Lang::En, "form.csrf_failed"),
        ),
    )
}

/// The 403 page of a form posted without its CSRF token.
pub fn csrf_page(page: &Page) -> actix_web::HttpResponse {
    page.error_page(
        StatusCode::FORBIDDEN,
        &page.t("error.refused_title"),
        &page.t("form.csrf_failed"),
    )
}

/// A page built by `view`, or the error page.
pub async fn show<R: Roles + 'static>(
    s: &SignedIn<R>,
    status: StatusCode,
    template: &str,
    view: impl std::future::Future<Output = ApiResult<Value>>,
) -> actix_web::HttpResponse {
    match view.await {
        Ok(view) => s.render(status, template, view),
        Err(e) => s.error(&e),
    }
}

/// What a JSON handler does with its body, for a form: `request` read by the API's parser,
/// then `service(conn, user, ctx, input)` in a write transaction.
pub async fn submit<T, O, R>(
    s: &SignedIn<R>,
    state: &AppState,
    request: &Value,
    service: impl FnOnce(&mut DbConn, &AuthUser, &Ctx, &T) -> ApiResult<O> + Send + 'static,
) -> ApiResult<O>
where
    T: DeserializeOwned + validator::Validate + Send + 'static,
    O: Send + 'static,
    R: Roles + 'static,
{
    let input = parse::<T>(request)?;
    let (user, ctx) = (s.user.clone(), s.ctx.clone());
    state
        .write(move |conn| service(conn, &user, &ctx, &input))
        .await
}
