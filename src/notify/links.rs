//! The page an e-mail speaks about, as a path under `PUBLIC_BASE_URL` (the pages are
//! `web::workspace` and the public portal; the tests follow each link to its page).

/// An application in its institution's workspace.
pub fn application(id: i64) -> String {
    format!("/institution/applications/{id}")
}

/// A public notice.
pub fn notice(id: i64) -> String {
    format!("/notices/{id}")
}
