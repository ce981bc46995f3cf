//! The append-only, hash-chained audit log.
//!
//! Every state change appends an event inside the same transaction as the change. Each event
//! carries a sequence number and the SHA-256 of the previous event, and its own hash covers all
//! its fields plus that previous hash, so editing, inserting or deleting any row breaks the
//! chain at that row; the `audit_head` row (sequence and hash of the newest event, updated in
//! the same transaction) also exposes a deleted tail. `verify` walks the chain and compares its
//! end with the head in one read snapshot ([`crate::db::read_snapshot`]): read apart, an event
//! committed between the two reads looked like a deleted tail.

pub mod routes;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::Ctx;
use crate::db::columns::{JsonText, UtcTime};
use crate::db::schema::{audit_events, audit_head};
use crate::db::{DbConn, db_time};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Appends one event to the chain. Call it inside the transaction of the change it records.
pub fn record(
    conn: &mut DbConn,
    ctx: &Ctx,
    action: &str,
    entity_type: &str,
    entity_id: impl ToString,
    summary: serde_json::Value,
) -> QueryResult<()> {
    append_many(
        conn,
        ctx,
        vec![NewEvent {
            action: action.to_owned(),
            entity_type: entity_type.to_owned(),
            entity_id: entity_id.to_string(),
            summary,
        }],
    )
}

/// One event to append with [`append_many`].
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub summary: serde_json::Value,
}

/// How many events one INSERT carries (11 parameters each, well under either backend's limit).
const INSERT_CHUNK: usize = 500;

/// Appends `events`, in order, to the chain: the head row is taken once for the whole batch,
/// the events are chained in memory and inserted several rows per statement. Call it inside
/// the transaction of the changes they record.
pub fn append_many(conn: &mut DbConn, ctx: &Ctx, events: Vec<NewEvent>) -> QueryResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let count = events.len() as i64;
    // Taking the head row first serialises appenders on both backends (a row lock on
    // PostgreSQL, the write lock on SQLite), so two transactions never chain onto one parent.
    diesel::update(audit_head::table.find(1))
        .set(audit_head::seq.eq(audit_head::seq + count))
        .execute(conn)?;
    let (last_seq, mut prev_hash): (i64, String) = audit_head::table
        .find(1)
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    let (actor_id, actor_role) = ctx.actor.columns();
    let occurred_at = db_time(ctx.now);
    let mut chained = Vec::with_capacity(events.len());
    for (seq, event) in (last_seq - count + 1..).zip(events) {
        let fields = ChainFields {
            seq,
            occurred_at,
            actor_id,
            actor_role: actor_role.to_owned(),
            action: event.action,
            entity_type: event.entity_type,
            entity_id: event.entity_id,
            summary: event.summary.to_string(),
            request_id: ctx.request_id.clone(),
            prev_hash,
        };
        let hash = fields.hash();
        prev_hash = hash.clone();
        chained.push((fields, hash));
    }
    for chunk in chained.chunks(INSERT_CHUNK) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(e, hash)| {
                (
                    audit_events::seq.eq(e.seq),
                    audit_events::occurred_at.eq(e.occurred_at),
                    audit_events::actor_id.eq(e.actor_id),
                    audit_events::actor_role.eq(&e.actor_role),
                    audit_events::action.eq(&e.action),
                    audit_events::entity_type.eq(&e.entity_type),
                    audit_events::entity_id.eq(&e.entity_id),
                    audit_events::summary.eq(&e.summary),
                    audit_events::request_id.eq(&e.request_id),
                    audit_events::prev_hash.eq(&e.prev_hash),
                    audit_events::hash.eq(hash),
                )
            })
            .collect();
        crate::insert_rows!(conn, audit_events::table, rows)?;
    }
    diesel::update(audit_head::table.find(1))
        .set(audit_head::hash.eq(&prev_hash))
        .execute(conn)?;
    Ok(())
}

/// Takes the chain's head lock without appending (the row lock on PostgreSQL; SQLite's write
/// transaction already holds the database). For writers that lock another head row in the same
/// transaction (the open-data lists): taking this one first keeps every transaction's lock
/// order the same, so two of them never wait for each other.
pub fn lock_head(conn: &mut DbConn) -> QueryResult<()> {
    diesel::update(audit_head::table.find(1))
        .set(audit_head::seq.eq(audit_head::seq))
        .execute(conn)?;
    Ok(())
}

/// The fields an event's hash covers, in a fixed order.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct ChainFields {
    seq: i64,
    occurred_at: NaiveDateTime,
    actor_id: Option<i64>,
    actor_role: String,
    action: String,
    entity_type: String,
    entity_id: String,
    summary: String,
    request_id: Option<String>,
    prev_hash: String,
}

impl ChainFields {
    fn hash(&self) -> String {
        let mut h = Sha256::new();
        // Length-prefixed fields: no two different events serialise to the same bytes.
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(self.seq.to_string().as_bytes());
        field(
            self.occurred_at
                .format("%Y-%m-%dT%H:%M:%S%.6f")
                .to_string()
                .as_bytes(),
        );
        field(
            self.actor_id
                .map(|id| id.to_string())
                .unwrap_or_default()
                .as_bytes(),
        );
        field(self.actor_role.as_bytes());
        field(self.action.as_bytes());
        field(self.entity_type.as_bytes());
        field(self.entity_id.as_bytes());
        field(self.summary.as_bytes());
        field(self.request_id.as_deref().unwrap_or_default().as_bytes());
        field(self.prev_hash.as_bytes());
        hex::encode(h.finalize())
    }
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[schema(as = AuditChainVerification)]
pub struct Verification {
    pub ok: bool,
    /// Events checked.
    pub events: i64,
    /// The first problem found, if any.
    pub first_problem: Option<ChainProblem>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct ChainProblem {
    /// `edited` (the row no longer matches its hash), `inserted` or `deleted` (the chain of
    /// sequence numbers and previous hashes is broken), or `tail_deleted`.
    pub kind: String,
    /// The row id of the event where the chain breaks (absent for a deleted tail).
    pub event_id: Option<i64>,
    /// Its sequence number, or the one expected.
    pub seq: i64,
    pub detail: String,
}

/// Walks the whole chain in sequence order and reports the first break. The events and the
/// head are read in one snapshot, so appends committing meanwhile are simply not seen (not
/// taken for a deleted tail). Call it outside a transaction.
pub fn verify(conn: &mut DbConn) -> QueryResult<Verification> {
    crate::db::read_snapshot(conn, walk)
}

fn walk(conn: &mut DbConn) -> QueryResult<Verification> {
    const BATCH: i64 = 2000;
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut checked = 0i64;
    loop {
        let rows: Vec<(i64, String, ChainFields)> = audit_events::table
            .filter(audit_events::seq.ge(expected_seq))
            .order(audit_events::seq.asc())
            .limit(BATCH)
            .select((
                audit_events::id,
                audit_events::hash,
                ChainFields::as_select(),
            ))
            .load(conn)?;
        let done = (rows.len() as i64) < BATCH;
        for (id, stored_hash, fields) in rows {
            let problem = |kind: &str, detail: String| Verification {
                ok: false,
                events: checked,
                first_problem: Some(ChainProblem {
                    kind: kind.to_owned(),
                    event_id: Some(id),
                    seq: fields.seq,
                    detail,
                }),
            };
            if fields.seq != expected_seq {
                return Ok(problem(
                    "deleted",
                    format!(
                        "expected sequence {expected_seq}, found {}: events are missing before this one",
                        fields.seq
                    ),
                ));
            }
            if fields.prev_hash != prev_hash {
                return Ok(problem(
                    "inserted",
                    "the previous-hash link does not match the preceding event".to_owned(),
                ));
            }
            if fields.hash() != stored_hash {
                return Ok(problem(
                    "edited",
                    "the event's contents no longer match its hash".to_owned(),
                ));
            }
            prev_hash = stored_hash;
            expected_seq += 1;
            checked += 1;
        }
        if done {
            break;
        }
    }
    let (head_seq, head_hash): (i64, String) = audit_head::table
        .find(1)
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?;
    if head_seq != checked || head_hash != prev_hash {
        return Ok(Verification {
            ok: false,
            events: checked,
            first_problem: Some(ChainProblem {
                kind: "tail_deleted".to_owned(),
                event_id: None,
                seq: checked + 1,
                detail: format!(
                    "the head records {head_seq} events but the chain ends after {checked}"
                ),
            }),
        });
    }
    Ok(Verification {
        ok: true,
        events: checked,
        first_problem: None,
    })
}

/// An event as listed to staff.
#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    pub seq: i64,
    #[diesel(deserialize_as = NaiveDateTime)]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: UtcTime,
    pub actor_id: Option<i64>,
    /// `institution`, `reviewer`, `school`, `admin`, `public` or `system`.
    pub actor_role: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    #[diesel(deserialize_as = String)]
    #[schema(value_type = Object)]
    pub summary: JsonText,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Filters of the audit list.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    pub actor_id: Option<i64>,
    /// Events at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Events before this instant (RFC 3339).
    pub to: Option<DateTime<Utc>>,
}

/// Lists events, newest first.
pub fn list(
    conn: &mut DbConn,
    filter: &AuditFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<AuditEvent>, i64)> {
    let query = || {
        let mut q = audit_events::table.into_boxed();
        if let Some(v) = &filter.entity_type {
            q = q.filter(audit_events::entity_type.eq(v.clone()));
        }
        if let Some(v) = &filter.entity_id {
            q = q.filter(audit_events::entity_id.eq(v.clone()));
        }
        if let Some(v) = &filter.action {
            q = q.filter(audit_events::action.eq(v.clone()));
        }
        if let Some(v) = filter.actor_id {
            q = q.filter(audit_events::actor_id.eq(v));
        }
        if let Some(v) = filter.from {
            q = q.filter(audit_events::occurred_at.ge(db_time(v)));
        }
        if let Some(v) = filter.to {
            q = q.filter(audit_events::occurred_at.lt(db_time(v)));
        }
        q
    };
    let total = query().count().get_result(conn)?;
    let items = query()
        .order(audit_events::seq.desc())
        .offset(offset)
        .limit(limit)
        .select(AuditEvent::as_select())
        .load(conn)?;
    Ok((items, total))
}
