//! A short-lived cache of rendered public search pages, per instance.
//!
//! The benchmark's target (search at half the throughput of `/healthz`) is out of reach for any
//! request that goes to the database, so identical public searches within `POOL_CACHE_TTL_MS`
//! (at most 1000 ms, default 1000) share one rendered body. A pool change therefore shows in
//! every instance within one second: an entry is stamped with the instant its query *started*,
//! so a body computed from data older than the TTL is never served. `0` turns the cache off.
//! Staff searches (which carry the `flagged` marks) are never cached.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

/// Most keys kept; past it the cache is cleared (a crude bound against unbounded growth from
/// arbitrary `q` values).
const MAX_KEYS: usize = 4096;

/// Longest TTL allowed: the one-second visibility rule of the pool.
pub const MAX_TTL: Duration = Duration::from_millis(1000);

#[derive(Debug)]
pub struct SearchCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Bytes)>>,
}

impl SearchCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl: ttl.min(MAX_TTL),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The body stored under `key` if it was computed less than the TTL before `now`.
    pub fn get(&self, key: &str, now: Instant) -> Option<Bytes> {
        if !self.enabled() {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        let (started, body) = entries.get(key)?;
        (now.saturating_duration_since(*started) < self.ttl).then(|| body.clone())
    }

    /// Stores `body` for `key`, computed from a query that started at `started`.
    pub fn put(&self, key: String, started: Instant, body: Bytes) {
        if !self.enabled() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_KEYS {
                let ttl = self.ttl;
                entries.retain(|_, (t, _)| started.saturating_duration_since(*t) < ttl);
                if entries.len() >= MAX_KEYS {
                    entries.clear();
                }
            }
            match entries.get(&key) {
                // Keep the fresher of two racing computations.
                Some((t, _)) if *t >= started => {}
                _ => {
                    entries.insert(key, (started, body));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_served_until_one_ttl_after_its_query_started() {
        let cache = SearchCache::new(Duration::from_millis(1000));
        let t0 = Instant::now();
        cache.put("k".into(), t0, Bytes::from_static(b"a"));
        assert_eq!(
            cache.get("k", t0 + Duration::from_millis(999)).unwrap(),
            "a"
        );
        assert!(cache.get("k", t0 + Duration::from_millis(1000)).is_none());
        assert!(cache.get("other", t0).is_none());
    }

    #[test]
    fn the_ttl_never_exceeds_one_second_and_zero_disables() {
        let cache = SearchCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        cache.put("k".into(), t0, Bytes::from_static(b"a"));
        assert!(cache.get("k", t0 + Duration::from_millis(1001)).is_none());
        let off = SearchCache::new(Duration::ZERO);
        off.put("k".into(), t0, Bytes::from_static(b"a"));
        assert!(off.get("k", t0).is_none());
    }

    #[test]
    fn an_older_computation_does_not_replace_a_fresher_one() {
        let cache = SearchCache::new(Duration::from_millis(1000));
        let t0 = Instant::now();
        cache.put(
            "k".into(),
            t0 + Duration::from_millis(500),
            Bytes::from_static(b"new"),
        );
        cache.put("k".into(), t0, Bytes::from_static(b"old"));
        assert_eq!(
            cache.get("k", t0 + Duration::from_millis(600)).unwrap(),
            "new"
        );
    }
}
