//! [`Page`]: what every page handler extracts (language, CSRF cookie, flash message) and how
//! it answers — a template rendered with the common context, an HTML error page, or a redirect
//! carrying a flash message. The templates (`templates/*.html`, compiled in) are rendered by
//! minijinja with HTML auto-escaping; undefined variables are errors, so a handler that
//! forgets one fails in the tests.

use std::sync::OnceLock;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::app::AppState;
use crate::error::{ApiError, Lang, Msg};
use crate::web::pages::cache::{CachedPage, Key, PageCache, TOKEN_SLOT};
use crate::web::security::{self, CSRF_COOKIE, FLASH_COOKIE, LANG_COOKIE};
use crate::web::{PAGE_CSP, assets, i18n};

const TEMPLATES: &[(&str, &str)] = &[
    ("_layout.html", include_str!("templates/_layout.html")),
    ("_pager.html", include_str!("templates/_pager.html")),
    ("home.html", include_str!("templates/home.html")),
    ("notices.html", include_str!("templates/notices.html")),
    ("notice.html", include_str!("templates/notice.html")),
    ("objection.html", include_str!("templates/objection.html")),
    ("received.html", include_str!("templates/received.html")),
    ("pool.html", include_str!("templates/pool.html")),
    (
        "_category_options.html",
        include_str!("templates/_category_options.html"),
    ),
    ("pool_entry.html", include_str!("templates/pool_entry.html")),
    ("bans.html", include_str!("templates/bans.html")),
    ("status.html", include_str!("templates/status.html")),
    ("error.html", include_str!("templates/error.html")),
    ("_reviewer.html", include_str!("templates/_reviewer.html")),
    (
        "reviewer_queue.html",
        include_str!("templates/reviewer_queue.html"),
    ),
    (
        "reviewer_dossier.html",
        include_str!("templates/reviewer_dossier.html"),
    ),
    (
        "reviewer_blacklist.html",
        include_str!("templates/reviewer_blacklist.html"),
    ),
    (
        "reviewer_exit_case.html",
        include_str!("templates/reviewer_exit_case.html"),
    ),
    (
        "reviewer_notice_new.html",
        include_str!("templates/reviewer_notice_new.html"),
    ),
    (
        "reviewer_exit_new.html",
        include_str!("templates/reviewer_exit_new.html"),
    ),
    ("_admin.html", include_str!("templates/_admin.html")),
    (
        "admin_accounts.html",
        include_str!("templates/admin_accounts.html"),
    ),
    (
        "admin_schools.html",
        include_str!("templates/admin_schools.html"),
    ),
    (
        "admin_rounds.html",
        include_str!("templates/admin_rounds.html"),
    ),
    (
        "admin_calendar.html",
        include_str!("templates/admin_calendar.html"),
    ),
    ("admin_jobs.html", include_str!("templates/admin_jobs.html")),
    (
        "admin_audit.html",
        include_str!("templates/admin_audit.html"),
    ),
    ("_forms.html", include_str!("templates/_forms.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    (
        "inst_overview.html",
        include_str!("templates/inst_overview.html"),
    ),
    ("_flash.html", include_str!("templates/_flash.html")),
    ("inst_form.html", include_str!("templates/inst_form.html")),
    (
        "inst_teachers.html",
        include_str!("templates/inst_teachers.html"),
    ),
    (
        "inst_inspections.html",
        include_str!("templates/inst_inspections.html"),
    ),
    (
        "inst_documents.html",
        include_str!("templates/inst_documents.html"),
    ),
    (
        "inst_applications.html",
        include_str!("templates/inst_applications.html"),
    ),
    (
        "inst_application.html",
        include_str!("templates/inst_application.html"),
    ),
    (
        "inst_exit_cases.html",
        include_str!("templates/inst_exit_cases.html"),
    ),
    (
        "inst_exit_case.html",
        include_str!("templates/inst_exit_case.html"),
    ),
    (
        "inst_contracts.html",
        include_str!("templates/inst_contracts.html"),
    ),
    (
        "inst_messages.html",
        include_str!("templates/inst_messages.html"),
    ),
    (
        "school_home.html",
        include_str!("templates/school_home.html"),
    ),
    (
        "school_pool.html",
        include_str!("templates/school_pool.html"),
    ),
    (
        "school_contract_new.html",
        include_str!("templates/school_contract_new.html"),
    ),
    (
        "school_contract.html",
        include_str!("templates/school_contract.html"),
    ),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        // Each template is compiled when first rendered (a compiled template holds several
        // times its source; an instance that serves only the public pages never compiles the
        // workspaces'). `tests::every_template_compiles` compiles them all.
        env.set_loader(|name| {
            Ok(TEMPLATES
                .iter()
                .find(|(known, _)| *known == name)
                .map(|(_, source)| (*source).to_owned()))
        });
        env
    })
}

/// A fragment rendered once, outside any request: `template` with the strings of `lang` as
/// `t` and `data`'s fields (auto-escaped like every page). `None` (logged) if it fails.
pub fn fragment(template: &str, lang: Lang, data: impl Serialize) -> Option<String> {
    let context = minijinja::context! {
        t => i18n::strings(lang),
        ..minijinja::Value::from_serialize(&data)
    };
    render_template(template, context)
}

/// `template` rendered in `context`; `None` (logged) if it fails.
fn render_template(template: &str, context: minijinja::Value) -> Option<String> {
    match environment()
        .get_template(template)
        .and_then(|t| t.render(context))
    {
        Ok(html) => Some(html),
        Err(e) => {
            tracing::error!(template, error = ?e, "portal page failed to render");
            None
        }
    }
}

/// The request as a page sees it.
pub struct Page {
    pub lang: Lang,
    remember_lang: bool,
    key: [u8; 32],
    csrf_cookie: Option<String>,
    flash: Option<serde_json::Value>,
    secure: bool,
    path: String,
    query: String,
    request_id: Option<String>,
}

impl FromRequest for Page {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self::from_request_parts(req)))
    }
}

impl Page {
    pub fn from_request_parts(req: &HttpRequest) -> Self {
        let (lang, remember_lang) = i18n::language(req);
        let key = req
            .app_data::<web::Data<AppState>>()
            .map_or([0; 32], |s| *s.jwt.page_key());
        Self {
            lang,
            remember_lang,
            key,
            csrf_cookie: security::csrf_cookie(req),
            flash: security::read_flash(&key, req),
            secure: security::over_tls(req),
            path: req.path().to_owned(),
            query: req.query_string().to_owned(),
            request_id: crate::http::request_id(req),
        }
    }

    /// Whether this request came over TLS (cookies are then `Secure`).
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// The path and query of this request (where to come back to after signing in).
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    /// The page key (signatures of tokens and flash messages).
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// A text of the service in the page's language.
    pub fn msg(&self, m: &Msg) -> String {
        m.get(self.lang).to_owned()
    }

    /// A string of the interface in the page's language.
    pub fn t(&self, key: &str) -> String {
        i18n::text(self.lang, key)
    }

    /// The flash message this request carried (shown once).
    pub fn flash(&self) -> Option<&serde_json::Value> {
        self.flash.as_ref()
    }

    /// The current URL in the other language.
    fn switch_url(&self) -> String {
        let other = match self.lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        };
        let mut query: Vec<(String, String)> = url::form_urlencoded::parse(self.query.as_bytes())
            .filter(|(k, _)| k != "lang")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        query.push(("lang".into(), other.into()));
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        format!("{}?{encoded}", self.path)
    }

    /// Renders `template` with `data` as `page`, beside the common context: `t` (strings),
    /// `lang`, `csrf` (the token of this response's cookie), `flash`, `css`, `path`,
    /// `switch_url`.
    pub fn render(&self, status: StatusCode, template: &str, data: impl Serialize) -> HttpResponse {
        let (csrf_value, new_cookie) = self.csrf_value();
        let token = security::csrf_token(&self.key, &csrf_value);
        match self.html(template, token, self.request_id.clone(), data) {
            Some(html) => self.respond(status, html.into(), &csrf_value, new_cookie),
            None => self.plain_error(),
        }
    }

    /// The address of this page in a [`PageCache`]: its language and its path with the query.
    fn cache_key(&self) -> Key {
        (i18n::tag(self.lang), self.path_and_query())
    }

    /// This page from `cache`, if it was rendered from the data `stamp` names (and the request
    /// carries no flash message, which pages show once).
    pub fn from_cache(&self, cache: &PageCache, stamp: &[u64; 2]) -> Option<HttpResponse> {
        if self.flash.is_some() {
            return None;
        }
        let hit = cache.get(&self.cache_key(), stamp)?;
        let (csrf_value, new_cookie) = self.csrf_value();
        let body = hit.body_for(|| security::csrf_token(&self.key, &csrf_value));
        Some(self.respond(hit.status, body, &csrf_value, new_cookie))
    }

    /// [`Page::render`], keeping the body in `cache` for the next visitor of the same address
    /// while the data (`stamp`) stays the same. The body is rendered without this visitor's
    /// CSRF token (a slot filled when served), so no visitor's secret is shared.
    pub fn render_cached(
        &self,
        cache: &PageCache,
        stamp: [u64; 2],
        status: StatusCode,
        template: &str,
        data: impl Serialize,
    ) -> HttpResponse {
        // Nothing of this visitor's request goes in: no token, no request id.
        let Some(html) = self.html(template, TOKEN_SLOT.to_owned(), None, data) else {
            return self.plain_error();
        };
        let page = CachedPage::new(status, html);
        let (csrf_value, new_cookie) = self.csrf_value();
        let body = page.body_for(|| security::csrf_token(&self.key, &csrf_value));
        if self.flash.is_none() {
            cache.insert(self.cache_key(), stamp, page);
        }
        self.respond(status, body, &csrf_value, new_cookie)
    }

    /// The CSRF cookie value of this visitor, or a new one (`true`: to be set).
    fn csrf_value(&self) -> (String, bool) {
        match &self.csrf_cookie {
            Some(v) => (v.clone(), false),
            None => (security::random_value(), true),
        }
    }

    /// `template` rendered with `data` and the common context, `csrf` as the token.
    fn html(
        &self,
        template: &str,
        csrf: String,
        request_id: Option<String>,
        data: impl Serialize,
    ) -> Option<String> {
        let context = minijinja::context! {
            t => i18n::strings(self.lang),
            lang => i18n::tag(self.lang),
            html_lang => match self.lang { Lang::Zh => "zh-CN", Lang::En => "en" },
            csrf => csrf,
            flash => self.flash.clone(),
            css => assets::css_url(),
            path => self.path.clone(),
            switch_url => self.switch_url(),
            request_id => request_id,
            page => minijinja::Value::from_serialize(&data),
        };
        render_template(template, context)
    }

    /// An HTML answer with this page's headers and, for a new visitor, the CSRF cookie.
    fn respond(
        &self,
        status: StatusCode,
        body: web::Bytes,
        csrf_value: &str,
        new_cookie: bool,
    ) -> HttpResponse {
        let mut response = HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body);
        if new_cookie {
            self.add_cookie(
                &mut response,
                &security::set_cookie(CSRF_COOKIE, csrf_value, None, true, "Strict", self.secure),
            );
        }
        self.finish(response)
    }

    /// Headers of every page answer: the page CSP, no shared caching, the remembered language,
    /// and the flash cookie cleared once shown.
    fn finish(&self, mut response: HttpResponse) -> HttpResponse {
        if self.remember_lang {
            let value = security::set_cookie(
                LANG_COOKIE,
                i18n::tag(self.lang),
                Some(365 * 24 * 3600),
                false,
                "Lax",
                self.secure,
            );
            self.add_cookie(&mut response, &value);
        }
        if self.flash.is_some() {
            let value = security::set_cookie(FLASH_COOKIE, "", Some(0), true, "Lax", self.secure);
            self.add_cookie(&mut response, &value);
        }
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
        headers.insert(
            header::VARY,
            HeaderValue::from_static("Cookie, Accept-Language"),
        );
        response
    }

    pub fn add_cookie(&self, response: &mut HttpResponse, value: &str) {
        if let Ok(v) = HeaderValue::from_str(value) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }

    /// 303 to `location`, carrying a flash message for the next page.
    pub fn redirect_with_flash(&self, location: &str, message: &serde_json::Value) -> HttpResponse {
        let value = security::set_cookie(
            FLASH_COOKIE,
            &security::flash_value(&self.key, message),
            Some(300),
            true,
            "Lax",
            self.secure,
        );
        let mut response = HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .finish();
        self.add_cookie(&mut response, &value);
        let mut response = self.finish(response);
        // The flash just set must not be cleared by the same answer.
        let keep: Vec<HeaderValue> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .filter(|v| !v.to_str().is_ok_and(|s| s.starts_with("flash=;")))
            .cloned()
            .collect();
        response.headers_mut().remove(header::SET_COOKIE);
        for v in keep {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
        response
    }

    /// 303 to `location`.
    pub fn redirect(&self, location: &str) -> HttpResponse {
        self.finish(
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .finish(),
        )
    }

    /// The 404 page.
    pub fn not_found(&self) -> HttpResponse {
        self.error_page(
            StatusCode::NOT_FOUND,
            &self.t("error.not_found_title"),
            &self.t("error.not_found_text"),
        )
    }

    /// An error page for a service refusal that the page cannot show in place.
    pub fn error(&self, err: &ApiError) -> HttpResponse {
        match err {
            ApiError::Problem(p) if p.status == StatusCode::NOT_FOUND => self.not_found(),
            ApiError::Problem(p) => {
                let mut text = self.msg(&p.detail);
                for issue in &p.errors {
                    text.push(' ');
                    text.push_str(issue.message.get(self.lang));
                }
                self.error_page(p.status, &self.t("error.refused_title"), &text)
            }
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "portal page failed");
                self.error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &self.t("error.internal_title"),
                    &self.t("error.internal_text"),
                )
            }
        }
    }

    pub fn error_page(&self, status: StatusCode, title: &str, text: &str) -> HttpResponse {
        self.render(
            status,
            "error.html",
            serde_json::json!({ "title": title, "text": text, "status": status.as_u16() }),
        )
    }

    /// The last resort when a template fails: a minimal page without a template.
    fn plain_error(&self) -> HttpResponse {
        let body = format!(
            "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>{0}</title>\
             <h1>{0}</h1><p><a href=\"/\">{1}</a></p></html>",
            i18n::text(self.lang, "error.internal_title"),
            i18n::text(self.lang, "nav.home"),
        );
        self.finish(
            HttpResponse::InternalServerError()
                .content_type("text/html; charset=utf-8")
                .body(body),
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_compiles() {
        let mut env = minijinja::Environment::new();
        for (name, source) in super::TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                panic!("{name} does not compile: {e:#}");
            }
        }
    }
}
