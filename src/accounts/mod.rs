//! Accounts: institution self-registration, login, "who am I", and the accounts and school
//! records that administrators create and disable.

pub mod routes;
pub mod service;
