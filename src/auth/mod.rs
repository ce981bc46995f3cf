//! Authentication and authorisation: roles, access tokens, password hashing, login throttling,
//! and the extractors that guard handlers (`Authed<Admin>`, `Authed<Staff>`, …).

pub mod jwt;
pub mod password;
pub mod session;
pub mod throttle;

use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::clock::SharedClock;
use crate::db::Pool;
use crate::db::schema::users;
use crate::error::ApiError;
use crate::http::RequestId;

/// The roles of DESIGN.md §2; "public" is the absence of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Institution,
    Reviewer,
    School,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Institution => "institution",
            Self::Reviewer => "reviewer",
            Self::School => "school",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "institution" => Some(Self::Institution),
            "reviewer" => Some(Self::Reviewer),
            "school" => Some(Self::School),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User {
        id: i64,
        role: Role,
    },
    /// Someone without an account (e.g. an objector on the notice board).
    Public,
    /// The service itself (jobs, sweeps, start-up).
    System,
}

impl Actor {
    /// The actor's account id and role name as the audit log stores them.
    pub fn columns(&self) -> (Option<i64>, &'static str) {
        match self {
            Self::User { id, role } => (Some(*id), role.as_str()),
            Self::Public => (None, "public"),
            Self::System => (None, "system"),
        }
    }
}

/// What the extractors need of the service: its database, its clock and the token keys
/// (registered as application data next to the handlers' state).
#[derive(Clone)]
pub struct AuthState {
    pub pool: Pool,
    pub clock: SharedClock,
    pub jwt: std::sync::Arc<jwt::JwtKeys>,
}

impl AuthState {
    /// Runs a database function off the async executor (as `AppState::run` does).
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut crate::db::DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }
}

/// Who is making a request, and when (one "now" per request, from the service clock).
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub request_id: Option<String>,
    pub now: DateTime<Utc>,
}

impl Ctx {
    /// The context of a request by a signed-in account (bearer token or browser session).
    pub fn of_user(user: &AuthUser, request_id: Option<String>, now: DateTime<Utc>) -> Self {
        Self {
            actor: Actor::User {
                id: user.id,
                role: user.role(),
            },
            request_id,
            now,
        }
    }

    /// The context of work the service does by itself (jobs, start-up).
    pub fn system(now: DateTime<Utc>) -> Self {
        Self {
            actor: Actor::System,
            request_id: None,
            now,
        }
    }
}

/// A request without a token (public endpoints) still gets a context.
impl FromRequest for Ctx {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(match req.app_data::<web::Data<AuthState>>() {
            Some(state) => Ok(Ctx {
                actor: Actor::Public,
                request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
                now: state.clock.now(),
            }),
            None => Err(ApiError::Internal(anyhow::anyhow!(
                "application state missing"
            ))),
        })
    }
}

/// An authenticated, enabled account, loaded from the database on every request so that a
/// disabled account or a changed role takes effect at once.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct AuthUser {
    pub id: i64,
    pub email: String,
    #[diesel(deserialize_as = String)]
    pub role: RoleColumn,
    pub display_name: String,
    pub institution_id: Option<i64>,
    pub school_id: Option<i64>,
    pub disabled_at: Option<chrono::NaiveDateTime>,
}

/// A role read from its TEXT column (the CHECK constraint guarantees it parses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleColumn(pub Role);

impl TryFrom<String> for RoleColumn {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Role::parse(&s)
            .map(RoleColumn)
            .ok_or_else(|| format!("unknown role `{s}` in users.role"))
    }
}

impl AuthUser {
    pub fn role(&self) -> Role {
        self.role.0
    }

    /// Whether the user may see a record with these owners (see [`Owners`]).
    pub fn may_see(&self, owners: Owners) -> bool {
        let same = |mine: Option<i64>, theirs: Option<i64>| mine.is_some() && mine == theirs;
        match self.role() {
            Role::Reviewer | Role::Admin => true,
            Role::Institution => same(self.institution_id, owners.institution_id),
            Role::School => {
                same(self.school_id, owners.school_id) || same(Some(self.id), owners.uploaded_by)
            }
        }
    }

    /// The rows a list shows the user (see [`Owners`]); an account without its institution or
    /// school sees nothing (`-1` matches no row).
    pub fn scope(&self) -> Scope {
        match self.role() {
            Role::Reviewer | Role::Admin => Scope::All,
            Role::Institution => Scope::Institution(self.institution_id.unwrap_or(-1)),
            Role::School => Scope::School(self.school_id.unwrap_or(-1)),
        }
    }
}

/// Whose a record is, for the one rule of who may see what (DESIGN.md §2): bureau staff
/// (reviewers, admins) see everything; an institution its own records; a school its own
/// records and the files it uploaded itself. Anything else is "not found" to the caller.
#[derive(Debug, Clone, Copy, Default)]
pub struct Owners {
    pub institution_id: Option<i64>,
    pub school_id: Option<i64>,
    pub uploaded_by: Option<i64>,
}

impl Owners {
    /// A record of one institution's (an application, an exit case).
    pub fn institution(id: i64) -> Self {
        Self {
            institution_id: Some(id),
            ..Self::default()
        }
    }
}

/// The owner a list is narrowed to for a user: [`AuthUser::scope`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Institution(i64),
    School(i64),
}

/// Which roles a guard admits.
pub trait Roles {
    const ALLOWED: &'static [Role];
}

macro_rules! role_set {
    ($(#[$doc:meta])* $name:ident => [$($role:ident),+]) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;
        impl Roles for $name {
            const ALLOWED: &'static [Role] = &[$(Role::$role),+];
        }
    };
}

role_set!(/// Administrators only.
    Admin => [Admin]);
role_set!(/// Bureau staff: reviewers and administrators.
    Staff => [Reviewer, Admin]);
role_set!(/// Reviewers only.
    Reviewer => [Reviewer]);
role_set!(/// Institution accounts.
    InstitutionRole => [Institution]);
role_set!(/// School accounts.
    SchoolRole => [School]);
role_set!(/// Any signed-in account.
    AnyRole => [Institution, Reviewer, School, Admin]);
role_set!(/// Reviewers only (the name the workspace pages use, beside [`Reviewer`]).
    ReviewerRole => [Reviewer]);
role_set!(/// Administrators only (the name the workspace pages use, beside [`Admin`]).
    AdminRole => [Admin]);

/// An extractor that admits only accounts whose role is in `R` (401 without a valid token,
/// 403 with the wrong role).
#[derive(Debug)]
pub struct Authed<R: Roles> {
    pub user: AuthUser,
    pub ctx: Ctx,
    _roles: PhantomData<R>,
}

impl<R: Roles> Deref for Authed<R> {
    type Target = AuthUser;
    fn deref(&self) -> &AuthUser {
        &self.user
    }
}

impl<R: Roles + 'static> FromRequest for Authed<R> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AuthState>>().cloned();
        let token = bearer_token(req);
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
        Box::pin(async move {
            let state = state
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
            let token = token.ok_or_else(|| {
                ApiError::unauthenticated(
                    "unauthenticated",
                    "请先登录（缺少 Bearer 令牌）。",
                    "Sign in first (no bearer token).",
                )
            })?;
            let now = state.clock.now();
            let mut verified = state.jwt.verify(&token, now);
            if matches!(verified, Err(jwt::TokenError::UnknownKey)) && state.jwt.from_database {
                // Development keys live in the database: another instance may have rotated.
                let ttl = state.jwt.ttl();
                let keys = state
                    .run(move |conn| Ok(jwt::database_keys(conn, now, ttl)?))
                    .await?;
                state.jwt.replace(&keys);
                verified = state.jwt.verify(&token, now);
            }
            let claims = verified.map_err(|e| match e {
                jwt::TokenError::Expired => ApiError::unauthenticated(
                    "token_expired",
                    "登录已过期，请重新登录。",
                    "The token has expired; sign in again.",
                ),
                jwt::TokenError::Invalid => ApiError::unauthenticated(
                    "invalid_token",
                    "令牌无效。",
                    "The token is not valid.",
                ),
                jwt::TokenError::UnknownKey => ApiError::unauthenticated(
                    "unknown_signing_key",
                    "令牌的签名密钥已停用或未知，请重新登录。",
                    "The token names a signing key this service does not know; sign in again.",
                ),
            })?;
            // The role the token was issued for decides at once, before any await: actix polls a
            // handler's extractors together, and a wrong role must be refused (403) before a
            // malformed body is reported (422) to a caller who may not use the endpoint at all.
            // Roles never change, and the account's stored role is checked again below.
            if !R::ALLOWED.contains(&claims.role) {
                return Err(ApiError::forbidden());
            }
            let user_id: i64 = claims.sub.parse().map_err(|_| {
                ApiError::unauthenticated("invalid_token", "令牌无效。", "The token is not valid.")
            })?;
            let user = state
                .run(move |conn| {
                    Ok(users::table
                        .find(user_id)
                        .select(AuthUser::as_select())
                        .first(conn)
                        .optional()?)
                })
                .await?
                .ok_or_else(|| {
                    ApiError::unauthenticated(
                        "invalid_token",
                        "令牌对应的账号不存在。",
                        "The token's account does not exist.",
                    )
                })?;
            if user.disabled_at.is_some() {
                return Err(ApiError::unauthenticated(
                    "account_disabled",
                    "该账号已被停用。",
                    "This account has been disabled.",
                ));
            }
            if !R::ALLOWED.contains(&user.role()) {
                return Err(ApiError::forbidden());
            }
            let ctx = Ctx::of_user(&user, request_id, now);
            Ok(Authed {
                user,
                ctx,
                _roles: PhantomData,
            })
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, institution_id: Option<i64>, school_id: Option<i64>) -> AuthUser {
        AuthUser {
            id: 7,
            email: "u@example.cn".into(),
            role: RoleColumn(role),
            display_name: "u".into(),
            institution_id,
            school_id,
            disabled_at: None,
        }
    }

    #[test]
    fn each_role_sees_what_is_its_own_and_staff_see_everything() {
        let theirs = Owners {
            institution_id: Some(1),
            school_id: Some(2),
            uploaded_by: Some(3),
        };
        let nobodys = Owners::default();
        for role in [Role::Reviewer, Role::Admin] {
            assert!(user(role, None, None).may_see(theirs));
            assert!(user(role, None, None).may_see(nobodys));
            assert_eq!(user(role, None, None).scope(), Scope::All);
        }
        assert!(user(Role::Institution, Some(1), None).may_see(theirs));
        assert!(!user(Role::Institution, Some(9), None).may_see(theirs));
        assert!(!user(Role::Institution, None, None).may_see(nobodys));
        assert_eq!(
            user(Role::Institution, None, None).scope(),
            Scope::Institution(-1)
        );
        assert!(user(Role::School, None, Some(2)).may_see(theirs));
        assert!(!user(Role::School, None, Some(9)).may_see(theirs));
        assert!(!user(Role::School, None, None).may_see(nobodys));
        let uploaded = Owners {
            uploaded_by: Some(7),
            ..Owners::default()
        };
        assert!(user(Role::School, None, None).may_see(uploaded));
        assert!(!user(Role::Institution, None, None).may_see(uploaded));
        assert_eq!(user(Role::School, None, Some(2)).scope(), Scope::School(2));
    }
}
