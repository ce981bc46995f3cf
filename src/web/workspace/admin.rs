//! The admin's workspace (issue 16, `/admin…`): accounts and schools (create, disable,
//! enable), selection rounds (open, close early), the working-day calendar of a year (uploaded
//! as the JSON `PUT /calendar/{year}` takes, previewed — every open notice's window old → new,
//! nothing written — then confirmed), dead jobs and their retry, and the audit chain's
//! verification. Every page calls the service the JSON handler calls (`accounts`,
//! `rounds`, `notices::service::{preview_calendar, save_calendar}`, `ops::jobs`,
//! `audit::verify`), forms read through the API's own parser; no SQL here.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::accounts::{self, CreateUserRequest, NewUser};
use crate::app::AppState;
use crate::auth::{AdminRole, Role};
use crate::calendar::rules::YearCalendarInput;
use crate::calendar::store as calendar_store;
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::notices::service as notices;
use crate::rounds;
use crate::web::Page;
use crate::web::forms::{Field, Form};
use crate::web::session::SignedIn;
use crate::web::workspace::signed_form::{Fields, Multipart, SignedForm};

/// Where an admin lands after signing in.
pub const HOME: &str = "/admin";

type Adm = SignedIn<AdminRole>;
type Posted = SignedForm<AdminRole>;

/// Accounts and jobs per page.
const PER_PAGE: i64 = 50;

/// The admin's pages in the header.
pub fn links(page: &Page) -> Vec<(String, String)> {
    [
        ("/admin", "accounts"),
        ("/admin/schools", "schools"),
        ("/admin/rounds", "rounds"),
        ("/admin/calendar", "calendar"),
        ("/admin/jobs", "jobs"),
        ("/admin/audit", "audit"),
    ]
    .iter()
    .map(|(href, key)| ((*href).to_owned(), page.t(&format!("adm.nav.{key}"))))
    .collect()
}

/// Registers the admin's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(accounts_page)
        .service(create_account)
        .service(disable_account)
        .service(enable_account)
        .service(schools_page)
        .service(create_school)
        .service(rounds_page)
        .service(open_round)
        .service(close_round)
        .service(calendar_page)
        .service(preview_calendar)
        .service(save_calendar)
        .service(jobs_page)
        .service(retry_job)
        .service(audit_page);
}

// ---- plumbing ------------------------------------------------------------------------------

/// Reads a body built from a form the way the JSON API reads its body.
fn parse<T: DeserializeOwned + validator::Validate>(body: &Value) -> ApiResult<T> {
    crate::http::json::parse_valid::<T>(body.to_string().as_bytes())
}

/// `Some(text)` unless blank.
fn opt(text: &str) -> Value {
    match text.trim() {
        "" => Value::Null,
        t => Value::String(t.to_owned()),
    }
}

/// Puts the posted values back into the form's fields (never a password).
fn refill(form: &mut Form, posted: &Fields) {
    for (name, value) in posted.typed() {
        if name != "password" {
            form.set(name, value.clone());
        }
    }
}

/// What a creating form does: its JSON body read by the API's parser, the service called in a
/// write transaction, then 303 to `back` with the flash `kind` naming what was made. A refusal
/// is the caller's to show next to its fields ([`refused`]).
async fn create<T, P, R>(
    s: &Posted,
    state: &AppState,
    body: Value,
    (prepare, service): Steps<T, P, R>,
    (back, kind): (&str, &str),
    name: fn(&R) -> String,
) -> ApiResult<HttpResponse>
where
    T: DeserializeOwned + validator::Validate + Send + 'static,
    P: Send + 'static,
    R: Send + 'static,
{
    let request = parse::<T>(&body)?;
    // Whatever is slow and needs no database (a password's hash) happens before the write.
    let prepared = web::block(move || prepare(request)).await??;
    let ctx = s.ctx.clone();
    let made = state
        .write(move |conn| service(conn, &ctx, &prepared))
        .await?;
    Ok(s.page
        .redirect_with_flash(back, &json!({"kind": kind, "name": name(&made)})))
}

/// A creating form's two steps: the preparation outside any transaction, then the service
/// call inside the write transaction.
type Steps<T, P, R> = (
    fn(T) -> ApiResult<P>,
    fn(&mut crate::db::DbConn, &crate::auth::Ctx, &P) -> ApiResult<R>,
);

/// A button's action on one record: `action` in a write transaction, then 303 to `back` with
/// the flash `kind` naming what it returned, or the error page (nothing to show in place).
async fn act<R: Send + 'static>(
    s: &Posted,
    state: &AppState,
    (back, kind): (&str, &str),
    action: impl FnOnce(&mut crate::db::DbConn, &crate::auth::Ctx) -> ApiResult<R> + Send + 'static,
    name: fn(&R) -> String,
) -> HttpResponse {
    let ctx = s.ctx.clone();
    match state.write(move |conn| action(conn, &ctx)).await {
        Ok(done) => s
            .page
            .redirect_with_flash(back, &json!({"kind": kind, "name": name(&done)})),
        Err(e) => s.error(&e),
    }
}

/// The form again after a refusal: the values typed, each message next to its field.
fn refused(page: &Page, mut form: Form, posted: &Fields, err: &ApiError) -> (Form, StatusCode) {
    refill(&mut form, posted);
    let status = form.refused(page, err);
    (form, status)
}

/// An instant as an admin reads it: Beijing time to the minute.
fn beijing(t: DateTime<Utc>) -> String {
    // Beijing keeps UTC+8 all year (no daylight saving).
    (t + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

async fn show(
    s: &Adm,
    status: StatusCode,
    template: &str,
    view: impl std::future::Future<Output = ApiResult<Value>>,
) -> HttpResponse {
    match view.await {
        Ok(view) => s.render(status, template, view),
        Err(e) => s.error(&e),
    }
}

#[derive(Debug, Deserialize)]
pub struct PageNo {
    page: Option<i64>,
}

fn pager(base: &str, page_no: i64, total: i64) -> Value {
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    json!({
        "page": page_no, "pages": pages,
        "prev": (page_no > 1).then(|| format!("{base}?page={}", page_no - 1)),
        "next": (page_no < pages).then(|| format!("{base}?page={}", page_no + 1)),
    })
}

// ---- accounts ------------------------------------------------------------------------------

fn account_form(page: &Page, schools: &[accounts::School]) -> Form {
    let roles = [Role::Reviewer, Role::School, Role::Admin]
        .iter()
        .map(|r| {
            (
                r.as_str().to_owned(),
                page.t(&format!("role.{}", r.as_str())),
            )
        })
        .collect();
    let mut school_options = vec![(String::new(), page.t("adm.accounts.no_school"))];
    school_options.extend(
        schools
            .iter()
            .map(|s| (s.id.to_string(), format!("{}（{}）", s.name, s.code))),
    );
    Form::new("/admin/accounts", page.t("adm.accounts.create"))
        .field(
            Field::new("email", page.t("adm.accounts.email"), "email")
                .required()
                .autocomplete("off"),
        )
        .field(Field::new("display_name", page.t("adm.accounts.display_name"), "text").required())
        .field(
            Field::new("role", page.t("adm.accounts.role"), "select")
                .required()
                .options(roles),
        )
        .field(
            Field::new("school_id", page.t("adm.accounts.school"), "select")
                .hint(page.t("adm.accounts.school_hint"))
                .options(school_options),
        )
        .field(
            Field::new("password", page.t("adm.accounts.password"), "password")
                .required()
                .autocomplete("new-password")
                .hint(page.t("adm.accounts.password_hint")),
        )
}

async fn accounts_view(
    s: &Adm,
    state: &AppState,
    page_no: i64,
    form: Option<Form>,
) -> ApiResult<Value> {
    let offset = (page_no - 1) * PER_PAGE;
    let (users, total, schools) = state
        .run(move |conn| {
            let (users, total) = accounts::list_users(conn, None, offset, PER_PAGE)?;
            Ok((users, total, accounts::list_schools(conn)?))
        })
        .await?;
    let form = form.unwrap_or_else(|| account_form(&s.page, &schools));
    Ok(json!({
        "accounts": users,
        "total": total,
        "me": s.user.id,
        "form": form,
        "pager": pager("/admin", page_no, total),
    }))
}

/// `/admin`: every account (role, school, disabled or not) with its disable/enable button, and
/// the form creating a reviewer, school or admin account.
#[get("/admin")]
pub async fn accounts_page(
    s: Adm,
    state: web::Data<AppState>,
    q: web::Query<PageNo>,
) -> HttpResponse {
    let page_no = q.page.unwrap_or(1).max(1);
    show(
        &s,
        StatusCode::OK,
        "admin_accounts.html",
        accounts_view(&s, &state, page_no, None),
    )
    .await
}

/// Creates an account through `accounts::create_user` (`POST /admin/users`).
#[post("/admin/accounts")]
pub async fn create_account(s: Posted, state: web::Data<AppState>) -> HttpResponse {
    let p = &s.form;
    let school_id = match p.text("school_id").trim() {
        "" => Value::Null,
        id => id
            .parse::<i64>()
            .map_or(Value::String(id.to_owned()), Value::from),
    };
    let body = json!({
        "email": p.text("email").trim(), "display_name": p.text("display_name"),
        "role": p.text("role"), "password": p.text("password"), "school_id": school_id,
    });
    let made = create(
        &s,
        &state,
        body,
        (
            |req: CreateUserRequest| accounts::prepare_user(&req),
            create_user,
        ),
        ("/admin", "account_created"),
        |a: &accounts::Account| a.email.clone(),
    );
    match made.await {
        Ok(redirect) => redirect,
        Err(e) => {
            let schools = state.run(accounts::list_schools).await.unwrap_or_default();
            let form = account_form(&s.page, &schools);
            let (form, status) = refused(&s.page, form, p, &e);
            show(
                &s.signed,
                status,
                "admin_accounts.html",
                accounts_view(&s.signed, &state, 1, Some(form)),
            )
            .await
        }
    }
}

/// `POST /admin/users`' service: the account created, as the API answers it.
fn create_user(
    conn: &mut crate::db::DbConn,
    ctx: &crate::auth::Ctx,
    user: &NewUser,
) -> ApiResult<accounts::Account> {
    let id = accounts::create_user(conn, ctx, user)?;
    accounts::account(conn, id)
}

async fn set_disabled(s: Posted, state: &AppState, id: i64, disabled: bool) -> HttpResponse {
    let kind = if disabled {
        "account_disabled"
    } else {
        "account_enabled"
    };
    let action = move |conn: &mut crate::db::DbConn, ctx: &crate::auth::Ctx| {
        accounts::set_disabled(conn, ctx, id, disabled)?;
        accounts::account(conn, id)
    };
    act(&s, state, ("/admin", kind), action, |a| a.email.clone()).await
}

/// Disables an account (`POST /admin/users/{id}/disable`): its sessions and tokens end at once.
#[post("/admin/accounts/{id:\\d+}/disable")]
pub async fn disable_account(
    s: Posted,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    set_disabled(s, &state, id.into_inner(), true).await
}

/// Enables a disabled account (`POST /admin/users/{id}/enable`).
#[post("/admin/accounts/{id:\\d+}/enable")]
pub async fn enable_account(
    s: Posted,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    set_disabled(s, &state, id.into_inner(), false).await
}

// ---- schools -------------------------------------------------------------------------------

fn school_form(page: &Page) -> Form {
    Form::new("/admin/schools", page.t("adm.schools.create"))
        .field(Field::new("name", page.t("adm.schools.name"), "text").required())
        .field(
            Field::new("code", page.t("adm.schools.code"), "text")
                .required()
                .hint(page.t("adm.schools.code_hint")),
        )
        .field(Field::new("district", page.t("adm.schools.district"), "text").required())
}

async fn schools_view(state: &AppState, form: Form) -> ApiResult<Value> {
    let schools = state.run(accounts::list_schools).await?;
    Ok(json!({ "schools": schools, "form": form }))
}

/// `/admin/schools`: the school records (school accounts belong to one) and the form adding one.
#[get("/admin/schools")]
pub async fn schools_page(s: Adm, state: web::Data<AppState>) -> HttpResponse {
    show(
        &s,
        StatusCode::OK,
        "admin_schools.html",
        schools_view(&state, school_form(&s.page)),
    )
    .await
}

/// Creates a school through `accounts::create_school` (`POST /admin/schools`).
#[post("/admin/schools")]
pub async fn create_school(s: Posted, state: web::Data<AppState>) -> HttpResponse {
    let p = &s.form;
    let body =
        json!({"name": p.text("name"), "code": p.text("code"), "district": p.text("district")});
    let made = create(
        &s,
        &state,
        body,
        (Ok, accounts::create_school),
        ("/admin/schools", "school_created"),
        |school: &accounts::School| school.name.clone(),
    );
    match made.await {
        Ok(redirect) => redirect,
        Err(e) => {
            let (mut form, status) = refused(&s.page, school_form(&s.page), p, &e);
            // The code is the school's unique key: its conflict goes next to it.
            if let ApiError::Problem(pr) = &e
                && pr.code == "school_code_taken"
            {
                form.form_errors.clear();
                form.error("code", s.page.msg(&pr.detail));
            }
            show(
                &s.signed,
                status,
                "admin_schools.html",
                schools_view(&state, form),
            )
            .await
        }
    }
}

// ---- rounds --------------------------------------------------------------------------------

fn round_form(page: &Page) -> Form {
    Form::new("/admin/rounds", page.t("adm.rounds.open"))
        .field(Field::new("name", page.t("adm.rounds.name"), "text").required())
        .field(
            Field::new("opens_at", page.t("adm.rounds.opens_at"), "datetime-local")
                .required()
                .hint(page.t("adm.rounds.beijing_hint")),
        )
        .field(
            Field::new(
                "closes_at",
                page.t("adm.rounds.closes_at"),
                "datetime-local",
            )
            .required()
            .hint(page.t("adm.rounds.beijing_hint")),
        )
        .field(Field::new("pool_valid_from", page.t("adm.rounds.valid_from"), "date").required())
        .field(Field::new("pool_valid_until", page.t("adm.rounds.valid_until"), "date").required())
}

/// A `datetime-local` value (`2026-03-01T09:00`, Beijing time) as the API's RFC 3339 instant;
/// anything else is passed on for the API's parser to refuse next to its field.
fn beijing_input(value: &str) -> Value {
    let v = value.trim();
    match v.len() {
        16 => Value::String(format!("{v}:00+08:00")),
        19 => Value::String(format!("{v}+08:00")),
        _ => opt(v),
    }
}

async fn rounds_view(s: &Adm, state: &AppState, form: Form) -> ApiResult<Value> {
    let now = s.ctx.now;
    let list = state.run(move |conn| rounds::list(conn, now)).await?;
    let rows: Vec<Value> = list
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "name": r.name, "opens_at": beijing(r.opens_at.0),
                "closes_at": beijing(r.closes_at.0), "pool_valid_from": r.pool_valid_from,
                "pool_valid_until": r.pool_valid_until, "open_now": r.open_now,
            })
        })
        .collect();
    Ok(json!({ "rounds": rows, "form": form }))
}

/// `/admin/rounds`: the selection rounds (window in Beijing time, open or not, the pool's
/// validity), the form opening one, and a button closing an open round's window now.
#[get("/admin/rounds")]
pub async fn rounds_page(s: Adm, state: web::Data<AppState>) -> HttpResponse {
    show(
        &s,
        StatusCode::OK,
        "admin_rounds.html",
        rounds_view(&s, &state, round_form(&s.page)),
    )
    .await
}

/// Opens a round through `rounds::create` (`POST /rounds`).
#[post("/admin/rounds")]
pub async fn open_round(s: Posted, state: web::Data<AppState>) -> HttpResponse {
    let p = &s.form;
    let body = json!({
        "name": p.text("name"), "opens_at": beijing_input(&p.text("opens_at")),
        "closes_at": beijing_input(&p.text("closes_at")),
        "pool_valid_from": opt(&p.text("pool_valid_from")),
        "pool_valid_until": opt(&p.text("pool_valid_until")),
    });
    let made = create(
        &s,
        &state,
        body,
        (Ok, rounds::create),
        ("/admin/rounds", "round_opened"),
        |round: &rounds::Round| round.name.clone(),
    );
    match made.await {
        Ok(redirect) => redirect,
        Err(e) => {
            let (form, status) = refused(&s.page, round_form(&s.page), p, &e);
            show(
                &s.signed,
                status,
                "admin_rounds.html",
                rounds_view(&s.signed, &state, form),
            )
            .await
        }
    }
}

/// Closes an open round's application window now (`rounds::close`).
#[post("/admin/rounds/{id:\\d+}/close")]
pub async fn close_round(
    s: Posted,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let id = id.into_inner();
    let action =
        move |conn: &mut crate::db::DbConn, ctx: &crate::auth::Ctx| rounds::close(conn, ctx, id);
    act(&s, &state, ("/admin/rounds", "round_closed"), action, |r| {
        r.name.clone()
    })
    .await
}

// ---- calendar ------------------------------------------------------------------------------

fn calendar_form(page: &Page, year: &str) -> Form {
    Form::new("/admin/calendar/preview", page.t("adm.calendar.preview"))
        .multipart()
        .field(
            Field::new("year", page.t("adm.calendar.year"), "number")
                .required()
                .value(year),
        )
        .field(
            Field::new("file", page.t("adm.calendar.file"), "file")
                .required()
                .accept(".json,application/json")
                .hint(page.t("adm.calendar.file_hint")),
        )
}

/// The calendar page: the stored years, the upload form, and a preview with its confirmation.
async fn calendar_view(state: &AppState, form: Form, preview: Option<Value>) -> ApiResult<Value> {
    let years = state.run(calendar_store::all).await?;
    let years: Vec<Value> = years
        .iter()
        .map(|y| {
            json!({
                "year": y.calendar.year(), "version": y.version, "source": y.calendar.source(),
                "holidays": y.calendar.holidays().len(),
                "makeup_workdays": y.calendar.makeup_workdays().len(),
                "updated_at": beijing(y.updated_at.0),
            })
        })
        .collect();
    Ok(json!({ "years": years, "form": form, "preview": preview }))
}

fn window_view(w: &notices::Window) -> Value {
    json!({"starts_on": w.starts_on, "ends_on": w.ends_on, "closes_at": beijing(w.closes_at)})
}

fn year_of(text: &str) -> ApiResult<i32> {
    text.trim()
        .parse::<i32>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(|| {
            ApiError::validation(vec![FieldIssue::new(
                "year",
                "invalid_value",
                Msg::new(
                    "请填写 2000–2100 之间的年份。",
                    "Give a year between 2000 and 2100.",
                ),
            )])
        })
}

/// `/admin/calendar`: the stored calendar years with their versions, and the upload of a year.
#[get("/admin/calendar")]
pub async fn calendar_page(s: Adm, state: web::Data<AppState>) -> HttpResponse {
    let year = (beijing_year(s.ctx.now) + 1).to_string();
    show(
        &s,
        StatusCode::OK,
        "admin_calendar.html",
        calendar_view(&state, calendar_form(&s.page, &year), None),
    )
    .await
}

fn beijing_year(now: DateTime<Utc>) -> i32 {
    chrono::Datelike::year(&crate::clock::beijing_date(now))
}

/// Previews an uploaded year (the JSON `PUT /calendar/{year}` takes): checked as the save
/// checks it, then every open notice that used the year with its window old → new. Nothing is
/// written; the page carries the year to the confirmation.
#[post("/admin/calendar/preview")]
pub async fn preview_calendar(
    mut s: SignedForm<AdminRole, Multipart>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let year_text = s.form.fields.text("year");
    let mut form = calendar_form(&s.page, &year_text);
    let file = s.form.take_file("file");
    let result: ApiResult<(i32, String, notices::CalendarPreview)> = async {
        let year = year_of(&year_text)?;
        let Some(file) = file? else {
            return Err(ApiError::validation(vec![FieldIssue::new(
                "file",
                "missing_field",
                Msg::new(
                    "请选择日历文件（JSON）。",
                    "Choose the calendar file (JSON).",
                ),
            )]));
        };
        let bytes = file.bytes().await?;
        let input: YearCalendarInput = crate::http::json::parse_valid(&bytes)?;
        let preview = state
            .run(move |conn| notices::preview_calendar(conn, year, &input))
            .await?;
        let data = String::from_utf8_lossy(&bytes).into_owned();
        Ok((year, data, preview))
    }
    .await;
    match result {
        Ok((year, data, preview)) => {
            let changes: Vec<Value> = preview
                .changes
                .iter()
                .map(|c| {
                    json!({
                        "notice_id": c.notice_id, "title": c.title,
                        "publication_date": c.publication_date, "changed": c.changed,
                        "from": window_view(&c.from), "to": window_view(&c.to),
                    })
                })
                .collect();
            let preview = json!({
                "year": year, "from_version": preview.from_version, "changes": changes,
                "data": data,
            });
            show(
                &s.signed,
                StatusCode::OK,
                "admin_calendar.html",
                calendar_view(&state, form, Some(preview)),
            )
            .await
        }
        Err(e) => {
            let status = match &e {
                // What concerns the file's content (a JSON path, or the file's syntax) goes
                // next to the file input.
                ApiError::Problem(p)
                    if p.errors
                        .iter()
                        .all(|i| i.field != "year" && i.field != "file") =>
                {
                    let mut text = s.page.msg(&p.detail);
                    for issue in &p.errors {
                        text.push_str(&format!(" {}：{}", issue.field, s.page.msg(&issue.message)));
                    }
                    form.error("file", text);
                    p.status
                }
                _ => form.refused(&s.page, &e),
            };
            show(
                &s.signed,
                status,
                "admin_calendar.html",
                calendar_view(&state, form, None),
            )
            .await
        }
    }
}

/// Saves the previewed year (`PUT /calendar/{year}`'s `save_calendar`: the year stored, open
/// notices recomputed), unless the year changed since the preview (409 `calendar_changed`).
#[post("/admin/calendar")]
pub async fn save_calendar(s: Posted, state: web::Data<AppState>) -> HttpResponse {
    let p = &s.form;
    let (data, expected) = (p.text("data"), p.text("from_version"));
    let ctx = s.ctx.clone();
    let result = match year_of(&p.text("year")) {
        Err(e) => Err(e),
        Ok(year) => {
            state
                .write(move |conn| {
                    let input: YearCalendarInput = crate::http::json::parse_valid(data.as_bytes())?;
                    let current = calendar_store::get(conn, year)?.map(|y| y.version);
                    if current.map(|v| v.to_string()).unwrap_or_default() != expected.trim() {
                        return Err(ApiError::conflict(
                            "calendar_changed",
                            "该年度日历已被他人修改，请重新预览。",
                            "The calendar was changed meanwhile; preview it again.",
                        ));
                    }
                    notices::save_calendar(conn, &ctx, year, &input)
                })
                .await
        }
    };
    match result {
        Ok((stored, recomputed)) => s.page.redirect_with_flash(
            "/admin/calendar",
            &json!({
                "kind": "calendar_saved", "year": stored.calendar.year(),
                "version": stored.version, "recomputed": recomputed,
            }),
        ),
        Err(e) => s.error(&e),
    }
}

// ---- jobs and audit ------------------------------------------------------------------------

/// `/admin/jobs`: dead jobs (their kind, attempts, last error; payloads redacted as the API
/// shows them) with a retry button each.
#[get("/admin/jobs")]
pub async fn jobs_page(s: Adm, state: web::Data<AppState>, q: web::Query<PageNo>) -> HttpResponse {
    let page_no = q.page.unwrap_or(1).max(1);
    let offset = (page_no - 1) * PER_PAGE;
    let view = async {
        let (jobs, total) = state
            .run(move |conn| {
                crate::ops::jobs::list(conn, Some(crate::jobs::DEAD), offset, PER_PAGE)
            })
            .await?;
        let rows: Vec<Value> = jobs
            .iter()
            .map(|j| {
                json!({
                    "id": j.id, "kind": j.kind, "attempts": j.attempts,
                    "max_attempts": j.max_attempts, "last_error": j.last_error,
                    "updated_at": beijing(j.updated_at.0),
                })
            })
            .collect();
        Ok(json!({"jobs": rows, "total": total, "pager": pager("/admin/jobs", page_no, total)}))
    };
    show(&s, StatusCode::OK, "admin_jobs.html", view).await
}

/// Puts a dead job back in the queue (`POST /admin/jobs/{id}/retry`).
#[post("/admin/jobs/{id:\\d+}/retry")]
pub async fn retry_job(s: Posted, state: web::Data<AppState>, id: web::Path<i64>) -> HttpResponse {
    let id = id.into_inner();
    let action = move |conn: &mut crate::db::DbConn, ctx: &crate::auth::Ctx| {
        crate::ops::jobs::retry(conn, ctx, id).map(|()| id)
    };
    act(&s, &state, ("/admin/jobs", "job_retried"), action, |id| {
        id.to_string()
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    verify: Option<String>,
}

/// `/admin/audit`: verifies the audit chain on request (`?verify=1`, the walk `GET
/// /audit/verify` runs) and shows its result: events checked, or the first break.
#[get("/admin/audit")]
pub async fn audit_page(
    s: Adm,
    state: web::Data<AppState>,
    q: web::Query<AuditQuery>,
) -> HttpResponse {
    let view = async {
        let result = match q.verify.as_deref() {
            Some(_) => Some(state.run(|conn| Ok(crate::audit::verify(conn)?)).await?),
            None => None,
        };
        Ok(json!({ "result": result, "checked_at": beijing(s.ctx.now) }))
    };
    show(&s, StatusCode::OK, "admin_audit.html", view).await
}
