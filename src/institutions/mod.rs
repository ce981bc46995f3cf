//! Institution data (DESIGN.md §1.1, §1.2): the institution's profile (registration
//! certificate, legal representative, business contact), its teacher roster with credentials,
//! specialities and criminal-record checks, and its annual inspection records.
//!
//! - Synchronous functions over `&mut DbConn`, one file per part ([`profile`], [`roster`],
//!   [`inspections`], [`reveal`]; [`fields`] holds what they share), re-exported here: every
//!   write runs in the caller's `AppState::write` transaction and appends its audit event
//!   there. Requests are parsed into typed values before anything is written, reporting every
//!   field problem at once (422 `validation_failed`). The submission checks call [`profile`],
//!   [`active_teachers`] and [`inspections()`], which return parsed domain values (rows stay
//!   private).
//! - [`routes`]: `/institutions/me…` for the institution itself, read-only
//!   `/institutions/{id}…` for bureau staff, and a reviewer's audited reveal of one
//!   identity number.
//! - [`pii`]: identity numbers, full for Rust code and masked in every response and log.
//!
//! An institution only ever sees its own records: another institution's teacher or inspection
//! is "not found" on every read and write, so its existence is not disclosed.

pub mod fields;
pub mod inspections;
pub mod pii;
pub mod profile;
pub mod reveal;
pub mod roster;
pub mod routes;

pub use fields::*;
pub use inspections::*;
pub use profile::*;
pub use reveal::*;
pub use roster::*;
