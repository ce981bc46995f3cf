//! Rendered pages kept for the next visitor: a bounded map from (language, path and query) to
//! the body rendered for it, stamped with the version of the data it was rendered from. A
//! stamp that no longer matches is a miss, so a change shows at the next request after the
//! data behind the page moved; nothing grows per distinct query beyond the caps (entries and
//! bytes; the oldest entry goes first).
//!
//! Bodies are rendered without any visitor's secret: where a template shows the CSRF token,
//! it is rendered as [`TOKEN_SLOT`] and the visitor's token replaces it when served
//! ([`CachedPage::body_for`]).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use actix_web::http::StatusCode;
use actix_web::web::Bytes;

/// What a cached page's CSRF token is rendered as (replaced per visitor when served).
pub const TOKEN_SLOT: &str = "__csrf_token_slot__";

/// Pages kept by default, and their total size.
const MAX_ENTRIES: usize = 512;
const MAX_BYTES: usize = 8 * 1024 * 1024;

/// A page's address in the cache: its language tag and its path with the query.
pub type Key = (&'static str, String);

/// One rendered page.
#[derive(Clone)]
pub struct CachedPage {
    pub status: StatusCode,
    body: Bytes,
    has_token_slot: bool,
}

impl CachedPage {
    pub fn new(status: StatusCode, html: String) -> Self {
        Self {
            status,
            has_token_slot: html.contains(TOKEN_SLOT),
            body: Bytes::from(html),
        }
    }

    /// The body as served to a visitor whose CSRF token is `token` (computed only if the page
    /// shows it).
    pub fn body_for(&self, token: impl FnOnce() -> String) -> Bytes {
        if !self.has_token_slot {
            return self.body.clone();
        }
        let html = String::from_utf8_lossy(&self.body).replace(TOKEN_SLOT, &token());
        Bytes::from(html)
    }
}

struct Entry<S> {
    stamp: S,
    page: CachedPage,
}

struct Inner<S> {
    map: HashMap<Key, Entry<S>>,
    /// Keys in insertion order (the eviction order).
    order: VecDeque<Key>,
    bytes: usize,
}

/// The bounded page cache of one worker (see the module documentation). `S` is the stamp:
/// whatever identifies the data a page was rendered from.
pub struct PageCache<S = [u64; 2]> {
    inner: Mutex<Inner<S>>,
    max_entries: usize,
    max_bytes: usize,
}

impl<S> Default for PageCache<S> {
    fn default() -> Self {
        Self::with_caps(MAX_ENTRIES, MAX_BYTES)
    }
}

impl<S> PageCache<S> {
    pub fn with_caps(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
            }),
            max_entries: max_entries.max(1),
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<S>> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many pages and bytes are kept.
    pub fn size(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.map.len(), inner.bytes)
    }
}

impl<S: PartialEq> PageCache<S> {
    /// The page at `key` if it was rendered from the data `stamp` names.
    pub fn get(&self, key: &Key, stamp: &S) -> Option<CachedPage> {
        let inner = self.lock();
        inner
            .map
            .get(key)
            .filter(|e| &e.stamp == stamp)
            .map(|e| e.page.clone())
    }

    /// Keeps `page` at `key` (replacing an older rendering), then drops the oldest pages until
    /// both caps hold. A page larger than the byte cap is not kept.
    pub fn insert(&self, key: Key, stamp: S, page: CachedPage) {
        let size = page.body.len() + key.1.len();
        if size > self.max_bytes {
            return;
        }
        let mut inner = self.lock();
        let inner = &mut *inner;
        match inner.map.get_mut(&key) {
            Some(entry) => {
                inner.bytes = inner.bytes - (entry.page.body.len() + key.1.len()) + size;
                *entry = Entry { stamp, page };
            }
            None => {
                inner.order.push_back(key.clone());
                inner.map.insert(key, Entry { stamp, page });
                inner.bytes += size;
            }
        }
        while inner.map.len() > self.max_entries || inner.bytes > self.max_bytes {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(gone) = inner.map.remove(&oldest) {
                inner.bytes -= gone.page.body.len() + oldest.1.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: usize) -> CachedPage {
        CachedPage::new(StatusCode::OK, "x".repeat(n))
    }

    #[test]
    fn the_cache_stays_within_its_caps_however_many_queries_arrive() {
        let cache: PageCache<u64> = PageCache::with_caps(16, 4096);
        for i in 0..10_000 {
            cache.insert(("zh", format!("/pool?q={i}")), 1, page(100 + i % 200));
            let (entries, bytes) = cache.size();
            assert!(entries <= 16, "{entries} entries");
            assert!(bytes <= 4096, "{bytes} bytes");
        }
        // The newest is kept, the oldest gone.
        assert!(cache.get(&("zh", "/pool?q=9999".into()), &1).is_some());
        assert!(cache.get(&("zh", "/pool?q=0".into()), &1).is_none());
        // Replacing a page does not add an entry; a page over the byte cap is not kept.
        cache.insert(("zh", "/pool?q=9999".into()), 2, page(10));
        assert!(cache.size().0 <= 16);
        cache.insert(("zh", "/big".into()), 1, page(5000));
        assert!(cache.get(&("zh", "/big".into()), &1).is_none());
    }

    #[test]
    fn a_page_from_other_data_is_a_miss() {
        let cache: PageCache<[u64; 2]> = PageCache::default();
        let key: Key = ("en", "/notices/1".into());
        cache.insert(key.clone(), [7, 1], page(10));
        assert!(cache.get(&key, &[7, 1]).is_some());
        assert!(cache.get(&key, &[8, 1]).is_none());
        assert!(cache.get(&key, &[7, 0]).is_none());
        assert!(cache.get(&("zh", "/notices/1".into()), &[7, 1]).is_none());
    }

    #[test]
    fn the_token_slot_is_filled_per_visitor() {
        let shared = CachedPage::new(
            StatusCode::OK,
            format!("<input name=\"csrf\" value=\"{TOKEN_SLOT}\">"),
        );
        assert_eq!(
            shared.body_for(|| "abc".into()),
            Bytes::from_static(b"<input name=\"csrf\" value=\"abc\">")
        );
        let plain = page(3);
        assert_eq!(
            plain.body_for(|| unreachable!("not shown")),
            Bytes::from_static(b"xxx")
        );
    }
}
