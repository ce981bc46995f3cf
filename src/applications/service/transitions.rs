//! Moving applications along the state machine (compare-and-set on the expected status), and
//! withdrawal.

use super::*;

/// Moves an application along the state machine with compare-and-set on its current status.
pub fn transition(
    conn: &mut DbConn,
    id: i64,
    from: Status,
    event: Event,
    now: NaiveDateTime,
) -> ApiResult<Status> {
    transition_many(conn, &[id], from, event, now)
}

/// Moves applications along the state machine in one statement: all of `ids` move from `from`,
/// or none (a conflict when any of them changed meanwhile; the caller's transaction rolls
/// back). A second live application of an institution in a round (the unique index) is 409
/// `duplicate_application`.
pub fn transition_many(
    conn: &mut DbConn,
    ids: &[i64],
    from: Status,
    event: Event,
    now: NaiveDateTime,
) -> ApiResult<Status> {
    let to = from.apply(event).map_err(invalid_transition)?;
    let changed = diesel::update(
        applications::table
            .filter(applications::id.eq_any(ids))
            .filter(applications::status.eq(from.as_str())),
    )
    .set((
        applications::status.eq(to.as_str()),
        applications::updated_at.eq(now),
    ))
    .execute(conn)
    .map_err(ApiError::on_unique(ApiError::conflict(
        "duplicate_application",
        "本机构在该批次已有一份在办申报。",
        "The institution already has a live application in this round.",
    )))?;
    if changed != ids.len() {
        return Err(changed_meanwhile());
    }
    Ok(to)
}

pub fn withdraw(conn: &mut DbConn, user: &AuthUser, ctx: &Ctx, id: i64) -> ApiResult<Application> {
    let row = own_row(conn, user, id)?;
    let from = row.status()?;
    transition(conn, id, from, Event::Withdraw, db_time(ctx.now))?;
    audit::record(
        conn,
        ctx,
        "application.withdrawn",
        "application",
        id,
        serde_json::json!({ "from": from.as_str() }),
    )?;
    let row = load_row(conn, id)?;
    view(conn, row)
}
