//! Operations: liveness, readiness, Prometheus metrics, the settable clock, and backups.

pub mod backup;
pub mod jobs;
pub mod routes;
