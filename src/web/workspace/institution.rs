//! The institution's workspace: registration, profile, teacher roster, annual inspections,
//! uploads with their extraction status, applications (the form, submission with every
//! blocking finding next to the field it concerns and the rule it enforces, the history). Each
//! page calls the services the institution's JSON handlers call; forms are turned into the
//! same JSON bodies and read by the same parser and `validator` rules
//! ([`crate::http::json::parse_valid`]); no SQL here.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::accounts::{self, RegisterRequest};
use crate::app::AppState;
use crate::applications::service::{self as applications, ApplicationContent, NewApplication};
use crate::auth::{AuthUser, InstitutionRole, session as sessions};
use crate::clock::beijing_date;
use crate::credentials::certificates::CredentialKind;
use crate::credentials::identity::IdDocumentKind;
use crate::credentials::uscc::EntityType;
use crate::documents::store::{self as documents, DocumentKind};
use crate::error::{ApiError, ApiResult, Lang};
use crate::institutions::fields::{
    AuthorityLevel, CriminalCheckResult, InspectionResult, RegistrationKind,
};
use crate::institutions::inspections::{self, InspectionInput};
use crate::institutions::profile::{self as profiles, ProfileUpdate};
use crate::institutions::roster::{self, TeacherInput};
use crate::web::Page;
use crate::web::forms::{Field, Form};
use crate::web::security;
use crate::web::session::SignedIn;

/// Where an institution lands after signing in.
pub const HOME: &str = "/institution";

type Inst = SignedIn<InstitutionRole>;

const PAGES: &[(&str, &str)] = &[
    ("/institution", "overview"),
    ("/institution/profile", "profile"),
    ("/institution/teachers", "teachers"),
    ("/institution/inspections", "inspections"),
    ("/institution/documents", "documents"),
    ("/institution/applications", "applications"),
];

/// The institution's pages in the header.
pub fn links(page: &Page) -> Vec<(String, String)> {
    PAGES
        .iter()
        .map(|(href, key)| ((*href).to_owned(), page.t(&format!("inst.nav.{key}"))))
        .collect()
}

/// The signed-in account's institution.
fn own(user: &AuthUser) -> ApiResult<i64> {
    user.institution_id.ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "institution account {} has no institution",
            user.id
        ))
    })
}

// ---- form plumbing -----------------------------------------------------------------------

/// A posted urlencoded form, repeated names kept (checkbox lists).
struct Posted(Vec<(String, String)>);

impl Posted {
    fn parse(body: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether the form's CSRF token matches the request's cookie.
    fn csrf_ok(&self, page: &Page, req: &HttpRequest) -> bool {
        security::csrf_ok(page.key(), req, Some(self.get("csrf")))
    }

    /// Puts the posted values back into the form's fields.
    fn refill(&self, form: &mut Form) {
        for (name, value) in &self.0 {
            if name != "csrf" {
                form.set(name, value.clone());
            }
        }
    }
}

/// `Some(text)` unless blank.
fn opt(text: &str) -> Value {
    match text.trim() {
        "" => Value::Null,
        t => Value::String(t.to_owned()),
    }
}

/// Reads a body built from a form the way the JSON API reads its body.
fn parse<T: DeserializeOwned + validator::Validate>(body: &Value) -> ApiResult<T> {
    crate::http::json::parse_valid::<T>(body.to_string().as_bytes())
}

/// The wire name of an enum value (`resident_id`).
fn wire<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `(value, label)` options of an enum, labels from `inst.enum.<value>`.
fn options<T: Serialize>(page: &Page, all: &[T]) -> Vec<(String, String)> {
    all.iter()
        .map(|v| {
            let w = wire(v);
            let label = page.t(&format!("inst.enum.{w}"));
            (w, label)
        })
        .collect()
}

/// The catalogue's activity items, `(code, "category · item")`, in the page's language.
fn activity_options(page: &Page) -> Vec<(String, String)> {
    let name = |zh: &str, en: &str| match page.lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    };
    crate::catalogue::Catalogue::get()
        .categories
        .iter()
        .flat_map(|c| {
            c.items.iter().map(move |i| {
                (
                    i.code.clone(),
                    format!(
                        "{} · {}",
                        name(&c.name_zh, &c.name_en),
                        name(&i.name_zh, &i.name_en)
                    ),
                )
            })
        })
        .collect()
}

fn date_hint(page: &Page) -> String {
    page.t("inst.date_hint")
}

// ---- registration ------------------------------------------------------------------------

fn register_form(page: &Page) -> Form {
    Form::new("/register", page.t("inst.register.submit"))
        .field(
            Field::new(
                "institution_name",
                page.t("inst.register.institution_name"),
                "text",
            )
            .required()
            .autocomplete("organization"),
        )
        .field(
            Field::new("uscc", page.t("inst.profile.uscc"), "text")
                .required()
                .hint(page.t("inst.register.uscc_hint")),
        )
        .field(
            Field::new("entity_type", page.t("inst.profile.entity_type"), "select")
                .required()
                .options(options(page, &EntityType::ALL)),
        )
        .field(
            Field::new("display_name", page.t("inst.register.display_name"), "text")
                .required()
                .autocomplete("name"),
        )
        .field(
            Field::new("email", page.t("session.email"), "email")
                .required()
                .autocomplete("email"),
        )
        .field(
            Field::new("password", page.t("session.password"), "password")
                .required()
                .autocomplete("new-password")
                .hint(page.t("inst.register.password_hint")),
        )
}

/// `GET /register`: an institution creates its account and the start of its profile.
#[get("/register")]
pub async fn register_page(page: Page) -> HttpResponse {
    let form = register_form(&page);
    page.render(
        StatusCode::OK,
        "inst_form.html",
        form_page(&page, "register", form),
    )
}

fn form_page(page: &Page, key: &str, form: Form) -> Value {
    json!({
        "title": page.t(&format!("inst.{key}.title")),
        "intro": page.t(&format!("inst.{key}.intro")),
        "form": form,
    })
}

/// `POST /register`: the API's registration; on success signed in and sent to the profile.
#[post("/register")]
pub async fn register(
    page: Page,
    ctx: crate::auth::Ctx,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let posted = Posted::parse(&body);
    let mut form = register_form(&page);
    posted.refill(&mut form);
    if !posted.csrf_ok(&page, &req) {
        let status = form.csrf_failed(&page);
        return page.render(status, "inst_form.html", form_page(&page, "register", form));
    }
    let request = json!({
        "email": posted.get("email").trim(),
        "password": posted.get("password"),
        "display_name": posted.get("display_name").trim(),
        "institution_name": posted.get("institution_name").trim(),
        "uscc": posted.get("uscc").trim(),
        "entity_type": posted.get("entity_type"),
    });
    let lifetime = chrono::Duration::minutes(state.settings.jwt_ttl_minutes);
    let result = match parse::<RegisterRequest>(&request) {
        // The password is hashed before the write transaction, never inside it.
        Ok(request) => match web::block(move || accounts::prepare_registration(&request)).await {
            Ok(Ok(registration)) => {
                let (c, now) = (ctx.clone(), ctx.now);
                state
                    .write(move |conn| {
                        let user_id = accounts::register(conn, &c, &registration)?;
                        Ok(sessions::create(conn, user_id, now, lifetime)?)
                    })
                    .await
            }
            Ok(Err(e)) => Err(e),
            Err(e) => Err(e.into()),
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(value) => {
            let mut response = page.redirect("/institution/profile");
            page.add_cookie(
                &mut response,
                &security::set_cookie(
                    crate::web::session::SESSION_COOKIE,
                    &value,
                    None,
                    true,
                    "Lax",
                    page.secure(),
                ),
            );
            response
        }
        Err(e) => {
            let status = form.refused(&page, &e);
            page.render(status, "inst_form.html", form_page(&page, "register", form))
        }
    }
}

// ---- overview and profile ------------------------------------------------------------------

/// `/institution`: the institution's profile at a glance and the way to everything else.
#[get("/institution")]
pub async fn overview(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    let today = beijing_date(s.ctx.now);
    let id = match own(&s.user) {
        Ok(id) => id,
        Err(e) => return s.error(&e),
    };
    match state
        .run(move |conn| profiles::profile(conn, id, today))
        .await
    {
        Ok(profile) => {
            let entity = page_entity_label(&s.page, profile.entity_type);
            s.render(
                StatusCode::OK,
                "inst_overview.html",
                json!({ "profile": profile, "entity_type": entity }),
            )
        }
        Err(e) => s.error(&e),
    }
}

fn page_entity_label(page: &Page, entity: EntityType) -> &'static str {
    match page.lang {
        Lang::Zh => entity.label_zh(),
        Lang::En => entity.label_en(),
    }
}

fn profile_form(page: &Page) -> Form {
    Form::new("/institution/profile", page.t("inst.save"))
        .field(
            Field::new(
                "registration_kind",
                page.t("inst.profile.registration_kind"),
                "select",
            )
            .required()
            .options(options(page, &RegistrationKind::ALL)),
        )
        .field(
            Field::new(
                "registration_number",
                page.t("inst.profile.registration_number"),
                "text",
            )
            .required(),
        )
        .field(
            Field::new(
                "issuing_authority",
                page.t("inst.profile.issuing_authority"),
                "text",
            )
            .required(),
        )
        .field(
            Field::new(
                "authority_level",
                page.t("inst.profile.authority_level"),
                "select",
            )
            .required()
            .options(options(
                page,
                &[
                    AuthorityLevel::County,
                    AuthorityLevel::City,
                    AuthorityLevel::Province,
                    AuthorityLevel::National,
                    AuthorityLevel::Township,
                ],
            ))
            .hint(page.t("inst.profile.authority_level_hint")),
        )
        .field(
            Field::new(
                "registered_address",
                page.t("inst.profile.registered_address"),
                "text",
            )
            .required(),
        )
        .field(Field::new("district", page.t("inst.profile.district"), "text").required())
        .field(
            Field::new(
                "legal_rep_name",
                page.t("inst.profile.legal_rep_name"),
                "text",
            )
            .required(),
        )
        .field(
            Field::new(
                "legal_rep_id_kind",
                page.t("inst.profile.legal_rep_id_kind"),
                "select",
            )
            .required()
            .options(options(page, &IdDocumentKind::ALL)),
        )
        .field(
            Field::new(
                "legal_rep_id_number",
                page.t("inst.profile.legal_rep_id_number"),
                "text",
            )
            .hint(page.t("inst.profile.id_keep_hint")),
        )
        .field(
            Field::new(
                "contact_person",
                page.t("inst.profile.contact_person"),
                "text",
            )
            .required(),
        )
        .field(
            Field::new(
                "contact_mobile",
                page.t("inst.profile.contact_mobile"),
                "tel",
            )
            .required()
            .autocomplete("tel"),
        )
        .field(
            Field::new(
                "contact_email",
                page.t("inst.profile.contact_email"),
                "email",
            )
            .autocomplete("email"),
        )
}

/// The stored profile in the form (the identity number is never shown: left blank, kept).
fn fill_profile(form: &mut Form, p: &profiles::Profile) {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    form.set(
        "registration_kind",
        p.registration_kind.map(|k| wire(&k)).unwrap_or_default(),
    );
    form.set("registration_number", text(&p.registration_number));
    form.set("issuing_authority", text(&p.issuing_authority));
    form.set(
        "authority_level",
        p.authority_level.map(|l| wire(&l)).unwrap_or_default(),
    );
    form.set("registered_address", text(&p.registered_address));
    form.set("district", text(&p.district));
    form.set("legal_rep_name", text(&p.legal_rep_name));
    if let Some(id) = &p.legal_rep_id {
        form.set("legal_rep_id_kind", wire(&id.kind()));
    }
    form.set("contact_person", text(&p.contact_person));
    form.set("contact_mobile", text(&p.contact_mobile));
    form.set("contact_email", text(&p.contact_email));
}

fn profile_view(s: &Inst, form: Form, profile: &profiles::Profile) -> Value {
    json!({
        "title": s.page.t("inst.profile.title"),
        "intro": s.page.t("inst.profile.intro"),
        "form": form,
        "facts": [
            [s.page.t("inst.register.institution_name"), profile.name],
            [s.page.t("inst.profile.uscc"), profile.uscc],
            [s.page.t("inst.profile.entity_type"), page_entity_label(&s.page, profile.entity_type)],
            [s.page.t("inst.profile.legal_rep_id_number"), profile.legal_rep_id.as_ref().map(|id| id.masked()).unwrap_or_default()],
        ],
    })
}

/// `GET /institution/profile`: the editable profile.
#[get("/institution/profile")]
pub async fn profile_page(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    let today = beijing_date(s.ctx.now);
    let id = match own(&s.user) {
        Ok(id) => id,
        Err(e) => return s.error(&e),
    };
    match state
        .run(move |conn| profiles::profile(conn, id, today))
        .await
    {
        Ok(profile) => {
            let mut form = profile_form(&s.page);
            fill_profile(&mut form, &profile);
            s.render(
                StatusCode::OK,
                "inst_form.html",
                profile_view(&s, form, &profile),
            )
        }
        Err(e) => s.error(&e),
    }
}

/// `POST /institution/profile`: the API's profile update; every field error next to its field.
#[post("/institution/profile")]
pub async fn save_profile(
    s: Inst,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let posted = Posted::parse(&body);
    let today = beijing_date(s.ctx.now);
    let id = match own(&s.user) {
        Ok(id) => id,
        Err(e) => return s.error(&e),
    };
    let profile = match state
        .run(move |conn| profiles::profile(conn, id, today))
        .await
    {
        Ok(p) => p,
        Err(e) => return s.error(&e),
    };
    let mut form = profile_form(&s.page);
    posted.refill(&mut form);
    let request = json!({
        "registration_kind": posted.get("registration_kind"),
        "registration_number": posted.get("registration_number"),
        "issuing_authority": posted.get("issuing_authority"),
        "authority_level": posted.get("authority_level"),
        "registered_address": posted.get("registered_address"),
        "district": posted.get("district"),
        "legal_rep_name": posted.get("legal_rep_name"),
        "legal_rep_id": {"kind": posted.get("legal_rep_id_kind"), "number": opt(posted.get("legal_rep_id_number"))},
        "contact_person": posted.get("contact_person"),
        "contact_mobile": posted.get("contact_mobile"),
        "contact_email": opt(posted.get("contact_email")),
    });
    // `legal_rep_id.number` → the number's input.
    let renames: &[(&str, &str)] = &[("legal_rep_id", "legal_rep_id_number")];
    let saved = save_with::<ProfileUpdate, _>(
        &s,
        &state,
        &req,
        &posted,
        &mut form,
        (request, renames),
        profiles::update_profile,
    )
    .await;
    match saved {
        Ok(()) => s
            .page
            .redirect_with_flash("/institution/profile", &json!({"kind": "saved"})),
        Err(status) => {
            form.set("legal_rep_id_number", "");
            s.render(status, "inst_form.html", profile_view(&s, form, &profile))
        }
    }
}

/// Renames the fields of a refusal's issues whose path starts with one of `renames`' first
/// names, so that they land on the form's input (`identity.number` → `id_number`).
fn rename_issues(err: ApiError, renames: &[(&str, &str)]) -> ApiError {
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

/// Saves a form through a service of the institution (`service(conn, ctx, institution_id,
/// body)`, the JSON handler's call): the CSRF token, then `request` read by the API's parser,
/// then the service in a write transaction. A refusal is placed in `form` (issue paths renamed
/// to the form's inputs by `renames`) and its status returned.
async fn save_with<T, R>(
    s: &Inst,
    state: &AppState,
    req: &HttpRequest,
    posted: &Posted,
    form: &mut Form,
    (request, renames): (Value, &[(&str, &str)]),
    service: fn(&mut crate::db::DbConn, &crate::auth::Ctx, i64, &T) -> ApiResult<R>,
) -> Result<(), StatusCode>
where
    T: DeserializeOwned + validator::Validate + Send + 'static,
    R: Send + 'static,
{
    if !posted.csrf_ok(&s.page, req) {
        return Err(form.csrf_failed(&s.page));
    }
    let ctx = s.ctx.clone();
    let result = match (parse::<T>(&request), own(&s.user)) {
        (Ok(input), Ok(id)) => {
            state
                .write(move |conn| service(conn, &ctx, id, &input).map(drop))
                .await
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    result.map_err(|e| form.refused(&s.page, &rename_issues(e, renames)))
}

/// A page built by `view`, or the error page.
async fn show(
    s: &Inst,
    status: StatusCode,
    template: &str,
    view: impl std::future::Future<Output = ApiResult<Value>>,
) -> HttpResponse {
    match view.await {
        Ok(view) => s.render(status, template, view),
        Err(e) => s.error(&e),
    }
}

// ---- roster --------------------------------------------------------------------------------

fn teacher_form(page: &Page) -> Form {
    Form::new("/institution/teachers", page.t("inst.teachers.add"))
        .field(Field::new("name", page.t("inst.teachers.name"), "text").required())
        .field(
            Field::new(
                "id_kind",
                page.t("inst.profile.legal_rep_id_kind"),
                "select",
            )
            .required()
            .options(options(page, &IdDocumentKind::ALL)),
        )
        .field(Field::new("id_number", page.t("inst.teachers.id_number"), "text").required())
        .field(
            Field::new("speciality", page.t("inst.teachers.speciality"), "select")
                .required()
                .options(activity_options(page)),
        )
        .field(
            Field::new(
                "credential_kind",
                page.t("inst.teachers.credential_kind"),
                "select",
            )
            .options(options(page, &CredentialKind::ALL)),
        )
        .field(Field::new(
            "credential_number",
            page.t("inst.teachers.credential_number"),
            "text",
        ))
        .field(Field::new(
            "credential_issuer",
            page.t("inst.teachers.credential_issuer"),
            "text",
        ))
        .field(
            Field::new(
                "credential_issued_on",
                page.t("inst.teachers.credential_issued_on"),
                "date",
            )
            .hint(date_hint(page)),
        )
        .field(
            Field::new(
                "credential_expires_on",
                page.t("inst.teachers.credential_expires_on"),
                "date",
            )
            .hint(date_hint(page)),
        )
        .field(
            Field::new(
                "credential_level",
                page.t("inst.teachers.credential_level"),
                "text",
            )
            .hint(page.t("inst.teachers.level_hint")),
        )
        .field(
            Field::new("check_date", page.t("inst.teachers.check_date"), "date")
                .hint(date_hint(page)),
        )
        .field(
            Field::new(
                "check_result",
                page.t("inst.teachers.check_result"),
                "select",
            )
            .options(options(
                page,
                &[CriminalCheckResult::Clean, CriminalCheckResult::RecordFound],
            )),
        )
        .field(Field::new(
            "check_issuer",
            page.t("inst.teachers.check_issuer"),
            "text",
        ))
}

async fn teachers_view(s: &Inst, state: &AppState, form: Form) -> ApiResult<Value> {
    let id = own(&s.user)?;
    let today = beijing_date(s.ctx.now);
    let teachers = state
        .run(move |conn| roster::active_teachers(conn, id, today))
        .await?;
    Ok(json!({
        "teachers": teachers,
        "form": form,
        "activities": activity_options(&s.page).into_iter().collect::<std::collections::BTreeMap<_, _>>(),
    }))
}

/// `GET /institution/teachers`: the roster (identity numbers masked, credentials judged as
/// of today, criminal-record checks) and the form to add a teacher.
#[get("/institution/teachers")]
pub async fn teachers_page(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    let form = teacher_form(&s.page);
    show(
        &s,
        StatusCode::OK,
        "inst_teachers.html",
        teachers_view(&s, &state, form),
    )
    .await
}

/// `POST /institution/teachers`: the API's roster entry, checked by the same rules.
#[post("/institution/teachers")]
pub async fn add_teacher(
    s: Inst,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let posted = Posted::parse(&body);
    let mut form = teacher_form(&s.page);
    posted.refill(&mut form);
    let credential = (!posted.get("credential_number").trim().is_empty()).then(|| {
        json!({
            "kind": posted.get("credential_kind"),
            "number": posted.get("credential_number").trim(),
            "issuer": posted.get("credential_issuer").trim(),
            "issued_on": opt(posted.get("credential_issued_on")),
            "expires_on": opt(posted.get("credential_expires_on")),
            "level": opt(posted.get("credential_level")),
        })
    });
    let check = (!posted.get("check_date").trim().is_empty()).then(|| {
        json!({
            "date": posted.get("check_date").trim(),
            "result": posted.get("check_result"),
            "issuer": posted.get("check_issuer").trim(),
        })
    });
    let specialities: Vec<&str> = Some(posted.get("speciality"))
        .filter(|c| !c.is_empty())
        .into_iter()
        .collect();
    let request = json!({
        "name": posted.get("name").trim(),
        "identity": {"kind": posted.get("id_kind"), "number": opt(posted.get("id_number"))},
        "credentials": credential.into_iter().collect::<Vec<_>>(),
        "specialities": specialities,
        "criminal_check": check,
    });
    let saved = save_with::<TeacherInput, _>(
        &s,
        &state,
        &req,
        &posted,
        &mut form,
        (request, TEACHER_INPUTS),
        roster::create_teacher,
    )
    .await;
    let status = match saved {
        Ok(()) => {
            return s
                .page
                .redirect_with_flash("/institution/teachers", &json!({"kind": "teacher_added"}));
        }
        Err(status) => status,
    };
    form.set("id_number", "");
    show(
        &s,
        status,
        "inst_teachers.html",
        teachers_view(&s, &state, form),
    )
    .await
}

/// Where the roster's issue paths land in the teacher form.
const TEACHER_INPUTS: &[(&str, &str)] = &[
    ("identity", "id_number"),
    ("specialities", "speciality"),
    ("credentials[0].kind", "credential_kind"),
    ("credentials[0].number", "credential_number"),
    ("credentials[0].issuer", "credential_issuer"),
    ("credentials[0].issued_on", "credential_issued_on"),
    ("credentials[0].expires_on", "credential_expires_on"),
    ("credentials[0].level", "credential_level"),
    ("credentials", "credential_number"),
    ("criminal_check.date", "check_date"),
    ("criminal_check.issuer", "check_issuer"),
    ("criminal_check", "check_result"),
];

/// `POST /institution/teachers/{id}/remove`: takes a teacher off the roster.
#[post("/institution/teachers/{id:\\d+}/remove")]
pub async fn remove_teacher(
    s: Inst,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: web::Bytes,
) -> HttpResponse {
    let posted = Posted::parse(&body);
    if !posted.csrf_ok(&s.page, &req) {
        return s.page.error_page(
            StatusCode::FORBIDDEN,
            &s.page.t("error.refused_title"),
            &s.page.t("form.csrf_failed"),
        );
    }
    let (ctx, teacher) = (s.ctx.clone(), path.into_inner());
    let id = match own(&s.user) {
        Ok(id) => id,
        Err(e) => return s.error(&e),
    };
    match state
        .write(move |conn| roster::remove_teacher(conn, &ctx, id, teacher))
        .await
    {
        Ok(()) => s
            .page
            .redirect_with_flash("/institution/teachers", &json!({"kind": "teacher_removed"})),
        Err(e) => s.error(&e),
    }
}

// ---- inspections ---------------------------------------------------------------------------

fn inspection_form(page: &Page) -> Form {
    Form::new("/institution/inspections", page.t("inst.inspections.add"))
        .field(Field::new("year", page.t("inst.inspections.year"), "number").required())
        .field(
            Field::new("result", page.t("inst.inspections.result"), "select")
                .required()
                .options(options(
                    page,
                    &[
                        InspectionResult::Passed,
                        InspectionResult::Failed,
                        InspectionResult::Missed,
                    ],
                )),
        )
        .field(Field::new("authority", page.t("inst.inspections.authority"), "text").required())
}

async fn inspections_view(s: &Inst, state: &AppState, form: Form) -> ApiResult<Value> {
    let id = own(&s.user)?;
    let list = state
        .run(move |conn| inspections::inspections(conn, id))
        .await?;
    Ok(json!({ "inspections": list, "form": form }))
}

/// `GET /institution/inspections`: the annual inspections on record and the form to add one.
#[get("/institution/inspections")]
pub async fn inspections_page(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    let form = inspection_form(&s.page);
    show(
        &s,
        StatusCode::OK,
        "inst_inspections.html",
        inspections_view(&s, &state, form),
    )
    .await
}

/// `POST /institution/inspections`: the API's inspection record.
#[post("/institution/inspections")]
pub async fn add_inspection(
    s: Inst,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let posted = Posted::parse(&body);
    let mut form = inspection_form(&s.page);
    posted.refill(&mut form);
    let year: Value = posted.get("year").trim().parse::<i64>().map_or_else(
        |_| Value::String(posted.get("year").to_owned()),
        Value::from,
    );
    let request = json!({
        "year": year,
        "result": posted.get("result"),
        "authority": posted.get("authority").trim(),
    });
    let saved = save_with::<InspectionInput, _>(
        &s,
        &state,
        &req,
        &posted,
        &mut form,
        (request, &[]),
        inspections::create_inspection,
    )
    .await;
    match saved {
        Ok(()) => s.page.redirect_with_flash(
            "/institution/inspections",
            &json!({"kind": "inspection_added"}),
        ),
        Err(status) => {
            show(
                &s,
                status,
                "inst_inspections.html",
                inspections_view(&s, &state, form),
            )
            .await
        }
    }
}

// ---- documents -----------------------------------------------------------------------------

/// The kinds an institution uploads for itself.
const OWN_KINDS: &[DocumentKind] = &[
    DocumentKind::RegistrationCertificate,
    DocumentKind::UsccCertificate,
    DocumentKind::LegalRepId,
    DocumentKind::TeacherCertificate,
    DocumentKind::CriminalRecordCheck,
    DocumentKind::InspectionRecord,
    DocumentKind::ServicePlan,
    DocumentKind::IntegrityPledge,
    DocumentKind::MergedPdf,
    DocumentKind::StatementOfDefence,
    DocumentKind::Other,
];

fn upload_form(page: &Page, max_mb: u64) -> Form {
    Form::new("/institution/documents", page.t("inst.documents.upload"))
        .multipart()
        .field(
            Field::new("kind", page.t("inst.documents.kind"), "select")
                .required()
                .options(options(page, OWN_KINDS)),
        )
        .field(
            Field::new("file", page.t("inst.documents.file"), "file")
                .required()
                .accept("application/pdf,image/jpeg,image/png")
                .hint(
                    page.t("inst.documents.file_hint")
                        .replace("{mb}", &max_mb.to_string()),
                ),
        )
}

async fn documents_view(s: &Inst, state: &AppState, form: Form) -> ApiResult<Value> {
    let id = own(&s.user)?;
    let docs = state
        .run(move |conn| documents::all_of_institution(conn, id))
        .await?;
    Ok(json!({ "documents": docs, "form": form }))
}

/// `GET /institution/documents`: the uploads with their text-extraction status, and the
/// upload form.
#[get("/institution/documents")]
pub async fn documents_page(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    let form = upload_form(&s.page, state.settings.upload_max_bytes / (1024 * 1024));
    show(
        &s,
        StatusCode::OK,
        "inst_documents.html",
        documents_view(&s, &state, form),
    )
    .await
}

/// `POST /institution/documents`: the API's upload (size cap, type sniffed, PDF text
/// extracted in the isolated child), with the form's CSRF token checked before storing.
#[post("/institution/documents")]
pub async fn upload(
    s: Inst,
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    let mut form = upload_form(&s.page, state.settings.upload_max_bytes / (1024 * 1024));
    let (key, csrf_req) = (*s.page.key(), req.clone());
    let mut csrf_failed = false;
    let result = crate::documents::routes::store_upload(
        &state,
        &req,
        payload,
        &s.user,
        s.ctx.clone(),
        |extra| {
            if security::csrf_ok(&key, &csrf_req, extra.get("csrf").map(String::as_str)) {
                Ok(())
            } else {
                csrf_failed = true;
                Err(ApiError::forbidden())
            }
        },
    )
    .await;
    let status = match result {
        Ok(doc) => {
            return s.page.redirect_with_flash(
                "/institution/documents",
                &json!({"kind": "uploaded", "id": doc.id, "filename": doc.filename}),
            );
        }
        Err(_) if csrf_failed => form.csrf_failed(&s.page),
        Err(e) => {
            match &e {
                // Refusals of the file itself (size, type, encrypted, unreadable) go next to it.
                ApiError::Problem(p) if p.errors.is_empty() => {
                    form.error("file", s.page.msg(&p.detail));
                    p.status
                }
                _ => form.refused(&s.page, &e),
            }
        }
    };
    show(
        &s,
        status,
        "inst_documents.html",
        documents_view(&s, &state, form),
    )
    .await
}

// ---- applications --------------------------------------------------------------------------

/// `GET /institution/applications`: the institution's applications and the way to start one.
#[get("/institution/applications")]
pub async fn applications_page(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    let (user, now) = (s.user.clone(), s.ctx.now);
    let found = state
        .run(move |conn| {
            let (apps, _) = applications::list(conn, &user, &Default::default(), 0, 100)?;
            let rounds = crate::rounds::list(conn, now)?;
            Ok((apps, rounds))
        })
        .await;
    match found {
        Ok((apps, rounds)) => {
            let open: Vec<_> = rounds.into_iter().filter(|r| r.open_now).collect();
            s.render(
                StatusCode::OK,
                "inst_applications.html",
                json!({ "applications": apps, "rounds": open }),
            )
        }
        Err(e) => s.error(&e),
    }
}

/// What the application form needs: the roster, the uploads, the catalogue, open rounds.
async fn application_choices(s: &Inst, state: &AppState) -> ApiResult<Value> {
    let id = own(&s.user)?;
    let (today, now) = (beijing_date(s.ctx.now), s.ctx.now);
    let (teachers, docs, rounds) = state
        .run(move |conn| {
            Ok((
                roster::active_teachers(conn, id, today)?,
                documents::all_of_institution(conn, id)?,
                crate::rounds::list(conn, now)?,
            ))
        })
        .await?;
    let categories: Vec<Value> = crate::catalogue::Catalogue::get()
        .categories
        .iter()
        .map(|c| {
            let (cn, items): (&str, Vec<Value>) = match s.page.lang {
                Lang::Zh => (
                    &c.name_zh,
                    c.items.iter().map(|i| json!([i.code, i.name_zh])).collect(),
                ),
                Lang::En => (
                    &c.name_en,
                    c.items.iter().map(|i| json!([i.code, i.name_en])).collect(),
                ),
            };
            json!({"name": cn, "items": items})
        })
        .collect();
    Ok(json!({
        "teachers": teachers.iter().map(|t| json!({"id": t.id, "name": t.name})).collect::<Vec<_>>(),
        "documents": docs.iter().map(|d| json!({"id": d.id, "kind": wire(&d.kind), "filename": d.filename, "text_status": d.text_status.map(|t| wire(&t))})).collect::<Vec<_>>(),
        "rounds": rounds.into_iter().filter(|r| r.open_now).map(|r| json!({"id": r.id, "name": r.name})).collect::<Vec<_>>(),
        "categories": categories,
    }))
}

/// The values of the application form (typed, or as stored).
#[derive(Debug, Default, Serialize)]
struct AppValues {
    round_id: String,
    proposed_items: Vec<String>,
    service_plan: String,
    teacher_ids: Vec<String>,
    document_ids: Vec<String>,
    pledge_signed: bool,
}

impl AppValues {
    fn from_posted(p: &Posted) -> Self {
        Self {
            round_id: p.get("round_id").to_owned(),
            proposed_items: p
                .all("proposed_items")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            service_plan: p.get("service_plan").to_owned(),
            teacher_ids: p
                .all("teacher_ids")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            document_ids: p
                .all("document_ids")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            pledge_signed: p.get("pledge_signed") == "true",
        }
    }

    fn from_application(a: &applications::Application) -> Self {
        Self {
            round_id: a.round_id.to_string(),
            proposed_items: a.proposed_items.iter().map(|i| i.code.clone()).collect(),
            service_plan: a.service_plan.clone(),
            teacher_ids: a.teacher_ids.iter().map(i64::to_string).collect(),
            document_ids: a.document_ids.iter().map(i64::to_string).collect(),
            pledge_signed: a.pledge_signed,
        }
    }

    fn content(&self) -> Value {
        let ids = |v: &[String]| -> Vec<Value> {
            v.iter()
                .map(|s| {
                    s.parse::<i64>()
                        .map_or_else(|_| Value::String(s.clone()), Value::from)
                })
                .collect()
        };
        json!({
            "proposed_items": self.proposed_items,
            "service_plan": self.service_plan,
            "teacher_ids": ids(&self.teacher_ids),
            "document_ids": ids(&self.document_ids),
            "pledge_signed": self.pledge_signed,
        })
    }
}

/// A finding (or field error) as shown next to its field: the message and the rule it enforces.
#[derive(Debug, Serialize)]
struct Shown {
    message: String,
    rule: Option<String>,
    code: String,
}

/// The sections of the application page a finding can stand next to.
const SECTIONS: [&str; 8] = [
    "round_id",
    "proposed_items",
    "service_plan",
    "teacher_ids",
    "document_ids",
    "pledge_signed",
    "inspections",
    "profile",
];

/// The application form's sections a finding's `field` lands in.
fn section_of(field: &str) -> &'static str {
    let base = field.split(['.', '[']).next().unwrap_or(field);
    match base {
        "round_id" => "round_id",
        "proposed_items" => "proposed_items",
        "service_plan" => "service_plan",
        "teacher_ids" | "teachers" => "teacher_ids",
        "document_ids" | "documents" => "document_ids",
        "pledge_signed" => "pledge_signed",
        "inspections" => "inspections",
        _ => "profile",
    }
}

/// Every refusal of a save or a submission, grouped by the form section it concerns; blocking
/// findings carry their rule (`extra.blocking[].rule`).
fn findings_by_field(
    page: &Page,
    err: &ApiError,
) -> (
    std::collections::BTreeMap<&'static str, Vec<Shown>>,
    Vec<String>,
) {
    let mut by_field: std::collections::BTreeMap<&'static str, Vec<Shown>> = Default::default();
    let mut general = Vec::new();
    match err {
        ApiError::Problem(p) => {
            let blocking = p
                .extra
                .as_ref()
                .and_then(|e| e.get("blocking"))
                .and_then(|b| b.as_array())
                .cloned()
                .unwrap_or_default();
            for (i, issue) in p.errors.iter().enumerate() {
                let rule = blocking
                    .get(i)
                    .filter(|b| b["field"] == issue.field.as_str())
                    .and_then(|b| b["rule"].as_str())
                    .map(str::to_owned);
                by_field
                    .entry(section_of(&issue.field))
                    .or_default()
                    .push(Shown {
                        message: page.msg(&issue.message),
                        rule,
                        code: issue.code.to_string(),
                    });
            }
            general.push(page.msg(&p.detail));
        }
        ApiError::Internal(e) => {
            tracing::error!(error = ?e, "application page failed");
            general.push(page.t("error.internal_text"));
        }
    }
    (by_field, general)
}

async fn render_application(
    s: &Inst,
    state: &AppState,
    status: StatusCode,
    application: Option<&applications::Application>,
    values: &AppValues,
    refusal: Option<&ApiError>,
    history: Vec<crate::audit::AuditEvent>,
) -> HttpResponse {
    let choices = match application_choices(s, state).await {
        Ok(c) => c,
        Err(e) => return s.error(&e),
    };
    let (mut findings, general) =
        refusal.map_or_else(Default::default, |e| findings_by_field(&s.page, e));
    // Every section is present (empty when nothing concerns it): the template asks each.
    for section in SECTIONS {
        findings.entry(section).or_default();
    }
    let editable = application.is_none_or(|a| {
        matches!(
            a.status,
            crate::applications::status::Status::Draft
                | crate::applications::status::Status::Returned
        )
    });
    s.render(
        status,
        "inst_application.html",
        json!({
            "application": application,
            "status": application.map(|a| wire(&a.status)),
            "editable": editable,
            "values": values,
            "choices": choices,
            "findings": findings,
            "general": general,
            "history": history.iter().map(|h| json!({
                "at": h.occurred_at, "action": h.action, "label": s.page.t(&format!("inst.history.{}", h.action.replace('.', "_"))), "role": h.actor_role,
            })).collect::<Vec<_>>(),
        }),
    )
}

/// `GET /institution/applications/new`: the form for a new application.
#[get("/institution/applications/new")]
pub async fn new_application(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    render_application(
        &s,
        &state,
        StatusCode::OK,
        None,
        &AppValues::default(),
        None,
        Vec::new(),
    )
    .await
}

/// `POST /institution/applications`: creates the draft (the API's rules), then shows it.
#[post("/institution/applications")]
pub async fn create_application(
    s: Inst,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let posted = Posted::parse(&body);
    let values = AppValues::from_posted(&posted);
    if !posted.csrf_ok(&s.page, &req) {
        let e = csrf_refusal();
        return render_application(
            &s,
            &state,
            StatusCode::FORBIDDEN,
            None,
            &values,
            Some(&e),
            Vec::new(),
        )
        .await;
    }
    let mut body = values.content();
    body["round_id"] = values
        .round_id
        .parse::<i64>()
        .map_or_else(|_| Value::String(values.round_id.clone()), Value::from);
    let (user, ctx) = (s.user.clone(), s.ctx.clone());
    let result = match parse::<NewApplication>(&body) {
        Ok(new) => {
            state
                .write(move |conn| applications::create(conn, &user, &ctx, &new))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(app) => s.page.redirect_with_flash(
            &format!("/institution/applications/{}", app.id),
            &json!({"kind": "draft_saved"}),
        ),
        Err(e) => {
            let status = problem_status(&e);
            render_application(&s, &state, status, None, &values, Some(&e), Vec::new()).await
        }
    }
}

fn problem_status(e: &ApiError) -> StatusCode {
    match e {
        ApiError::Problem(p) => p.status,
        ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The form's refusal when its CSRF token does not match.
fn csrf_refusal() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        crate::error::Msg::new(
            crate::web::i18n::text(Lang::Zh, "form.csrf_failed"),
            crate::web::i18n::text(Lang::En, "form.csrf_failed"),
        ),
    )
}

async fn load_application(
    s: &Inst,
    state: &AppState,
    id: i64,
) -> ApiResult<(applications::Application, Vec<crate::audit::AuditEvent>)> {
    let user = s.user.clone();
    state
        .run(move |conn| {
            Ok((
                applications::get(conn, &user, id)?,
                applications::history(conn, &user, id)?,
            ))
        })
        .await
}

/// `GET /institution/applications/{id}`: the application, its form while it may change, its
/// history.
#[get("/institution/applications/{id:\\d+}")]
pub async fn application_page(
    s: Inst,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
    match load_application(&s, &state, path.into_inner()).await {
        Ok((app, history)) => {
            let values = AppValues::from_application(&app);
            render_application(
                &s,
                &state,
                StatusCode::OK,
                Some(&app),
                &values,
                None,
                history,
            )
            .await
        }
        Err(e) => s.error(&e),
    }
}

/// `POST /institution/applications/{id}`: saves the form (`action=save`) or saves and submits
/// it (`action=submit`): the API's update, then its submission with every check; a blocked
/// submission shows each finding next to the field it concerns, with the rule.
#[post("/institution/applications/{id:\\d+}")]
pub async fn save_application(
    s: Inst,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: web::Bytes,
) -> HttpResponse {
    let id = path.into_inner();
    let posted = Posted::parse(&body);
    let values = AppValues::from_posted(&posted);
    let (app, history) = match load_application(&s, &state, id).await {
        Ok(found) => found,
        Err(e) => return s.error(&e),
    };
    if !posted.csrf_ok(&s.page, &req) {
        let e = csrf_refusal();
        return render_application(
            &s,
            &state,
            StatusCode::FORBIDDEN,
            Some(&app),
            &values,
            Some(&e),
            history,
        )
        .await;
    }
    let submit = posted.get("action") == "submit";
    let (user, ctx, region) = (
        s.user.clone(),
        s.ctx.clone(),
        state.settings.region_prefix.clone(),
    );
    let result = match parse::<ApplicationContent>(&values.content()) {
        Ok(content) => {
            // The save commits on its own: a blocked submission keeps what was typed.
            let (u, c) = (user.clone(), ctx.clone());
            match state
                .write(move |conn| applications::update(conn, &u, &c, id, &content))
                .await
            {
                Ok(_) if submit => {
                    state
                        .write(move |conn| applications::submit(conn, &user, &ctx, id, &region))
                        .await
                }
                other => other,
            }
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => s.page.redirect_with_flash(
            &format!("/institution/applications/{id}"),
            &json!({"kind": if submit { "submitted" } else { "draft_saved" }}),
        ),
        Err(e) => {
            let (app, history) = match load_application(&s, &state, id).await {
                Ok(found) => found,
                Err(e) => return s.error(&e),
            };
            render_application(
                &s,
                &state,
                problem_status(&e),
                Some(&app),
                &values,
                Some(&e),
                history,
            )
            .await
        }
    }
}

/// Registers the institution's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(register_page)
        .service(register)
        .service(overview)
        .service(profile_page)
        .service(save_profile)
        .service(teachers_page)
        .service(add_teacher)
        .service(remove_teacher)
        .service(inspections_page)
        .service(add_inspection)
        .service(documents_page)
        .service(upload)
        .service(applications_page)
        .service(new_application)
        .service(create_application)
        .service(application_page)
        .service(save_application);
}
