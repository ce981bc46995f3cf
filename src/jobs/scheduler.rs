//! Periodic jobs. Each tick enqueues, for every periodic kind, the job of the current period
//! with the de-duplication key `<kind>@<period start>`, so however many instances tick, each
//! period's job exists once. Daily jobs run at a Beijing wall-clock time.

use chrono::{DateTime, Duration, NaiveTime, Utc};

use crate::clock::{beijing_date, beijing_instant};
use crate::db::DbConn;
use crate::jobs::{NewJob, enqueue};

pub const PURGE_LOGIN_FAILURES: &str = "auth.purge_login_failures";
pub const VERIFY_AUDIT: &str = "audit.verify";

#[derive(Debug, Clone, Copy)]
pub enum Schedule {
    /// Every day at this Beijing time.
    DailyAt(NaiveTime),
    /// Every N minutes, aligned to the Unix epoch.
    EveryMinutes(i64),
}

#[derive(Debug, Clone, Copy)]
pub struct Periodic {
    pub kind: &'static str,
    pub schedule: Schedule,
}

/// The periodic jobs of the service.
pub fn standard() -> Vec<Periodic> {
    let at = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
    vec![
        Periodic {
            kind: PURGE_LOGIN_FAILURES,
            schedule: Schedule::EveryMinutes(60),
        },
        Periodic {
            kind: VERIFY_AUDIT,
            schedule: Schedule::DailyAt(at(3, 0)),
        },
        Periodic {
            kind: crate::mail::reminders::INSPECTION_REMINDER,
            schedule: Schedule::DailyAt(at(9, 0)),
        },
        Periodic {
            kind: crate::mail::reminders::CREDENTIAL_EXPIRY,
            schedule: Schedule::DailyAt(at(9, 0)),
        },
        Periodic {
            kind: crate::mail::reminders::CALENDAR_MISSING,
            schedule: Schedule::DailyAt(at(9, 0)),
        },
        Periodic {
            kind: crate::sanctions::sweeps::INSPECTION_SWEEP,
            schedule: Schedule::DailyAt(at(1, 0)),
        },
        Periodic {
            kind: crate::pool::EXPIRE_ENTRIES,
            schedule: Schedule::DailyAt(at(0, 5)),
        },
        Periodic {
            kind: crate::contracts::END_EXPIRED,
            schedule: Schedule::DailyAt(at(0, 10)),
        },
    ]
}

impl Schedule {
    /// The start of the period containing `now`.
    pub fn period_start(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::DailyAt(time) => {
                let today = beijing_instant(beijing_date(now), time);
                if today <= now {
                    today
                } else {
                    today - Duration::days(1)
                }
            }
            Self::EveryMinutes(minutes) => {
                let step = minutes.max(1) * 60;
                let secs = now.timestamp().div_euclid(step) * step;
                DateTime::from_timestamp(secs, 0).unwrap_or(now)
            }
        }
    }
}

/// Enqueues the current period's job of each periodic kind (no-op if already there).
pub fn tick(
    conn: &mut DbConn,
    periodic: &[Periodic],
    now: DateTime<Utc>,
) -> diesel::QueryResult<usize> {
    let mut added = 0;
    for p in periodic {
        let start = p.schedule.period_start(now);
        let key = format!("{}@{}", p.kind, start.to_rfc3339());
        let job = NewJob::new(p.kind, serde_json::json!({ "period_start": start }), start)
            .dedup(key)
            .max_attempts(3);
        if enqueue(conn, &job, now)?.is_some() {
            added += 1;
        }
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn daily_period_starts_at_the_beijing_time() {
        let at3 = Schedule::DailyAt(NaiveTime::from_hms_opt(3, 0, 0).unwrap());
        // 2026-03-01 02:00 Beijing = 2026-02-28 18:00 UTC: still the period of 28 Feb 03:00.
        let now = Utc.with_ymd_and_hms(2026, 2, 28, 18, 0, 0).unwrap();
        assert_eq!(
            at3.period_start(now),
            Utc.with_ymd_and_hms(2026, 2, 27, 19, 0, 0).unwrap()
        );
        let now = Utc.with_ymd_and_hms(2026, 2, 28, 19, 0, 0).unwrap();
        assert_eq!(at3.period_start(now), now);
    }

    #[test]
    fn minute_periods_are_aligned() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 10, 59, 59).unwrap();
        assert_eq!(
            Schedule::EveryMinutes(60).period_start(now),
            Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap()
        );
    }
}
