//! Submission: the facts every check of the selection notice needs, gathered in one place,
//! and the submission that runs them all at once.

use super::*;

/// The facts the submission checks need, gathered in one place.
fn facts(conn: &mut DbConn, row: &Row, ctx: &Ctx, region_prefix: &str) -> ApiResult<Facts> {
    let today = beijing_date(ctx.now);
    let other_live: i64 = applications::table
        .filter(applications::institution_id.eq(row.institution_id))
        .filter(applications::round_id.eq(row.round_id))
        .filter(applications::id.ne(row.id))
        .filter(
            applications::status.eq_any(
                Status::ALL
                    .iter()
                    .filter(|s| s.is_live())
                    .map(|s| s.as_str()),
            ),
        )
        .count()
        .get_result(conn)?;
    // The institution's data comes through its own capability's functions.
    let p = institutions_service::profile(conn, row.institution_id, today)?;
    let profile = ProfileFacts {
        name: p.name,
        uscc: p.uscc,
        entity_type: p.entity_type.as_str().to_owned(),
        registration_kind: p.registration_kind.map(|k| k.as_str().to_owned()),
        registration_number: p.registration_number,
        issuing_authority: p.issuing_authority,
        authority_level: p.authority_level.map(|l| l.as_str().to_owned()),
        registered_address: p.registered_address,
        district: p.district,
        legal_rep_name: p.legal_rep_name,
        legal_rep_id_kind: p
            .legal_rep_id
            .as_ref()
            .map(|id| id.kind().as_str().to_owned()),
        legal_rep_id_number: p
            .legal_rep_id
            .as_ref()
            .map(|id| id.expose_number().to_owned()),
        contact_person: p.contact_person,
        contact_mobile: p.contact_mobile,
    };
    let teacher_ids: Vec<i64> = row.teacher_ids.0.clone();
    let roster: Vec<institutions_service::Teacher> =
        institutions_service::active_teachers(conn, row.institution_id, today)?
            .into_iter()
            .filter(|t| teacher_ids.contains(&t.id))
            .collect();
    let elsewhere =
        institutions_service::teachers_on_other_rosters(conn, row.institution_id, &roster)?;
    let unknown_teacher_ids = teacher_ids
        .iter()
        .copied()
        .filter(|id| !roster.iter().any(|t| t.id == *id))
        .collect();
    let teachers: Vec<TeacherFacts> = roster
        .into_iter()
        .map(|t| TeacherFacts {
            on_other_roster: elsewhere.contains(&t.id),
            id: t.id,
            id_kind: t.identity.kind().as_str().to_owned(),
            id_number: t.identity.expose_number().to_owned(),
            credentials: t.credentials.into_iter().map(|c| c.stored).collect(),
            specialities: t.specialities.into_iter().map(|s| s.code).collect(),
            criminal_check_date: t.criminal_check.as_ref().map(|c| c.date),
            criminal_check_result: t
                .criminal_check
                .as_ref()
                .map(|c| c.result.as_str().to_owned()),
            name: t.name,
        })
        .collect();
    let document_ids: Vec<i64> = row.document_ids.0.clone();
    let documents = docs::of_institution(conn, row.institution_id, &document_ids)?;
    let merged_pdf_pages = match documents
        .iter()
        .find(|d| d.kind == docs::DocumentKind::MergedPdf)
    {
        Some(d) => docs::pages_of(conn, d.id)?,
        None => Vec::new(),
    };
    let inspections = institutions_service::inspections(conn, row.institution_id)?
        .into_iter()
        .map(|i| (i.year, i.result.as_str().to_owned()))
        .collect();
    let ban = sanctions::bans::active_ban(conn, &profile.uscc, today)?.map(|b| b.period);
    let blacklist_sources = sanctions::blacklist::sources_listing(conn, &profile.uscc)?;
    let mut numbers: Vec<&str> = teachers.iter().map(|t| t.id_number.as_str()).collect();
    numbers.extend(profile.legal_rep_id_number.as_deref());
    let linked_to_banned_institution =
        sanctions::bans::linked_to_banned(conn, row.institution_id, &numbers, today)?;
    Ok(Facts {
        today,
        other_live_application: other_live > 0,
        profile,
        proposed_items: row.proposed_items.0.clone(),
        service_plan: row.service_plan.clone(),
        pledge_signed: row.pledge_signed,
        teachers,
        unknown_teacher_ids,
        documents: documents
            .into_iter()
            .map(|d| DocumentFacts {
                id: d.id,
                kind: d.kind,
                filename: d.filename,
                text_status: d.text_status,
            })
            .collect(),
        merged_pdf_pages,
        inspections,
        criminal_check_max_age_days: CRIMINAL_CHECK_MAX_AGE_DAYS,
        region_prefix: region_prefix.to_owned(),
        ban,
        blacklist_sources,
        linked_to_banned_institution,
    })
}

/// Runs every check. With blocking findings nothing changes and the outer result is the 422
/// listing them all; otherwise the application is submitted with its warnings stored.
pub fn submit(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    id: i64,
    region_prefix: &str,
) -> ApiResult<Application> {
    let row = own_row(conn, user, id)?;
    let status = row.status()?;
    status.apply(Event::Submit).map_err(|_| {
        ApiError::conflict(
            "invalid_transition",
            "只有草稿或退回补正的申报可以提交。",
            "Only drafts and returned applications can be submitted.",
        )
    })?;
    // A closed round is the round's state, not a finding about the application: the same 409
    // as at draft creation.
    crate::rounds::get(conn, row.round_id, ctx.now)?.ensure_open()?;
    let outcome = checks::evaluate(&facts(conn, &row, ctx, region_prefix)?);
    if !outcome.blocking.is_empty() {
        let errors = outcome
            .blocking
            .iter()
            .map(|f| {
                FieldIssue::new(
                    f.field.clone(),
                    f.code.clone(),
                    Msg::new(f.message_zh.clone(), f.message_en.clone()),
                )
            })
            .collect();
        return Err(ApiError::rule(
            "submission_blocked",
            format!(
                "申报未通过提交检查，共 {} 项需要处理。",
                outcome.blocking.len()
            ),
            format!(
                "The application failed {} submission checks.",
                outcome.blocking.len()
            ),
        )
        .with_errors(errors)
        .with_extra(
            serde_json::json!({ "blocking": outcome.blocking, "warnings": outcome.warnings }),
        ));
    }
    let now = db_time(ctx.now);
    transition(conn, id, status, Event::Submit, now)?;
    diesel::update(applications::table.find(id))
        .set((
            applications::findings.eq(to_json(&outcome)),
            applications::submitted_at.eq(now),
            applications::return_deadline.eq(None::<NaiveDate>),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        ctx,
        "application.submitted",
        "application",
        id,
        serde_json::json!({
            "from": status.as_str(), "warnings": outcome.warnings.iter().map(|w| &w.code).collect::<Vec<_>>(),
        }),
    )?;
    crate::mail::outbox::record(
        conn,
        ctx.now,
        crate::mail::outbox::Event::ApplicationSubmitted { application_id: id },
    )?;
    let row = load_row(conn, id)?;
    view(conn, row)
}
