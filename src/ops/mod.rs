//! Operations endpoints: liveness, readiness, Prometheus metrics, and the settable clock.

pub mod metrics;
pub mod routes;
