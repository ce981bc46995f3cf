//! School contracts with pool members (DESIGN §1.7): only active pool members, only approved
//! items, a term of at most two school years; evaluations once per contract per term, which
//! feed the institution's standing in the pool; the daily job that ends contracts on their end
//! date. (Termination with exit grounds belongs to the sanctions capability.)
//!
//! One file per action or query, re-exported here: [`signing`] (a school's new contract),
//! [`records`] (the view, who may see a contract, one and the list), [`evaluations`];
//! [`status`] is the contract's state machine and ending, [`term`] the school-year terms.

pub mod evaluations;
pub mod records;
pub mod routes;
pub mod signing;
pub mod status;
pub mod term;

pub use evaluations::*;
pub use records::*;
pub use signing::*;

use crate::auth::Ctx;
use crate::jobs::registry::{Handler, Registry};

/// Job kind: end active contracts past their end date (daily).
pub const END_EXPIRED: &str = "contracts.end_expired";

/// Registers the contracts' job kinds.
pub fn register(registry: &mut Registry) {
    registry.register(
        END_EXPIRED,
        Handler::Transactional(|conn, job, _| {
            status::end_expired(conn, &Ctx::system(job.now))?;
            Ok(())
        }),
    );
}
