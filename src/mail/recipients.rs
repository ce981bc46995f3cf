//! Who receives what. Every function returns addresses, deduplicated case-insensitively, in a
//! stable order; [`crate::mail::queue`] deduplicates again across the lists it is given.

use diesel::prelude::*;

use crate::applications::status::Status;
use crate::db::DbConn;
use crate::db::schema::{applications, institutions, pool_entries, users};

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
        .filter(pool_entries::status.eq("active"))
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

/// Trims, drops empties and case-insensitive duplicates, keeping the first spelling.
pub fn dedup(addresses: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    addresses
        .into_iter()
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty() && seen.insert(a.to_lowercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dedup_ignores_case_and_blanks() {
        let got = super::dedup(vec![
            "A@x.cn".into(),
            " a@X.cn ".into(),
            "".into(),
            "b@x.cn".into(),
        ]);
        assert_eq!(got, vec!["A@x.cn", "b@x.cn"]);
    }
}
