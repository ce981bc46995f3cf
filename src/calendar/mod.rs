//! The working-day calendar: the pure arithmetic in [`rules`], the stored years (one version
//! per change, loaded from `fixtures/calendar/` on first start) in [`store`], and the public
//! endpoints in [`routes`].

pub mod routes;
pub mod rules;
pub mod store;
