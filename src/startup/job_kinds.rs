//! The service's job kinds and periodic jobs, registered once, here at the top: the jobs core
//! knows no capability, and every capability's handlers are wired in [`registry`].

use chrono::NaiveTime;

use crate::jobs::registry::{Handler, JobError, Registry};
use crate::jobs::scheduler::{Periodic, Schedule};

pub const PURGE_LOGIN_FAILURES: &str = "auth.purge_login_failures";
pub const VERIFY_AUDIT: &str = "audit.verify";

/// The job kinds of the service.
pub fn registry() -> Registry {
    let mut r = Registry::default();
    r.register(
        PURGE_LOGIN_FAILURES,
        Handler::Transactional(|conn, job, _| {
            crate::auth::throttle::purge_expired(conn, job.now)?;
            // Ended browser sessions go with the old failures (one hourly sweep of sign-in state).
            crate::auth::session::purge_expired(conn, job.now)?;
            Ok(())
        }),
    );
    r.register(
        VERIFY_AUDIT,
        // Outside the worker's write transaction: the walk reads its own snapshot (a
        // read-only transaction cannot run inside a write one) and takes no write lock, so
        // writers go on while a long chain is checked.
        Handler::External(|env, _, _| {
            let mut conn = env.pool.get().map_err(|e| JobError::Retry(e.into()))?;
            let result = crate::audit::verify(&mut conn)?;
            if let Some(problem) = &result.first_problem {
                tracing::error!(?problem, "the audit chain is broken");
            }
            crate::http::metrics::set_audit_chain_ok(result.ok);
            Ok(())
        }),
    );
    crate::review::register(&mut r);
    crate::notices::register(&mut r);
    crate::mail::register(&mut r);
    crate::notify::register(&mut r);
    crate::exits::sweeps::register(&mut r);
    crate::pool::register(&mut r);
    crate::contracts::register(&mut r);
    r
}

/// The periodic jobs of the service.
pub fn periodic() -> Vec<Periodic> {
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
            kind: crate::notify::reminders::INSPECTION_REMINDER,
            schedule: Schedule::DailyAt(at(9, 0)),
        },
        Periodic {
            kind: crate::notify::reminders::CREDENTIAL_EXPIRY,
            schedule: Schedule::DailyAt(at(9, 0)),
        },
        Periodic {
            kind: crate::notify::reminders::CALENDAR_MISSING,
            schedule: Schedule::DailyAt(at(9, 0)),
        },
        Periodic {
            kind: crate::exits::sweeps::INSPECTION_SWEEP,
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
