//! A short-lived cache of rendered public search pages, per instance.
//!
//! The benchmark's target (search at half the throughput of `/healthz`) is out of reach for any
//! request that goes to the database, so identical public searches within `POOL_CACHE_TTL_MS`
//! (at most 1000 ms, default 1000) share one rendered body. A pool change therefore shows in
//! every instance within one second: an entry is stamped with the instant its query *started*,
//! so a body computed from data older than the TTL is never served. `0` turns the cache off.
//!
//! Past half its TTL an entry is still served while the first caller to see it recomputes it
//! (stale-while-revalidate within the TTL), so under load a busy key is refreshed about twice a
//! second and no request waits for the database — without this, every connection missed at
//! once each second and the 99th percentile showed it.
//! Staff searches (which carry the `flagged` marks) are never cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

/// Most keys kept; past it the cache is cleared (a crude bound against unbounded growth from
/// arbitrary `q` values).
const MAX_KEYS: usize = 4096;

/// Longest TTL allowed: the one-second visibility rule of the pool.
pub const MAX_TTL: Duration = Duration::from_millis(1000);

/// What the cache has for a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Younger than half the TTL: serve it.
    Fresh(Bytes),
    /// Between half the TTL and the TTL: serve it; one caller (`refresh` true) is asked to
    /// recompute it, so a busy key is refreshed before it expires and no request waits.
    Stale { body: Bytes, refresh: bool },
    /// Nothing, or too old to serve: compute.
    Miss,
}

#[derive(Debug)]
struct Entry {
    started: Instant,
    body: Bytes,
    refreshing: bool,
}

#[derive(Debug)]
pub struct SearchCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
    /// One computation per key at a time: when an entry expires under load, the first caller
    /// queries and the others wait for its result instead of all querying at once.
    computing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl SearchCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl: ttl.min(MAX_TTL),
            entries: Mutex::new(HashMap::new()),
            computing: Mutex::new(HashMap::new()),
        }
    }

    /// The lock that serialises computations of `key`.
    pub fn compute_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        match self.computing.lock() {
            Ok(mut locks) => {
                if locks.len() >= MAX_KEYS {
                    locks.retain(|_, l| Arc::strong_count(l) > 1);
                }
                locks.entry(key.to_owned()).or_default().clone()
            }
            Err(_) => Arc::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The body stored under `key` and whether this caller should refresh it.
    pub fn lookup(&self, key: &str, now: Instant) -> Lookup {
        if !self.enabled() {
            return Lookup::Miss;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return Lookup::Miss;
        };
        let Some(entry) = entries.get_mut(key) else {
            return Lookup::Miss;
        };
        let age = now.saturating_duration_since(entry.started);
        if age >= self.ttl {
            Lookup::Miss
        } else if age < self.ttl / 2 {
            Lookup::Fresh(entry.body.clone())
        } else {
            let refresh = !entry.refreshing;
            entry.refreshing = true;
            Lookup::Stale {
                body: entry.body.clone(),
                refresh,
            }
        }
    }

    /// The body under `key` if it may still be served at `now` (tests and simple callers).
    pub fn get(&self, key: &str, now: Instant) -> Option<Bytes> {
        match self.lookup(key, now) {
            Lookup::Fresh(body) | Lookup::Stale { body, .. } => Some(body),
            Lookup::Miss => None,
        }
    }

    /// Stores `body` for `key`, computed from a query that started at `started`.
    pub fn put(&self, key: String, started: Instant, body: Bytes) {
        if !self.enabled() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_KEYS {
                let ttl = self.ttl;
                entries.retain(|_, e| started.saturating_duration_since(e.started) < ttl);
                if entries.len() >= MAX_KEYS {
                    entries.clear();
                }
            }
            match entries.get_mut(&key) {
                // Keep the fresher of two racing computations.
                Some(e) if e.started >= started => e.refreshing = false,
                _ => {
                    entries.insert(
                        key,
                        Entry {
                            started,
                            body,
                            refreshing: false,
                        },
                    );
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
    fn past_half_the_ttl_one_caller_refreshes_while_the_others_are_served() {
        let cache = SearchCache::new(Duration::from_millis(1000));
        let t0 = Instant::now();
        cache.put("k".into(), t0, Bytes::from_static(b"a"));
        let body = Bytes::from_static(b"a");
        assert_eq!(
            cache.lookup("k", t0 + Duration::from_millis(400)),
            Lookup::Fresh(body.clone())
        );
        let at = t0 + Duration::from_millis(600);
        assert_eq!(
            cache.lookup("k", at),
            Lookup::Stale {
                body: body.clone(),
                refresh: true
            }
        );
        assert_eq!(
            cache.lookup("k", at),
            Lookup::Stale {
                body: body.clone(),
                refresh: false
            }
        );
        cache.put("k".into(), at, Bytes::from_static(b"b"));
        assert_eq!(
            cache.lookup("k", at + Duration::from_millis(100)),
            Lookup::Fresh(Bytes::from_static(b"b"))
        );
        assert_eq!(
            cache.lookup("k", at + Duration::from_millis(1000)),
            Lookup::Miss
        );
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
