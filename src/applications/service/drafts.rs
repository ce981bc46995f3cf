//! Drafts: creating an application in an open round and editing it before submission.

use super::*;

/// Creates a draft in an open round.
pub fn create(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    req: &NewApplication,
) -> ApiResult<Application> {
    let institution_id = user.institution_id.ok_or_else(ApiError::forbidden)?;
    crate::rounds::get(conn, req.round_id, ctx.now)?.ensure_open()?;
    check_content(conn, institution_id, &req.content)?;
    let c = &req.content;
    let now = db_time(ctx.now);
    let id: i64 = diesel::insert_into(applications::table)
        .values((
            applications::institution_id.eq(institution_id),
            applications::round_id.eq(req.round_id),
            applications::status.eq(Status::Draft.as_str()),
            applications::proposed_items.eq(to_json(&c.proposed_items)),
            applications::service_plan.eq(&c.service_plan),
            applications::teacher_ids.eq(to_json(&c.teacher_ids)),
            applications::document_ids.eq(to_json(&c.document_ids)),
            applications::pledge_signed.eq(c.pledge_signed),
            applications::created_at.eq(now),
            applications::updated_at.eq(now),
        ))
        .returning(applications::id)
        .get_result(conn)?;
    audit::record(
        conn,
        ctx,
        "application.created",
        "application",
        id,
        serde_json::json!({ "round_id": req.round_id, "proposed_items": c.proposed_items }),
    )?;
    let row = load_row(conn, id)?;
    view(conn, row)
}

/// Replaces the content of a draft or returned application.
pub fn update(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    id: i64,
    c: &ApplicationContent,
) -> ApiResult<Application> {
    let row = own_row(conn, user, id)?;
    let status = row.status()?;
    if !status.is_editable() {
        return Err(ApiError::conflict(
            "application_not_editable",
            "只有草稿或退回补正的申报可以修改。",
            "Only drafts and returned applications can be edited.",
        ));
    }
    check_content(conn, row.institution_id, c)?;
    let changed = diesel::update(
        applications::table
            .find(id)
            .filter(applications::status.eq(status.as_str())),
    )
    .set((
        applications::proposed_items.eq(to_json(&c.proposed_items)),
        applications::service_plan.eq(&c.service_plan),
        applications::teacher_ids.eq(to_json(&c.teacher_ids)),
        applications::document_ids.eq(to_json(&c.document_ids)),
        applications::pledge_signed.eq(c.pledge_signed),
        applications::updated_at.eq(db_time(ctx.now)),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(changed_meanwhile());
    }
    audit::record(
        conn,
        ctx,
        "application.updated",
        "application",
        id,
        serde_json::json!({ "proposed_items": c.proposed_items, "teacher_ids": c.teacher_ids, "document_ids": c.document_ids }),
    )?;
    let row = load_row(conn, id)?;
    view(conn, row)
}
