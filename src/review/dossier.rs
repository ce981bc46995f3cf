//! The dossier a reviewer reads before deciding: the application, the institution's profile,
//! roster and inspections, and its documents' text.

use super::*;

/// The merged PDF's extracted text, page by page.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergedPdf {
    pub document_id: i64,
    pub filename: String,
    pub text_status: Option<crate::pdf::Status>,
    pub pages: Vec<PageText>,
}

/// Everything a reviewer reads before deciding.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dossier {
    pub application: Application,
    /// The submission checks' findings at the last submission (warnings are the flags for the
    /// reviewer: intangible-heritage inheritors, credit codes registered elsewhere, …).
    pub findings: Outcome,
    pub merged_pdf: Option<MergedPdf>,
    /// The application's teachers with their credentials and criminal-record checks (identity
    /// numbers masked).
    pub teachers: Vec<Teacher>,
    pub inspections: Vec<Inspection>,
    /// Earlier decisions, oldest first.
    pub decisions: Vec<Decision>,
    /// Objections filed against it during its notice, with the objectors' details.
    pub objections: Vec<crate::objections::Objection>,
    /// The institution's profile (the legal representative's identity number masked).
    pub profile: institutions_service::Profile,
    /// Re-registration flags: the application's legal representative or teachers found in the
    /// records of an institution under an active ban — which one, and as what.
    pub re_registration: Vec<crate::sanctions::bans::BanLink>,
    /// The institution's evaluation standing from schools (shown from 3 evaluations).
    pub standing: Option<crate::pool::search::Standing>,
}

pub fn dossier(conn: &mut DbConn, user: &AuthUser, ctx: &Ctx, id: i64) -> ApiResult<Dossier> {
    let application = applications_service::get(conn, user, id)?;
    let app = app_facts(conn, id)?;
    let today = beijing_date(ctx.now);
    let findings = app
        .findings
        .as_deref()
        .map(crate::db::json_text::decode::<Outcome>)
        .transpose()?
        .unwrap_or_default();
    let documents = docs::of_institution(conn, app.institution_id, &app.document_ids)?;
    let merged_pdf = match documents
        .into_iter()
        .find(|d| d.kind == docs::DocumentKind::MergedPdf)
    {
        Some(d) => Some(MergedPdf {
            pages: docs::pages_of(conn, d.id)?,
            document_id: d.id,
            filename: d.filename,
            text_status: d.text_status,
        }),
        None => None,
    };
    let teachers: Vec<Teacher> =
        institutions_service::active_teachers(conn, app.institution_id, today)?
            .into_iter()
            .filter(|t| app.teacher_ids.contains(&t.id))
            .collect();
    let profile = institutions_service::profile(conn, app.institution_id, today)?;
    let re_registration = re_registration(conn, app.institution_id, &profile, &teachers, today)?;
    let standing = crate::pool::search::standing_of(conn, app.institution_id)?;
    let inspections = institutions_service::inspections(conn, app.institution_id)?;
    let decisions = decisions::table
        .filter(decisions::application_id.eq(id))
        .order(decisions::id.asc())
        .select((
            decisions::id,
            decisions::application_id,
            decisions::reviewer_id,
            decisions::kind,
            decisions::approved_items,
            decisions::reasons,
            decisions::deadline,
            decisions::created_at,
        ))
        .load::<DecisionRow>(conn)?
        .into_iter()
        .map(decision_view)
        .collect();
    let objections = crate::objections::of_application(conn, id)?;
    Ok(Dossier {
        application,
        findings,
        merged_pdf,
        teachers,
        inspections,
        decisions,
        objections,
        profile,
        re_registration,
        standing,
    })
}

/// The application's people found in banned institutions' records (numbers compared inside
/// the sanctions capability, never returned).
fn re_registration(
    conn: &mut DbConn,
    institution_id: i64,
    profile: &institutions_service::Profile,
    teachers: &[Teacher],
    today: NaiveDate,
) -> ApiResult<Vec<crate::sanctions::bans::BanLink>> {
    use crate::sanctions::bans::{MatchedAs, Person};
    let mut people: Vec<Person<'_>> = teachers
        .iter()
        .map(|t| Person {
            name: &t.name,
            role: MatchedAs::Teacher,
            number: t.identity.expose_number(),
        })
        .collect();
    if let Some(id) = &profile.legal_rep_id {
        people.push(Person {
            name: profile.legal_rep_name.as_deref().unwrap_or_default(),
            role: MatchedAs::LegalRepresentative,
            number: id.expose_number(),
        });
    }
    crate::sanctions::bans::banned_links(conn, institution_id, &people, today)
}
