//! Every route, registered once: each capability's `routes::configure`, in the order actix
//! matches them. The HTTP app (`startup`) and the OpenAPI document (`openapi`) are both built
//! from this registration (utoipa-actix-web collects each handler's `#[utoipa::path]` as it is
//! registered), so no other list of endpoints exists. The portal's HTML pages are not part of
//! the API and are registered by `startup` (`web::configure`).

use crate::http::routes::Register;
use crate::{
    accounts, applications, audit, calendar, catalogue, contracts, credentials, documents, exits,
    institutions, notices, objections, opendata, ops, pool, review, rounds, sanctions,
};

/// The routes outside `/api/v1`: health, readiness, metrics.
pub fn root(cfg: &mut impl Register) {
    ops::routes::configure_root(cfg);
}

/// The routes under `/api/v1`; `test_clock`: whether `PUT /admin/clock` exists.
pub fn api_v1(cfg: &mut impl Register, test_clock: bool) {
    // The public pool search first: resources are matched in order, and it is the hot path.
    pool::routes::configure(cfg);
    opendata::routes::configure(cfg);
    accounts::routes::configure(cfg);
    audit::routes::configure(cfg);
    calendar::routes::configure(cfg);
    catalogue::routes::configure(cfg);
    credentials::routes::configure(cfg);
    rounds::routes::configure(cfg);
    documents::routes::configure(cfg);
    applications::routes::configure(cfg);
    institutions::routes::configure(cfg);
    review::routes::configure(cfg);
    notices::routes::configure(cfg);
    objections::routes::configure(cfg);
    exits::routes::configure(cfg);
    sanctions::routes::configure(cfg);
    contracts::routes::configure(cfg);
    ops::routes::configure(cfg, test_clock);
}
