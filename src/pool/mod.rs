//! The pool (备选库) as schools and the public see it (DESIGN §1.7): the whitelist search by
//! activity category, district and name; an entry with its teachers and notice; CSV and JSON
//! exports; the public status look-up of a USCC; the daily job that marks lapsed entries
//! `expired`; and the seeding of realistic pools for the demo and the benchmark.
//!
//! Entries are created by admission (the notices capability) and removed by the sanctions
//! capability; this module only reads them, apart from the expiry job.

pub mod cache;
pub mod export;
pub mod routes;
pub mod search;
pub mod seed;
pub mod status;
pub mod versions;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::audit;
use crate::auth::Ctx;
use crate::db::schema::pool_entries;
use crate::db::{DbConn, db_time};
use crate::jobs::registry::{Handler, Registry};
use versions::PoolChange;

/// Job kind: mark active entries past their validity `expired` (daily).
pub const EXPIRE_ENTRIES: &str = "pool.expire_entries";

/// Registers the pool's job kinds.
pub fn register(registry: &mut Registry) {
    registry.register(
        EXPIRE_ENTRIES,
        Handler::Transactional(|conn, job, _| {
            expire_entries(conn, &Ctx::system(job.now))?;
            Ok(())
        }),
    );
}

/// Marks every active entry whose `valid_until` is before today (Beijing) as `expired`, one
/// audited compare-and-set per entry. The search filters by date as well, so the pool never
/// depends on this job having run; the job makes the stored status agree.
pub fn expire_entries(conn: &mut DbConn, ctx: &Ctx) -> QueryResult<usize> {
    let today = crate::clock::beijing_date(ctx.now);
    let due: Vec<(i64, i64, NaiveDate)> = pool_entries::table
        .filter(pool_entries::status.eq("active"))
        .filter(pool_entries::valid_until.lt(today))
        .select((
            pool_entries::id,
            pool_entries::institution_id,
            pool_entries::valid_until,
        ))
        .load(conn)?;
    let mut expired = 0;
    for (id, institution_id, valid_until) in due {
        let changed = diesel::update(
            pool_entries::table
                .filter(pool_entries::id.eq(id))
                .filter(pool_entries::status.eq("active")),
        )
        .set((
            pool_entries::status.eq("expired"),
            pool_entries::ended_at.eq(Some(db_time(ctx.now))),
            pool_entries::end_reason.eq(Some("expired")),
            pool_entries::updated_at.eq(db_time(ctx.now)),
        ))
        .execute(conn)?;
        if changed == 1 {
            audit::record(
                conn,
                ctx,
                "pool_entry.expired",
                "pool_entry",
                id,
                serde_json::json!({
                    "institution_id": institution_id,
                    "valid_until": valid_until,
                }),
            )?;
            versions::record(conn, ctx, PoolChange::Expired, id)?;
            expired += 1;
        }
    }
    Ok(expired)
}
