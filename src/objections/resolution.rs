//! Resolving an objection (a reviewer): upheld rejects the application, dismissed lets it be
//! admitted at once when the window is over and nothing else holds it back.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ObjectionOutcome)]
pub enum Outcome {
    Upheld,
    Dismissed,
}

impl Outcome {
    fn event(self) -> objection_status::Event {
        match self {
            Self::Upheld => objection_status::Event::Uphold,
            Self::Dismissed => objection_status::Event::Dismiss,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Upheld => ObjectionStatus::Upheld.as_str(),
            Self::Dismissed => ObjectionStatus::Dismissed.as_str(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    pub outcome: Outcome,
    #[validate(length(min = 1, max = 5000))]
    pub reasons: String,
}

/// What a resolution did to the application.
#[derive(Debug, Serialize, ToSchema)]
pub struct Resolved {
    pub objection: Objection,
    /// The application's status afterwards.
    pub application_status: Status,
    /// The pool entry created when a dismissal after the window admitted the application.
    pub pool_entry_id: Option<i64>,
}

/// Resolves a pending objection. Upheld: the application is rejected (from `in_notice`,
/// compare-and-set). Dismissed: if the window is over and no other objection is pending or
/// upheld, the application is admitted now.
pub fn resolve(
    conn: &mut DbConn,
    reviewer: &AuthUser,
    ctx: &Ctx,
    id: i64,
    req: &Resolution,
) -> ApiResult<Resolved> {
    let row: Row = objections::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("异议", "objection"))?;
    let reasons = req.reasons.trim();
    if reasons.is_empty() {
        return Err(ApiError::validation(vec![FieldIssue::new(
            "reasons",
            "reasons_required",
            Msg::new("请填写理由。", "Reasons are required."),
        )]));
    }
    let now = db_time(ctx.now);
    objection_status::resolve(conn, id, req.outcome.event(), reasons, reviewer.id, now)?;
    let app = app_facts(conn, row.application_id)?;
    let mut pool_entry_id = None;
    match req.outcome {
        Outcome::Upheld => {
            if app.status == Status::InNotice {
                applications_service::transition(
                    conn,
                    app.id,
                    Status::InNotice,
                    Event::Reject,
                    now,
                )?;
                diesel::update(applications::table.find(app.id))
                    .set((
                        applications::decided_at.eq(Some(now)),
                        applications::decided_by.eq(Some(reviewer.id)),
                    ))
                    .execute(conn)?;
                audit::record(
                    conn,
                    ctx,
                    "application.rejected",
                    "application",
                    app.id,
                    serde_json::json!({
                        "reason": "objection_upheld", "objection_id": id,
                        "institution_id": app.institution_id,
                    }),
                )?;
                crate::mail::outbox::record(
                    conn,
                    ctx.now,
                    crate::mail::outbox::Event::ApplicationRejected {
                        application_id: app.id,
                        reasons: format!("公示期间的异议经核查成立：{}", req.reasons.trim()),
                        cause: format!("objection_upheld:{id}"),
                    },
                )?;
            }
        }
        Outcome::Dismissed => {
            if app.status == Status::InNotice
                && notices::window_over(conn, row.notice_id, ctx.now)?
                && !admission::has_blocking_objection(conn, app.id)?
            {
                pool_entry_id = Some(admission::admit(conn, ctx, app.id)?);
            }
        }
    }
    audit::record(
        conn,
        ctx,
        "objection.resolved",
        "objection",
        id,
        serde_json::json!({
            "outcome": req.outcome.as_str(), "application_id": app.id,
            "notice_id": row.notice_id, "pool_entry_id": pool_entry_id,
        }),
    )?;
    crate::mail::outbox::record(
        conn,
        ctx.now,
        crate::mail::outbox::Event::ObjectionResolved { objection_id: id },
    )?;
    let objection: Objection = objections::table
        .find(id)
        .select(Row::as_select())
        .first(conn)?
        .into();
    let application_status = app_facts(conn, app.id)?.status;
    Ok(Resolved {
        objection,
        application_status,
        pool_entry_id,
    })
}
