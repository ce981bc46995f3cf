//! The institution's workspace, one file per area: [`profile`] (registration, the overview,
//! the profile), [`roster`] (teachers and annual inspections), [`documents`] (uploads with
//! their extraction status), [`applications`] (the form, submission with every blocking
//! finding next to the field it concerns and the rule it enforces, the history), [`exits`]
//! (exit cases and the statement of defence), [`contracts`] (contracts, evaluations,
//! standing), [`messages`] (the e-mails sent to the account). Each page calls the services the
//! JSON handlers call; forms are turned into the same JSON bodies and read by the same parser
//! and `validator` rules ([`crate::http::json::parse_valid`]); no SQL here.

mod applications;
mod contracts;
mod documents;
mod exits;
mod messages;
mod profile;
mod roster;

use actix_web::http::StatusCode;
use actix_web::web;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::app::AppState;
use crate::auth::{AuthUser, InstitutionRole};
use crate::error::{ApiError, ApiResult, Lang};
use crate::web::Page;
use crate::web::forms::Form;
use crate::web::session::SignedIn;
pub(super) use crate::web::workspace::posted::show;
use crate::web::workspace::posted::{parse, rename_issues};
use crate::web::workspace::signed_form::{Fields, SignedForm};

/// Where an institution lands after signing in.
pub const HOME: &str = "/institution";

type Inst = SignedIn<InstitutionRole>;
/// A form posted by the institution (its CSRF token checked by the guard).
type InstForm<T = Fields> = SignedForm<InstitutionRole, T>;

const PAGES: &[(&str, &str)] = &[
    ("/institution", "overview"),
    ("/institution/profile", "profile"),
    ("/institution/teachers", "teachers"),
    ("/institution/inspections", "inspections"),
    ("/institution/documents", "documents"),
    ("/institution/applications", "applications"),
    ("/institution/exit-cases", "exit_cases"),
    ("/institution/contracts", "contracts"),
    ("/institution/messages", "messages"),
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

/// Saves a form through a service of the institution (`service(conn, ctx, institution_id,
/// body)`, the JSON handler's call): `request` read by the API's parser, then the service in a
/// write transaction (the form's CSRF token was checked by its [`SignedForm`] guard). A refusal is placed in `form` (issue paths renamed
/// to the form's inputs by `renames`) and its status returned.
async fn save_with<T, R>(
    s: &Inst,
    state: &AppState,
    form: &mut Form,
    (request, renames): (Value, &[(&str, &str)]),
    service: fn(&mut crate::db::DbConn, &crate::auth::Ctx, i64, &T) -> ApiResult<R>,
) -> Result<(), StatusCode>
where
    T: DeserializeOwned + validator::Validate + Send + 'static,
    R: Send + 'static,
{
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

/// Registers the institution's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(profile::register_page)
        .service(profile::register)
        .service(profile::overview)
        .service(profile::profile_page)
        .service(profile::save_profile)
        .service(roster::teachers_page)
        .service(roster::add_teacher)
        .service(roster::remove_teacher)
        .service(roster::inspections_page)
        .service(roster::add_inspection)
        .service(documents::documents_page)
        .service(documents::upload)
        .service(applications::applications_page)
        .service(applications::new_application)
        .service(applications::create_application)
        .service(applications::application_page)
        .service(applications::save_application)
        .service(exits::cases_page)
        .service(exits::case_page)
        .service(exits::file_statement)
        .service(contracts::contracts_page)
        .service(messages::messages_page);
}
