//! Who receives what. Every function returns addresses, deduplicated case-insensitively, in a
//! stable order; [`crate::mail::queue`] deduplicates again across the lists it is given.

use diesel::prelude::*;

use crate::applications::status::Status;
use crate::db::DbConn;
use crate::db::schema::{applications, institutions, pool_entries, users};
use crate::mail::dedup;
use crate::pool::entry::EntryStatus;

/// An institution: its enabled accounts' e-mails and the profile's contact e-mail.
pub fn institution(conn: &mut DbConn, institution_id: i64) -> QueryResult<Vec<String>> {
    Ok(institutions(conn, &[institution_id])?
        .remove(&institution_id)
        .unwrap_or_default())
}

/// [`institution`] for several institutions in two statements.
pub fn institutions(
    conn: &mut DbConn,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, Vec<String>>> {
    let mut all: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    let accounts: Vec<(Option<i64>, String)> = users::table
        .filter(users::institution_id.eq_any(ids))
        .filter(users::role.eq("institution"))
        .filter(users::disabled_at.is_null())
        .order(users::id.asc())
        .select((users::institution_id, users::email))
        .load(conn)?;
    for (id, email) in accounts {
        if let Some(id) = id {
            all.entry(id).or_default().push(email);
        }
    }
    let contacts: Vec<(i64, Option<String>)> = institutions::table
        .filter(institutions::id.eq_any(ids))
        .select((institutions::id, institutions::contact_email))
        .load(conn)?;
    for (id, contact) in contacts {
        all.entry(id).or_default().extend(contact);
    }
    Ok(all.into_iter().map(|(id, to)| (id, dedup(to))).collect())
}

/// Every enabled reviewer account.
pub fn reviewers(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::role.eq("reviewer"))
        .filter(users::disabled_at.is_null())
        .order(users::id.asc())
        .select(users::email)
        .load(conn)
        .map(dedup)
}

/// Every enabled admin account: (e-mail, display name).
pub fn admins(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    users::table
        .filter(users::role.eq("admin"))
        .filter(users::disabled_at.is_null())
        .order(users::id.asc())
        .select((users::email, users::display_name))
        .load(conn)
}

/// A school: its enabled accounts.
pub fn school(conn: &mut DbConn, school_id: i64) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::school_id.eq(school_id))
        .filter(users::role.eq("school"))
        .filter(users::disabled_at.is_null())
        .order(users::id.asc())
        .select(users::email)
        .load(conn)
        .map(dedup)
}

/// The objector, if they gave an e-mail (objections need no account).
pub fn objector(email: Option<&str>) -> Vec<String> {
    dedup(email.into_iter().map(str::to_owned).collect())
}

/// Institutions the bureau is dealing with: an active pool entry, or a live application
/// (submitted, returned, approved, in notice). Reminders go to these.
pub fn concerned_institutions(conn: &mut DbConn) -> QueryResult<Vec<i64>> {
    let live = [
        Status::Submitted,
        Status::Returned,
        Status::Approved,
        Status::InNotice,
    ];
    let mut ids: Vec<i64> = pool_entries::table
        .filter(pool_entries::status.eq(EntryStatus::Active.as_str()))
        .select(pool_entries::institution_id)
        .load(conn)?;
    ids.extend(
        applications::table
            .filter(applications::status.eq_any(live.iter().map(|s| s.as_str())))
            .select(applications::institution_id)
            .load::<i64>(conn)?,
    );
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}
