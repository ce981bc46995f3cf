//! Self-registration of an institution: its account and the start of its profile.
//!
//! In two steps, so that the password's hash (argon2id: tens of milliseconds of CPU and
//! 19 MiB) is never computed inside a write transaction, where every other writer would wait
//! for it: [`prepare_registration`] checks the request and hashes the password, without the
//! database; [`register`] writes, in the caller's transaction.

use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::accounts::account::{check_password, insert_user, normalise_email};
use crate::audit;
use crate::auth::{Ctx, Role, password};
use crate::credentials::uscc::{EntityType, Uscc};
use crate::db::schema::institutions;
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};

/// Self-registration of an institution: its account and the start of its profile.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[validate(email, length(max = 254))]
    pub email: String,
    /// At least 12 characters, not one of the commonest leaked passwords.
    pub password: String,
    /// The contact person's name shown on the account.
    #[validate(length(min = 1, max = 100))]
    pub display_name: String,
    /// The institution's registered name.
    #[validate(length(min = 2, max = 200))]
    pub institution_name: String,
    /// Unified social credit code (GB 32100-2015).
    pub uscc: String,
    pub entity_type: EntityType,
}

/// A registration that passed the field checks, its password hashed: what [`register`]
/// writes. Only [`prepare_registration`] makes one (no `Debug`: it holds the password hash).
pub struct Registration {
    email: String,
    password_hash: String,
    display_name: String,
    institution_name: String,
    uscc: Uscc,
    entity_type: EntityType,
}

/// The field checks of a registration (password policy, credit code, its fit with the entity
/// type: 422 with every issue), then the password's hash. No database access: call it before
/// the write transaction.
pub fn prepare_registration(req: &RegisterRequest) -> ApiResult<Registration> {
    let mut issues: Vec<FieldIssue> = check_password("password", &req.password)
        .into_iter()
        .collect();
    let uscc = match Uscc::parse(&req.uscc) {
        Ok(uscc) => Some(uscc),
        Err(err) => {
            issues.extend(
                err.field_issues("uscc")
                    .into_iter()
                    .map(|i| FieldIssue::from(i).caused_by("invalid_uscc")),
            );
            None
        }
    };
    if let Some(uscc) = &uscc
        && !uscc.fits(req.entity_type)
    {
        issues.push(FieldIssue::new(
            "entity_type",
            "entity_type_mismatch",
            Msg::new(
                format!(
                    "统一社会信用代码前两位 {} 与所选主体类型（{}）不符。",
                    &uscc.as_str()[..2],
                    req.entity_type.label_zh()
                ),
                format!(
                    "The code's prefix {} does not fit the entity type {}.",
                    &uscc.as_str()[..2],
                    req.entity_type.label_en()
                ),
            ),
        ));
    }
    let (Some(uscc), true) = (uscc, issues.is_empty()) else {
        return Err(ApiError::validation(issues));
    };
    Ok(Registration {
        email: normalise_email(&req.email),
        password_hash: password::hash(&req.password)?,
        display_name: req.display_name.trim().to_owned(),
        institution_name: req.institution_name.trim().to_owned(),
        uscc,
        entity_type: req.entity_type,
    })
}

/// Writes a prepared registration in the caller's transaction: refused while the credit code
/// is banned (409 `uscc_banned`), or when it or the e-mail already has an account (409
/// `uscc_taken`, `email_taken`; the transaction then rolls back whatever was written).
/// Returns the new account's id.
pub fn register(conn: &mut DbConn, ctx: &Ctx, reg: &Registration) -> ApiResult<i64> {
    // A removed institution's credit code may not register until its ban ends (notice §五).
    if let Some(ban) = crate::sanctions::bans::active_ban(
        conn,
        reg.uscc.as_str(),
        crate::clock::beijing_date(ctx.now),
    )? {
        return Err(crate::sanctions::bans::banned_problem(&ban));
    }
    let now = db_time(ctx.now);
    let institution_id: i64 = diesel::insert_into(institutions::table)
        .values((
            institutions::name.eq(&reg.institution_name),
            institutions::uscc.eq(reg.uscc.as_str()),
            institutions::entity_type.eq(reg.entity_type.as_str()),
            institutions::created_at.eq(now),
            institutions::updated_at.eq(now),
        ))
        .returning(institutions::id)
        .get_result(conn)
        .map_err(ApiError::on_unique(ApiError::conflict(
            "uscc_taken",
            "该统一社会信用代码已注册账号。",
            "An account for this credit code already exists.",
        )))?;
    let user_id = insert_user(
        conn,
        &reg.email,
        &reg.password_hash,
        Role::Institution,
        &reg.display_name,
        Some(institution_id),
        None,
        now,
    )?;
    let actor_ctx = Ctx {
        actor: crate::auth::Actor::User {
            id: user_id,
            role: Role::Institution,
        },
        ..ctx.clone()
    };
    audit::record(
        conn,
        &actor_ctx,
        "institution.registered",
        "institution",
        institution_id,
        serde_json::json!({
            "user_id": user_id, "name": reg.institution_name, "uscc": reg.uscc.as_str(), "entity_type": reg.entity_type.as_str(),
        }),
    )?;
    Ok(user_id)
}
