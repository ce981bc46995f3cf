//! The notice board's read path for the portal: one notice as [`service::get`] reads it, kept
//! in memory for at most [`MAX_AGE`] and dropped at once when this process commits a write
//! (`db::writes_committed` or `db::raw_writes` moved), so an objection filed, a notice closed
//! or a calendar recomputation shows within a second on every instance (at once on the one
//! that made it). What depends on the time of the request — whether objections are accepted —
//! is computed per request ([`Kept::accepting`]), so a moved clock shows at once too.
//!
//! Each kept notice has a generation, unique within the process: pages rendered from it are
//! cached under it (`web::pages`), and a reload means new pages.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::db;
use crate::error::ApiResult;
use crate::notices::service::{self, Notice};

/// How long a kept notice is served without asking the database again.
pub const MAX_AGE: Duration = Duration::from_millis(500);
/// Notices kept at most (the board is small; past this, everything is dropped and reloaded).
const MAX_KEPT: usize = 256;

static GENERATIONS: AtomicU64 = AtomicU64::new(1);

/// A notice as read at one moment.
pub struct Kept {
    /// The notice; its `accepting_objections` is as of the read: use [`Kept::accepting`].
    pub notice: Notice,
    pub generation: u64,
    loaded: Instant,
    writes: u64,
    raw: u64,
}

impl Kept {
    /// Whether objections are accepted at `now`.
    pub fn accepting(&self, now: DateTime<Utc>) -> bool {
        service::accepting_objections(&self.notice.status, &self.notice.window, now)
    }

    fn fresh(&self) -> bool {
        self.loaded.elapsed() < MAX_AGE
            && self.writes == db::writes_committed()
            && self.raw == db::raw_writes()
    }
}

/// The kept notices of one worker.
#[derive(Default)]
pub struct NoticeBoard {
    kept: Mutex<HashMap<i64, Arc<Kept>>>,
}

impl NoticeBoard {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Kept>>> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notice `id` (404 when there is none), from memory while fresh, otherwise read again.
    pub async fn notice(
        &self,
        state: &AppState,
        id: i64,
        now: DateTime<Utc>,
    ) -> ApiResult<Arc<Kept>> {
        if let Some(kept) = self.lock().get(&id).filter(|k| k.fresh()) {
            return Ok(kept.clone());
        }
        // Read the counters before the database: a write committed meanwhile moves them again.
        let (writes, raw) = (db::writes_committed(), db::raw_writes());
        let notice = state.run(move |conn| service::get(conn, id, now)).await?;
        let kept = Arc::new(Kept {
            notice,
            generation: GENERATIONS.fetch_add(1, Ordering::Relaxed),
            loaded: Instant::now(),
            writes,
            raw,
        });
        let mut map = self.lock();
        if map.len() >= MAX_KEPT && !map.contains_key(&id) {
            map.clear();
        }
        map.insert(id, kept.clone());
        Ok(kept)
    }
}
