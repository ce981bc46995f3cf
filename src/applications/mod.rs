//! Applications to a selection round: drafts, submission with every check of the selection
//! notice run at once ([`checks`]), withdrawal, listing and history. One state machine
//! ([`status`]) governs every change.

pub mod checks;
pub mod facts;
pub mod routes;
pub mod service;
pub mod status;
