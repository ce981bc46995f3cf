//! Signing in with a browser: the session cookie, the [`SignedIn`] guard of workspace pages,
//! and the `/sign-in` and `/sign-out` pages.
//!
//! A browser signs in with the same accounts, roles and rules as the JSON API: the password is
//! checked by the API's own [`accounts::login`] (so its throttling — 5 failures in 15
//! minutes lock the e-mail on every instance — and its disabled-account refusal apply
//! unchanged), and the account is read again on every request, so disabling it ends its
//! sessions at once. The session itself lives in the database ([`crate::auth::session`]).
//!
//! The cookie `session` is `HttpOnly` (no script reads it), `SameSite=Lax` (not sent on
//! cross-site posts; a link from an e-mail still arrives signed in), `Secure` behind TLS
//! ([`security::over_tls`]), without `Max-Age` (it ends with the browser; the server ends it
//! earlier). Every form also carries the CSRF token, sign-in included (no login CSRF), and a
//! new CSRF cookie is issued at sign-in.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::accounts::{self, LoginRequest};
use crate::app::AppState;
use crate::auth::{AuthUser, Ctx, Role, Roles, session};
use crate::error::ApiError;
use crate::web::Page;
use crate::web::forms::{Field, Form};
use crate::web::security::{self, CSRF_COOKIE};

pub const SESSION_COOKIE: &str = "session";

/// A signed-in browser user whose role is in `R` (the role sets of `auth`: InstitutionRole,
/// ReviewerRole, SchoolRole, AdminRole, AnyRole, …). Without a valid session: 303 to
/// `/sign-in?next=<path and query>`; wrong role: the 403 page.
pub struct SignedIn<R: Roles> {
    pub user: AuthUser,
    pub ctx: Ctx,
    pub page: Page,
    _roles: PhantomData<R>,
}

/// The shared header of signed-in pages: who is signed in, as what, and the links of the
/// role's workspace.
#[derive(Debug, Clone, Serialize)]
pub struct Nav {
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub role_label: String,
    /// `(href, label)` of the role's workspace pages.
    pub links: Vec<(String, String)>,
}

/// The header of signed-in pages for `user`.
pub fn nav(page: &Page, user: &AuthUser) -> Nav {
    let role = user.role().as_str();
    Nav {
        name: user.display_name.clone(),
        email: user.email.clone(),
        role,
        role_label: page.t(&format!("role.{role}")),
        links: crate::web::workspace::links(page, user.role()),
    }
}

impl<R: Roles> SignedIn<R> {
    /// Renders a workspace page: `data` as `page`, with the shared header as `page.nav`.
    pub fn render(&self, status: StatusCode, template: &str, data: impl Serialize) -> HttpResponse {
        let mut value = serde_json::to_value(data).unwrap_or_default();
        if let serde_json::Value::Object(map) = &mut value {
            map.insert(
                "nav".into(),
                serde_json::to_value(nav(&self.page, &self.user)).unwrap_or_default(),
            );
        }
        self.page.render(status, template, value)
    }

    /// The error page for a refusal, with the header.
    pub fn error(&self, err: &ApiError) -> HttpResponse {
        self.page.error(err)
    }
}

/// Where a role lands after signing in (without a `next`).
pub fn home_for(role: Role) -> &'static str {
    crate::web::workspace::home(role)
}

/// `next` if it is a path of this site (`/…`, not `//host` or `/\host`, no control
/// characters); anything else is dropped, so a link cannot send the user elsewhere.
pub fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(next)
}

fn sign_in_location(next: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("/sign-in?next={encoded}")
}

fn refuse(response: HttpResponse) -> actix_web::Error {
    actix_web::error::InternalError::from_response("sign-in required", response).into()
}

impl<R: Roles + 'static> FromRequest for SignedIn<R> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let page = Page::from_request_parts(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let value = security::cookie(req, SESSION_COOKIE);
        let request_id = crate::http::request_id(req);
        let back = match *req.method() {
            actix_web::http::Method::GET | actix_web::http::Method::HEAD => page.path_and_query(),
            _ => req.path().to_owned(),
        };
        Box::pin(async move {
            let Some(state) = state else {
                return Err(refuse(page.error(&ApiError::Internal(anyhow::anyhow!(
                    "application state missing"
                )))));
            };
            let now = state.clock.now();
            let user = match value {
                Some(v) => state
                    .run(move |conn| Ok(session::lookup(conn, &v, now)?))
                    .await
                    .map_err(|e| refuse(page.error(&e)))?,
                None => None,
            };
            let Some(user) = user else {
                return Err(refuse(page.redirect(&sign_in_location(&back))));
            };
            if user.disabled_at.is_some() {
                let message = serde_json::json!({"kind": "account_disabled"});
                let mut response = page.redirect_with_flash("/sign-in", &message);
                page.add_cookie(&mut response, &clear_session_cookie(page.secure()));
                return Err(refuse(response));
            }
            if !R::ALLOWED.contains(&user.role()) {
                return Err(refuse(page.error(&ApiError::forbidden())));
            }
            let ctx = Ctx::of_user(&user, request_id, now);
            Ok(SignedIn {
                user,
                ctx,
                page,
                _roles: PhantomData,
            })
        })
    }
}

fn session_cookie(value: &str, secure: bool) -> String {
    security::set_cookie(SESSION_COOKIE, value, None, true, "Lax", secure)
}

fn clear_session_cookie(secure: bool) -> String {
    security::set_cookie(SESSION_COOKIE, "", Some(0), true, "Lax", secure)
}

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

/// The sign-in form, with the values typed (never the password).
fn sign_in_form(page: &Page, email: &str, next: Option<&str>) -> Form {
    let mut form = Form::new("/sign-in", page.t("session.submit")).field(
        Field::new("email", page.t("session.email"), "email")
            .value(email)
            .required()
            .autocomplete("username"),
    );
    form = form.field(
        Field::new("password", page.t("session.password"), "password")
            .required()
            .autocomplete("current-password"),
    );
    if let Some(next) = next {
        form = form.hidden("next", next);
    }
    form
}

fn render_sign_in(page: &Page, status: StatusCode, form: Form) -> HttpResponse {
    let notice = page
        .flash()
        .and_then(|f| f.get("kind"))
        .and_then(|k| k.as_str())
        .map(|kind| page.t(&format!("session.flash_{kind}")));
    page.render(
        status,
        "sign_in.html",
        serde_json::json!({ "form": form, "notice": notice }),
    )
}

/// `GET /sign-in?next=…`: the sign-in form.
#[get("/sign-in")]
pub async fn sign_in_page(page: Page, query: web::Query<SignInQuery>) -> HttpResponse {
    let next = query.next.as_deref().and_then(local_path);
    render_sign_in(&page, StatusCode::OK, sign_in_form(&page, "", next))
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /sign-in`: the API's login check, then a new session; on success 303 to `next`
/// (a local path) or the role's workspace.
#[post("/sign-in")]
pub async fn sign_in(
    page: Page,
    ctx: Ctx,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Form<SignInForm>,
) -> HttpResponse {
    let body = body.into_inner();
    let next = local_path(&body.next).map(str::to_owned);
    let mut form = sign_in_form(&page, &body.email, next.as_deref());
    if !security::csrf_ok(page.key(), &req, Some(&body.csrf)) {
        let status = form.csrf_failed(&page);
        return render_sign_in(&page, status, form);
    }
    if body.email.trim().is_empty() || body.email.len() > 254 {
        form.error("email", page.t("session.email_required"));
    }
    if body.password.is_empty() || body.password.len() > 1024 {
        form.error("password", page.t("session.password_required"));
    }
    if form.has_errors() {
        return render_sign_in(&page, StatusCode::UNPROCESSABLE_ENTITY, form);
    }
    let login = LoginRequest {
        email: body.email,
        password: body.password,
    };
    let lifetime = chrono::Duration::minutes(state.settings.jwt_ttl_minutes);
    let (c, now) = (ctx.clone(), ctx.now);
    // The password is verified outside the write transaction that records the outcome.
    let result = match state
        .run(move |conn| accounts::check_login(conn, &c, &login))
        .await
    {
        Ok(attempt) => {
            let c = ctx.clone();
            state
                .write(move |conn| {
                    Ok(match accounts::login(conn, &c, &attempt)? {
                        Ok((user_id, role)) => {
                            Ok((session::create(conn, user_id, now, lifetime)?, role))
                        }
                        Err(refusal) => Err(refusal),
                    })
                })
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(Ok((value, role))) => {
            let location = next.unwrap_or_else(|| home_for(role).to_owned());
            let mut response = page.redirect(&location);
            page.add_cookie(&mut response, &session_cookie(&value, page.secure()));
            // A fresh CSRF cookie: a token planted before signing in does not carry over.
            let csrf = security::set_cookie(
                CSRF_COOKIE,
                &security::random_value(),
                None,
                true,
                "Strict",
                page.secure(),
            );
            page.add_cookie(&mut response, &csrf);
            tracing::info!(role = role.as_str(), "signed in (browser)");
            response
        }
        Ok(Err(refusal)) | Err(refusal) => {
            let status = form.refused(&page, &refusal);
            let retry_after = match &refusal {
                ApiError::Problem(p) => p.retry_after,
                ApiError::Internal(_) => None,
            };
            let mut response = render_sign_in(&page, status, form);
            if let Some(secs) = retry_after
                && let Ok(v) = HeaderValue::from_str(&secs.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /sign-out`: ends the session (on every instance) and clears the cookie.
#[post("/sign-out")]
pub async fn sign_out(
    page: Page,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Form<SignOutForm>,
) -> HttpResponse {
    if !security::csrf_ok(page.key(), &req, Some(&body.csrf)) {
        return page.error_page(
            StatusCode::FORBIDDEN,
            &page.t("error.refused_title"),
            &page.t("form.csrf_failed"),
        );
    }
    if let Some(value) = security::cookie(&req, SESSION_COOKIE)
        && let Err(e) = state
            .run(move |conn| Ok(session::revoke(conn, &value)?))
            .await
    {
        return page.error(&e);
    }
    let mut response =
        page.redirect_with_flash("/sign-in", &serde_json::json!({"kind": "signed_out"}));
    page.add_cookie(&mut response, &clear_session_cookie(page.secure()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        for ok in [
            "/institution",
            "/institution/applications/3?tab=history",
            "/",
        ] {
            assert_eq!(local_path(ok), Some(ok));
        }
        for bad in [
            "https://evil.example",
            "//evil.example/x",
            "/\\evil.example",
            "javascript:alert(1)",
            "institution",
            "/a\r\nSet-Cookie: x=1",
            "",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}
