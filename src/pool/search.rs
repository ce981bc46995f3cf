//! The whitelist search: active entries valid today, filtered by activity category, district
//! and a name substring, sorted by institution name then entry id (stable), paginated.
//!
//! One page costs four indexed queries whatever its size — the count, the page (entries joined
//! with their institutions), and the active-contract counts and evaluation standings of the
//! page's institutions in one grouped query each. Items come from the entry row itself (the
//! `items` JSON array); `pool_items` serves only the category filter, through its index.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::catalogue::Catalogue;
use crate::credentials::EntityType;
use crate::db::DbConn;
use crate::db::schema::{contracts, evaluations, institutions, pool_entries, pool_items};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::pool::entry::EntryStatus;

/// Longest accepted name substring.
const MAX_QUERY_CHARS: usize = 100;

/// Filters of the search and the exports.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PoolQuery {
    /// A top-level category (`sports` matches all its items) or an item (`sports.basketball`).
    pub category: Option<String>,
    /// A district of Nanning, exactly (`青秀区`).
    pub district: Option<String>,
    /// A substring of the institution's name.
    pub q: Option<String>,
    /// Reviewers and admins only: `true` lists only entries whose evaluation standing is under
    /// `STANDING_FLAG_THRESHOLD`.
    pub flagged: Option<bool>,
}

/// What a category filter names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CategoryFilter {
    /// A top-level category: every item under it.
    Category(String),
    /// One item.
    Item(String),
}

/// A parsed, valid filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    pub category: Option<CategoryFilter>,
    pub district: Option<String>,
    pub name: Option<String>,
    pub flagged_only: bool,
}

impl PoolQuery {
    /// Parses the query: an unknown or academic category is refused with the catalogue's own
    /// error (422), and `flagged` is for bureau staff only (403).
    pub fn parse(&self, staff: bool) -> ApiResult<Filter> {
        let nonempty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let category = match nonempty(&self.category) {
            None => None,
            Some(code) => {
                let catalogue = Catalogue::get();
                if catalogue.categories.iter().any(|c| c.code == code) {
                    Some(CategoryFilter::Category(code))
                } else {
                    match catalogue.activity(&code) {
                        Ok(item) => Some(CategoryFilter::Item(item.code.clone())),
                        Err(e) => return Err(e.problem().with_errors(vec![e.issue("category")])),
                    }
                }
            }
        };
        let name = nonempty(&self.q);
        if let Some(q) = &name
            && q.chars().count() > MAX_QUERY_CHARS
        {
            return Err(ApiError::validation(vec![FieldIssue::new(
                "q",
                "too_long",
                Msg::new(
                    format!("名称关键词不能超过 {MAX_QUERY_CHARS} 个字符。"),
                    format!("The name search is limited to {MAX_QUERY_CHARS} characters."),
                ),
            )]));
        }
        let flagged_only = self.flagged.unwrap_or(false);
        if flagged_only && !staff {
            return Err(ApiError::forbidden());
        }
        Ok(Filter {
            category,
            district: nonempty(&self.district),
            name,
            flagged_only,
        })
    }
}

/// The business contact of an institution (business data, public by the notice).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BusinessContact {
    pub person: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
}

/// An approved activity item with its catalogue names.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PoolItem {
    /// Item code, e.g. `sports.basketball`.
    pub code: String,
    /// Its top-level category, e.g. `sports`.
    pub category: String,
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
}

impl PoolItem {
    pub fn of(code: &str) -> Self {
        let item = Catalogue::get().activity(code).ok();
        Self {
            code: code.to_owned(),
            category: code.split('.').next().unwrap_or(code).to_owned(),
            name_zh: item.map(|i| i.name_zh.clone()),
            name_en: item.map(|i| i.name_en.clone()),
        }
    }
}

/// The evaluation standing of an institution: the mean of its evaluations (each the average of
/// quality, safety and punctuality), shown only once it has at least 3.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Standing {
    /// Mean score 1–5, rounded to two decimals.
    pub score: f64,
    pub evaluations: i64,
}

/// Evaluations needed before a standing is shown.
pub const MIN_EVALUATIONS: i64 = 3;

/// One entry of the pool as shown to schools and the public. No personal identity number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PoolEntry {
    pub institution_id: i64,
    pub entry_id: i64,
    pub name: String,
    pub uscc: String,
    /// `private_non_enterprise_unit`, `enterprise`, …
    pub entity_type: String,
    pub district: Option<String>,
    pub address: Option<String>,
    pub contact: BusinessContact,
    /// The approved activity items, by code.
    pub items: Vec<PoolItem>,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    /// Contracts with schools currently active.
    pub contract_count: i64,
    /// `null` until the institution has 3 evaluations.
    pub standing: Option<Standing>,
    /// Reviewers and admins only: the standing is under `STANDING_FLAG_THRESHOLD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flagged: Option<bool>,
    /// The notice the entry came from, if any.
    #[serde(skip)]
    pub notice_id: Option<i64>,
}

impl PoolEntry {
    /// The entity type's Chinese label (for the CSV export).
    pub fn entity_type_zh(&self) -> &str {
        match EntityType::parse(&self.entity_type) {
            Some(t) => t.label_zh(),
            None => &self.entity_type,
        }
    }
}

#[derive(Queryable)]
struct Row {
    entry_id: i64,
    institution_id: i64,
    items: String,
    valid_from: NaiveDate,
    valid_until: NaiveDate,
    notice_id: Option<i64>,
    name: String,
    uscc: String,
    entity_type: String,
    district: Option<String>,
    address: Option<String>,
    contact_person: Option<String>,
    contact_mobile: Option<String>,
    contact_email: Option<String>,
}

/// How search results are read: who asks and under which threshold entries are flagged.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub staff: bool,
    pub flag_threshold: f64,
}

/// Escapes `%`, `_` and the escape character for a LIKE pattern.
fn like_contains(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The institutions whose standing is under the threshold (at least 3 evaluations).
fn flagged_institutions(conn: &mut DbConn, threshold: f64) -> QueryResult<Vec<i64>> {
    Ok(standings(conn, None)?
        .into_iter()
        .filter(|(_, s)| s.score < threshold)
        .map(|(id, _)| id)
        .collect())
}

/// Standings of `ids` (or of everyone), only those with enough evaluations.
fn standings(conn: &mut DbConn, ids: Option<&[i64]>) -> QueryResult<HashMap<i64, Standing>> {
    let mut q = evaluations::table
        .group_by(evaluations::institution_id)
        .select((
            evaluations::institution_id,
            count_star(),
            diesel::dsl::sum(evaluations::quality + evaluations::safety + evaluations::punctuality),
        ))
        .into_boxed();
    if let Some(ids) = ids {
        q = q.filter(evaluations::institution_id.eq_any(ids.to_vec()));
    }
    let rows: Vec<(i64, i64, Option<i64>)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, n, _)| *n >= MIN_EVALUATIONS)
        .map(|(id, n, sum)| {
            let mean = sum.unwrap_or(0) as f64 / (3 * n) as f64;
            (
                id,
                Standing {
                    score: (mean * 100.0).round() / 100.0,
                    evaluations: n,
                },
            )
        })
        .collect())
}

/// The standing of one institution (for the entry page and contracts).
pub fn standing_of(conn: &mut DbConn, institution_id: i64) -> QueryResult<Option<Standing>> {
    Ok(standings(conn, Some(&[institution_id]))?.remove(&institution_id))
}

/// The districts of the institutions in the pool today, sorted (the search form's choices).
pub fn districts(conn: &mut DbConn, today: NaiveDate) -> ApiResult<Vec<String>> {
    let districts: Vec<Option<String>> = pool_entries::table
        .inner_join(institutions::table)
        .filter(pool_entries::status.eq("active"))
        .filter(pool_entries::valid_from.le(today))
        .filter(pool_entries::valid_until.ge(today))
        .select(institutions::district)
        .distinct()
        .order(institutions::district.asc())
        .load(conn)?;
    Ok(districts.into_iter().flatten().collect())
}

/// Runs the search: one page (`Some((offset, limit))`) or every match (`None`, the exports),
/// with the total number of matches.
pub fn search(
    conn: &mut DbConn,
    filter: &Filter,
    today: NaiveDate,
    viewer: Viewer,
    page: Option<(i64, i64)>,
) -> ApiResult<(Vec<PoolEntry>, i64)> {
    let flagged_ids = if filter.flagged_only {
        Some(flagged_institutions(conn, viewer.flag_threshold)?)
    } else {
        None
    };
    let query = || {
        let mut q = pool_entries::table
            .inner_join(institutions::table)
            .filter(pool_entries::status.eq(EntryStatus::Active.as_str()))
            .filter(pool_entries::valid_from.le(today))
            .filter(pool_entries::valid_until.ge(today))
            .into_boxed();
        match &filter.category {
            Some(CategoryFilter::Category(c)) => {
                q = q.filter(
                    pool_entries::id.eq_any(
                        pool_items::table
                            .filter(pool_items::category.eq(c.clone()))
                            .select(pool_items::entry_id),
                    ),
                );
            }
            Some(CategoryFilter::Item(code)) => {
                q = q.filter(
                    pool_entries::id.eq_any(
                        pool_items::table
                            .filter(pool_items::code.eq(code.clone()))
                            .select(pool_items::entry_id),
                    ),
                );
            }
            None => {}
        }
        if let Some(d) = &filter.district {
            q = q.filter(institutions::district.eq(d.clone()));
        }
        if let Some(name) = &filter.name {
            q = q.filter(institutions::name.like(like_contains(name)).escape('\\'));
        }
        if let Some(ids) = &flagged_ids {
            q = q.filter(pool_entries::institution_id.eq_any(ids.clone()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let mut rows_q = query()
        .order((institutions::name.asc(), pool_entries::id.asc()))
        .select((
            pool_entries::id,
            pool_entries::institution_id,
            pool_entries::items,
            pool_entries::valid_from,
            pool_entries::valid_until,
            pool_entries::notice_id,
            institutions::name,
            institutions::uscc,
            institutions::entity_type,
            institutions::district,
            institutions::registered_address,
            institutions::contact_person,
            institutions::contact_mobile,
            institutions::contact_email,
        ));
    if let Some((offset, limit)) = page {
        rows_q = rows_q.offset(offset).limit(limit);
    }
    let rows: Vec<Row> = rows_q.load(conn)?;
    let entries = assemble(conn, rows, viewer)?;
    Ok((entries, total))
}

/// The entry of one institution (its newest valid active entry), if it is in the pool today.
pub fn entry_of(
    conn: &mut DbConn,
    institution_id: i64,
    today: NaiveDate,
    viewer: Viewer,
) -> ApiResult<Option<PoolEntry>> {
    let rows: Vec<Row> = pool_entries::table
        .inner_join(institutions::table)
        .filter(pool_entries::institution_id.eq(institution_id))
        .filter(pool_entries::status.eq(EntryStatus::Active.as_str()))
        .filter(pool_entries::valid_from.le(today))
        .filter(pool_entries::valid_until.ge(today))
        .order(pool_entries::id.desc())
        .limit(1)
        .select((
            pool_entries::id,
            pool_entries::institution_id,
            pool_entries::items,
            pool_entries::valid_from,
            pool_entries::valid_until,
            pool_entries::notice_id,
            institutions::name,
            institutions::uscc,
            institutions::entity_type,
            institutions::district,
            institutions::registered_address,
            institutions::contact_person,
            institutions::contact_mobile,
            institutions::contact_email,
        ))
        .load(conn)?;
    Ok(assemble(conn, rows, viewer)?.into_iter().next())
}

/// Adds the page's contract counts and standings (one grouped query each) to its rows.
fn assemble(conn: &mut DbConn, rows: Vec<Row>, viewer: Viewer) -> ApiResult<Vec<PoolEntry>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<i64> = rows.iter().map(|r| r.institution_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let counts: HashMap<i64, i64> = contracts::table
        .filter(contracts::institution_id.eq_any(ids.clone()))
        // `contracts::status::ContractStatus::Active`: the contracts capability sits above
        // the pool (it checks pool membership), so the pool names the stored value itself.
        .filter(contracts::status.eq("active"))
        .group_by(contracts::institution_id)
        .select((contracts::institution_id, count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    let standings = standings(conn, Some(&ids))?;
    rows.into_iter()
        .map(|r| {
            let mut codes: Vec<String> = serde_json::from_str(&r.items).map_err(|e| {
                ApiError::Internal(
                    anyhow::Error::new(e).context(format!("pool_entries.{}.items", r.entry_id)),
                )
            })?;
            codes.sort();
            let standing = standings.get(&r.institution_id).copied();
            Ok(PoolEntry {
                institution_id: r.institution_id,
                entry_id: r.entry_id,
                name: r.name,
                uscc: r.uscc,
                entity_type: r.entity_type,
                district: r.district,
                address: r.address,
                contact: BusinessContact {
                    person: r.contact_person,
                    mobile: r.contact_mobile,
                    email: r.contact_email,
                },
                items: codes.iter().map(|c| PoolItem::of(c)).collect(),
                valid_from: r.valid_from,
                valid_until: r.valid_until,
                contract_count: counts.get(&r.institution_id).copied().unwrap_or(0),
                standing,
                flagged: viewer
                    .staff
                    .then(|| standing.is_some_and(|s| s.score < viewer.flag_threshold)),
                notice_id: r.notice_id,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("a%b_c\\"), "%a\\%b\\_c\\\\%");
        assert_eq!(like_contains("体育"), "%体育%");
    }

    #[test]
    fn a_category_or_an_item_is_a_filter_and_anything_else_is_refused() {
        let q = |c: &str| PoolQuery {
            category: Some(c.into()),
            ..Default::default()
        };
        assert_eq!(
            q("sports").parse(false).unwrap().category,
            Some(CategoryFilter::Category("sports".into()))
        );
        assert_eq!(
            q("sports.basketball").parse(false).unwrap().category,
            Some(CategoryFilter::Item("sports.basketball".into()))
        );
        assert_eq!(
            q("nope").parse(false).unwrap_err().code(),
            "unknown_category"
        );
        assert_eq!(
            q("数学").parse(false).unwrap_err().code(),
            "academic_subject_forbidden"
        );
        let flagged = PoolQuery {
            flagged: Some(true),
            ..Default::default()
        };
        assert_eq!(flagged.parse(false).unwrap_err().code(), "forbidden");
        assert!(flagged.parse(true).unwrap().flagged_only);
    }
}
