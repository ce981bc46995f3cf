//! Account services: synchronous, each owning its transaction through the caller's
//! `AppState::write`, each change audited.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::audit;
use crate::auth::{Ctx, Role, password, throttle};
use crate::credentials::uscc::{EntityType, Uscc};
use crate::db::columns::UtcTime;
use crate::db::schema::{institutions, schools, users};
use crate::db::{DbConn, db_time, is_unique_violation};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};

/// Normalises an e-mail address for storage and look-up (trimmed, lower-case).
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The password policy ([`password::weakness`]) as a field issue.
fn check_password(field: &str, pw: &str) -> Option<FieldIssue> {
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

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = schools)]
pub struct School {
    pub id: i64,
    pub name: String,
    pub code: String,
    pub district: String,
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

pub fn register(conn: &mut DbConn, ctx: &Ctx, req: &RegisterRequest) -> ApiResult<i64> {
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
    // A removed institution's credit code may not register until its ban ends (notice §五).
    if let Some(ban) = crate::sanctions::bans::active_ban(
        conn,
        uscc.as_str(),
        crate::clock::beijing_date(ctx.now),
    )? {
        return Err(crate::sanctions::bans::banned_problem(&ban));
    }
    let hash = password::hash(&req.password)?;
    let email = normalise_email(&req.email);
    let now = db_time(ctx.now);
    let institution_id: i64 = diesel::insert_into(institutions::table)
        .values((
            institutions::name.eq(req.institution_name.trim()),
            institutions::uscc.eq(uscc.as_str()),
            institutions::entity_type.eq(req.entity_type.as_str()),
            institutions::created_at.eq(now),
            institutions::updated_at.eq(now),
        ))
        .returning(institutions::id)
        .get_result(conn)
        .map_err(|e| {
            if is_unique_violation(&e) {
                ApiError::conflict(
                    "uscc_taken",
                    "该统一社会信用代码已注册账号。",
                    "An account for this credit code already exists.",
                )
            } else {
                e.into()
            }
        })?;
    let user_id = insert_user(
        conn,
        &email,
        &hash,
        Role::Institution,
        req.display_name.trim(),
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
            "user_id": user_id, "name": req.institution_name.trim(), "uscc": uscc.as_str(), "entity_type": req.entity_type.as_str(),
        }),
    )?;
    Ok(user_id)
}

#[allow(clippy::too_many_arguments)]
fn insert_user(
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
        .map_err(|e| {
            if is_unique_violation(&e) {
                ApiError::conflict(
                    "email_taken",
                    "该邮箱已注册。",
                    "An account with this e-mail already exists.",
                )
            } else {
                e.into()
            }
        })
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 254))]
    pub email: String,
    #[validate(length(min = 1, max = 1024))]
    pub password: String,
}

/// Checks a login; returns the user id and role. Throttled per account (see `throttle`).
///
/// The outer result fails (and rolls back) only on database errors; a refused login is the
/// inner `Err`, returned after the failure count it recorded has been committed.
pub fn login(
    conn: &mut DbConn,
    ctx: &Ctx,
    req: &LoginRequest,
) -> ApiResult<Result<(i64, Role), ApiError>> {
    let email = normalise_email(&req.email);
    if let Some(secs) = throttle::locked_for(conn, &email, ctx.now)? {
        return Ok(Err(ApiError::rate_limited(secs)));
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
    let verified = match &row {
        Some((_, hash, _, _)) => password::verify(&req.password, hash),
        None => {
            password::burn_verification(&req.password);
            false
        }
    };
    let Some((id, _, role, disabled_at)) = row.filter(|_| verified) else {
        throttle::record_failure(conn, &email, ctx.now)?;
        return Ok(Err(ApiError::unauthenticated(
            "invalid_credentials",
            "邮箱或密码错误。",
            "Wrong e-mail or password.",
        )));
    };
    throttle::clear(conn, &email)?;
    if disabled_at.is_some() {
        return Ok(Err(ApiError::unauthenticated(
            "account_disabled",
            "该账号已被停用。",
            "This account has been disabled.",
        )));
    }
    let role = Role::parse(&role).ok_or_else(|| anyhow::anyhow!("bad role in users.{id}"))?;
    Ok(Ok((id, role)))
}

/// An account created by an administrator.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[validate(email, length(max = 254))]
    pub email: String,
    pub password: String,
    /// `reviewer`, `school` or `admin` (institutions register themselves).
    pub role: Role,
    #[validate(length(min = 1, max = 100))]
    pub display_name: String,
    /// Required for school accounts: the school record they belong to.
    pub school_id: Option<i64>,
}

pub fn create_user(conn: &mut DbConn, ctx: &Ctx, req: &CreateUserRequest) -> ApiResult<i64> {
    let mut issues: Vec<FieldIssue> = check_password("password", &req.password)
        .into_iter()
        .collect();
    match (req.role, req.school_id) {
        (Role::Institution, _) => issues.push(FieldIssue::new(
            "role",
            "role_not_allowed",
            Msg::new(
                "机构账号须通过自助注册创建。",
                "Institution accounts are created by self-registration.",
            ),
        )),
        (Role::School, None) => issues.push(FieldIssue::new(
            "school_id",
            "school_required",
            Msg::new(
                "学校账号须关联学校。",
                "A school account needs its school_id.",
            ),
        )),
        (Role::Reviewer | Role::Admin, Some(_)) => issues.push(FieldIssue::new(
            "school_id",
            "school_not_allowed",
            Msg::new(
                "只有学校账号可以关联学校。",
                "Only school accounts belong to a school.",
            ),
        )),
        _ => {}
    }
    if !issues.is_empty() {
        return Err(ApiError::validation(issues));
    }
    if let Some(school_id) = req.school_id {
        let exists: i64 = schools::table.find(school_id).count().get_result(conn)?;
        if exists == 0 {
            return Err(ApiError::validation(vec![FieldIssue::new(
                "school_id",
                "unknown_school",
                Msg::new("学校不存在。", "No such school."),
            )]));
        }
    }
    let hash = password::hash(&req.password)?;
    let email = normalise_email(&req.email);
    let id = insert_user(
        conn,
        &email,
        &hash,
        req.role,
        req.display_name.trim(),
        None,
        req.school_id,
        db_time(ctx.now),
    )?;
    audit::record(
        conn,
        ctx,
        "user.created",
        "user",
        id,
        serde_json::json!({
            "email": email, "role": req.role.as_str(), "school_id": req.school_id,
        }),
    )?;
    Ok(id)
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

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateSchoolRequest {
    #[validate(length(min = 2, max = 200))]
    pub name: String,
    /// The school's identification code (学校标识码), unique.
    #[validate(length(min = 1, max = 40))]
    pub code: String,
    #[validate(length(min = 1, max = 100))]
    pub district: String,
}

pub fn create_school(conn: &mut DbConn, ctx: &Ctx, req: &CreateSchoolRequest) -> ApiResult<School> {
    let id: i64 = diesel::insert_into(schools::table)
        .values((
            schools::name.eq(req.name.trim()),
            schools::code.eq(req.code.trim()),
            schools::district.eq(req.district.trim()),
            schools::created_at.eq(db_time(ctx.now)),
        ))
        .returning(schools::id)
        .get_result(conn)
        .map_err(|e| {
            if is_unique_violation(&e) {
                ApiError::conflict(
                    "school_code_taken",
                    "该学校代码已存在。",
                    "A school with this code already exists.",
                )
            } else {
                e.into()
            }
        })?;
    audit::record(
        conn,
        ctx,
        "school.created",
        "school",
        id,
        serde_json::json!({"name": req.name.trim(), "code": req.code.trim()}),
    )?;
    Ok(schools::table
        .find(id)
        .select(School::as_select())
        .first(conn)?)
}

pub fn list_schools(conn: &mut DbConn) -> ApiResult<Vec<School>> {
    Ok(schools::table
        .order(schools::name.asc())
        .select(School::as_select())
        .load(conn)?)
}
