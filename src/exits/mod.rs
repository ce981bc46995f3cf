//! Exit cases (清退, DESIGN.md §1.8, notice §五): how a case opens (a school's termination of
//! its contract, a reviewer, the system), the one open case per institution that collects
//! every ground and its evidence, the statement of defence (陈述申辩) within 5 working days,
//! the reviewer's decision, and the removal cascade that ends in a ban
//! ([`crate::sanctions::bans`]).

pub mod blacklist;
pub mod routes;
pub mod service;
pub mod sweeps;
