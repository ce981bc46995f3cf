//! `GET /categories`.

use actix_web::{HttpResponse, get, http::header};

use crate::catalogue::Catalogue;
use crate::http::routes::Register;

/// Registers the routes of this module, each once (the app and the OpenAPI document both come
/// from this registration: `crate::routes`).
pub fn configure(cfg: &mut impl Register) {
    cfg.service(categories);
}

/// The activity catalogue: categories with their items, and the academic subjects refused.
#[utoipa::path(
    tag = "reference",
    operation_id = "list_categories",
    responses((status = 200, body = Catalogue, description = "The catalogue (cacheable for an hour)."))
)]
#[get("/categories")]
pub async fn categories() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(Catalogue::get())
}
