//! Institution data (DESIGN.md §1.1, §1.2): the institution's profile (registration
//! certificate, legal representative, business contact), its teacher roster with credentials,
//! specialities and criminal-record checks, and its annual inspection records.
//!
//! - [`service`]: synchronous functions over `&mut DbConn`; the ones the application's
//!   submission checks call are [`service::profile`], [`service::active_teachers`] and
//!   [`service::inspections`], which return parsed domain values (rows stay private).
//! - [`routes`]: `/institutions/me…` for the institution itself, read-only
//!   `/institutions/{id}…` for bureau staff, and a reviewer's audited reveal of one
//!   identity number.
//! - [`pii`]: identity numbers, full for Rust code and masked in every response and log.
//!
//! An institution only ever sees its own records: another institution's teacher or inspection
//! is "not found" on every read and write, so its existence is not disclosed.

pub mod pii;
pub mod routes;
pub mod service;
