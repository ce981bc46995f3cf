//! What the workspaces' form handlers share (the form itself comes through
//! [`super::signed_form`]): the step from its values to the API's JSON body (read by the API's
//! own parser), enum options and the renaming of a refusal's issue paths onto the form's
//! inputs.

use actix_web::http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::app::AppState;
use crate::auth::{AuthUser, Ctx, Roles};
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::web::Page;
use crate::web::session::SignedIn;

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
