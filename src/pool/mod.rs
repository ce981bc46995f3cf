//! The pool (备选库) as schools and the public see it (DESIGN §1.7): the whitelist search by
//! activity category, district and name; an entry with its teachers and notice; CSV and JSON
//! exports; the public status look-up of a USCC; the daily job that marks lapsed entries
//! `expired`; and the seeding of realistic pools for the demo and the benchmark.
//!
//! Entries are created by admission (the notices capability) and removed by the sanctions
//! capability; their lifecycle (expiry, removal) is [`entry`]'s.

pub mod detail;
pub mod entry;
pub mod export;
pub mod read_model;
pub mod routes;
pub mod search;
pub mod status;
pub mod versions;

use crate::auth::Ctx;
use crate::jobs::registry::{Handler, Registry};

pub use entry::expire_entries;

/// Job kind: mark active entries past their validity `expired` (daily).
pub const EXPIRE_ENTRIES: &str = "pool.expire_entries";

/// Registers the pool's job kinds.
pub fn register(registry: &mut Registry) {
    registry.register(
        EXPIRE_ENTRIES,
        Handler::Transactional(|conn, job, _| {
            expire_entries(conn, &Ctx::system(job.now))?;
            Ok(())
        }),
    );
}
