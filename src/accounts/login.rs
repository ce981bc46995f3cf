//! Signing in with e-mail and password, throttled per account ([`throttle`]).
//!
//! In two steps, so that the password's verification (argon2id: tens of milliseconds of CPU
//! and 19 MiB) never runs inside a write transaction, where every other writer would wait for
//! it: [`check_login`] reads the account and verifies the password without a transaction;
//! [`login`] then records the outcome (a failure counted, or the failures cleared) in the
//! caller's write transaction, where the throttle is checked again so that attempts racing
//! each other cannot get past the limit.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::accounts::account::normalise_email;
use crate::auth::{Ctx, Role, password, throttle};
use crate::db::DbConn;
use crate::db::schema::users;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 254))]
    pub email: String,
    #[validate(length(min = 1, max = 1024))]
    pub password: String,
}

/// A checked sign-in attempt, for [`login`] to record. Only [`check_login`] makes one.
#[derive(Debug)]
pub struct LoginAttempt {
    email: String,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    /// Too many recent failures: the password was not looked at.
    Locked(u64),
    /// No such account, or the wrong password.
    Failed,
    /// The password matches this account's.
    Verified {
        id: i64,
        role: String,
        disabled_at: Option<NaiveDateTime>,
    },
}

/// Reads the account of the e-mail and verifies the password, outside any transaction. An
/// e-mail locked by the throttle is not verified at all; an unknown e-mail costs the time of
/// one verification (no account enumeration by timing).
pub fn check_login(conn: &mut DbConn, ctx: &Ctx, req: &LoginRequest) -> ApiResult<LoginAttempt> {
    let email = normalise_email(&req.email);
    if let Some(secs) = throttle::locked_for(conn, &email, ctx.now)? {
        return Ok(LoginAttempt {
            email,
            outcome: Outcome::Locked(secs),
        });
    }
    let row: Option<(i64, String, String, Option<NaiveDateTime>)> = users::table
        .filter(users::email.eq(&email))
        .select((
            users::id,
            users::password_hash,
            users::role,
            users::disabled_at,
        ))
        .first(conn)
        .optional()?;
    let outcome = match row {
        Some((id, hash, role, disabled_at)) if password::verify(&req.password, &hash) => {
            Outcome::Verified {
                id,
                role,
                disabled_at,
            }
        }
        Some(_) => Outcome::Failed,
        None => {
            password::burn_verification(&req.password);
            Outcome::Failed
        }
    };
    Ok(LoginAttempt { email, outcome })
}

/// Records a checked attempt in the caller's write transaction; returns the user id and role.
///
/// The outer result fails (and rolls back) only on database errors; a refused login is the
/// inner `Err`, returned after the failure count it recorded has been committed. The throttle
/// is read again here, in the write transaction: an attempt checked while other failures were
/// being recorded is refused if they locked the e-mail meanwhile.
pub fn login(
    conn: &mut DbConn,
    ctx: &Ctx,
    attempt: &LoginAttempt,
) -> ApiResult<Result<(i64, Role), ApiError>> {
    let email = &attempt.email;
    let locked = match attempt.outcome {
        Outcome::Locked(secs) => Some(secs),
        _ => throttle::locked_for(conn, email, ctx.now)?,
    };
    if let Some(secs) = locked {
        return Ok(Err(ApiError::rate_limited(secs)));
    }
    let Outcome::Verified {
        id,
        ref role,
        disabled_at,
    } = attempt.outcome
    else {
        throttle::record_failure(conn, email, ctx.now)?;
        return Ok(Err(ApiError::unauthenticated(
            "invalid_credentials",
            "邮箱或密码错误。",
            "Wrong e-mail or password.",
        )));
    };
    throttle::clear(conn, email)?;
    if disabled_at.is_some() {
        return Ok(Err(ApiError::unauthenticated(
            "account_disabled",
            "该账号已被停用。",
            "This account has been disabled.",
        )));
    }
    let role = Role::parse(role).ok_or_else(|| anyhow::anyhow!("bad role in users.{id}"))?;
    Ok(Ok((id, role)))
}
