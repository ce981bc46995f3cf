//! Pool versions (issue 18): every change to the pool — an admission, a removal, an expiry, a
//! change of an entry's items — is the pool's next version, recorded by [`record`] in the
//! transaction of the change (one line at each site: `notices::admission`, the removal
//! cascade in `exits`, the expiry job in this module's parent, the seeding).
//! [`current_version`] is one primary-key read, for readers that poll for changes.
//!
//! Each change carries the entry's public record ([`PublicEntry`]: no personal data) as it
//! stands after the change, or as it stood for a removal or expiry, so the pool at any version
//! is the fold of the changes up to it (`opendata::snapshot`).

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Ctx;
use crate::clock::beijing_date;
use crate::db::schema::{institutions, pool_entries};
use crate::db::{DbConn, JsonText, from_db_time};
use crate::opendata::{self, List, NewChange};

/// What happened to a pool entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PoolChange {
    /// Admitted after its notice: the entry joins the pool.
    Admitted,
    /// Removed by an exit decision: the entry leaves the pool.
    Removed,
    /// Its validity ended: the entry leaves the pool.
    Expired,
    /// Its approved items changed: the entry's record is replaced.
    ItemsChanged,
}

impl PoolChange {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admitted => "admitted",
            Self::Removed => "removed",
            Self::Expired => "expired",
            Self::ItemsChanged => "items_changed",
        }
    }

    /// Whether the entry is in the pool after this change.
    pub fn keeps_entry(self) -> bool {
        matches!(self, Self::Admitted | Self::ItemsChanged)
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Admitted,
            Self::Removed,
            Self::Expired,
            Self::ItemsChanged,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// An approved item in a published record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicItem {
    /// Item code, e.g. `sports.basketball`.
    pub code: String,
    /// Its Chinese name in the catalogue.
    pub name_zh: Option<String>,
}

/// A pool entry as published in snapshots and the change feed: public business facts only
/// (never a personal identity number, contact person or telephone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicEntry {
    pub entry_id: i64,
    pub institution_id: i64,
    pub name: String,
    /// Unified social credit code (统一社会信用代码).
    pub uscc: String,
    /// `private_non_enterprise_unit`, `enterprise`, …
    pub entity_type: String,
    pub district: Option<String>,
    pub items: Vec<PublicItem>,
    /// First day of validity (Beijing).
    pub valid_from: NaiveDate,
    /// Last day of validity (Beijing).
    pub valid_until: NaiveDate,
    /// The Beijing date of admission.
    pub admitted_on: NaiveDate,
}

/// The public record of a pool entry, whatever its status.
pub fn public_entry(conn: &mut DbConn, entry_id: i64) -> QueryResult<PublicEntry> {
    public_entries(conn, &[entry_id])?
        .pop()
        .ok_or(diesel::result::Error::NotFound)
}

/// The public records of pool entries `entry_ids` (a batch: one statement names them all), in
/// the order of their ids.
pub fn public_entries(conn: &mut DbConn, entry_ids: &[i64]) -> QueryResult<Vec<PublicEntry>> {
    type Row = (
        i64,
        i64,
        JsonText<Vec<String>>,
        NaiveDate,
        NaiveDate,
        chrono::NaiveDateTime,
        String,
        String,
        String,
        Option<String>,
    );
    let rows: Vec<Row> = pool_entries::table
        .inner_join(institutions::table)
        .filter(pool_entries::id.eq_any(entry_ids))
        .order(pool_entries::id.asc())
        .select((
            pool_entries::id,
            pool_entries::institution_id,
            pool_entries::items,
            pool_entries::valid_from,
            pool_entries::valid_until,
            pool_entries::admitted_at,
            institutions::name,
            institutions::uscc,
            institutions::entity_type,
            institutions::district,
        ))
        .load(conn)?;
    let catalogue = crate::catalogue::Catalogue::get();
    Ok(rows
        .into_iter()
        .map(
            |(
                entry_id,
                institution_id,
                items,
                valid_from,
                valid_until,
                admitted_at,
                name,
                uscc,
                entity_type,
                district,
            )| {
                let codes = items.into_inner();
                PublicEntry {
                    entry_id,
                    institution_id,
                    name,
                    uscc,
                    entity_type,
                    district,
                    items: codes
                        .into_iter()
                        .map(|code| PublicItem {
                            name_zh: catalogue.activity(&code).ok().map(|a| a.name_zh.clone()),
                            code,
                        })
                        .collect(),
                    valid_from,
                    valid_until,
                    admitted_on: beijing_date(from_db_time(admitted_at)),
                }
            },
        )
        .collect())
}

/// Records a change of pool entry `entry_id` as the pool's next version, in the caller's
/// transaction (after the change itself and its audit event); returns the version.
pub fn record(conn: &mut DbConn, ctx: &Ctx, kind: PoolChange, entry_id: i64) -> QueryResult<i64> {
    record_many(conn, ctx, kind, &[entry_id])
}

/// [`record`] for a batch of entries (a notice's admission batch): their records read in one
/// statement, the versions appended together, in the order of the entries' ids; returns the
/// last version.
pub fn record_many(
    conn: &mut DbConn,
    ctx: &Ctx,
    kind: PoolChange,
    entry_ids: &[i64],
) -> QueryResult<i64> {
    let entries = public_entries(conn, entry_ids)?;
    if entries.len() != entry_ids.len() {
        return Err(diesel::result::Error::NotFound);
    }
    let changes: Vec<NewChange<PublicEntry>> = entries
        .iter()
        .map(|entry| NewChange {
            list: List::Pool,
            kind: kind.as_str(),
            institution_id: entry.institution_id,
            subject_id: entry.entry_id,
            at: ctx.now,
            record: entry,
        })
        .collect();
    opendata::append_many(conn, List::Pool, &changes)
}

/// The pool's newest version (0 before the first admission). Cheap: one primary-key read.
pub fn current_version(conn: &mut DbConn) -> QueryResult<i64> {
    opendata::current_version(conn, List::Pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_only_admission_and_item_changes_keep_the_entry() {
        for kind in [
            PoolChange::Admitted,
            PoolChange::Removed,
            PoolChange::Expired,
            PoolChange::ItemsChanged,
        ] {
            assert_eq!(PoolChange::parse(kind.as_str()), Some(kind));
        }
        assert!(PoolChange::Admitted.keeps_entry());
        assert!(PoolChange::ItemsChanged.keeps_entry());
        assert!(!PoolChange::Removed.keeps_entry());
        assert!(!PoolChange::Expired.keeps_entry());
        assert_eq!(PoolChange::parse("recorded"), None);
    }
}
