//! Operations endpoints: liveness, readiness, Prometheus metrics, and the settable clock.

pub mod jobs;
pub mod routes;
