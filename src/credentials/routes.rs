//! `GET /identifiers/uscc/{code}`: check a unified social credit code and explain it.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::credentials::uscc::{EntityType, Uscc};
use crate::error::Lang;
use crate::http::routes::Register;

/// Registers the routes of this module, each once (the app and the OpenAPI document both come
/// from this registration: `crate::routes`).
pub fn configure(cfg: &mut impl Register) {
    cfg.service(check_uscc);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsccCheck {
    /// The code as given.
    pub input: String,
    pub valid: bool,
    /// The code after normalisation (spaces and hyphens removed, upper case), when valid.
    pub normalized: Option<String>,
    /// Every reason it is invalid (`bad_length`, `bad_charset`, `bad_check_character`, …).
    pub reasons: Vec<Reason>,
    /// The registrable entity type its first two characters denote, if one of ours.
    pub entity_type: Option<EntityType>,
    pub entity_category: Option<NamedCode>,
    pub registration_authority: Option<NamedCode>,
    /// Positions 3–8: the administrative division (GB/T 2260) of the registering authority.
    pub region_code: Option<String>,
    pub province: Option<String>,
    /// Whether the region is inside the bureau's configured region (`REGISTRY_REGION`);
    /// outside is a warning, not an error.
    pub in_bureau_region: Option<bool>,
    pub warnings: Vec<Reason>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reason {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NamedCode {
    pub code: String,
    pub name: String,
}

/// Check a unified social credit code (GB 32100-2015): validity with every reason, entity
/// type, registration authority and region.
#[utoipa::path(
    tag = "reference",
    operation_id = "check_uscc",
    params(("code" = String, Path, description = "the code to check")),
    responses((status = 200, body = UsccCheck, description = "The verdict; an invalid code is answered 200 with `valid: false` and every reason."))
)]
#[get("/identifiers/uscc/{code}")]
pub async fn check_uscc(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> HttpResponse {
    let lang = req.extensions().get::<Lang>().copied().unwrap_or_default();
    let input = code.into_inner();
    let pick = |zh: String, en: String| if lang == Lang::En { en } else { zh };
    let body = match Uscc::parse(&input) {
        Ok(uscc) => {
            let region = &state.settings.region_prefix;
            let in_region = uscc.in_region(region);
            let authority = uscc.registration_authority();
            let category = uscc.entity_category();
            let warnings = if in_region {
                Vec::new()
            } else {
                vec![Reason {
                    code: "region_outside_bureau".to_owned(),
                    message: pick(
                        format!(
                            "登记机关所在行政区划 {} 不在本局辖区（{region}）内，请审核员留意。",
                            uscc.region_code()
                        ),
                        format!(
                            "The registering region {} is outside the bureau's region ({region}).",
                            uscc.region_code()
                        ),
                    ),
                }]
            };
            UsccCheck {
                input,
                valid: true,
                normalized: Some(uscc.as_str().to_owned()),
                reasons: Vec::new(),
                entity_type: uscc.entity_type(),
                entity_category: Some(NamedCode {
                    code: category.code().to_string(),
                    name: pick(category.name_zh().to_owned(), category.name_en().to_owned()),
                }),
                registration_authority: Some(NamedCode {
                    code: authority.code().to_string(),
                    name: pick(
                        authority.name_zh().to_owned(),
                        authority.name_en().to_owned(),
                    ),
                }),
                region_code: Some(uscc.region_code().to_owned()),
                province: uscc.province().map(str::to_owned),
                in_bureau_region: Some(in_region),
                warnings,
            }
        }
        Err(err) => UsccCheck {
            input,
            valid: false,
            normalized: None,
            reasons: err
                .reasons
                .iter()
                .map(|r| Reason {
                    code: r.code().to_owned(),
                    message: pick(r.message_zh(), r.message_en()),
                })
                .collect(),
            entity_type: None,
            entity_category: None,
            registration_authority: None,
            region_code: None,
            province: None,
            in_bureau_region: None,
            warnings: Vec::new(),
        },
    };
    HttpResponse::Ok().json(body)
}
