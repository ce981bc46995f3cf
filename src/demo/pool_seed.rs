//! Realistic pools for the demo (`serve --demo`, `DEMO_POOL_SIZE`) and the benchmark: N
//! institutions of Nanning's districts with valid credit codes, a teacher each, an admitted
//! application and a pool entry of one to four catalogue items spread over every category.
//!
//! Rows go straight into the tables (not through the review flow, which would take minutes for
//! thousands), in transactions of [`BATCH`] institutions, each batch recorded by one audit
//! event. Deterministic: institution `n` always gets the same name, code and items.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::audit;
use crate::auth::Ctx;
use crate::catalogue::Catalogue;
use crate::contracts::status::ContractStatus;
use crate::credentials::identity::ResidentId;
use crate::credentials::uscc::Uscc;
use crate::db::schema::{
    applications, inspections, institutions, pool_entries, pool_items, teachers,
};
use crate::db::{self, DbConn, db_time};
use crate::error::ApiResult;
use crate::pool::entry::EntryStatus;

/// Institutions per transaction.
pub const BATCH: usize = 250;

const DISTRICTS: [(&str, &str); 8] = [
    ("青秀区", "民族大道"),
    ("兴宁区", "朝阳路"),
    ("江南区", "星光大道"),
    ("西乡塘区", "大学东路"),
    ("良庆区", "五象大道"),
    ("邕宁区", "蒲庙大道"),
    ("武鸣区", "灵源路"),
    ("高新区", "科园大道"),
];

const PREFIXES: [&str; 12] = [
    "南宁市",
    "广西",
    "邕城",
    "南宁",
    "绿城",
    "八桂",
    "五象",
    "青山",
    "相思湖",
    "凤岭",
    "金桥",
    "朝阳",
];

const TRADES: [&str; 20] = [
    "启航", "星辰", "飞扬", "乐动", "博雅", "翰墨", "童心", "未来", "智慧", "晨曦", "阳光", "彩虹",
    "蓝天", "青苗", "成长", "卓越", "新星", "梦想", "鸿鹄", "知行",
];

/// Branch names that keep larger pools' names distinct.
const BRANCHES: [&str; 9] = [
    "",
    "（江南分校）",
    "（五象分校）",
    "（东盟分校）",
    "（仙葫分校）",
    "（南湖分校）",
    "（凤岭分校）",
    "（琅东分校）",
    "（相思湖分校）",
];

const SURNAMES: [&str; 12] = [
    "黄", "韦", "李", "陆", "覃", "莫", "梁", "蒙", "农", "蓝", "陈", "刘",
];

/// Words naming an institution by its first item's category.
fn brand(category: &str, n: usize) -> &'static str {
    const SPORTS: [&str; 6] = [
        "青少年体育培训中心",
        "体育俱乐部",
        "运动健康学校",
        "青少年体育发展中心",
        "竞技体育培训学校",
        "阳光体育俱乐部",
    ];
    const ARTS: [&str; 6] = [
        "艺术培训中心",
        "少儿艺术学校",
        "文化艺术中心",
        "书画院",
        "舞蹈艺术团",
        "音乐艺术培训学校",
    ];
    const PRACTICE: [&str; 6] = [
        "科技创新教育中心",
        "青少年科技学校",
        "编程教育中心",
        "机器人教育中心",
        "研学实践中心",
        "科普教育服务中心",
    ];
    match category {
        "sports" => SPORTS[n % SPORTS.len()],
        "arts" => ARTS[n % ARTS.len()],
        _ => PRACTICE[n % PRACTICE.len()],
    }
}

/// A USCC of a private non-enterprise unit (52) registered in Nanning (450100), valid under
/// GB 32100 — serial `n` in the organisation-code part.
pub fn uscc(n: u32) -> String {
    Uscc::complete(&format!("52450100MA{:07}", n % 10_000_000)).unwrap_or_default()
}

/// A resident identity number (GB 11643) with its check character.
fn resident_id(n: u32) -> String {
    ResidentId::complete(&format!(
        "450102{}{:02}{:02}{:03}",
        1975 + n % 25,
        1 + n % 12,
        1 + n % 28,
        n % 1000
    ))
    .unwrap_or_default()
}

/// The items of institution `n`: one to four items, mostly of one category, sometimes two;
/// every item of the catalogue occurs over enough institutions.
fn items_of(n: usize) -> Vec<String> {
    let categories = &Catalogue::get().categories;
    if categories.is_empty() {
        return Vec::new();
    }
    let main = &categories[n % categories.len()];
    let count = 1 + (n / 3) % 3;
    let mut items: Vec<String> = (0..count)
        .map(|k| main.items[(n / 7 + k * 5) % main.items.len()].code.clone())
        .collect();
    if n.is_multiple_of(5) {
        let other = &categories[(n + 1) % categories.len()];
        items.push(other.items[(n / 11) % other.items.len()].code.clone());
    }
    items.sort();
    items.dedup();
    items
}

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    /// The round the entries belong to.
    pub round_id: i64,
    pub count: usize,
    /// Serial of the first institution (distinct plans need distinct ranges).
    pub first: u32,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

/// Seeds `plan.count` institutions with admitted applications and active pool entries, in
/// transactions of [`BATCH`]; returns the entry ids.
pub fn seed(conn: &mut DbConn, ctx: &Ctx, plan: &SeedPlan) -> ApiResult<Vec<i64>> {
    seed_batches(conn, ctx, plan, |c, n| {
        let (institution_id, application_id, items) = seed_one(c, ctx, plan, n, "admitted")?;
        insert_entry(
            c,
            institution_id,
            application_id,
            plan.round_id,
            &items,
            plan.valid_from,
            plan.valid_until,
            ctx,
        )
    })
}

/// Seeds `plan.count` institutions with an approved application each (ready for a notice: the
/// closing benchmark and the large-notice tests); returns the application ids.
pub fn seed_approved(conn: &mut DbConn, ctx: &Ctx, plan: &SeedPlan) -> ApiResult<Vec<i64>> {
    seed_batches(conn, ctx, plan, |c, n| {
        Ok(seed_one(c, ctx, plan, n, "approved")?.1)
    })
}

/// Runs `one` for each institution of `plan`, [`BATCH`] per transaction, each batch recorded
/// by one audit event; returns what `one` returned.
fn seed_batches(
    conn: &mut DbConn,
    ctx: &Ctx,
    plan: &SeedPlan,
    mut one: impl FnMut(&mut DbConn, usize) -> ApiResult<i64>,
) -> ApiResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(plan.count);
    let mut done = 0;
    while done < plan.count {
        let size = BATCH.min(plan.count - done);
        let start = done;
        let batch = db::write_tx(conn, |c| -> ApiResult<Vec<i64>> {
            let mut batch = Vec::with_capacity(size);
            for k in start..start + size {
                batch.push(one(c, plan.first as usize + k)?);
            }
            audit::record(
                c,
                ctx,
                "pool.seeded",
                "round",
                plan.round_id,
                serde_json::json!({
                    "rows": batch.len(),
                    "first_id": batch.first(),
                    "last_id": batch.last(),
                    "purpose": "demo or benchmark data",
                }),
            )?;
            Ok(batch)
        })?;
        ids.extend(batch);
        done += size;
    }
    Ok(ids)
}

/// Institution `n` with a teacher and an application of `status`: (institution, application,
/// approved items).
fn seed_one(
    conn: &mut DbConn,
    ctx: &Ctx,
    plan: &SeedPlan,
    n: usize,
    status: &str,
) -> ApiResult<(i64, i64, Vec<String>)> {
    let now = db_time(ctx.now);
    let serial = u32::try_from(n).unwrap_or(u32::MAX);
    let items = items_of(n);
    let category = items
        .first()
        .and_then(|c| c.split('.').next())
        .unwrap_or("sports")
        .to_owned();
    let (district, road) = DISTRICTS[n % DISTRICTS.len()];
    let combos = TRADES.len() * PREFIXES.len();
    let name = format!(
        "{}{}{}{}",
        PREFIXES[(n / TRADES.len()) % PREFIXES.len()],
        TRADES[n % TRADES.len()],
        brand(&category, n / 3),
        BRANCHES[(n / combos) % BRANCHES.len()],
    );
    let person = format!("{}经理", SURNAMES[n % SURNAMES.len()]);
    let institution_id: i64 = diesel::insert_into(institutions::table)
        .values((
            institutions::name.eq(&name),
            institutions::uscc.eq(uscc(serial)),
            institutions::entity_type.eq("private_non_enterprise_unit"),
            institutions::created_at.eq(now),
            institutions::updated_at.eq(now),
            institutions::registration_kind.eq(Some("private_non_enterprise_certificate")),
            institutions::registration_number.eq(Some(format!("民证字第4501{n:06}号"))),
            institutions::issuing_authority.eq(Some("南宁市民政局")),
            institutions::authority_level.eq(Some("city")),
            institutions::registered_address
                .eq(Some(format!("南宁市{district}{road}{}号", 1 + n % 300))),
            institutions::district.eq(Some(district)),
            institutions::legal_rep_name.eq(Some(format!("{}先生", SURNAMES[(n + 3) % 12]))),
            institutions::legal_rep_id_kind.eq(Some("resident_id")),
            institutions::legal_rep_id_number.eq(Some(resident_id(serial * 2))),
            institutions::contact_person.eq(Some(person)),
            institutions::contact_mobile.eq(Some(format!("1377{:07}", n % 10_000_000))),
            institutions::contact_email.eq(Some(format!("contact{n}@pool.example.cn"))),
        ))
        .returning(institutions::id)
        .get_result(conn)?;
    // Two passed annual inspections for the two years before today (the admission rule), so a
    // demo started on any date has no member the 30 June sweep or the June reminder concerns.
    let year = chrono::Datelike::year(&crate::clock::beijing_date(ctx.now));
    for year in [year - 2, year - 1] {
        diesel::insert_into(inspections::table)
            .values((
                inspections::institution_id.eq(institution_id),
                inspections::year.eq(year),
                inspections::result.eq("passed"),
                inspections::authority.eq("南宁市民政局"),
                inspections::created_at.eq(now),
                inspections::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    let credentials = serde_json::json!([{
        "kind": "teacher_qualification",
        "number": format!("2012450021{:07}", n % 10_000_000),
        "issuer": "南宁市教育局",
        "issued_on": "2012-07-01",
        "expires_on": null,
        "level": null,
    }]);
    let items_json = serde_json::to_string(&items).unwrap_or_else(|_| "[]".into());
    let teacher_id: i64 = diesel::insert_into(teachers::table)
        .values((
            teachers::institution_id.eq(institution_id),
            teachers::name.eq(format!("{}老师", SURNAMES[(n + 5) % 12])),
            teachers::id_kind.eq("resident_id"),
            teachers::id_number.eq(resident_id(serial * 2 + 1)),
            teachers::credentials.eq(credentials.to_string()),
            teachers::specialities.eq(&items_json),
            teachers::criminal_check_date.eq(Some(plan.valid_from - chrono::Duration::days(60))),
            teachers::criminal_check_result.eq(Some("clean")),
            teachers::criminal_check_issuer.eq(Some("南宁市公安局")),
            teachers::created_at.eq(now),
            teachers::updated_at.eq(now),
        ))
        .returning(teachers::id)
        .get_result(conn)?;
    let application_id: i64 = diesel::insert_into(applications::table)
        .values((
            applications::institution_id.eq(institution_id),
            applications::round_id.eq(plan.round_id),
            applications::status.eq(status),
            applications::proposed_items.eq(&items_json),
            applications::approved_items.eq(Some(&items_json)),
            applications::service_plan.eq("每周两至三次课后服务，专职教师授课，配备安全员"),
            applications::teacher_ids.eq(format!("[{teacher_id}]")),
            applications::document_ids.eq("[]"),
            applications::pledge_signed.eq(true),
            applications::submitted_at.eq(Some(now)),
            applications::decided_at.eq(Some(now)),
            applications::created_at.eq(now),
            applications::updated_at.eq(now),
        ))
        .returning(applications::id)
        .get_result(conn)?;
    Ok((institution_id, application_id, items))
}

/// Inserts an active pool entry and its `pool_items` rows; returns the entry id. (For seeding
/// and tests; admission has its own path.)
#[allow(clippy::too_many_arguments)]
pub fn insert_entry(
    conn: &mut DbConn,
    institution_id: i64,
    application_id: i64,
    round_id: i64,
    items: &[String],
    valid_from: NaiveDate,
    valid_until: NaiveDate,
    ctx: &Ctx,
) -> ApiResult<i64> {
    let now = db_time(ctx.now);
    let entry_id: i64 = diesel::insert_into(pool_entries::table)
        .values((
            pool_entries::institution_id.eq(institution_id),
            pool_entries::application_id.eq(application_id),
            pool_entries::round_id.eq(round_id),
            pool_entries::items.eq(serde_json::to_string(items).unwrap_or_else(|_| "[]".into())),
            pool_entries::status.eq(EntryStatus::Active.as_str()),
            pool_entries::valid_from.eq(valid_from),
            pool_entries::valid_until.eq(valid_until),
            pool_entries::admitted_at.eq(now),
            pool_entries::updated_at.eq(now),
        ))
        .returning(pool_entries::id)
        .get_result(conn)?;
    for code in items {
        diesel::insert_into(pool_items::table)
            .values((
                pool_items::entry_id.eq(entry_id),
                pool_items::code.eq(code),
                pool_items::category.eq(crate::catalogue::category_of(code)),
            ))
            .execute(conn)?;
    }
    // Seeded members are admissions like any other: one pool version each.
    crate::pool::versions::record(
        conn,
        ctx,
        crate::pool::versions::PoolChange::Admitted,
        entry_id,
    )?;
    Ok(entry_id)
}

/// Demo contracts: every `every`-th seeded entry gets a contract with `school_id` running from
/// the previous school year to the end of the current one (31 August), and one evaluation for each of the three
/// terms begun so far (some institutions score low, so the reviewers' flag shows). Returns how
/// many contracts it made.
pub fn seed_contracts(
    conn: &mut DbConn,
    ctx: &Ctx,
    school_id: i64,
    entry_ids: &[i64],
    every: usize,
) -> ApiResult<usize> {
    use crate::contracts::term::{Term, latest_end, school_year_of};
    use crate::db::schema::{contracts, evaluations};
    let today = crate::clock::beijing_date(ctx.now);
    let year = school_year_of(today);
    let starts_on = NaiveDate::from_ymd_opt(year - 1, 9, 1).unwrap_or(today);
    // The longest term allowed (two school years, to 31 August): still running on any date
    // of the current school year, summer included, so no demo contract ends at start-up.
    let ends_on = latest_end(starts_on);
    let terms = [
        Term {
            year: year - 1,
            half: 1,
        },
        Term {
            year: year - 1,
            half: 2,
        },
        Term { year, half: 1 },
    ];
    let now = db_time(ctx.now);
    db::write_tx(conn, |c| -> ApiResult<usize> {
        let mut made = 0;
        for (k, entry_id) in entry_ids.iter().step_by(every.max(1)).enumerate() {
            let (institution_id, items): (i64, String) = pool_entries::table
                .find(entry_id)
                .select((pool_entries::institution_id, pool_entries::items))
                .first(c)?;
            let contract_id: i64 = diesel::insert_into(contracts::table)
                .values((
                    contracts::school_id.eq(school_id),
                    contracts::institution_id.eq(institution_id),
                    contracts::pool_entry_id.eq(entry_id),
                    contracts::items.eq(&items),
                    contracts::starts_on.eq(starts_on),
                    contracts::ends_on.eq(ends_on),
                    contracts::status.eq(ContractStatus::Active.as_str()),
                    contracts::created_at.eq(now),
                    contracts::updated_at.eq(now),
                ))
                .returning(contracts::id)
                .get_result(c)?;
            // Every fourth institution disappoints (standing about 2.3, under the threshold).
            let base: i32 = if k % 4 == 3 { 2 } else { 4 };
            for (t, term) in terms.iter().enumerate() {
                let bump = i32::from(t == 1);
                diesel::insert_into(evaluations::table)
                    .values((
                        evaluations::contract_id.eq(contract_id),
                        evaluations::institution_id.eq(institution_id),
                        evaluations::term.eq(term.to_string()),
                        evaluations::quality.eq(base + bump),
                        evaluations::safety.eq(base),
                        evaluations::punctuality.eq((base + 1 - bump).min(5)),
                        evaluations::comment.eq(if base > 2 {
                            "课程丰富，学生积极参与"
                        } else {
                            "教师多次迟到，需整改"
                        }),
                        evaluations::created_at.eq(now),
                    ))
                    .execute(c)?;
            }
            made += 1;
        }
        audit::record(
            c,
            ctx,
            "contracts.seeded",
            "school",
            school_id,
            serde_json::json!({ "contracts": made, "evaluations_each": terms.len(), "purpose": "demo data" }),
        )?;
        Ok(made)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Uscc;

    #[test]
    fn seeded_codes_are_valid_and_distinct() {
        let codes: Vec<String> = (0..3000).map(uscc).collect();
        for c in &codes {
            assert!(Uscc::parse(c).is_ok(), "{c}");
        }
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), codes.len());
    }

    #[test]
    fn items_cover_every_category_and_never_an_academic_subject() {
        let catalogue = Catalogue::get();
        let mut seen = std::collections::HashSet::new();
        for n in 0..300 {
            let items = items_of(n);
            assert!(!items.is_empty());
            for i in items {
                assert!(catalogue.activity(&i).is_ok(), "{i}");
                seen.insert(i.split('.').next().unwrap().to_owned());
            }
        }
        assert_eq!(seen.len(), catalogue.categories.len());
    }
}
