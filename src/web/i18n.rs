//! The interface strings of the portal, one file per language (`i18n/zh.json`,
//! `i18n/en.json`, the same keys), compiled in. Templates read them as `t.<section>.<key>`;
//! handlers use [`text`]. Messages that come from the services (field errors, refusals) are
//! already bilingual ([`crate::error::Msg`]).
//!
//! The language: `?lang=zh|en` (then remembered in the `lang` cookie), else the cookie, else
//! `Accept-Language`; Chinese by default.

use std::sync::OnceLock;

use actix_web::HttpRequest;

use crate::error::Lang;
use crate::web::security::{LANG_COOKIE, cookie};

const ZH: &str = include_str!("i18n/zh.json");
const EN: &str = include_str!("i18n/en.json");

/// The strings of a language (an empty object if its file were malformed — the tests parse both).
pub fn strings(lang: Lang) -> &'static serde_json::Value {
    static PARSED: OnceLock<(serde_json::Value, serde_json::Value)> = OnceLock::new();
    let (zh, en) = PARSED.get_or_init(|| {
        let parse = |s: &str| {
            serde_json::from_str(s).unwrap_or_else(|e| {
                tracing::error!(error = %e, "portal strings are malformed");
                serde_json::Value::Object(Default::default())
            })
        };
        (parse(ZH), parse(EN))
    });
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// One string by its dotted key (`form.required`); the key itself if it is missing.
pub fn text(lang: Lang, key: &str) -> String {
    key.split('.')
        .try_fold(strings(lang), |v, k| v.get(k))
        .and_then(|v| v.as_str())
        .map_or_else(|| key.to_owned(), str::to_owned)
}

/// The tag of a language as used in `?lang=` and the cookie.
pub fn tag(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "zh",
        Lang::En => "en",
    }
}

fn parse(tag: &str) -> Option<Lang> {
    match tag {
        "zh" => Some(Lang::Zh),
        "en" => Some(Lang::En),
        _ => None,
    }
}

/// The language of a page request, and whether it was switched by `?lang=` (to remember).
pub fn language(req: &HttpRequest) -> (Lang, bool) {
    let asked = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| parse(&v));
    if let Some(lang) = asked {
        return (lang, true);
    }
    if let Some(lang) = cookie(req, LANG_COOKIE).as_deref().and_then(parse) {
        return (lang, false);
    }
    let header = req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok());
    (Lang::from_accept_language(header), false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::BTreeSet;

    fn keys(prefix: &str, v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    keys(&format!("{prefix}{k}."), v, out);
                }
            }
            serde_json::Value::String(s) => {
                assert!(!s.trim().is_empty(), "{prefix} is empty");
                out.insert(prefix.to_owned());
            }
            other => panic!("{prefix} is not a string: {other}"),
        }
    }

    #[test]
    fn both_languages_have_the_same_strings() {
        let zh: serde_json::Value = serde_json::from_str(ZH).unwrap();
        let en: serde_json::Value = serde_json::from_str(EN).unwrap();
        let (mut zk, mut ek) = (BTreeSet::new(), BTreeSet::new());
        keys("", &zh, &mut zk);
        keys("", &en, &mut ek);
        assert_eq!(zk, ek);
        assert_eq!(text(Lang::Zh, "site.name"), "课后服务第三方机构备选库");
        assert_eq!(text(Lang::En, "no.such.key"), "no.such.key");
    }

    #[test]
    fn the_switch_wins_over_the_cookie_and_the_cookie_over_the_header() {
        use actix_web::test::TestRequest;
        let req = TestRequest::with_uri("/pool?lang=en")
            .insert_header(("cookie", "lang=zh"))
            .to_http_request();
        assert_eq!(language(&req), (Lang::En, true));
        let req = TestRequest::with_uri("/pool")
            .insert_header(("cookie", "lang=en"))
            .insert_header(("accept-language", "zh-CN"))
            .to_http_request();
        assert_eq!(language(&req), (Lang::En, false));
        let req = TestRequest::with_uri("/pool")
            .insert_header(("accept-language", "en-GB,en;q=0.9"))
            .to_http_request();
        assert_eq!(language(&req), (Lang::En, false));
        let req = TestRequest::with_uri("/pool").to_http_request();
        assert_eq!(language(&req), (Lang::Zh, false));
    }
}
