//! Lists and history: what a user may see of the applications, newest first.

use super::*;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub round_id: Option<i64>,
    /// A category (`sports`) or item (`sports.basketball`) among the proposed items.
    pub category: Option<String>,
    pub district: Option<String>,
    /// Only applications with (true) or without (false) warnings for the reviewer.
    pub flagged: Option<bool>,
}

/// An institution's own applications, or (staff) all, filtered, newest first.
pub fn list(
    conn: &mut DbConn,
    user: &AuthUser,
    filter: &ListFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(Vec<Application>, i64)> {
    if let Some(c) = &filter.category
        && !Catalogue::get().is_filter(c)
    {
        return Err(ApiError::validation(vec![FieldIssue::new(
            "category",
            "unknown_category",
            Msg::new("未知的活动类别。", "Unknown category."),
        )]));
    }
    let query = || {
        let mut q = applications::table
            .inner_join(institutions::table)
            .into_boxed();
        if let Scope::Institution(own) = user.scope() {
            q = q.filter(applications::institution_id.eq(own));
        }
        if let Some(s) = filter.status {
            q = q.filter(applications::status.eq(s.as_str()));
        }
        if let Some(r) = filter.round_id {
            q = q.filter(applications::round_id.eq(r));
        }
        if let Some(c) = &filter.category {
            // Items are stored as a JSON array of codes: match `"sports.` or `"sports.x"`.
            let pattern = if c.contains('.') {
                format!("%\"{c}\"%")
            } else {
                format!("%\"{c}.%")
            };
            q = q.filter(applications::proposed_items.like(pattern));
        }
        if let Some(d) = &filter.district {
            q = q.filter(institutions::district.eq(d.clone()));
        }
        match filter.flagged {
            Some(true) => q = q.filter(applications::findings.like("%\"warnings\":[{%")),
            Some(false) => {
                q = q.filter(
                    applications::findings
                        .is_null()
                        .or(applications::findings.not_like("%\"warnings\":[{%")),
                )
            }
            None => {}
        }
        q
    };
    let total = query().count().get_result(conn)?;
    type Named = (Row, (String, String, Option<String>));
    let rows: Vec<Named> = query()
        .order(applications::id.desc())
        .offset(offset)
        .limit(limit)
        .select((
            Row::as_select(),
            (
                institutions::name,
                institutions::uscc,
                institutions::district,
            ),
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|(r, (n, u, d))| r.into_view(n, u, d))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((items, total))
}

/// The application's full history: its audit events, oldest first.
pub fn history(conn: &mut DbConn, user: &AuthUser, id: i64) -> ApiResult<Vec<audit::AuditEvent>> {
    visible_row(conn, user, id)?;
    let filter = audit::AuditFilter {
        entity_type: Some("application".into()),
        entity_id: Some(id.to_string()),
        ..Default::default()
    };
    let (mut events, _) = audit::list(conn, &filter, 0, 1000)?;
    events.reverse();
    Ok(events)
}
