//! The teacher roster and the annual inspections. Both pages have one shape, a [`Listing`]:
//! what is on record and a form to add to it; the form is turned into the API's JSON body,
//! read by the API's parser and saved by the service the JSON handler calls.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::Ctx;
use crate::clock::beijing_date;
use crate::credentials::certificates::CredentialKind;
use crate::credentials::identity::IdDocumentKind;
use crate::db::DbConn;
use crate::error::ApiResult;
use crate::institutions::fields::{CriminalCheckResult, InspectionResult};
use crate::institutions::inspections::{self, InspectionInput};
use crate::institutions::roster::{self, TeacherInput};
use crate::web::Page;
use crate::web::forms::{Field, Form};
use crate::web::workspace::posted::{opt, options};
use crate::web::workspace::signed_form::Fields;

use super::{Inst, InstForm, activity_options, date_hint, own, save_with, show};

/// A page listing what the institution has on record, with the form to add one more.
struct Listing<T: 'static> {
    /// The page's path (the form posts to it, a success returns to it).
    path: &'static str,
    template: &'static str,
    /// The flash message of a success (`inst.flash.<kind>`).
    added: &'static str,
    form: fn(&Page) -> Form,
    /// The API's JSON body from the posted form.
    request: fn(&Fields) -> Value,
    /// Where the service's issue paths land in the form.
    renames: &'static [(&'static str, &'static str)],
    /// Inputs never sent back to the browser after a refusal (identity numbers).
    cleared: &'static [&'static str],
    /// What is on record (an object; the form is added as `form`).
    load: fn(&mut DbConn, i64, NaiveDate) -> ApiResult<Value>,
    /// More of the page that needs only its language.
    extra: fn(&Page) -> Value,
    /// The service the JSON handler calls.
    save: fn(&mut DbConn, &Ctx, i64, &T) -> ApiResult<()>,
}

impl<T: DeserializeOwned + validator::Validate + Send + 'static> Listing<T> {
    async fn view(&self, s: &Inst, state: &AppState, form: Form) -> ApiResult<Value> {
        let id = own(&s.user)?;
        let (today, load) = (beijing_date(s.ctx.now), self.load);
        let mut view = state.run(move |conn| load(conn, id, today)).await?;
        view["form"] = serde_json::to_value(form).map_err(anyhow::Error::from)?;
        if let (Value::Object(view), Value::Object(extra)) = (&mut view, (self.extra)(&s.page)) {
            view.extend(extra);
        }
        Ok(view)
    }

    /// `GET`: the list and an empty form.
    async fn page(&self, s: &Inst, state: &AppState) -> HttpResponse {
        let form = (self.form)(&s.page);
        show(s, StatusCode::OK, self.template, self.view(s, state, form)).await
    }

    /// `POST`: saved and back to the list, or the list with every refusal next to its field.
    async fn add(&self, posted: &InstForm, state: &AppState) -> HttpResponse {
        let s = &posted.signed;
        let posted = &posted.form;
        let mut form = (self.form)(&s.page);
        posted.refill(&mut form);
        let request = (self.request)(posted);
        let saved =
            save_with::<T, ()>(s, state, &mut form, (request, self.renames), self.save).await;
        match saved {
            Ok(()) => s
                .page
                .redirect_with_flash(self.path, &json!({"kind": self.added})),
            Err(status) => {
                for name in self.cleared {
                    form.set(name, "");
                }
                show(s, status, self.template, self.view(s, state, form)).await
            }
        }
    }
}

// ---- roster --------------------------------------------------------------------------------

const TEACHERS: Listing<TeacherInput> = Listing {
    path: "/institution/teachers",
    template: "inst_teachers.html",
    added: "teacher_added",
    form: teacher_form,
    request: teacher_request,
    renames: TEACHER_INPUTS,
    cleared: &["id_number"],
    load: |conn, id, today| Ok(json!({ "teachers": roster::active_teachers(conn, id, today)? })),
    extra: |page| json!({ "activities": activity_options(page).into_iter().collect::<std::collections::BTreeMap<_, _>>() }),
    save: |conn, ctx, id, input| roster::create_teacher(conn, ctx, id, input).map(drop),
};

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
            .options(options(page, "inst.enum", &IdDocumentKind::ALL)),
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
            .options(options(page, "inst.enum", &CredentialKind::ALL)),
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
                "inst.enum",
                &[CriminalCheckResult::Clean, CriminalCheckResult::RecordFound],
            )),
        )
        .field(Field::new(
            "check_issuer",
            page.t("inst.teachers.check_issuer"),
            "text",
        ))
}

/// The roster entry's JSON body (`POST /institutions/me/teachers`).
fn teacher_request(posted: &Fields) -> Value {
    let credential = (!posted.value("credential_number").trim().is_empty()).then(|| {
        json!({
            "kind": posted.value("credential_kind"),
            "number": posted.value("credential_number").trim(),
            "issuer": posted.value("credential_issuer").trim(),
            "issued_on": opt(posted.value("credential_issued_on")),
            "expires_on": opt(posted.value("credential_expires_on")),
            "level": opt(posted.value("credential_level")),
        })
    });
    let check = (!posted.value("check_date").trim().is_empty()).then(|| {
        json!({
            "date": posted.value("check_date").trim(),
            "result": posted.value("check_result"),
            "issuer": posted.value("check_issuer").trim(),
        })
    });
    let specialities: Vec<&str> = Some(posted.value("speciality"))
        .filter(|c| !c.is_empty())
        .into_iter()
        .collect();
    json!({
        "name": posted.value("name").trim(),
        "identity": {"kind": posted.value("id_kind"), "number": opt(posted.value("id_number"))},
        "credentials": credential.into_iter().collect::<Vec<_>>(),
        "specialities": specialities,
        "criminal_check": check,
    })
}

/// `GET /institution/teachers`: the roster (identity numbers masked, credentials judged as
/// of today, criminal-record checks) and the form to add a teacher.
#[get("/institution/teachers")]
pub async fn teachers_page(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    TEACHERS.page(&s, &state).await
}

/// `POST /institution/teachers`: the API's roster entry, checked by the same rules.
#[post("/institution/teachers")]
pub async fn add_teacher(s: InstForm, state: web::Data<AppState>) -> HttpResponse {
    TEACHERS.add(&s, &state).await
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
    s: InstForm,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
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

const INSPECTIONS: Listing<InspectionInput> = Listing {
    path: "/institution/inspections",
    template: "inst_inspections.html",
    added: "inspection_added",
    form: inspection_form,
    request: |posted| {
        json!({
            "year": posted.int("year"),
            "result": posted.value("result"),
            "authority": posted.value("authority").trim(),
        })
    },
    renames: &[],
    cleared: &[],
    load: |conn, id, _| Ok(json!({ "inspections": inspections::inspections(conn, id)? })),
    extra: |_| json!({}),
    save: |conn, ctx, id, input| inspections::create_inspection(conn, ctx, id, input).map(drop),
};

fn inspection_form(page: &Page) -> Form {
    Form::new("/institution/inspections", page.t("inst.inspections.add"))
        .field(Field::new("year", page.t("inst.inspections.year"), "number").required())
        .field(
            Field::new("result", page.t("inst.inspections.result"), "select")
                .required()
                .options(options(
                    page,
                    "inst.enum",
                    &[
                        InspectionResult::Passed,
                        InspectionResult::Failed,
                        InspectionResult::Missed,
                    ],
                )),
        )
        .field(Field::new("authority", page.t("inst.inspections.authority"), "text").required())
}

/// `GET /institution/inspections`: the annual inspections on record and the form to add one.
#[get("/institution/inspections")]
pub async fn inspections_page(s: Inst, state: web::Data<AppState>) -> HttpResponse {
    INSPECTIONS.page(&s, &state).await
}

/// `POST /institution/inspections`: the API's inspection record.
#[post("/institution/inspections")]
pub async fn add_inspection(s: InstForm, state: web::Data<AppState>) -> HttpResponse {
    INSPECTIONS.add(&s, &state).await
}
