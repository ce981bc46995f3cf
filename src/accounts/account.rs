//! The account as its owner and admins see it, the lists of accounts, disabling, and what
//! every way of creating an account shares: the e-mail's normal form, the password policy as a
//! field issue, and the insertion of the `users` row.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::schools::School;
use crate::audit;
use crate::auth::{Ctx, Role, password};
use crate::db::columns::UtcTime;
use crate::db::schema::{institutions, schools, users};
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};

/// Normalises an e-mail address for storage and look-up (trimmed, lower-case).
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The password policy ([`password::weakness`]) as a field issue.
pub(super) fn check_password(field: &str, pw: &str) -> Option<FieldIssue> {
    let weakness = password::weakness(pw)?;
    let message = match weakness {
        password::Weakness::TooShort => Msg::new(
            format!("密码至少 {} 个字符。", password::MIN_PASSWORD_CHARS),
            format!(
                "The password needs at least {} characters.",
                password::MIN_PASSWORD_CHARS
            ),
        ),
        password::Weakness::TooLong => Msg::new(
            format!("密码不能超过 {} 个字符。", password::MAX_PASSWORD_CHARS),
            format!(
                "The password may have at most {} characters.",
                password::MAX_PASSWORD_CHARS
            ),
        ),
        password::Weakness::TooCommon => Msg::new(
            "该密码是泄露数据中最常见的密码之一，请换一个。",
            "This password is among the most common leaked passwords; choose another.",
        ),
    };
    Some(FieldIssue::new(field, weakness.code(), message))
}

/// An account as shown to its owner and to admins.
#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub display_name: String,
    pub institution: Option<InstitutionRef>,
    pub school: Option<School>,
    pub disabled: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = institutions)]
pub struct InstitutionRef {
    pub id: i64,
    pub name: String,
    pub uscc: String,
    pub entity_type: String,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: i64,
    email: String,
    role: String,
    display_name: String,
    institution_id: Option<i64>,
    school_id: Option<i64>,
    disabled_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

pub fn account(conn: &mut DbConn, user_id: i64) -> ApiResult<Account> {
    let row: UserRow = users::table
        .find(user_id)
        .select(UserRow::as_select())
        .first(conn)?;
    let institution = match row.institution_id {
        Some(id) => Some(
            institutions::table
                .find(id)
                .select(InstitutionRef::as_select())
                .first(conn)?,
        ),
        None => None,
    };
    let school = match row.school_id {
        Some(id) => Some(
            schools::table
                .find(id)
                .select(School::as_select())
                .first(conn)?,
        ),
        None => None,
    };
    Ok(Account {
        id: row.id,
        email: row.email,
        role: Role::parse(&row.role)
            .ok_or_else(|| anyhow::anyhow!("bad role in users.{}", row.id))?,
        display_name: row.display_name,
        institution,
        school,
        disabled: row.disabled_at.is_some(),
        created_at: row.created_at.into(),
    })
}

/// The `users` row of a new account, with its password already hashed (by the caller, before
/// the transaction); a taken e-mail is `409 email_taken`.
#[allow(clippy::too_many_arguments)]
pub(super) fn insert_user(
    conn: &mut DbConn,
    email: &str,
    hash: &str,
    role: Role,
    display_name: &str,
    institution_id: Option<i64>,
    school_id: Option<i64>,
    now: NaiveDateTime,
) -> ApiResult<i64> {
    diesel::insert_into(users::table)
        .values((
            users::email.eq(email),
            users::password_hash.eq(hash),
            users::role.eq(role.as_str()),
            users::display_name.eq(display_name),
            users::institution_id.eq(institution_id),
            users::school_id.eq(school_id),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result(conn)
        .map_err(ApiError::on_unique(ApiError::conflict(
            "email_taken",
            "该邮箱已注册。",
            "An account with this e-mail already exists.",
        )))
}

/// Disables or re-enables an account; its tokens stop working at once.
pub fn set_disabled(conn: &mut DbConn, ctx: &Ctx, user_id: i64, disabled: bool) -> ApiResult<()> {
    if let crate::auth::Actor::User { id, .. } = ctx.actor
        && id == user_id
        && disabled
    {
        return Err(ApiError::conflict(
            "cannot_disable_self",
            "不能停用自己的账号。",
            "You cannot disable your own account.",
        ));
    }
    let value = disabled.then(|| db_time(ctx.now));
    let changed = diesel::update(users::table.find(user_id))
        .set((
            users::disabled_at.eq(value),
            users::updated_at.eq(db_time(ctx.now)),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Err(ApiError::not_found("账号", "account"));
    }
    let action = if disabled {
        "user.disabled"
    } else {
        "user.enabled"
    };
    audit::record(conn, ctx, action, "user", user_id, serde_json::json!({}))?;
    Ok(())
}

pub fn list_users(
    conn: &mut DbConn,
    role: Option<Role>,
    offset: i64,
    limit: i64,
) -> ApiResult<(Vec<Account>, i64)> {
    let query = || {
        let mut q = users::table.into_boxed();
        if let Some(role) = role {
            q = q.filter(users::role.eq(role.as_str()));
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let ids: Vec<i64> = query()
        .order(users::id.asc())
        .offset(offset)
        .limit(limit)
        .select(users::id)
        .load(conn)?;
    let items = ids
        .into_iter()
        .map(|id| account(conn, id))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((items, total))
}
