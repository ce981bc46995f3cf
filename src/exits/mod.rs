//! Exit cases (清退, DESIGN.md §1.8, notice §五): how a case opens (a school's termination of
//! its contract, a reviewer, the system), the one open case per institution that collects
//! every ground and its evidence, the statement of defence (陈述申辩) within 5 working days,
//! the reviewer's decision, and the removal cascade that ends in a ban
//! ([`crate::sanctions::bans`]).
//!
//! One file per action or query, re-exported here; each runs in the caller's write transaction
//! with its audit events: [`grounds`] (open or join, the statement window), [`cases`] (views,
//! visibility, one case, the list), [`opening`] (a reviewer's case, a school's termination),
//! [`verification`] (a credential found false), [`statement`], [`decision`] (and the removal
//! cascade), [`members`] (whom the sweeps and the blacklist import look at); [`routes`] maps
//! them to HTTP.
//!
//! Conventions:
//! - **One open case per institution**: the partial unique index `exit_cases_one_open`
//!   arbitrates; a ground arriving while a case is open joins it (a unique violation on insert
//!   means another transaction opened one first, and the ground joins that one).
//! - **Statement window**: `statement_due` is the 5th working day *after* the day the case
//!   opened (Beijing date; the working-day calendar decides, holidays do not count); the
//!   institution may file until 23:59:59 Beijing time that day. A ground joining an open case
//!   before the statement is filed moves `statement_due` to that ground's own due date if later,
//!   so the institution always has 5 working days to answer every ground.
//! - **Pool members only**: a reviewer-opened case or a credential found false needs an
//!   institution with an active pool entry (else 409 `not_in_pool`); a school's termination
//!   always opens or joins a case (its contract proves the membership).

pub mod blacklist;
pub mod cases;
pub mod decision;
pub mod grounds;
pub mod members;
pub mod opening;
pub mod routes;
pub mod statement;
pub mod status;
pub mod sweeps;
pub mod verification;

pub use cases::*;
pub use decision::*;
pub use grounds::*;
pub use members::*;
pub use opening::*;
pub use statement::*;
pub use status::CaseStatus;
pub use verification::*;
