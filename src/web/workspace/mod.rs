//! The signed-in workspaces (issue 16): pages behind [`crate::web::session::SignedIn`], one
//! file per role, each page calling the capabilities' own services like the JSON handlers do.
//!
//! - [`institution`]: registration, profile, roster, inspections, uploads, applications,
//!   exit cases, contracts, messages (`/register`, `/institution/…`).
//! - [`school`]: pool search, contracts with the school-year rule, evaluations per term,
//!   termination with grounds and evidence (`/school/…`).
//! - [`posted`]: what the form handlers share (the API body from the fields, options).
//! - [`reviewer`]: the work queue, the dossier, decisions, objections, notices, exit cases,
//!   the blacklist import, the audited reveal (`/review/…`).
//! - [`admin`]: accounts and schools, rounds, the calendar with its preview, dead jobs, the
//!   audit chain's verification (`/admin…`).
//! - [`signed_form`]: [`signed_form::SignedForm`], the guard of every workspace form post.

pub mod admin;
pub mod institution;
pub mod posted;
pub mod reviewer;
pub mod school;
pub mod signed_form;

use crate::auth::Role;
use crate::web::Page;

/// The links of a role's workspace in the shared header, `(href, label)`.
pub fn links(page: &Page, role: Role) -> Vec<(String, String)> {
    match role {
        Role::Institution => institution::links(page),
        Role::Reviewer => reviewer::links(page),
        Role::Admin => admin::links(page),
        Role::School => school::links(page),
    }
}

/// Where a role lands after signing in.
pub fn home(role: Role) -> &'static str {
    match role {
        Role::Institution => institution::HOME,
        Role::Reviewer => reviewer::HOME,
        Role::Admin => admin::HOME,
        Role::School => school::HOME,
    }
}
