//! Browser sessions, kept in the database (`web_sessions`) so that every instance accepts them
//! and signing out revokes at once. The cookie carries 256 random bits; the table keeps only
//! their SHA-256, so a copy of the table signs nobody in. A session ends at its absolute expiry
//! (the access token's lifetime, `JWT_TTL_MINUTES`), after [`IDLE_MINUTES`] without use, at
//! sign-out, or at once when its account is disabled (the account is read on every request,
//! as for a bearer token).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::RngCore;
use sha2::Digest;

use crate::auth::AuthUser;
use crate::db::schema::{users, web_sessions};
use crate::db::{DbConn, db_time, from_db_time};

/// A session unused this long has ended.
pub const IDLE_MINUTES: i64 = 120;

/// `last_used_at` is written at most this often (a page view is not a write each time).
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A fresh session value: 256 random bits, hex (what the cookie carries).
fn new_value() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the table keeps of a session value.
fn hash(value: &str) -> String {
    hex::encode(sha2::Sha256::digest(value.as_bytes()))
}

/// Whether a cookie value has the shape of a session value (64 hex digits).
pub fn well_formed(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Starts a session for `user_id`; returns the value for the cookie.
pub fn create(
    conn: &mut DbConn,
    user_id: i64,
    now: DateTime<Utc>,
    lifetime: chrono::Duration,
) -> QueryResult<String> {
    let value = new_value();
    diesel::insert_into(web_sessions::table)
        .values((
            web_sessions::token_hash.eq(hash(&value)),
            web_sessions::user_id.eq(user_id),
            web_sessions::created_at.eq(db_time(now)),
            web_sessions::last_used_at.eq(db_time(now)),
            web_sessions::expires_at.eq(db_time(now + lifetime)),
        ))
        .execute(conn)?;
    Ok(value)
}

/// The account of a live session (enabled or not: the caller refuses disabled accounts, as the
/// token guard does), after recording its use. `None`: no such session, or it has ended.
pub fn lookup(conn: &mut DbConn, value: &str, now: DateTime<Utc>) -> QueryResult<Option<AuthUser>> {
    if !well_formed(value) {
        return Ok(None);
    }
    let found: Option<(i64, chrono::NaiveDateTime, chrono::NaiveDateTime, AuthUser)> =
        web_sessions::table
            .inner_join(users::table)
            .filter(web_sessions::token_hash.eq(hash(value)))
            .select((
                web_sessions::id,
                web_sessions::last_used_at,
                web_sessions::expires_at,
                AuthUser::as_select(),
            ))
            .first(conn)
            .optional()?;
    let Some((id, last_used, expires, user)) = found else {
        return Ok(None);
    };
    let (last_used, expires) = (from_db_time(last_used), from_db_time(expires));
    if now >= expires || now - last_used >= chrono::Duration::minutes(IDLE_MINUTES) {
        diesel::delete(web_sessions::table.find(id)).execute(conn)?;
        return Ok(None);
    }
    if now - last_used >= chrono::Duration::seconds(TOUCH_EVERY_SECONDS) {
        diesel::update(web_sessions::table.find(id))
            .set(web_sessions::last_used_at.eq(db_time(now)))
            .execute(conn)?;
    }
    Ok(Some(user))
}

/// Ends a session (sign-out). Ending one that does not exist is not an error.
pub fn revoke(conn: &mut DbConn, value: &str) -> QueryResult<()> {
    diesel::delete(web_sessions::table.filter(web_sessions::token_hash.eq(hash(value))))
        .execute(conn)?;
    Ok(())
}

/// Deletes sessions that have ended (the hourly purge job, with the login failures).
pub fn purge_expired(conn: &mut DbConn, now: DateTime<Utc>) -> QueryResult<usize> {
    let idle_since = db_time(now - chrono::Duration::minutes(IDLE_MINUTES));
    diesel::delete(
        web_sessions::table.filter(
            web_sessions::expires_at
                .le(db_time(now))
                .or(web_sessions::last_used_at.le(idle_since)),
        ),
    )
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_value_is_random_and_only_its_hash_is_kept() {
        let (a, b) = (new_value(), new_value());
        assert_ne!(a, b);
        assert!(well_formed(&a));
        assert_ne!(hash(&a), a);
        assert_eq!(hash(&a), hash(&a));
        assert!(!well_formed("abc"));
        assert!(!well_formed(&"g".repeat(64)));
    }
}
