//! The one source of "now". Every time-dependent line asks a [`Clock`]: the system clock in
//! production, or a settable clock in tests and demos (enabled only by `REGISTRY_TEST_CLOCK=1`,
//! refused in production) so every time-driven rule can be exercised through HTTP.
//!
//! Instants are UTC; business dates are Beijing dates ([`beijing_date`]).

use std::sync::{Arc, RwLock};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

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
#[derive(Debug, Default)]
pub struct SettableClock {
    anchor: RwLock<Option<(DateTime<Utc>, Instant)>>,
}

impl SettableClock {
    pub fn set(&self, now: DateTime<Utc>) {
        if let Ok(mut anchor) = self.anchor.write() {
            *anchor = Some((now, Instant::now()));
        }
    }

    /// Back to the system time.
    pub fn reset(&self) {
        if let Ok(mut anchor) = self.anchor.write() {
            *anchor = None;
        }
    }

    pub fn is_set(&self) -> bool {
        self.anchor.read().map(|a| a.is_some()).unwrap_or(false)
    }
}

impl Clock for SettableClock {
    fn now(&self) -> DateTime<Utc> {
        let anchor = self.anchor.read().ok().and_then(|a| *a);
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
