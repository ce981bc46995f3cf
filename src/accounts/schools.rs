//! School records, which school accounts belong to; created by administrators.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::audit;
use crate::auth::Ctx;
use crate::db::schema::schools;
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = schools)]
pub struct School {
    pub id: i64,
    pub name: String,
    pub code: String,
    pub district: String,
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateSchoolRequest {
    #[validate(length(min = 2, max = 200))]
    pub name: String,
    /// The school's identification code (学校标识码), unique.
    #[validate(length(min = 1, max = 40))]
    pub code: String,
    #[validate(length(min = 1, max = 100))]
    pub district: String,
}

pub fn create_school(conn: &mut DbConn, ctx: &Ctx, req: &CreateSchoolRequest) -> ApiResult<School> {
    let id: i64 = diesel::insert_into(schools::table)
        .values((
            schools::name.eq(req.name.trim()),
            schools::code.eq(req.code.trim()),
            schools::district.eq(req.district.trim()),
            schools::created_at.eq(db_time(ctx.now)),
        ))
        .returning(schools::id)
        .get_result(conn)
        .map_err(ApiError::on_unique(ApiError::conflict(
            "school_code_taken",
            "该学校代码已存在。",
            "A school with this code already exists.",
        )))?;
    audit::record(
        conn,
        ctx,
        "school.created",
        "school",
        id,
        serde_json::json!({"name": req.name.trim(), "code": req.code.trim()}),
    )?;
    Ok(schools::table
        .find(id)
        .select(School::as_select())
        .first(conn)?)
}

pub fn list_schools(conn: &mut DbConn) -> ApiResult<Vec<School>> {
    Ok(schools::table
        .order(schools::name.asc())
        .select(School::as_select())
        .load(conn)?)
}
