//! The service clock's row (`service_clock`), shared by every instance on the database, and the
//! database's own time. Instances disagree about the time (clock skew, or the settable clock
//! moved on another instance); the database is the one clock they all see, so leases and due
//! times are decided in its time.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use crate::db::DbConn;

/// The database's time and the settable clock's shared setting, read in one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedTime {
    /// The database server's real time.
    pub real: DateTime<Utc>,
    /// The service's time: `real` shifted by the settable clock's offset, if it is set.
    pub service: DateTime<Utc>,
    pub overridden: bool,
    /// Increases with every setting of the clock.
    pub version: i64,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    db_now: String,
    #[diesel(sql_type = BigInt)]
    offset_us: i64,
    #[diesel(sql_type = Bool)]
    overridden: bool,
    #[diesel(sql_type = BigInt)]
    version: i64,
}

/// Reads the database's time and the shared clock setting.
pub fn read(conn: &mut DbConn) -> QueryResult<SharedTime> {
    // The time is formatted as text by the database: both engines can, and MultiBackend then
    // needs no timestamp-with-time-zone type. SQLite's clock has millisecond resolution,
    // PostgreSQL's microseconds; `clock_timestamp()` is the time now, not the transaction's start.
    let now_expr = match conn {
        DbConn::Sqlite(_) => "strftime('%Y-%m-%d %H:%M:%f', 'now')",
        DbConn::Postgres(_) => {
            "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
        }
    };
    let row: Row = diesel::sql_query(format!(
        "SELECT {now_expr} AS db_now, offset_us, overridden, version \
         FROM service_clock WHERE id = 1"
    ))
    .get_result(conn)?;
    let real = NaiveDateTime::parse_from_str(&row.db_now, "%Y-%m-%d %H:%M:%S%.f")
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?
        .and_utc();
    let service = if row.overridden {
        real + chrono::Duration::microseconds(row.offset_us)
    } else {
        real
    };
    Ok(SharedTime {
        real,
        service,
        overridden: row.overridden,
        version: row.version,
    })
}

/// Sets the shared clock to `to` (None: real time) and returns the new version. Run it in a
/// write transaction.
pub fn store(conn: &mut DbConn, to: Option<DateTime<Utc>>) -> QueryResult<i64> {
    let now = read(conn)?;
    let offset_us = to.map_or(0, |to| {
        (to - now.real).num_microseconds().unwrap_or(i64::MAX / 2)
    });
    diesel::sql_query(
        "UPDATE service_clock SET offset_us = $1, overridden = $2, version = version + 1, \
         updated_at = $3 WHERE id = 1",
    )
    .bind::<BigInt, _>(offset_us)
    .bind::<Bool, _>(to.is_some())
    .bind::<diesel::sql_types::Timestamp, _>(now.real.naive_utc())
    .execute(conn)?;
    Ok(read(conn)?.version)
}
