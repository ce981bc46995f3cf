//! The one source of "now". Every time-dependent line asks a [`Clock`]: the system clock in
//! production, or a settable clock in tests and demos (enabled only by `REGISTRY_TEST_CLOCK=1`,
//! refused in production) so every time-driven rule can be exercised through HTTP.
//!
//! Instants are UTC; business dates are Beijing dates ([`beijing_date`]).

use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use diesel::QueryResult;

use crate::db::{DbConn, Pool, shared_clock};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// Today's date in Beijing.
    fn today(&self) -> NaiveDate {
        beijing_date(self.now())
    }

    /// The settable clock behind this one, if it is settable.
    fn settable(&self) -> Option<&SettableClock> {
        None
    }
}

pub type SharedClock = Arc<dyn Clock>;

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that can be set to any instant; it then keeps running from there, so a demo
/// behaves naturally and a test sees time move forward only by the milliseconds it takes.
///
/// Shared through the database ([`SettableClock::share_through`]), every instance on one
/// database lives in the same time: a setting is written to the `service_clock` row, and each
/// instance reads that row again when its copy is older than the refresh interval (without
/// waiting: if no connection is free at that moment, the next call tries again).
#[derive(Debug, Default)]
pub struct SettableClock {
    anchor: RwLock<Anchor>,
    shared: OnceLock<Shared>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Anchor {
    /// The instant set, and when (by this process's monotonic clock) it was set.
    set: Option<(DateTime<Utc>, Instant)>,
    /// The version of the shared row this anchor reflects (0: never read).
    version: i64,
}

#[derive(Debug)]
struct Shared {
    pool: Pool,
    refresh: Duration,
    last_read: Mutex<Option<Instant>>,
}

impl SettableClock {
    /// Shares the clock with every instance on this database, refreshing it at most every
    /// `refresh`, and adopts the current setting at once.
    pub fn share_through(&self, pool: Pool, refresh: Duration) {
        let _ = self.shared.set(Shared {
            pool,
            refresh,
            last_read: Mutex::new(None),
        });
        self.refresh_if_stale();
    }

    pub fn set(&self, now: DateTime<Utc>) {
        self.store(Some(now));
    }

    /// Back to the system time.
    pub fn reset(&self) {
        self.store(None);
    }

    fn store(&self, to: Option<DateTime<Utc>>) {
        match self.shared.get() {
            None => self.adopt(to, 0),
            Some(shared) => {
                let written =
                    shared
                        .pool
                        .get()
                        .map_err(anyhow::Error::from)
                        .and_then(|mut conn| {
                            crate::db::write_tx(&mut conn, |c| self.store_in(c, to))
                                .map_err(anyhow::Error::from)
                        });
                if let Err(e) = written {
                    tracing::error!(error = %e, "cannot share the clock setting");
                    self.adopt(to, 0);
                }
            }
        }
    }

    /// Sets the clock inside the caller's write transaction (the shared row, then this copy).
    pub fn store_in(&self, conn: &mut DbConn, to: Option<DateTime<Utc>>) -> QueryResult<()> {
        let version = if self.shared.get().is_some() {
            shared_clock::store(conn, to)?
        } else {
            0
        };
        self.adopt(to, version);
        Ok(())
    }

    fn adopt(&self, to: Option<DateTime<Utc>>, version: i64) {
        if let Ok(mut anchor) = self.anchor.write() {
            *anchor = Anchor {
                set: to.map(|t| (t, Instant::now())),
                version,
            };
        }
    }

    pub fn is_set(&self) -> bool {
        self.refresh_if_stale();
        self.anchor.read().map(|a| a.set.is_some()).unwrap_or(false)
    }

    /// Reads the shared setting again if this copy is older than the refresh interval and a
    /// connection is free; a setting made by another instance replaces this one.
    fn refresh_if_stale(&self) {
        let Some(shared) = self.shared.get() else {
            return;
        };
        {
            let Ok(mut last) = shared.last_read.lock() else {
                return;
            };
            if last.is_some_and(|at| at.elapsed() < shared.refresh) {
                return;
            }
            *last = Some(Instant::now());
        }
        let Some(mut conn) = shared.pool.try_get() else {
            return;
        };
        match shared_clock::read(&mut conn) {
            Ok(row) => {
                let mine = self.anchor.read().map(|a| a.version).unwrap_or(-1);
                // Our own setting keeps its exact anchor; another instance's is adopted (to the
                // database clock's resolution).
                if row.version > mine {
                    self.adopt(row.overridden.then_some(row.service), row.version);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the shared clock"),
        }
    }
}

impl Clock for SettableClock {
    fn now(&self) -> DateTime<Utc> {
        self.refresh_if_stale();
        let anchor = self.anchor.read().ok().and_then(|a| a.set);
        match anchor {
            Some((set_to, at)) => {
                set_to + chrono::Duration::from_std(at.elapsed()).unwrap_or_default()
            }
            None => Utc::now(),
        }
    }

    fn settable(&self) -> Option<&SettableClock> {
        Some(self)
    }
}

/// The Beijing calendar date of an instant.
pub fn beijing_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Shanghai).date_naive()
}

/// The instant of a Beijing wall-clock time on a date (Beijing has no DST; the fallback is
/// unreachable but keeps this total).
pub fn beijing_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = NaiveDateTime::new(date, time);
    Shanghai.from_local_datetime(&naive).single().map_or_else(
        || naive.and_utc() - chrono::Duration::hours(8),
        |t| t.with_timezone(&Utc),
    )
}

/// 23:59:59 Beijing time on a date — the last instant of a business day.
pub fn end_of_beijing_day(date: NaiveDate) -> DateTime<Utc> {
    beijing_instant(
        date,
        NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_date_changes_at_16_utc() {
        let t = Utc.with_ymd_and_hms(2026, 2, 12, 16, 0, 0).unwrap();
        assert_eq!(
            beijing_date(t),
            NaiveDate::from_ymd_opt(2026, 2, 13).unwrap()
        );
        let t = Utc.with_ymd_and_hms(2026, 2, 12, 15, 59, 59).unwrap();
        assert_eq!(
            beijing_date(t),
            NaiveDate::from_ymd_opt(2026, 2, 12).unwrap()
        );
    }

    #[test]
    fn end_of_day_is_15_59_59_utc() {
        let end = end_of_beijing_day(NaiveDate::from_ymd_opt(2026, 2, 26).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2026, 2, 26, 15, 59, 59).unwrap());
    }

    #[test]
    fn settable_clock_runs_from_the_set_instant() {
        let clock = SettableClock::default();
        let t = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        clock.set(t);
        let now = clock.now();
        assert!(now >= t && now < t + chrono::Duration::seconds(5));
        clock.reset();
        assert!(clock.now().year_ce().1 < 2030);
    }
    use chrono::Datelike;
}
