//! Demo data for `serve --demo`: on an empty database, one account per role, printed with
//! their passwords so anyone can try the service at once.

use diesel::prelude::*;

mod story;

use crate::accounts::service::{self, CreateSchoolRequest, CreateUserRequest};
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
    db::write_tx(&mut conn, |c| -> crate::error::ApiResult<()> {
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
            service::create_user(
                c,
                &ctx,
                &CreateUserRequest {
                    email: email.into(),
                    password: DEMO_PASSWORD.into(),
                    role,
                    display_name: name.into(),
                    school_id,
                },
            )?;
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
        for persona in story::PERSONAS.iter().enumerate() {
            story::build(c, state, &ctx, round.id, persona, DEMO_PASSWORD)?;
        }
        Ok(())
    })
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
