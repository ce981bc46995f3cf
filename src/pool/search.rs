//! The whitelist search: active entries valid today, filtered by activity category, district
//! and a name substring, sorted by institution name then entry id (stable), paginated.
//!
//! It reads the pool's in-memory read model ([`crate::pool::read_model`]): no database query
//! per search, the total counted and the page taken in one pass over the shortest index list.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::catalogue::{Catalogue, category_of};
use crate::credentials::EntityType;
use crate::db::DbConn;
use crate::db::schema::evaluations;
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::pool::read_model::{Snapshot, Stored, fold};

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
// The strings are the catalogue's own (compiled in) where it lists the code, so the read
// model's thousands of items allocate nothing for them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PoolItem {
    /// Item code, e.g. `sports.basketball`.
    #[schema(value_type = String)]
    pub code: Cow<'static, str>,
    /// Its top-level category, e.g. `sports`.
    #[schema(value_type = String)]
    pub category: Cow<'static, str>,
    #[schema(value_type = Option<String>)]
    pub name_zh: Option<&'static str>,
    #[schema(value_type = Option<String>)]
    pub name_en: Option<&'static str>,
}

impl PoolItem {
    pub fn of(code: &str) -> Self {
        match Catalogue::get().activity(code) {
            Ok(item) => Self {
                code: Cow::Borrowed(&item.code),
                category: Cow::Borrowed(category_of(&item.code)),
                name_zh: Some(&item.name_zh),
                name_en: Some(&item.name_en),
            },
            // A code the catalogue no longer lists (stored before a catalogue change).
            Err(_) => Self {
                code: Cow::Owned(code.to_owned()),
                category: Cow::Owned(category_of(code).to_owned()),
                name_zh: None,
                name_en: None,
            },
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

/// How search results are read: who asks and under which threshold entries are flagged.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub staff: bool,
    pub flag_threshold: f64,
}

/// The standing of one institution, in the pool or not (the reviewer's dossier).
pub fn standing_of(conn: &mut DbConn, institution_id: i64) -> QueryResult<Option<Standing>> {
    Ok(standings(conn, Some(&[institution_id]))?.remove(&institution_id))
}

/// Standings of `ids` (or of everyone), only those with enough evaluations (read when the
/// read model is built).
pub(crate) fn standings(
    conn: &mut DbConn,
    ids: Option<&[i64]>,
) -> QueryResult<HashMap<i64, Standing>> {
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

/// Whether `stored` is in the pool on `today`: active (every stored entry is) and valid.
fn valid_on(stored: &Stored, today: NaiveDate) -> bool {
    stored.entry.valid_from <= today && today <= stored.entry.valid_until
}

/// The entry as `viewer` sees it: staff also get the `flagged` mark.
fn as_seen(stored: &Stored, viewer: Viewer) -> PoolEntry {
    let mut entry = stored.entry.clone();
    entry.flagged = flagged(stored, viewer);
    entry
}

/// The districts of the institutions in the pool today, sorted (the search form's choices).
pub fn districts(pool: &Snapshot, today: NaiveDate) -> Vec<String> {
    let mut districts: Vec<String> = pool
        .by_district
        .iter()
        .filter(|(_, positions)| {
            positions
                .iter()
                .any(|&p| valid_on(&pool.entries[p as usize], today))
        })
        .map(|(d, _)| d.clone())
        .collect();
    districts.sort();
    districts
}

/// Runs the search on the read model: one page (`Some((offset, limit))`) or every match
/// (`None`, the exports), with the total number of matches. The shortest index list among
/// the filters (category or item, district, the name's rarest character) drives the scan;
/// each candidate is then checked against every filter and today's date.
pub fn search(
    pool: &Snapshot,
    filter: &Filter,
    today: NaiveDate,
    viewer: Viewer,
    page: Option<(i64, i64)>,
) -> (Vec<PoolEntry>, i64) {
    let (found, total) = matching(pool, filter, today, viewer, page);
    (
        found.into_iter().map(|s| as_seen(s, viewer)).collect(),
        total,
    )
}

/// [`search`] without copying: the stored entries of the page (or of every match), in result
/// order, with the total — what the JSON search and the CSV export assemble their answers from
/// (each entry's pre-rendered bytes).
pub fn matching<'a>(
    pool: &'a Snapshot,
    filter: &Filter,
    today: NaiveDate,
    viewer: Viewer,
    page: Option<(i64, i64)>,
) -> (Vec<&'a Stored>, i64) {
    static NONE: Vec<u32> = Vec::new();
    let folded = filter.name.as_deref().map(fold);
    let mut lists: Vec<&Vec<u32>> = Vec::new();
    match &filter.category {
        Some(CategoryFilter::Category(c)) => lists.push(pool.by_category.get(c).unwrap_or(&NONE)),
        Some(CategoryFilter::Item(code)) => lists.push(pool.by_item.get(code).unwrap_or(&NONE)),
        None => {}
    }
    if let Some(d) = &filter.district {
        lists.push(pool.by_district.get(d).unwrap_or(&NONE));
    }
    if let Some(name) = &folded {
        let rarest = name
            .chars()
            .map(|ch| pool.by_char.get(&ch).unwrap_or(&NONE))
            .min_by_key(|l| l.len());
        if let Some(list) = rarest {
            lists.push(list);
        }
    }
    let matches = |stored: &Stored| -> bool {
        let e = &stored.entry;
        valid_on(stored, today)
            && match &filter.category {
                Some(CategoryFilter::Category(c)) => e.items.iter().any(|i| &i.category == c),
                Some(CategoryFilter::Item(code)) => e.items.iter().any(|i| &i.code == code),
                None => true,
            }
            && filter
                .district
                .as_ref()
                .is_none_or(|d| e.district.as_ref() == Some(d))
            && folded
                .as_ref()
                .is_none_or(|n| stored.folded_name.contains(n.as_str()))
            && (!filter.flagged_only || e.standing.is_some_and(|s| s.score < viewer.flag_threshold))
    };
    let (skip, take) = match page {
        Some((offset, limit)) => (
            usize::try_from(offset).unwrap_or(usize::MAX),
            usize::try_from(limit).unwrap_or(0),
        ),
        None => (0, usize::MAX),
    };
    // One index list that is exactly the answer (a category, an item or a district alone, or
    // no filter) on a day every entry is valid: the total is its length and the page a slice,
    // without visiting the other matches.
    let exact = folded.is_none()
        && !filter.flagged_only
        && usize::from(filter.category.is_some()) + usize::from(filter.district.is_some()) <= 1
        && pool.all_valid_on(today);
    if exact {
        let page_of = |list: &[u32]| -> Vec<&'a Stored> {
            list.iter()
                .skip(skip)
                .take(take)
                .map(|&p| &pool.entries[p as usize])
                .collect()
        };
        let (found, total) = match lists.first() {
            Some(list) => (page_of(list), list.len()),
            None => (
                pool.entries.iter().skip(skip).take(take).collect(),
                pool.entries.len(),
            ),
        };
        return (found, i64::try_from(total).unwrap_or(i64::MAX));
    }
    let mut total = 0usize;
    let mut found = Vec::new();
    let mut visit = |stored: &'a Stored| {
        if matches(stored) {
            if total >= skip && found.len() < take {
                found.push(stored);
            }
            total += 1;
        }
    };
    match lists.into_iter().min_by_key(|l| l.len()) {
        Some(driver) => driver
            .iter()
            .for_each(|&p| visit(&pool.entries[p as usize])),
        None => pool.entries.iter().for_each(visit),
    }
    (found, i64::try_from(total).unwrap_or(i64::MAX))
}

/// The `flagged` mark of `stored` as `viewer` sees it (staff only).
pub fn flagged(stored: &Stored, viewer: Viewer) -> Option<bool> {
    viewer.staff.then(|| {
        stored
            .entry
            .standing
            .is_some_and(|s| s.score < viewer.flag_threshold)
    })
}

/// The JSON of a search answer (the [`crate::http::Page`] envelope around `found`), assembled
/// from the entries' pre-rendered JSON: the same bytes as serialising
/// `Page<PoolEntry>` (checked by the tests below and by the integration tests).
pub fn page_json(
    found: &[&Stored],
    viewer: Viewer,
    page: i64,
    per_page: i64,
    total: i64,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + found.iter().map(|s| s.json_len() + 20).sum::<usize>());
    out.extend_from_slice(b"{\"items\":[");
    for (i, stored) in found.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        stored.write_json(&mut out, flagged(stored, viewer));
    }
    out.extend_from_slice(
        format!("],\"page\":{page},\"per_page\":{per_page},\"total\":{total}}}").as_bytes(),
    );
    out
}

/// The entry of one institution (its newest valid active entry), if it is in the pool today.
pub fn entry_of(
    pool: &Snapshot,
    institution_id: i64,
    today: NaiveDate,
    viewer: Viewer,
) -> Option<PoolEntry> {
    pool.by_institution
        .get(&institution_id)?
        .iter()
        .map(|&p| &pool.entries[p as usize])
        .filter(|s| valid_on(s, today))
        .max_by_key(|s| s.entry.entry_id)
        .map(|s| as_seen(s, viewer))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn entry(id: i64, name: &str, standing: Option<f64>) -> PoolEntry {
        PoolEntry {
            institution_id: id,
            entry_id: id * 10,
            name: name.into(),
            uscc: "91450100MA5KXXXX0X".into(),
            entity_type: "enterprise".into(),
            district: Some("青秀区".into()),
            address: None,
            contact: BusinessContact {
                person: Some("张\"三\"".into()),
                mobile: None,
                email: Some("a@b.cn".into()),
            },
            items: vec![
                PoolItem::of("sports.basketball"),
                PoolItem::of("arts.dance"),
            ],
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
            valid_until: NaiveDate::from_ymd_opt(2029, 1, 1).unwrap_or_default(),
            contract_count: 2,
            standing: standing.map(|score| Standing {
                score,
                evaluations: 3,
            }),
            flagged: None,
            notice_id: Some(1),
        }
    }

    #[test]
    fn the_assembled_page_is_the_serialised_page_for_the_public_and_for_staff() {
        let stored: Vec<Stored> = [
            entry(1, "甲 <Sports> & \\ 体育", Some(2.5)),
            entry(2, "乙", Some(4.75)),
            entry(3, "丙", None),
        ]
        .into_iter()
        .map(|e| Stored::new(e).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()
        .unwrap_or_default();
        assert_eq!(stored.len(), 3);
        let found: Vec<&Stored> = stored.iter().collect();
        let query = crate::http::PageQuery {
            page: Some(2),
            per_page: Some(3),
        };
        for staff in [false, true] {
            let viewer = Viewer {
                staff,
                flag_threshold: 3.0,
            };
            let items: Vec<PoolEntry> = found.iter().map(|s| as_seen(s, viewer)).collect();
            let expected =
                serde_json::to_vec(&crate::http::Page::new(items, &query, 7)).unwrap_or_default();
            let assembled = page_json(&found, viewer, query.page(), query.per_page(), 7);
            assert_eq!(
                String::from_utf8_lossy(&assembled),
                String::from_utf8_lossy(&expected)
            );
        }
        let empty = page_json(
            &[],
            Viewer {
                staff: false,
                flag_threshold: 3.0,
            },
            1,
            20,
            0,
        );
        assert_eq!(empty, br#"{"items":[],"page":1,"per_page":20,"total":0}"#);
    }

    #[test]
    fn a_lone_index_list_answers_by_slicing_only_when_every_entry_is_valid_that_day() {
        let mut entries: Vec<PoolEntry> = (1..=30)
            .map(|i| entry(i, &format!("机构{i:02}"), Some(4.0)))
            .collect();
        // The last entry starts a year later than the others.
        entries[29].valid_from = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        let stored = entries
            .into_iter()
            .map(|e| Stored::new(e).unwrap())
            .collect();
        let pool = Snapshot::indexed(stored, None);
        let viewer = Viewer {
            staff: false,
            flag_threshold: 3.0,
        };
        let sports = Filter {
            category: Some(CategoryFilter::Category("sports".into())),
            ..Filter::default()
        };
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let names = |found: Vec<&Stored>| -> Vec<String> {
            found.iter().map(|s| s.entry.name.clone()).collect()
        };
        // 2026: 29 valid, by the visiting path.
        assert!(!pool.all_valid_on(day(2026, 6, 1)));
        let (found, total) = matching(&pool, &sports, day(2026, 6, 1), viewer, Some((20, 20)));
        assert_eq!(total, 29);
        assert_eq!(
            names(found),
            (21..=29).map(|i| format!("机构{i}")).collect::<Vec<_>>()
        );
        // 2027: every entry valid, by slicing; the same answers as visiting would give.
        for filter in [
            sports.clone(),
            Filter::default(),
            Filter {
                district: Some("青秀区".into()),
                ..Filter::default()
            },
        ] {
            assert!(pool.all_valid_on(day(2027, 6, 1)));
            let (found, total) = matching(&pool, &filter, day(2027, 6, 1), viewer, Some((20, 20)));
            assert_eq!(total, 30);
            assert_eq!(
                names(found),
                (21..=30).map(|i| format!("机构{i}")).collect::<Vec<_>>()
            );
        }
        let (found, total) = matching(&pool, &sports, day(2027, 6, 1), viewer, None);
        assert_eq!((found.len(), total), (30, 30));
        // An unknown district is an empty list, not the whole pool.
        let nowhere = Filter {
            district: Some("不存在区".into()),
            ..Filter::default()
        };
        assert_eq!(
            matching(&pool, &nowhere, day(2027, 6, 1), viewer, None).1,
            0
        );
    }
}
