//! Which function runs each kind of job. The composition root registers the service's kinds
//! (`startup::jobs::registry`); tests may register extra kinds.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::SharedClock;
use crate::db::{DbConn, Pool};

/// What a job handler may use besides its payload.
#[derive(Clone)]
pub struct JobEnv {
    pub pool: Pool,
    pub clock: SharedClock,
    pub settings: std::sync::Arc<crate::config::Settings>,
}

/// Why a job did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth trying again later (a server was down, a lock was busy).
    #[error("{0:#}")]
    Retry(anyhow::Error),
    /// Will never succeed (a bad address, a malformed payload): dead at once.
    #[error("{0:#}")]
    Permanent(anyhow::Error),
}

/// A service error inside a job is worth retrying (a missing calendar year gets loaded, a
/// conflict clears); the attempts bound it.
impl From<crate::error::ApiError> for JobError {
    fn from(e: crate::error::ApiError) -> Self {
        Self::Retry(anyhow::Error::new(e))
    }
}

impl From<diesel::result::Error> for JobError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Retry(e.into())
    }
}

/// The information a handler gets about its job.
#[derive(Debug, Clone)]
pub struct JobInfo {
    pub id: i64,
    pub kind: String,
    pub attempt: i32,
    pub now: DateTime<Utc>,
    /// The service's configuration (dates and limits some jobs follow).
    pub settings: std::sync::Arc<crate::config::Settings>,
}

pub type TxHandler = fn(&mut DbConn, &JobInfo, &serde_json::Value) -> Result<(), JobError>;
pub type ExternalHandler = fn(&JobEnv, &JobInfo, &serde_json::Value) -> Result<(), JobError>;

/// How a kind of job runs.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Database work: runs in the same transaction that marks the job done, so its effects
    /// commit exactly once even if a lease expires and another worker claims the job.
    Transactional(TxHandler),
    /// Work with effects outside the database (sending e-mail): runs outside any transaction,
    /// then the job is marked done.
    External(ExternalHandler),
}

#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
}

impl Registry {
    pub fn register(&mut self, kind: &'static str, handler: Handler) {
        self.handlers.insert(kind, handler);
    }

    pub fn get(&self, kind: &str) -> Option<Handler> {
        self.handlers.get(kind).copied()
    }

    pub fn into_shared(self) -> Arc<Self> {
        Arc::new(self)
    }
}
