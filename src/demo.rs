//! Demo data for `serve --demo`: on an empty database, one account per role, printed with
//! their passwords so anyone can try the service at once; institutions at the intake stages
//! (`story`); and a pool of `DEMO_POOL_SIZE` (default 300) institutions across every activity
//! category so a school can try the search; every tenth has a contract with the demo school and
//! three evaluations (some under the reviewers' flag threshold).

pub mod pool_seed;
mod story;

use diesel::prelude::*;

use crate::accounts::{self as service, CreateSchoolRequest, CreateUserRequest};
use crate::app::AppState;
use crate::auth::{Ctx, Role};
use crate::db::{self, schema::users};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "demo-password-2026";

pub fn load(state: &AppState) -> anyhow::Result<()> {
    let mut conn = state.pool.get()?;
    let existing: i64 = users::table.count().get_result(&mut conn)?;
    if existing > 0 {
        println!("demo: the database already has accounts; demo data not loaded");
        return Ok(());
    }
    let ctx = Ctx::system(state.clock.now());
    let round = db::write_tx(
        &mut conn,
        |c| -> crate::error::ApiResult<crate::rounds::Round> {
            let school = service::create_school(
                c,
                &ctx,
                &CreateSchoolRequest {
                    name: "南宁市青秀区示范小学".into(),
                    code: "2145010001".into(),
                    district: "青秀区".into(),
                },
            )?;
            for (email, role, name, school_id) in [
                ("admin@demo.local", Role::Admin, "系统管理员", None),
                ("reviewer@demo.local", Role::Reviewer, "审核员 李老师", None),
                (
                    "school@demo.local",
                    Role::School,
                    "示范小学 教务处",
                    Some(school.id),
                ),
            ] {
                // At start-up, before any request: hashing inside this transaction makes no
                // one wait.
                let user = service::prepare_user(&CreateUserRequest {
                    email: email.into(),
                    password: DEMO_PASSWORD.into(),
                    role,
                    display_name: name.into(),
                    school_id,
                })?;
                service::create_user(c, &ctx, &user)?;
            }
            let today = crate::clock::beijing_date(ctx.now);
            let round = crate::rounds::create(
                c,
                &ctx,
                &crate::rounds::NewRound {
                    name: "课后服务第三方机构遴选（演示批次）".into(),
                    opens_at: ctx.now - chrono::Duration::days(1),
                    closes_at: ctx.now + chrono::Duration::days(60),
                    pool_valid_from: today,
                    pool_valid_until: today + chrono::Duration::days(730),
                },
            )?;
            let reviewer = story::user_by_email(c, "reviewer@demo.local")?;
            let mut approved = Vec::new();
            for persona in story::PERSONAS.iter().enumerate() {
                let id = story::build(
                    c,
                    state,
                    (&ctx, &reviewer),
                    round.id,
                    persona,
                    DEMO_PASSWORD,
                )?;
                if persona.1.stage == story::Stage::InNotice {
                    approved.push(id);
                }
            }
            story::publish(c, (&ctx, &reviewer), approved)?;
            Ok(round)
        },
    )
    .map_err(|e| {
        let problem = e.problem();
        let findings: Vec<String> = problem
            .errors
            .iter()
            .map(|issue| format!("{} ({})", issue.code, issue.field))
            .collect();
        anyhow::anyhow!(
            "cannot load demo data: {} {}",
            problem.detail.en,
            findings.join(", ")
        )
    })?;
    let size = pool_size()?;
    let started = std::time::Instant::now();
    let entries = crate::demo::pool_seed::seed(
        &mut conn,
        &ctx,
        &crate::demo::pool_seed::SeedPlan {
            round_id: round.id,
            count: size,
            first: 1,
            valid_from: round.pool_valid_from,
            valid_until: round.pool_valid_until,
        },
    )
    .map_err(|e| anyhow::anyhow!("cannot seed the demo pool: {}", e.problem().detail.en))
    .and_then(|entries| {
        let school: i64 = crate::db::schema::schools::table
            .select(crate::db::schema::schools::id)
            .first(&mut conn)?;
        crate::demo::pool_seed::seed_contracts(&mut conn, &ctx, school, &entries, 10).map_err(
            |e| anyhow::anyhow!("cannot seed demo contracts: {}", e.problem().detail.en),
        )?;
        Ok(entries)
    })?;
    if let Some(&entry) = entries.get(1) {
        db::write_tx(&mut conn, |c| exit_case(c, &ctx, entry)).map_err(|e| {
            anyhow::anyhow!("cannot open the demo exit case: {}", e.problem().detail.en)
        })?;
    }
    println!(
        "demo pool: {size} institutions seeded in {} ms (GET /api/v1/pool?category=sports)",
        started.elapsed().as_millis()
    );
    println!(
        "demo data loaded; sign in with POST /api/v1/auth/login using password `{DEMO_PASSWORD}` and:"
    );
    for (role, email) in [
        ("admin", "admin@demo.local"),
        ("reviewer", "reviewer@demo.local"),
        ("school", "school@demo.local"),
        ("institution", "institution@demo.local"),
    ] {
        println!("  {role:<12} {email}");
    }
    Ok(())
}

/// A reviewer's open exit case against the institution of pool entry `entry`, so the exit
/// workflow (statement of defence, decision) can be tried at once.
fn exit_case(conn: &mut crate::db::DbConn, ctx: &Ctx, entry: i64) -> crate::error::ApiResult<()> {
    let institution_id: i64 = crate::db::schema::pool_entries::table
        .find(entry)
        .select(crate::db::schema::pool_entries::institution_id)
        .first(conn)?;
    let reviewer = story::user_by_email(conn, "reviewer@demo.local")?;
    let case: crate::exits::NewCase = serde_json::from_value(serde_json::json!({
        "institution_id": institution_id,
        "grounds": ["service_mismatch"],
        "statement": "学校反映本学期课程内容与协议约定的课程明显不符，多次调整课表未提前告知。",
    }))
    .map_err(|e| crate::error::ApiError::Internal(e.into()))?;
    crate::exits::create(conn, &reviewer, ctx, &case)?;
    Ok(())
}

/// `DEMO_POOL_SIZE`: institutions in the demo pool (default 300; the benchmark uses 2000).
fn pool_size() -> anyhow::Result<usize> {
    match std::env::var("DEMO_POOL_SIZE") {
        Err(_) => Ok(300),
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= 100_000)
            .ok_or_else(|| anyhow::anyhow!("DEMO_POOL_SIZE must be a whole number up to 100000")),
    }
}
