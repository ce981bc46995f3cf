//! The institution's workspace: its pages call the services the institution's JSON handlers
//! call (`institutions`, `documents`, `applications`, `exits`, `contracts`, `mail`), through
//! [`SignedIn<InstitutionRole>`]; no SQL here.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};

use crate::app::AppState;
use crate::auth::{AuthUser, InstitutionRole};
use crate::clock::beijing_date;
use crate::error::{ApiError, ApiResult};
use crate::institutions::profile as profiles;
use crate::web::Page;
use crate::web::session::SignedIn;

/// Where an institution lands after signing in.
pub const HOME: &str = "/institution";

type Inst = SignedIn<InstitutionRole>;

/// The institution's pages in the header.
pub fn links(page: &Page) -> Vec<(String, String)> {
    [("/institution", "overview")]
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
            let entity = match s.page.lang {
                crate::error::Lang::Zh => profile.entity_type.label_zh(),
                crate::error::Lang::En => profile.entity_type.label_en(),
            };
            s.render(
                StatusCode::OK,
                "inst_overview.html",
                serde_json::json!({ "profile": profile, "entity_type": entity }),
            )
        }
        Err(e) => s.error(&e),
    }
}

/// Registers the institution's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(overview);
}
