//! Public notices (公示, DESIGN.md §1.5–§1.6): publication of approved applications with the
//! 5-working-day window computed from the calendar, the public notice board, recomputation when
//! an admin changes a calendar year an open notice used, and the closing job that admits every
//! application without a pending or upheld objection to the pool ([`admission`]).

pub mod admission;
pub mod board;
pub mod closing;
pub mod objection_status;
pub mod routes;
pub mod service;
pub mod status;

use crate::jobs::registry::{Handler, Registry};

/// Job kind: close a notice whose window ended and admit its applications.
pub const CLOSE_NOTICE: &str = "notice.close";

/// Registers the notice jobs.
pub fn register(registry: &mut Registry) {
    registry.register(CLOSE_NOTICE, Handler::External(closing::close_job));
}
