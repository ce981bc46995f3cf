//! Accounts: institution self-registration, login, "who am I", and the accounts and school
//! records that administrators create and disable. One file per action; each service is
//! synchronous and runs in the caller's transaction (`AppState::write`), each change audited.
//! Passwords are hashed and verified before that transaction, never inside it
//! ([`prepare_registration`], [`prepare_user`], [`check_login`]).

mod account;
mod login;
mod registration;
pub mod routes;
mod schools;
mod users;

pub use account::{Account, InstitutionRef, account, list_users, normalise_email, set_disabled};
pub use login::{LoginAttempt, LoginRequest, check_login, login};
pub use registration::{RegisterRequest, Registration, prepare_registration, register};
pub use schools::{CreateSchoolRequest, School, create_school, list_schools};
pub use users::{CreateUserRequest, NewUser, create_user, prepare_user};
