//! The page handlers. Each extracts the [`Page`] and its parameters, makes one service call
//! (the same function the JSON API calls) and renders a template; refusals are shown in the
//! page (field errors next to their fields) or as an HTML error page.

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::calendar::rules::{DayInfo, DayReason};
use crate::clock::beijing_date;
use crate::credentials::EntityType;
use crate::credentials::certificates::CredentialKind;
use crate::error::{ApiError, ApiResult, Lang};
use crate::http::PageQuery;
use crate::notices::service::{self as notices, Notice};
use crate::objections::{NewObjection, intake};
use crate::pool::detail::{self, PoolEntryDetail};
use crate::pool::search::{self as pool_search, PoolEntry, PoolQuery, Viewer};
use crate::pool::status::{self as pool_status, InstitutionStatus};
use crate::sanctions::bans::{self, Ban, BanFilter, BanStatus};
use crate::web::Page;
use crate::web::security::{self, CSRF_FIELD};

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

/// `/`: what the registry is, the current round, the latest notices, links to everything.
#[get("/")]
pub async fn home(page: Page, ctx: Ctx, state: web::Data<AppState>) -> HttpResponse {
    let now = ctx.now;
    let result = state
        .run(move |conn| {
            let rounds = crate::rounds::list(conn, now)?;
            let (latest, _) = notices::list(conn, now, 0, 3)?;
            Ok((rounds, latest))
        })
        .await;
    match result {
        Ok((rounds, latest)) => {
            let current = rounds
                .iter()
                .find(|r| r.open_now)
                .or(rounds.first())
                .cloned();
            page.render(
                StatusCode::OK,
                "home.html",
                serde_json::json!({
                    "round_opens_on": current.as_ref().map(|r| beijing_date(r.opens_at.0)),
                    "round_closes_on": current.as_ref().map(|r| beijing_date(r.closes_at.0)),
                    "round": current,
                    "notices": latest.iter().map(notice_summary).collect::<Vec<_>>(),
                    "today": beijing_date(now),
                }),
            )
        }
        Err(e) => page.error(&e),
    }
}

/// A notice as listed on the board.
fn notice_summary(n: &Notice) -> serde_json::Value {
    serde_json::json!({
        "id": n.id,
        "title": n.title,
        "publication_date": n.publication_date,
        "starts_on": n.window.starts_on,
        "ends_on": n.window.ends_on,
        "accepting": n.accepting_objections,
        "institutions": n.applications.len(),
    })
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    page: Option<i64>,
}

/// `/notices`: the notice board, newest first.
#[get("/notices")]
pub async fn notice_board(
    page: Page,
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    let q = page_query(query.page);
    let now = ctx.now;
    match state
        .run(move |conn| notices::list(conn, now, q.offset(), q.per_page()))
        .await
    {
        Ok((items, total)) => page.render(
            StatusCode::OK,
            "notices.html",
            serde_json::json!({
                "notices": items.iter().map(notice_summary).collect::<Vec<_>>(),
                "pager": Pager::new("/notices", &[], q.page(), total),
            }),
        ),
        Err(e) => page.error(&e),
    }
}

/// One day of a notice's count, as the page shows it.
#[derive(Serialize)]
struct DayRow {
    date: chrono::NaiveDate,
    weekday: String,
    working: bool,
    /// `weekday`, `weekend`, `holiday`, `makeup_workday`.
    kind: &'static str,
    /// The holiday's or make-up day's name.
    name: Option<String>,
    /// Which working day of the window this is (1…5).
    nth: Option<usize>,
}

fn day_rows(page: &Page, days: &[DayInfo], starts_on: chrono::NaiveDate) -> Vec<DayRow> {
    let mut nth = 0;
    days.iter()
        .map(|d| {
            let (kind, name) = match &d.reason {
                DayReason::Weekday => ("weekday", None),
                DayReason::Weekend => ("weekend", None),
                DayReason::Holiday { name } => ("holiday", Some(name.clone())),
                DayReason::MakeupWorkday { name } => ("makeup_workday", Some(name.clone())),
            };
            let counted = d.working && d.date >= starts_on;
            if counted {
                nth += 1;
            }
            let weekday = serde_json::to_value(d.weekday)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            DayRow {
                date: d.date,
                weekday: page.t(&format!("weekday.{weekday}")),
                working: d.working,
                kind,
                name,
                nth: counted.then_some(nth),
            }
        })
        .collect()
}

/// `/notices/{id}`: one notice — institutions, approved items, the window explained day by
/// day, and the way to object while it is open.
#[get("/notices/{id:\\d+}")]
pub async fn notice_page(
    page: Page,
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let (id, now) = (id.into_inner(), ctx.now);
    match state.run(move |conn| notices::get(conn, id, now)).await {
        Ok(notice) => {
            let days = day_rows(&page, &notice.explanation, notice.window.starts_on);
            page.render(
                StatusCode::OK,
                "notice.html",
                serde_json::json!({ "notice": notice, "days": days }),
            )
        }
        Err(e) => page.error(&e),
    }
}

/// What the objection form shows: the notice, the institution, the values typed, the errors.
#[derive(Serialize, Default)]
struct ObjectionView {
    notice_id: i64,
    notice_title: String,
    ends_on: Option<chrono::NaiveDate>,
    accepting: bool,
    application_id: i64,
    institution_name: String,
    name: String,
    mobile: String,
    grounds: String,
    /// Field → message, for every field of the form (`None`: no error).
    errors: std::collections::BTreeMap<String, Option<String>>,
    /// The error summary at the top: `(field, message)`.
    summary: Vec<(String, String)>,
    /// The file is not kept between attempts: ask for it again.
    evidence_again: bool,
    /// A refusal of the whole form (rate limit, expired form).
    form_error: Option<String>,
    max_mb: u64,
}

#[derive(Debug, Deserialize)]
pub struct ObjectionQuery {
    application: Option<i64>,
}

async fn objection_view(
    state: &AppState,
    now: chrono::DateTime<chrono::Utc>,
    notice_id: i64,
    application_id: Option<i64>,
) -> ApiResult<ObjectionView> {
    let notice = state
        .run(move |conn| notices::get(conn, notice_id, now))
        .await?;
    let target = notice
        .applications
        .iter()
        .find(|a| Some(a.application_id) == application_id)
        .or(match notice.applications.as_slice() {
            [only] => Some(only),
            _ => None,
        })
        .ok_or_else(|| ApiError::not_found("申报", "application"))?;
    Ok(ObjectionView {
        notice_id,
        notice_title: notice.title.clone(),
        ends_on: Some(notice.window.ends_on),
        accepting: notice.accepting_objections,
        application_id: target.application_id,
        institution_name: target.institution_name.clone(),
        max_mb: state.settings.upload_max_bytes / (1024 * 1024),
        errors: FORM_FIELDS
            .iter()
            .map(|f| ((*f).to_owned(), None))
            .collect(),
        ..Default::default()
    })
}

/// `/notices/{id}/object?application=…`: the objection form for one institution (or the
/// closed-window message).
#[get("/notices/{id:\\d+}/object")]
pub async fn objection_form(
    page: Page,
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<ObjectionQuery>,
) -> HttpResponse {
    match objection_view(&state, ctx.now, id.into_inner(), query.application).await {
        Ok(view) => page.render(StatusCode::OK, "objection.html", view),
        Err(e) => page.error(&e),
    }
}

/// The fields of the form, so a refusal can be shown next to the one it concerns.
const FORM_FIELDS: &[&str] = &["name", "mobile", "grounds", "evidence"];

/// Codes of refusals that concern the evidence file.
const EVIDENCE_CODES: &[&str] = &[
    "file_too_large",
    "unsupported_file_type",
    "pdf_encrypted",
    "pdf_unreadable",
];

/// Posting the objection form: CSRF check, then the API's own intake (validation, window,
/// rate limit, evidence); success redirects to the confirmation, a refusal shows the form again
/// with the message next to its field.
#[post("/notices/{id:\\d+}/object")]
pub async fn file_objection(
    page: Page,
    ctx: Ctx,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    payload: web::Payload,
) -> HttpResponse {
    let notice_id = id.into_inner();
    let multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        return page.error(&ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            crate::error::Msg::new(page.t("form.not_multipart"), page.t("form.not_multipart")),
        ));
    }
    let received = match intake::read_multipart(&state, &req, payload).await {
        Ok(r) => r,
        Err(e) => return refused(&page, &state, ctx.now, notice_id, None, e).await,
    };
    let token = received.extra.get(CSRF_FIELD).map(String::as_str);
    if !security::csrf_ok(page.key(), &req, token) {
        let mut view = match objection_view(
            &state,
            ctx.now,
            notice_id,
            Some(received.objection.application_id),
        )
        .await
        {
            Ok(v) => v,
            Err(e) => return page.error(&e),
        };
        fill(&mut view, &received.objection);
        view.form_error = Some(page.t("form.csrf_failed"));
        return page.render(StatusCode::FORBIDDEN, "objection.html", view);
    }
    // A file input left empty arrives as an empty part: no evidence.
    let evidence = match received.evidence {
        Some((_, incoming)) if incoming.size == 0 => None,
        other => other,
    };
    let ip = crate::http::client_ip(&req, &state.settings.trusted_proxies);
    let body = received.objection;
    match intake::receive(&state, ctx.clone(), notice_id, body.clone(), evidence, ip).await {
        Ok(receipt) => {
            let institution = objection_view(&state, ctx.now, notice_id, Some(body.application_id))
                .await
                .map(|v| v.institution_name)
                .unwrap_or_default();
            let message = serde_json::json!({
                "kind": "objection_received",
                "receipt": receipt,
                "institution_name": institution,
                "filed_on": beijing_date(ctx.now),
            });
            page.redirect_with_flash(&format!("/notices/{notice_id}/object/received"), &message)
        }
        Err(e) => refused(&page, &state, ctx.now, notice_id, Some(&body), e).await,
    }
}

fn fill(view: &mut ObjectionView, body: &NewObjection) {
    view.name = body.name.clone();
    view.mobile = body.mobile.clone();
    view.grounds = body.grounds.clone();
}

/// The form again, with the refusal where it belongs.
async fn refused(
    page: &Page,
    state: &AppState,
    now: chrono::DateTime<chrono::Utc>,
    notice_id: i64,
    body: Option<&NewObjection>,
    err: ApiError,
) -> HttpResponse {
    let ApiError::Problem(problem) = &err else {
        return page.error(&err);
    };
    if problem.status == StatusCode::NOT_FOUND {
        return page.not_found();
    }
    let mut view = match objection_view(state, now, notice_id, body.map(|b| b.application_id)).await
    {
        Ok(v) => v,
        Err(e) => return page.error(&e),
    };
    if let Some(body) = body {
        fill(&mut view, body);
    }
    if problem.code == "notice_closed" {
        view.accepting = false;
    }
    let mut flagged: Vec<(String, String)> = Vec::new();
    for issue in &problem.errors {
        let field = issue.field.as_str();
        if FORM_FIELDS.contains(&field) {
            flagged.push((field.to_owned(), page.msg(&issue.message)));
        } else {
            view.form_error = Some(page.msg(&issue.message));
        }
    }
    if EVIDENCE_CODES.contains(&problem.code.as_ref()) {
        flagged.push(("evidence".to_owned(), page.msg(&problem.detail)));
    } else if problem.errors.is_empty() && problem.code != "notice_closed" {
        view.form_error = Some(page.msg(&problem.detail));
    }
    for (field, message) in flagged {
        if let Some(slot @ None) = view.errors.get_mut(&field) {
            *slot = Some(message.clone());
            view.summary.push((field, message));
        }
    }
    view.evidence_again = !view.summary.is_empty() || view.form_error.is_some();
    page.render(problem.status, "objection.html", view)
}

/// `/notices/{id}/object/received`: the confirmation after a filed objection (from the flash
/// message; without one, back to the notice).
#[get("/notices/{id:\\d+}/object/received")]
pub async fn objection_received(page: Page, id: web::Path<i64>) -> HttpResponse {
    let id = id.into_inner();
    match page.flash().cloned() {
        Some(message)
            if message["kind"] == "objection_received" && message["receipt"]["notice_id"] == id =>
        {
            page.render(StatusCode::OK, "received.html", message)
        }
        _ => page.redirect(&format!("/notices/{id}")),
    }
}

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
            Lang::Zh => i.name_zh.clone().unwrap_or_else(|| i.code.clone()),
            Lang::En => i.name_en.clone().unwrap_or_else(|| i.code.clone()),
        }).collect::<Vec<_>>(),
        "valid_until": e.valid_until,
        "standing": e.standing,
    })
}

/// The category tree of the search form, in the page's language.
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
    state: web::Data<AppState>,
    query: web::Query<PoolPageQuery>,
) -> HttpResponse {
    let query = query.into_inner();
    let today = beijing_date(ctx.now);
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
    let result = state
        .run(move |conn| {
            let districts = pool_search::districts(conn, today)?;
            let found = match filter {
                Some(f) => Some(pool_search::search(
                    conn,
                    &f,
                    today,
                    public_viewer(),
                    Some((q.offset(), q.per_page())),
                )?),
                None => None,
            };
            Ok((districts, found))
        })
        .await;
    let (districts, found) = match result {
        Ok(r) => r,
        Err(e) => return page.error(&e),
    };
    let (entries, total) = found.unwrap_or_default();
    let status = if errors.values().all(Option::is_none) {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page.render(
        status,
        "pool.html",
        serde_json::json!({
            "categories": category_tree(page.lang),
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
    id: web::Path<i64>,
) -> HttpResponse {
    let (id, today) = (id.into_inner(), beijing_date(ctx.now));
    let found = state
        .run(move |conn| detail::entry_detail(conn, id, today, public_viewer()))
        .await;
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

#[derive(Debug, Deserialize)]
pub struct BansQuery {
    status: Option<BanStatus>,
    page: Option<i64>,
}

/// `/bans`: active bans (default) or past ones, with the last banned day and the day the
/// institution may apply again.
#[get("/bans")]
pub async fn bans_page(
    page: Page,
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<BansQuery>,
) -> HttpResponse {
    let status = query.status.unwrap_or(BanStatus::Active);
    let q = page_query(query.page);
    let today = beijing_date(ctx.now);
    let filter = BanFilter {
        status: Some(status),
        uscc: None,
    };
    let found = state
        .run(move |conn| bans::list(conn, &filter, today, q.offset(), q.per_page()))
        .await;
    let (items, total): (Vec<Ban>, i64) = match found {
        Ok(r) => r,
        Err(e) => return page.error(&e),
    };
    let status_code = match status {
        BanStatus::Active => "active",
        BanStatus::Past => "past",
    };
    page.render(
        StatusCode::OK,
        "bans.html",
        serde_json::json!({
            "status": status_code,
            "bans": items,
            "pager": Pager::new("/bans", &[("status", status_code)], q.page(), total),
        }),
    )
}

#[derive(Debug, Deserialize)]
pub struct StatusPageQuery {
    uscc: Option<String>,
}

/// `/status?uscc=…`: in the pool / banned until … / not listed / invalid with every reason.
#[get("/status")]
pub async fn status_page(
    page: Page,
    ctx: Ctx,
    state: web::Data<AppState>,
    query: web::Query<StatusPageQuery>,
) -> HttpResponse {
    let uscc = query
        .into_inner()
        .uscc
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty());
    let Some(code) = uscc else {
        return page.render(
            StatusCode::OK,
            "status.html",
            serde_json::json!({ "uscc": "", "result": null, "reasons": [] }),
        );
    };
    let today = beijing_date(ctx.now);
    let input = code.clone();
    let found = state
        .run(move |conn| pool_status::lookup(conn, &input, today))
        .await;
    match found {
        Ok(result) => {
            let grounds: Vec<String> = match &result {
                InstitutionStatus::Banned { grounds, .. } => grounds
                    .iter()
                    .map(|g| page.t(&format!("ground.{g}")))
                    .collect(),
                _ => Vec::new(),
            };
            page.render(
                StatusCode::OK,
                "status.html",
                serde_json::json!({
                    "uscc": code, "result": result, "grounds": grounds, "reasons": [],
                }),
            )
        }
        Err(ApiError::Problem(p)) if p.code == "invalid_uscc" => {
            let reasons: Vec<String> = p.errors.iter().map(|i| page.msg(&i.message)).collect();
            page.render(
                StatusCode::UNPROCESSABLE_ENTITY,
                "status.html",
                serde_json::json!({
                    "uscc": code, "result": {"status": "invalid"}, "reasons": reasons,
                }),
            )
        }
        Err(e) => page.error(&e),
    }
}
