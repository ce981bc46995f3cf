//! The public portal (DESIGN §3 "Pages"): server-rendered HTML in Chinese (English on request),
//! usable without JavaScript, every asset served by the service itself. A page handler has the
//! same steps as a JSON handler — extract, parse, one service call, render — and ends in a
//! template instead of JSON; it calls the capabilities' own services (pool search, notices,
//! objection intake, bans, USCC status) and holds no SQL.
//!
//! - [`render`]: the [`Page`] extractor (language, CSRF token, flash message) and the
//!   template environment (minijinja, templates compiled in, HTML auto-escaping);
//! - [`i18n`]: the interface strings, one JSON file per language;
//! - [`security`]: cookies, the signed double-submit CSRF token, signed flash messages;
//! - [`assets`]: `/assets/site.css`, content-hashed and cached for a year;
//! - `pages`: the handlers of the public pages, one file per page family, and the bounded cache
//!   of rendered pages;
//! - [`session`]: browser sign-in (a session cookie over `auth::session`), the
//!   [`session::SignedIn`] guard, `/sign-in`, `/sign-out`;
//! - [`forms`]: forms with every refusal next to its field;
//! - [`workspace`]: the signed-in pages, one file per role.
//!
//! Pages answer HTML errors (the 404 page in Chinese); the API keeps problem+json. Pages are
//! not in the OpenAPI document; [`ROUTES`] adds them to the 405/`Allow` table.

pub mod assets;
pub mod forms;
pub mod i18n;
mod pages;
pub mod render;
pub mod security;
pub mod session;
pub mod workspace;

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

pub use render::Page;

/// The content security policy of every page: nothing inline, nothing from elsewhere.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every page path template with its methods (for the 405/`Allow` table).
pub const ROUTES: &[(&str, &[Method])] = &[
    ("/", &[Method::GET, Method::HEAD]),
    ("/notices", &[Method::GET, Method::HEAD]),
    ("/notices/{id}", &[Method::GET, Method::HEAD]),
    (
        "/notices/{id}/object",
        &[Method::GET, Method::HEAD, Method::POST],
    ),
    (
        "/notices/{id}/object/received",
        &[Method::GET, Method::HEAD],
    ),
    ("/pool", &[Method::GET, Method::HEAD]),
    ("/pool/{id}", &[Method::GET, Method::HEAD]),
    ("/bans", &[Method::GET, Method::HEAD]),
    ("/status", &[Method::GET, Method::HEAD]),
    ("/assets/{file}", &[Method::GET, Method::HEAD]),
    ("/review", &[Method::GET, Method::HEAD]),
    ("/review/applications/{id}", &[Method::GET, Method::HEAD]),
    ("/review/applications/{id}/decision", &[Method::POST]),
    ("/review/applications/{id}/reveal", &[Method::POST]),
    ("/review/documents/{id}", &[Method::GET, Method::HEAD]),
    ("/review/objections/{id}/resolution", &[Method::POST]),
    ("/review/notices/new", &[Method::GET, Method::HEAD]),
    ("/review/notices", &[Method::POST]),
    ("/review/exit-cases/{id}", &[Method::GET, Method::HEAD]),
    ("/review/exit-cases/{id}/decision", &[Method::POST]),
    (
        "/review/blacklist",
        &[Method::GET, Method::HEAD, Method::POST],
    ),
    ("/review/exit-cases/new", &[Method::GET, Method::HEAD]),
    ("/review/exit-cases", &[Method::POST]),
    ("/admin", &[Method::GET, Method::HEAD]),
    ("/admin/accounts", &[Method::POST]),
    ("/admin/accounts/{id}/disable", &[Method::POST]),
    ("/admin/accounts/{id}/enable", &[Method::POST]),
    ("/admin/schools", &[Method::GET, Method::HEAD, Method::POST]),
    ("/admin/rounds", &[Method::GET, Method::HEAD, Method::POST]),
    ("/admin/rounds/{id}/close", &[Method::POST]),
    (
        "/admin/calendar",
        &[Method::GET, Method::HEAD, Method::POST],
    ),
    ("/admin/calendar/preview", &[Method::POST]),
    ("/admin/jobs", &[Method::GET, Method::HEAD]),
    ("/admin/jobs/{id}/retry", &[Method::POST]),
    ("/admin/audit", &[Method::GET, Method::HEAD]),
    ("/sign-in", &[Method::GET, Method::HEAD, Method::POST]),
    ("/sign-out", &[Method::POST]),
    ("/institution", &[Method::GET, Method::HEAD]),
    ("/institution/exit-cases", &[Method::GET, Method::HEAD]),
    ("/institution/exit-cases/{id}", &[Method::GET, Method::HEAD]),
    ("/institution/exit-cases/{id}/statement", &[Method::POST]),
    ("/institution/contracts", &[Method::GET, Method::HEAD]),
    ("/institution/messages", &[Method::GET, Method::HEAD]),
    ("/school", &[Method::GET, Method::HEAD]),
    ("/school/pool", &[Method::GET, Method::HEAD]),
    ("/school/contracts", &[Method::POST]),
    ("/school/contracts/new", &[Method::GET, Method::HEAD]),
    ("/school/contracts/{id}", &[Method::GET, Method::HEAD]),
    ("/school/contracts/{id}/evaluations", &[Method::POST]),
    ("/school/contracts/{id}/terminate", &[Method::POST]),
];

/// Registers the pages and the assets (one line in `startup::routes`), with each worker's
/// rendered-page cache and kept notices (per worker: no lock shared between workers).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(
        pages::cache::PageCache::<[u64; 2]>::default(),
    ))
    .app_data(web::Data::new(crate::notices::board::NoticeBoard::default()))
    .service(assets::stylesheet)
    .service(pages::home::home)
    .service(pages::notices::notice_board)
    .service(pages::notices::notice_page)
    .service(pages::objection::objection_form)
    .service(pages::objection::file_objection)
    .service(pages::objection::objection_received)
    .service(pages::pool::pool_page)
    .service(pages::pool::pool_entry_page)
    .service(pages::bans::bans_page)
    .service(pages::status::status_page)
    .service(session::sign_in_page)
    .service(session::sign_in)
    .service(session::sign_out)
    .configure(workspace::institution::configure)
    .configure(workspace::reviewer::configure)
    .configure(workspace::admin::configure)
    .configure(workspace::school::configure);
}

/// Whether an unknown address should get the HTML 404 page: a browser's request (it accepts
/// `text/html`) outside the API's and operators' paths. Everything else gets problem+json.
pub fn wants_page(req: &HttpRequest) -> bool {
    let path = req.path();
    let browser = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    browser
        && !["/api/", "/docs", "/metrics", "/healthz", "/readyz"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
}

/// The HTML 404 page for a path no route serves.
pub fn not_found(req: &HttpRequest) -> HttpResponse {
    Page::from_request_parts(req).not_found()
}
