//! `GET /categories`.

use actix_web::{HttpResponse, get, http::header};

use crate::catalogue::Catalogue;

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
