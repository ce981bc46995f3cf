//! One institution's pool entry as the public sees it: the entry, its teachers (names,
//! credential kinds and specialities — never identity numbers) and the notice it came from.
//! Read by `GET /api/v1/pool/{id}` and the portal's `/pool/{id}` page.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::db::schema::{applications, notices, pool_entries};
use crate::error::{ApiError, ApiResult};
use crate::pool::read_model::Snapshot;
use crate::pool::search::{self as pool_search, PoolEntry, PoolItem, Viewer};

/// A teacher as shown in the pool: name, credential kinds and specialities only.
#[derive(Debug, Serialize, ToSchema)]
pub struct PoolTeacher {
    pub name: String,
    /// `teacher_qualification`, `sports_instructor`, …
    pub credential_kinds: Vec<String>,
    pub specialities: Vec<PoolItem>,
}

/// The public notice an entry came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeRef {
    pub id: i64,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// One institution's pool entry with its teachers and notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct PoolEntryDetail {
    #[serde(flatten)]
    pub entry: PoolEntry,
    pub teachers: Vec<PoolTeacher>,
    pub notice: Option<NoticeRef>,
}

/// Institution `id`'s entry in the pool on `today` (from the read model `pool`), 404 when it is
/// not in the pool that day.
pub fn entry(pool: &Snapshot, id: i64, today: NaiveDate, viewer: Viewer) -> ApiResult<PoolEntry> {
    pool_search::entry_of(pool, id, today, viewer)
        .ok_or_else(|| ApiError::not_found("备选库条目", "pool entry"))
}

/// `entry` with its teachers and notice. Only the teachers listed in the admitted application
/// are shown. The roster and the notice are read from the database (two small indexed reads:
/// the read model keeps what searches and exports list).
pub fn entry_detail(
    conn: &mut DbConn,
    entry: PoolEntry,
    today: NaiveDate,
) -> ApiResult<PoolEntryDetail> {
    let id = entry.institution_id;
    let application_teachers: Option<crate::db::JsonText<Vec<i64>>> = pool_entries::table
        .inner_join(applications::table.on(applications::id.eq(pool_entries::application_id)))
        .filter(pool_entries::id.eq(entry.entry_id))
        .select(applications::teacher_ids)
        .first(conn)
        .optional()?;
    let listed: Option<Vec<i64>> = application_teachers.map(crate::db::JsonText::into_inner);
    let teachers = crate::institutions::active_teachers(conn, id, today)?
        .into_iter()
        .filter(|t| listed.as_ref().is_none_or(|ids| ids.contains(&t.id)))
        .map(|t| PoolTeacher {
            name: t.name,
            credential_kinds: t
                .credentials
                .iter()
                .map(|c| c.stored.kind.as_str().to_owned())
                .collect(),
            specialities: t
                .specialities
                .iter()
                .map(|s| PoolItem::of(&s.code))
                .collect(),
        })
        .collect();
    let notice = match entry.notice_id {
        Some(notice_id) => notices::table
            .find(notice_id)
            .select((
                notices::id,
                notices::title,
                notices::starts_on,
                notices::ends_on,
            ))
            .first::<(i64, String, NaiveDate, NaiveDate)>(conn)
            .optional()?
            .map(|(id, title, starts_on, ends_on)| NoticeRef {
                id,
                title,
                starts_on,
                ends_on,
            }),
        None => None,
    };
    Ok(PoolEntryDetail {
        entry,
        teachers,
        notice,
    })
}
