//! Accounts created by an administrator (reviewers, schools, admins; also the `create-user`
//! command and the demo).
//!
//! In two steps, as registration: [`prepare_user`] checks the request and hashes the password
//! without the database (argon2id is never computed inside a write transaction);
//! [`create_user`] writes, in the caller's transaction.

use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::accounts::account::{check_password, insert_user, normalise_email};
use crate::audit;
use crate::auth::{Ctx, Role, password};
use crate::db::schema::schools;
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};

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

/// An account that passed the field checks, its password hashed: what [`create_user`]
/// writes. Only [`prepare_user`] makes one (no `Debug`: it holds the password hash).
pub struct NewUser {
    email: String,
    password_hash: String,
    role: Role,
    display_name: String,
    school_id: Option<i64>,
}

/// The field checks (password policy, role, school): 422 with every issue; then the
/// password's hash. No database access: call it before the write transaction.
pub fn prepare_user(req: &CreateUserRequest) -> ApiResult<NewUser> {
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
    Ok(NewUser {
        email: normalise_email(&req.email),
        password_hash: password::hash(&req.password)?,
        role: req.role,
        display_name: req.display_name.trim().to_owned(),
        school_id: req.school_id,
    })
}

/// Writes a prepared account in the caller's transaction: 422 `unknown_school` when its school
/// does not exist, 409 `email_taken`. Returns the account's id.
pub fn create_user(conn: &mut DbConn, ctx: &Ctx, user: &NewUser) -> ApiResult<i64> {
    if let Some(school_id) = user.school_id {
        let exists: i64 = schools::table.find(school_id).count().get_result(conn)?;
        if exists == 0 {
            return Err(ApiError::validation(vec![FieldIssue::new(
                "school_id",
                "unknown_school",
                Msg::new("学校不存在。", "No such school."),
            )]));
        }
    }
    let id = insert_user(
        conn,
        &user.email,
        &user.password_hash,
        user.role,
        &user.display_name,
        None,
        user.school_id,
        db_time(ctx.now),
    )?;
    audit::record(
        conn,
        ctx,
        "user.created",
        "user",
        id,
        serde_json::json!({
            "email": user.email, "role": user.role.as_str(), "school_id": user.school_id,
        }),
    )?;
    Ok(id)
}
