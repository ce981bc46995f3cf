//! The state every handler shares, and the one way handlers reach the database: synchronous
//! service functions run on the blocking pool through [`AppState::run`] / [`AppState::write`].

use std::sync::Arc;

use actix_web::web;

use crate::auth::jwt::JwtKeys;
use crate::auth::{AuthUser, Authed, Ctx, Roles};
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::{self, DbConn, Pool};
use crate::error::ApiResult;
use crate::http::{Page, PageQuery};

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub clock: SharedClock,
    pub settings: Arc<Settings>,
    pub jwt: Arc<JwtKeys>,
    /// Isolated PDF text extraction (bounded concurrency shared by all requests).
    pub pdf: crate::pdf::PdfExtractor,
    /// The key that signs the open-data snapshots (`opendata::signing`).
    pub signer: Arc<crate::signing::Signer>,
}

impl AppState {
    /// What the authentication extractors need, from the same pool, clock and keys.
    pub fn auth_state(&self) -> crate::auth::AuthState {
        crate::auth::AuthState {
            pool: self.pool.clone(),
            clock: self.clock.clone(),
            jwt: self.jwt.clone(),
        }
    }

    /// Runs a read (or self-managed) database function off the async executor.
    pub async fn run<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }

    /// Runs `f` in one write transaction: the change, its audit events and its jobs commit
    /// together or not at all.
    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| db::write_tx(conn, f)).await
    }

    /// Runs a service call as the signed-in `user` in one write transaction (see
    /// [`Self::write`]): `f(conn, user, ctx)`.
    pub async fn write_as<R, T, F>(&self, user: &Authed<R>, f: F) -> ApiResult<T>
    where
        R: Roles,
        F: FnOnce(&mut DbConn, &AuthUser, &Ctx) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (u, ctx) = (user.user.clone(), user.ctx.clone());
        self.write(move |conn| f(conn, &u, &ctx)).await
    }

    /// One page of a list: `f(conn, offset, limit)` answers the page's items and the number of
    /// all matching items.
    pub async fn page<T, F>(&self, page: PageQuery, f: F) -> ApiResult<Page<T>>
    where
        F: FnOnce(&mut DbConn, i64, i64) -> ApiResult<(Vec<T>, i64)> + Send + 'static,
        T: Send + 'static,
    {
        let (items, total) = self
            .run(move |conn| f(conn, page.offset(), page.per_page()))
            .await?;
        Ok(Page::new(items, &page, total))
    }
}
