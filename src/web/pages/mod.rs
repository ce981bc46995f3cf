//! The public pages, one file per page family: [`home`] (`/`), [`notices`] (the board and one
//! notice), [`objection`] (the objection form, its posting and confirmation), [`pool`] (the
//! whitelist search and one entry), [`bans`] and [`status`] (the USCC look-up). Each handler
//! extracts the [`Page`] and its parameters, makes one service call (the same function the
//! JSON API calls, or the same read model) and renders a template; refusals are shown in the
//! page (field errors next to their fields) or as an HTML error page.
//!
//! The pages read most often — `/pool?…` and `/notices/{id}` — keep their rendered body in a
//! bounded [`cache::PageCache`] stamped with the version of the data it was rendered from (the
//! pool snapshot's generation, the notice board's entry), so a repeated page is a copy of
//! stored bytes and a change shows as soon as the data behind it moves.

pub(super) mod bans;
pub mod cache;
pub(super) mod home;
pub(super) mod notices;
pub(super) mod objection;
pub(super) mod pool;
pub(super) mod status;

use serde::Serialize;

use crate::http::PageQuery;
use crate::pool::search::Viewer;

/// Rows per list page.
const PER_PAGE: i64 = 20;

fn public_viewer() -> Viewer {
    Viewer {
        staff: false,
        flag_threshold: 0.0,
    }
}

/// Previous / next links of a paginated list, keeping the other query parameters.
#[derive(Serialize)]
struct Pager {
    page: i64,
    pages: i64,
    total: i64,
    prev: Option<String>,
    next: Option<String>,
}

impl Pager {
    fn new(path: &str, params: &[(&str, &str)], page: i64, total: i64) -> Self {
        let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
        let link = |p: i64| {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
                ser.append_pair(k, v);
            }
            ser.append_pair("page", &p.to_string());
            format!("{path}?{}", ser.finish())
        };
        Self {
            page,
            pages,
            total,
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }
}

fn page_query(page: Option<i64>) -> PageQuery {
    PageQuery {
        page: Some(page.unwrap_or(1).max(1)),
        per_page: Some(PER_PAGE),
    }
}
