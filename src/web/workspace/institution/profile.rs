//! Registration, the overview and the profile.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};

use crate::accounts::{self, RegisterRequest};
use crate::app::AppState;
use crate::auth::session as sessions;
use crate::clock::beijing_date;
use crate::credentials::identity::IdDocumentKind;
use crate::credentials::uscc::EntityType;
use crate::error::Lang;
use crate::institutions::fields::{AuthorityLevel, RegistrationKind};
use crate::institutions::profile::{self as profiles, ProfileUpdate};
use crate::web::Page;
use crate::web::forms::{Field, Form};
use crate::web::security;
use crate::web::workspace::posted::{opt, options, parse, wire};
use crate::web::workspace::signed_form::{PageForm, SignedForm};

use super::{Inst, InstForm, own, save_with};

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
                .options(options(page, "inst.enum", &EntityType::ALL)),
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
    posted: PageForm,
    ctx: crate::auth::Ctx,
    state: web::Data<AppState>,
) -> HttpResponse {
    let PageForm { page, form: posted } = posted;
    let mut form = register_form(&page);
    posted.refill(&mut form);
    let request = json!({
        "email": posted.value("email").trim(),
        "password": posted.value("password"),
        "display_name": posted.value("display_name").trim(),
        "institution_name": posted.value("institution_name").trim(),
        "uscc": posted.value("uscc").trim(),
        "entity_type": posted.value("entity_type"),
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
            .options(options(page, "inst.enum", &RegistrationKind::ALL)),
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
                "inst.enum",
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
            .options(options(page, "inst.enum", &IdDocumentKind::ALL)),
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
pub async fn save_profile(posted: InstForm, state: web::Data<AppState>) -> HttpResponse {
    let SignedForm {
        signed: s,
        form: posted,
    } = posted;
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
        "registration_kind": posted.value("registration_kind"),
        "registration_number": posted.value("registration_number"),
        "issuing_authority": posted.value("issuing_authority"),
        "authority_level": posted.value("authority_level"),
        "registered_address": posted.value("registered_address"),
        "district": posted.value("district"),
        "legal_rep_name": posted.value("legal_rep_name"),
        "legal_rep_id": {"kind": posted.value("legal_rep_id_kind"), "number": opt(posted.value("legal_rep_id_number"))},
        "contact_person": posted.value("contact_person"),
        "contact_mobile": posted.value("contact_mobile"),
        "contact_email": opt(posted.value("contact_email")),
    });
    // `legal_rep_id.number` → the number's input.
    let renames: &[(&str, &str)] = &[("legal_rep_id", "legal_rep_id_number")];
    let saved = save_with::<ProfileUpdate, _>(
        &s,
        &state,
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
