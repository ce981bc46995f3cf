//! Rendered pages kept for the next visitor: a bounded cache (`moka`, weighed in bytes) from
//! (language, path and query) to the body rendered for it, stamped with the version of the data
//! it was rendered from. A stamp that no longer matches is a miss, so a change shows at the
//! next request after the data behind the page moved; nothing grows per distinct query beyond
//! the byte cap (moka's TinyLFU policy keeps the pages asked for most).
//!
//! Bodies are rendered without any visitor's secret: where a template shows the CSRF token,
//! it is rendered as [`TOKEN_SLOT`] and the visitor's token replaces it when served
//! ([`CachedPage::body_for`]).

use actix_web::http::StatusCode;
use actix_web::web::Bytes;

/// What a cached page's CSRF token is rendered as (replaced per visitor when served).
pub const TOKEN_SLOT: &str = "__csrf_token_slot__";

/// The pages' total size (bodies, keys and bookkeeping).
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

/// A kept page and the stamp of the data it was rendered from.
#[derive(Clone)]
struct Entry<S> {
    stamp: S,
    page: CachedPage,
}

/// What a page costs in the cache beyond its body and key (moka's own bookkeeping).
const ENTRY_OVERHEAD: usize = 128;

/// The bounded page cache of one worker (see the module documentation). `S` is the stamp:
/// whatever identifies the data a page was rendered from.
pub struct PageCache<S = [u64; 2]> {
    pages: moka::sync::Cache<Key, Entry<S>>,
    max_bytes: usize,
}

impl<S: Clone + Send + Sync + 'static> Default for PageCache<S> {
    fn default() -> Self {
        Self::with_cap(MAX_BYTES)
    }
}

impl<S: Clone + Send + Sync + 'static> PageCache<S> {
    /// A cache holding at most `max_bytes` of pages (bodies, keys and bookkeeping).
    pub fn with_cap(max_bytes: usize) -> Self {
        let pages = moka::sync::Cache::builder()
            .max_capacity(max_bytes as u64)
            .weigher(|key: &Key, entry: &Entry<S>| {
                u32::try_from(weight(key, &entry.page)).unwrap_or(u32::MAX)
            })
            .build();
        Self { pages, max_bytes }
    }

    /// How many pages and bytes are kept (after moka's pending evictions have run).
    pub fn size(&self) -> (u64, u64) {
        self.pages.run_pending_tasks();
        (self.pages.entry_count(), self.pages.weighted_size())
    }
}

/// The bytes a page takes in the cache.
fn weight(key: &Key, page: &CachedPage) -> usize {
    page.body.len() + key.1.len() + ENTRY_OVERHEAD
}

impl<S: PartialEq + Clone + Send + Sync + 'static> PageCache<S> {
    /// The page at `key` if it was rendered from the data `stamp` names.
    pub fn get(&self, key: &Key, stamp: &S) -> Option<CachedPage> {
        self.pages
            .get(key)
            .filter(|e| &e.stamp == stamp)
            .map(|e| e.page)
    }

    /// Keeps `page` at `key` (replacing an older rendering); moka evicts to stay within the
    /// byte cap. A page larger than the cap is not kept.
    pub fn insert(&self, key: Key, stamp: S, page: CachedPage) {
        if weight(&key, &page) > self.max_bytes {
            return;
        }
        self.pages.insert(key, Entry { stamp, page });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: usize) -> CachedPage {
        CachedPage::new(StatusCode::OK, "x".repeat(n))
    }

    #[test]
    fn the_cache_stays_within_its_cap_however_many_queries_arrive() {
        let cache: PageCache<u64> = PageCache::with_cap(4096);
        for i in 0..10_000 {
            cache.insert(("zh", format!("/pool?q={i}")), 1, page(100 + i % 200));
            if i % 100 == 99 {
                let (entries, bytes) = cache.size();
                assert!(bytes <= 4096, "{bytes} bytes");
                assert!(entries <= 4096 / ENTRY_OVERHEAD as u64, "{entries} entries");
            }
        }
        // A page asked for again and again stays.
        let hot: Key = ("zh", "/pool?category=sports".into());
        // Asked for before it is kept (a miss counts too), as a popular page is.
        for _ in 0..8 {
            assert!(cache.get(&hot, &1).is_none());
        }
        cache.insert(hot.clone(), 1, page(100));
        for i in 0..1_000 {
            assert!(cache.get(&hot, &1).is_some(), "the hot page evicted at {i}");
            cache.insert(("zh", format!("/pool?name={i}")), 1, page(100));
        }
        // Replacing a page keeps one entry; a page over the byte cap is not kept.
        cache.insert(hot.clone(), 2, page(10));
        assert!(cache.get(&hot, &1).is_none());
        assert!(cache.get(&hot, &2).is_some());
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
