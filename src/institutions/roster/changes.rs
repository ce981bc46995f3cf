//! Changes to the roster: adding a teacher, editing one, taking one off (kept for history).

use super::*;

/// Adds a teacher to the roster.
pub fn create_teacher(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    req: &TeacherInput,
) -> ApiResult<Teacher> {
    let today = beijing_date(ctx.now);
    let fields = req.parse(None, today).map_err(ApiError::validation)?;
    let now = db_time(ctx.now);
    let check = fields.criminal_check.as_ref();
    let id: i64 = diesel::insert_into(teachers::table)
        .values((
            teachers::institution_id.eq(institution_id),
            teachers::name.eq(&fields.name),
            teachers::id_kind.eq(fields.identity.kind().as_str()),
            teachers::id_number.eq(fields.identity.as_str()),
            teachers::credentials.eq(fields.stored_credentials()?),
            teachers::specialities.eq(fields.stored_specialities()?),
            teachers::criminal_check_date.eq(check.map(|c| c.date)),
            teachers::criminal_check_result.eq(check.map(|c| c.result.as_str())),
            teachers::criminal_check_issuer.eq(check.map(|c| c.issuer.as_str())),
            teachers::created_at.eq(now),
            teachers::updated_at.eq(now),
        ))
        .returning(teachers::id)
        .get_result(conn)?;
    audit::record(
        conn,
        ctx,
        "teacher.created",
        "teacher",
        id,
        fields.summary(institution_id),
    )?;
    teacher(conn, institution_id, id, today)
}

/// Replaces a teacher's data.
pub fn update_teacher(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    teacher_id: i64,
    req: &TeacherInput,
) -> ApiResult<Teacher> {
    let today = beijing_date(ctx.now);
    let current = teacher(conn, institution_id, teacher_id, today)?;
    let fields = req
        .parse(Some(&current.identity), today)
        .map_err(ApiError::validation)?;
    let check = fields.criminal_check.as_ref();
    let changed = diesel::update(
        teachers::table
            .filter(teachers::id.eq(teacher_id))
            .filter(teachers::institution_id.eq(institution_id))
            .filter(teachers::removed_at.is_null()),
    )
    .set((
        teachers::name.eq(&fields.name),
        teachers::id_kind.eq(fields.identity.kind().as_str()),
        teachers::id_number.eq(fields.identity.as_str()),
        teachers::credentials.eq(fields.stored_credentials()?),
        teachers::specialities.eq(fields.stored_specialities()?),
        teachers::criminal_check_date.eq(check.map(|c| c.date)),
        teachers::criminal_check_result.eq(check.map(|c| c.result.as_str())),
        teachers::criminal_check_issuer.eq(check.map(|c| c.issuer.as_str())),
        teachers::updated_at.eq(db_time(ctx.now)),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(teacher_not_found());
    }
    audit::record(
        conn,
        ctx,
        "teacher.updated",
        "teacher",
        teacher_id,
        fields.summary(institution_id),
    )?;
    teacher(conn, institution_id, teacher_id, today)
}

/// Takes a teacher off the roster. The row stays (with `removed_at`) so applications that
/// named the teacher keep their history.
pub fn remove_teacher(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    teacher_id: i64,
) -> ApiResult<()> {
    let changed = diesel::update(
        teachers::table
            .filter(teachers::id.eq(teacher_id))
            .filter(teachers::institution_id.eq(institution_id))
            .filter(teachers::removed_at.is_null()),
    )
    .set((
        teachers::removed_at.eq(db_time(ctx.now)),
        teachers::updated_at.eq(db_time(ctx.now)),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(teacher_not_found());
    }
    audit::record(
        conn,
        ctx,
        "teacher.removed",
        "teacher",
        teacher_id,
        serde_json::json!({ "institution_id": institution_id }),
    )?;
    Ok(())
}
