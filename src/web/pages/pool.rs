//! `/pool` (the whitelist search, from the pool's read model, its pages cached per snapshot)
//! and `/pool/{id}` (one entry).

use std::sync::OnceLock;

use chrono::Datelike;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

use super::cache::PageCache;
use super::{Pager, page_query, public_viewer};
use crate::app::AppState;
use crate::auth::Ctx;
use crate::clock::beijing_date;
use crate::credentials::EntityType;
use crate::credentials::certificates::CredentialKind;
use crate::error::{ApiError, Lang};
use crate::pool::detail::{self, PoolEntryDetail};
use crate::pool::read_model::PoolModel;
use crate::pool::search::{self as pool_search, PoolEntry, PoolQuery};
use crate::web::{Page, render};

#[derive(Debug, Default, Deserialize)]
pub struct PoolPageQuery {
    category: Option<String>,
    district: Option<String>,
    q: Option<String>,
    page: Option<i64>,
}

/// A pool entry as listed on the page.
fn entry_view(lang: Lang, e: &PoolEntry) -> serde_json::Value {
    serde_json::json!({
        "institution_id": e.institution_id,
        "name": e.name,
        "district": e.district,
        "items": e.items.iter().map(|i| match lang {
            Lang::Zh => i.name_zh.unwrap_or(&i.code),
            Lang::En => i.name_en.unwrap_or(&i.code),
        }).collect::<Vec<_>>(),
        "valid_until": e.valid_until,
        "standing": e.standing,
    })
}

/// The options of the search form's category list in the page's language, rendered once
/// (the catalogue does not change while the service runs), with the `category` asked for
/// marked `selected` (only a known code matches: the value is compared escaped).
fn category_options(lang: Lang, category: &str) -> String {
    static OPTIONS: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    let slot = match lang {
        Lang::Zh => &OPTIONS[0],
        Lang::En => &OPTIONS[1],
    };
    let options = slot.get_or_init(|| {
        render::fragment(
            "_category_options.html",
            lang,
            serde_json::json!({ "categories": category_tree(lang) }),
        )
        .unwrap_or_default()
    });
    if category.is_empty() {
        return options.clone();
    }
    let value = format!("<option value=\"{}\">", minijinja::HtmlEscape(category));
    let chosen = format!(
        "<option value=\"{}\" selected>",
        minijinja::HtmlEscape(category)
    );
    options.replacen(&value, &chosen, 1)
}

/// The category tree of the search form, in `lang`.
fn category_tree(lang: Lang) -> serde_json::Value {
    let name = |zh: &str, en: &str| match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    };
    crate::catalogue::Catalogue::get()
        .categories
        .iter()
        .map(|c| {
            serde_json::json!({
                "code": c.code,
                "name": name(&c.name_zh, &c.name_en),
                "items": c.items.iter().map(|i| serde_json::json!({
                    "code": i.code, "name": name(&i.name_zh, &i.name_en),
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// `/pool`: the whitelist — category tree, district, name, pagination, export links.
#[get("/pool")]
pub async fn pool_page(
    page: Page,
    ctx: Ctx,
    model: web::Data<PoolModel>,
    cache: web::Data<PageCache>,
    query: web::Query<PoolPageQuery>,
) -> HttpResponse {
    let query = query.into_inner();
    let today = beijing_date(ctx.now);
    let pool = match model.read().await {
        Ok(pool) => pool,
        Err(e) => return page.error(&e),
    };
    // The page is what the snapshot shows on that day.
    let stamp = [
        pool.generation,
        u64::try_from(today.num_days_from_ce()).unwrap_or_default(),
    ];
    if let Some(cached) = page.from_cache(&cache, &stamp) {
        return cached;
    }
    let filters = PoolQuery {
        category: query.category.clone(),
        district: query.district.clone(),
        q: query.q.clone(),
        flagged: None,
    };
    let q = page_query(query.page);
    let params = [
        ("category", query.category.clone().unwrap_or_default()),
        ("district", query.district.clone().unwrap_or_default()),
        ("q", query.q.clone().unwrap_or_default()),
    ];
    let params_ref: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let export_query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params_ref.iter().filter(|(_, v)| !v.is_empty()))
        .finish();
    // Every field the form can flag, so the template reads each (strict undefined).
    let mut errors: std::collections::BTreeMap<String, Option<String>> = ["category", "q"]
        .into_iter()
        .map(|f| (f.to_owned(), None))
        .collect();
    let parsed = filters.parse(false);
    let filter = match parsed {
        Ok(f) => Some(f),
        Err(ApiError::Problem(p)) => {
            for issue in &p.errors {
                let field = if issue.field == "category" {
                    "category"
                } else {
                    "q"
                };
                errors.insert(field.into(), Some(page.msg(&issue.message)));
            }
            if p.errors.is_empty() {
                errors.insert("q".into(), Some(page.msg(&p.detail)));
            }
            None
        }
        Err(e) => return page.error(&e),
    };
    let districts = pool_search::districts(&pool, today);
    let found = filter.map(|f| {
        pool_search::search(
            &pool,
            &f,
            today,
            public_viewer(),
            Some((q.offset(), q.per_page())),
        )
    });
    let (entries, total) = found.unwrap_or_default();
    let status = if errors.values().all(Option::is_none) {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page.render_cached(
        &cache,
        stamp,
        status,
        "pool.html",
        serde_json::json!({
            "category_options": category_options(page.lang, query.category.as_deref().unwrap_or("")),
            "districts": districts,
            "category": query.category.unwrap_or_default(),
            "district": query.district.unwrap_or_default(),
            "q": query.q.unwrap_or_default(),
            "errors": errors,
            "entries": entries.iter().map(|e| entry_view(page.lang, e)).collect::<Vec<_>>(),
            "pager": Pager::new("/pool", &params_ref, q.page(), total),
            "export_query": export_query,
            "today": today,
        }),
    )
}

/// `/pool/{id}`: one institution in the pool — items, validity, teachers (names and credential
/// kinds only), standing, its notice.
#[get("/pool/{id:\\d+}")]
pub async fn pool_entry_page(
    page: Page,
    ctx: Ctx,
    state: web::Data<AppState>,
    model: web::Data<PoolModel>,
    id: web::Path<i64>,
) -> HttpResponse {
    let (id, today) = (id.into_inner(), beijing_date(ctx.now));
    let entry = match model.read().await {
        Ok(pool) => detail::entry(&pool, id, today, public_viewer()),
        Err(e) => Err(e),
    };
    let found = match entry {
        Ok(entry) => {
            state
                .run(move |conn| detail::entry_detail(conn, entry, today))
                .await
        }
        Err(e) => Err(e),
    };
    match found {
        Ok(d) => page.render(
            StatusCode::OK,
            "pool_entry.html",
            entry_detail_view(&page, &d),
        ),
        Err(e) => page.error(&e),
    }
}

fn entry_detail_view(page: &Page, d: &PoolEntryDetail) -> serde_json::Value {
    let lang = page.lang;
    let entity = EntityType::parse(&d.entry.entity_type).map_or_else(
        || d.entry.entity_type.clone(),
        |t| match lang {
            Lang::Zh => t.label_zh().to_owned(),
            Lang::En => t.label_en().to_owned(),
        },
    );
    let teachers: Vec<serde_json::Value> = d
        .teachers
        .iter()
        .map(|t| {
            let kinds: Vec<String> = t
                .credential_kinds
                .iter()
                .map(|k| match (CredentialKind::parse(k), lang) {
                    (Some(k), Lang::Zh) => k.label_zh().to_owned(),
                    (Some(k), Lang::En) => k.label_en().to_owned(),
                    (None, _) => k.clone(),
                })
                .collect();
            serde_json::json!({ "name": t.name, "credentials": kinds })
        })
        .collect();
    serde_json::json!({
        "entry": entry_view(lang, &d.entry),
        "uscc": d.entry.uscc,
        "entity_type": entity,
        "address": d.entry.address,
        "contact": d.entry.contact,
        "valid_from": d.entry.valid_from,
        "contract_count": d.entry.contract_count,
        "teachers": teachers,
        "notice": d.notice,
    })
}
