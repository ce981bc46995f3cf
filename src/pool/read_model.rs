//! The pool as an in-memory read model (issue 17): each instance keeps every active pool entry
//! (with its institution's public fields, contract count and standing) and every ban, indexed
//! by category, item, district, institution, credit code and the characters of the name,
//! behind an `Arc` swapped atomically ([`arc_swap`]). Searches, entry pages, exports and the
//! status look-up read a [`Snapshot`] and never the database; nothing is kept per query.
//!
//! **Freshness.** A snapshot carries the [`Signature`] of the data it was built from: the
//! pool's and the ban list's versions (bumped in the transaction of every admission, removal,
//! expiry, item change and ban) and cheap watermarks (row count and newest change) of what
//! else a result shows — the profiles of pooled institutions, contracts, evaluations. The
//! signature is read again
//! - by a background thread every `REGISTRY_POOL_REFRESH_MS` (default 250 ms), so a change made
//!   through any instance shows on every instance within a second;
//! - before the first read after this process committed a write (`db::writes_committed`
//!   moved), so a read after a write on this instance sees it.
//!
//! Only a changed signature rebuilds the snapshot (2,000 entries: a few milliseconds). A change
//! made around the service's transactions (raw SQL, `db::note_raw_write`) rebuilds it at the
//! next read. An entry whose validity simply ends by date changes nothing in the database: the
//! queries filter by the day asked (the clock's `today`), as the SQL did.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{count_star, max};
use diesel::prelude::*;

use crate::db::schema::{contracts, evaluations, institutions, pool_entries};
use crate::db::{self, DbConn, Pool};
use crate::error::{ApiError, ApiResult};
use crate::pool::entry::EntryStatus;
use crate::pool::search::{self, BusinessContact, PoolEntry, PoolItem, Standing};
use crate::sanctions::bans::{self, ActiveBan};

/// What a snapshot was built from; a different signature means the pool may have changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pool_version: i64,
    ban_version: i64,
    /// Pooled institutions: how many, and the newest profile change.
    members: (i64, Option<NaiveDateTime>),
    /// Contracts: how many, and the newest change (the active-contract counts).
    contracts: (i64, Option<NaiveDateTime>),
    /// Evaluations: how many, and the newest id (the standings).
    evaluations: (i64, Option<i64>),
}

impl Signature {
    /// Five small reads; run every refresh period and after a local write.
    pub fn read(conn: &mut DbConn) -> ApiResult<Self> {
        let version = |v: QueryResult<i64>| match v {
            Err(diesel::NotFound) => Ok(0),
            other => other,
        };
        let pool_version = version(crate::pool::versions::current_version(conn))?;
        let ban_version = version(bans::current_version(conn))?;
        let members = institutions::table
            .filter(
                institutions::id.eq_any(
                    pool_entries::table
                        .filter(pool_entries::status.eq(EntryStatus::Active.as_str()))
                        .select(pool_entries::institution_id),
                ),
            )
            .select((count_star(), max(institutions::updated_at)))
            .first(conn)?;
        let contracts = contracts::table
            .select((count_star(), max(contracts::updated_at)))
            .first(conn)?;
        let evaluations = evaluations::table
            .select((count_star(), max(evaluations::id)))
            .first(conn)?;
        Ok(Self {
            pool_version,
            ban_version,
            members,
            contracts,
            evaluations,
        })
    }
}

/// One stored entry: the public record, what the filters compare, and the entry rendered
/// once when the snapshot is built (its public JSON and its CSV row), so a search answer or an
/// export is assembled from stored bytes instead of serialising every entry per request.
#[derive(Debug)]
pub struct Stored {
    pub entry: PoolEntry,
    /// The name with ASCII letters in lower case (the name filter ignores their case, as SQL
    /// `LIKE` does on SQLite).
    pub folded_name: String,
    /// `entry` as the public sees it, serialised (`flagged` absent, the last field when
    /// present: see [`Stored::write_json`]).
    json: Box<str>,
    /// The entry's row of the CSV export (CRLF included).
    csv_row: Box<[u8]>,
}

impl Stored {
    pub(crate) fn new(entry: PoolEntry) -> ApiResult<Self> {
        debug_assert!(entry.flagged.is_none());
        let json = serde_json::to_string(&entry).map_err(|e| ApiError::Internal(e.into()))?;
        let csv_row = crate::pool::export::csv_row(&entry)?;
        Ok(Self {
            folded_name: fold(&entry.name),
            entry,
            json: json.into_boxed_str(),
            csv_row: csv_row.into_boxed_slice(),
        })
    }

    /// Appends the entry's JSON as `flagged` (staff only) makes it: the stored public JSON,
    /// with `"flagged":…` added as the last field (where serde puts it) for staff — the same
    /// bytes as serialising the entry as seen.
    pub fn write_json(&self, out: &mut Vec<u8>, flagged: Option<bool>) {
        match flagged {
            None => out.extend_from_slice(self.json.as_bytes()),
            Some(flag) => {
                let open = &self.json[..self.json.len() - 1];
                out.extend_from_slice(open.as_bytes());
                out.extend_from_slice(if flag {
                    b",\"flagged\":true}"
                } else {
                    b",\"flagged\":false}"
                });
            }
        }
    }

    /// The length of the stored public JSON.
    pub fn json_len(&self) -> usize {
        self.json.len()
    }

    /// The entry's CSV row (see [`crate::pool::export::csv_row`]).
    pub fn csv_row(&self) -> &[u8] {
        &self.csv_row
    }
}

/// Numbers snapshots in the order this process built them (see [`Snapshot::generation`]).
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

/// The pool at one signature. Positions (`u32`) index [`Snapshot::entries`], which is sorted
/// by institution name then entry id, so every index list is in result order.
#[derive(Debug, Default)]
pub struct Snapshot {
    signature: Option<Signature>,
    /// Unique to this snapshot within the process (0: the empty one before the first load):
    /// what caches of answers derived from it compare.
    pub generation: u64,
    pub entries: Vec<Stored>,
    pub by_category: HashMap<String, Vec<u32>>,
    pub by_item: HashMap<String, Vec<u32>>,
    pub by_district: HashMap<String, Vec<u32>>,
    pub by_institution: HashMap<i64, Vec<u32>>,
    /// Entries by their institution's credit code.
    pub by_uscc: HashMap<String, Vec<u32>>,
    /// Entries by each (folded) character of their name.
    pub by_char: HashMap<char, Vec<u32>>,
    /// Every ban by credit code.
    pub bans: HashMap<String, Vec<ActiveBan>>,
    /// The days on which every entry is valid (the latest start, the earliest end), if any.
    all_valid: Option<(NaiveDate, NaiveDate)>,
}

/// The entry's own columns.
#[derive(Queryable, Selectable)]
#[diesel(table_name = pool_entries)]
struct EntryRow {
    id: i64,
    institution_id: i64,
    items: String,
    valid_from: NaiveDate,
    valid_until: NaiveDate,
    notice_id: Option<i64>,
}

/// The institution's public columns.
#[derive(Queryable, Selectable)]
#[diesel(table_name = institutions)]
struct InstitutionRow {
    name: String,
    uscc: String,
    entity_type: String,
    district: Option<String>,
    registered_address: Option<String>,
    contact_person: Option<String>,
    contact_mobile: Option<String>,
    contact_email: Option<String>,
}

#[derive(Queryable, Selectable)]
struct Row {
    #[diesel(embed)]
    entry: EntryRow,
    #[diesel(embed)]
    institution: InstitutionRow,
}

/// ASCII letters in lower case, everything else as is.
pub fn fold(s: &str) -> String {
    s.to_ascii_lowercase()
}

impl Snapshot {
    /// Reads the pool from the database (one consistent read) into a snapshot.
    pub fn load(conn: &mut DbConn, signature: Signature) -> ApiResult<Self> {
        let (rows, counts, standings, all_bans) = db::read_snapshot(conn, |c| -> ApiResult<_> {
            let rows: Vec<Row> = pool_entries::table
                .inner_join(institutions::table)
                .filter(pool_entries::status.eq(EntryStatus::Active.as_str()))
                .select(Row::as_select())
                .load(c)?;
            let counts: HashMap<i64, i64> = contracts::table
                // `contracts::status::ContractStatus::Active`: the contracts capability sits
                // above the pool (it checks pool membership), so the pool names the value.
                .filter(contracts::status.eq("active"))
                .group_by(contracts::institution_id)
                .select((contracts::institution_id, count_star()))
                .load::<(i64, i64)>(c)?
                .into_iter()
                .collect();
            let standings = search::standings(c, None)?;
            let all_bans = bans::all_bans(c)?;
            Ok((rows, counts, standings, all_bans))
        })?;
        let entries = rows
            .into_iter()
            .map(
                |Row {
                     entry: r,
                     institution: i,
                 }| {
                    let mut codes: Vec<String> = serde_json::from_str(&r.items).map_err(|e| {
                        ApiError::Internal(
                            anyhow::Error::new(e).context(format!("pool_entries.{}.items", r.id)),
                        )
                    })?;
                    codes.sort();
                    Stored::new(PoolEntry {
                        institution_id: r.institution_id,
                        entry_id: r.id,
                        name: i.name,
                        uscc: i.uscc,
                        entity_type: i.entity_type,
                        district: i.district,
                        address: i.registered_address,
                        contact: BusinessContact {
                            person: i.contact_person,
                            mobile: i.contact_mobile,
                            email: i.contact_email,
                        },
                        items: codes.iter().map(|c| PoolItem::of(c)).collect(),
                        valid_from: r.valid_from,
                        valid_until: r.valid_until,
                        contract_count: counts.get(&r.institution_id).copied().unwrap_or(0),
                        standing: standings.get(&r.institution_id).copied(),
                        flagged: None,
                        notice_id: r.notice_id,
                    })
                },
            )
            .collect::<ApiResult<Vec<Stored>>>()?;
        let mut snapshot = Self::indexed(entries, Some(signature));
        for (uscc, ban) in all_bans {
            snapshot.bans.entry(uscc).or_default().push(ban);
        }
        Ok(snapshot)
    }

    /// `entries` sorted in result order and indexed (no bans).
    pub(crate) fn indexed(mut entries: Vec<Stored>, signature: Option<Signature>) -> Self {
        // Byte order of the name, then the entry id: what `ORDER BY name, id` gives on both
        // backends under the C collation.
        entries.sort_by(|a, b| {
            (a.entry.name.as_str(), a.entry.entry_id)
                .cmp(&(b.entry.name.as_str(), b.entry.entry_id))
        });
        let mut snapshot = Snapshot {
            signature,
            generation: GENERATIONS.fetch_add(1, Ordering::Relaxed),
            ..Snapshot::default()
        };
        for (pos, stored) in (0u32..).zip(&entries) {
            let e = &stored.entry;
            for item in &e.items {
                push(&mut snapshot.by_item, item.code.to_string(), pos);
                push(&mut snapshot.by_category, item.category.to_string(), pos);
            }
            if let Some(d) = &e.district {
                push(&mut snapshot.by_district, d.clone(), pos);
            }
            push(&mut snapshot.by_institution, e.institution_id, pos);
            push(&mut snapshot.by_uscc, e.uscc.clone(), pos);
            for ch in stored.folded_name.chars() {
                push(&mut snapshot.by_char, ch, pos);
            }
        }
        snapshot.all_valid = entries
            .iter()
            .map(|s| (s.entry.valid_from, s.entry.valid_until))
            .reduce(|(from, until), (f, u)| (from.max(f), until.min(u)))
            .filter(|(from, until)| from <= until);
        snapshot.entries = entries;
        snapshot
    }

    /// Whether every entry is valid on `today` (then an index list needs no date check). An
    /// empty snapshot has nothing to check either.
    pub fn all_valid_on(&self, today: NaiveDate) -> bool {
        self.entries.is_empty()
            || self
                .all_valid
                .is_some_and(|(from, until)| from <= today && today <= until)
    }

    /// The standing of an institution in the pool, if it has one.
    pub fn standing(&self, institution_id: i64) -> Option<Standing> {
        self.by_institution
            .get(&institution_id)
            .and_then(|p| p.first())
            .and_then(|&p| self.entries[p as usize].entry.standing)
    }
}

/// Appends `pos` to `key`'s list once (positions arrive in increasing order).
fn push<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Vec<u32>>, key: K, pos: u32) {
    let list = map.entry(key).or_default();
    if list.last() != Some(&pos) {
        list.push(pos);
    }
}

/// The read model of one instance: the current [`Snapshot`] and how it is kept fresh.
#[derive(Clone)]
pub struct PoolModel {
    inner: Arc<Inner>,
}

struct Inner {
    db: Pool,
    current: ArcSwap<Snapshot>,
    /// One rebuild at a time; the others wait and find it done.
    refreshing: Mutex<()>,
    loaded: AtomicBool,
    /// `db::writes_committed` / `db::raw_writes` when the signature was last checked.
    seen_writes: AtomicU64,
    seen_raw: AtomicU64,
}

impl PoolModel {
    /// An empty model on `db`, loaded by a background thread at once and then checked every
    /// `every`; the thread ends when the last clone of the model is dropped.
    pub fn start(db: Pool, every: Duration) -> Self {
        let model = Self {
            inner: Arc::new(Inner {
                db,
                current: ArcSwap::from_pointee(Snapshot::default()),
                refreshing: Mutex::new(()),
                loaded: AtomicBool::new(false),
                seen_writes: AtomicU64::new(0),
                seen_raw: AtomicU64::new(0),
            }),
        };
        let weak = Arc::downgrade(&model.inner);
        let spawned = std::thread::Builder::new()
            .name("pool-read-model".into())
            .spawn(move || poll(&weak, every));
        if let Err(e) = spawned {
            // Reads still refresh after local writes; other instances' changes would not show.
            tracing::error!(error = %e, "cannot start the pool read model's refresh thread");
        }
        model
    }

    /// Whether a read may use the current snapshot without asking the database.
    fn is_current(&self) -> bool {
        let inner = &self.inner;
        inner.loaded.load(Ordering::Acquire)
            && inner.seen_writes.load(Ordering::Acquire) == db::writes_committed()
            && inner.seen_raw.load(Ordering::Acquire) == db::raw_writes()
    }

    /// The current snapshot; after a write committed by this process, the signature is read
    /// first (off the async executor), and the snapshot rebuilt if it changed.
    pub async fn read(&self) -> ApiResult<Arc<Snapshot>> {
        if !self.is_current() {
            let model = self.clone();
            actix_web::web::block(move || model.refresh(false)).await??;
        }
        Ok(self.inner.current.load_full())
    }

    /// The current snapshot as it is, without checking (a blocking caller that refreshed).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.current.load_full()
    }

    /// Reads the signature (always when `poll`, otherwise only if something was written since
    /// the last check) and rebuilds the snapshot when it changed. Blocking.
    pub fn refresh(&self, poll: bool) -> ApiResult<()> {
        let inner = &self.inner;
        let _one = inner
            .refreshing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Read the counters before the database: a write committed after this point moves
        // them again, so the next read checks again.
        let writes = db::writes_committed();
        let raw = db::raw_writes();
        let loaded = inner.loaded.load(Ordering::Acquire);
        let force = !loaded || raw != inner.seen_raw.load(Ordering::Acquire);
        if !poll && !force && writes == inner.seen_writes.load(Ordering::Acquire) {
            return Ok(()); // another caller checked meanwhile
        }
        let mut conn = inner.db.get()?;
        let signature = Signature::read(&mut conn)?;
        if force || inner.current.load().signature.as_ref() != Some(&signature) {
            let started = std::time::Instant::now();
            let snapshot = Snapshot::load(&mut conn, signature)?;
            tracing::debug!(
                entries = snapshot.entries.len(),
                ms = started.elapsed().as_secs_f64() * 1000.0,
                "pool read model rebuilt"
            );
            // The old snapshot goes here unless a reader still holds it; either way the
            // rebuild's own transients are freed now.
            inner.current.store(Arc::new(snapshot));
            crate::allocator::trim();
        }
        inner.seen_writes.store(writes, Ordering::Release);
        inner.seen_raw.store(raw, Ordering::Release);
        inner.loaded.store(true, Ordering::Release);
        Ok(())
    }
}

/// The refresh thread: loads at once, then checks every `every` while the model lives.
fn poll(model: &Weak<Inner>, every: Duration) {
    loop {
        let Some(inner) = model.upgrade() else {
            return;
        };
        if let Err(e) = (PoolModel { inner }).refresh(true) {
            tracing::warn!(error = %e, "the pool read model could not refresh");
        }
        std::thread::sleep(every);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_listed_once_in_order() {
        let mut map: HashMap<char, Vec<u32>> = HashMap::new();
        for (ch, pos) in [('a', 0), ('a', 0), ('b', 0), ('a', 2)] {
            push(&mut map, ch, pos);
        }
        assert_eq!(map[&'a'], vec![0, 2]);
        assert_eq!(map[&'b'], vec![0]);
        assert_eq!(fold("ABC 体育 Dance"), "abc 体育 dance");
    }
}
