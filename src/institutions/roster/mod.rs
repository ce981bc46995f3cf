//! The teacher roster: teachers with credentials, specialities and criminal-record checks;
//! an institution sees and changes only its own.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::audit;
use crate::auth::Ctx;
use crate::catalogue::Catalogue;
use crate::clock::beijing_date;
use crate::credentials::{Credential, CredentialDetail, CredentialInput, IdentityDocument};
use crate::db::columns::UtcTime;
use crate::db::schema::teachers;
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::institutions::pii::{IdDocumentInput, MaskedId, PersonalId};

use super::fields::*;

mod changes;

pub use changes::*;

/// A teacher on an institution's roster.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Teacher {
    pub id: i64,
    pub name: String,
    /// The teacher's identity document, masked.
    #[schema(value_type = MaskedId)]
    pub identity: PersonalId,
    pub credentials: Vec<TeacherCredential>,
    pub specialities: Vec<Speciality>,
    /// 违法犯罪记录查询 (Jiangxi notice), if recorded yet.
    pub criminal_check: Option<CriminalCheck>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: UtcTime,
}

/// A credential as stored, with what it means today (Beijing).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeacherCredential {
    #[serde(flatten)]
    pub stored: CredentialInput,
    /// Validity ended before today.
    pub expired: bool,
    /// Counts towards an application today: valid, not expired and, for social sports
    /// instructors, level 2 or higher (§1.2: level 3 is refused). A credential that is not
    /// accepted stays on the roster.
    pub accepted: bool,
    /// A heritage inheritor's recognition, accepted on relaxed rules: a reviewer confirms it.
    pub needs_review: bool,
    /// Why it is not accepted: `credential_expired`, `sports_instructor_level_too_low` or
    /// `invalid_credential`.
    pub issue: Option<String>,
    #[serde(skip)]
    parsed: Option<Credential>,
}

impl TeacherCredential {
    fn new(stored: CredentialInput, today: NaiveDate) -> Self {
        let parsed = Credential::parse(stored.clone(), today).ok();
        let blocking = parsed.as_ref().and_then(|c| c.blocking_issue(today));
        Self {
            expired: parsed.as_ref().is_some_and(|c| c.is_expired(today)),
            accepted: parsed.is_some() && blocking.is_none(),
            needs_review: parsed.as_ref().is_some_and(Credential::needs_review),
            issue: match (&parsed, blocking) {
                (None, _) => Some("invalid_credential".to_owned()),
                (Some(_), Some(issue)) => Some(issue.code().to_owned()),
                (Some(_), None) => None,
            },
            stored,
            parsed,
        }
    }

    /// The parsed credential (`None` only for a stored value that no longer passes its rules).
    pub fn credential(&self) -> Option<&Credential> {
        self.parsed.as_ref()
    }
}

/// An activity a teacher can teach: an item of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Speciality {
    /// Catalogue item code, e.g. `sports.basketball`.
    pub code: String,
    /// `None` if the code has left the catalogue since it was recorded.
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
}

impl Speciality {
    fn of(code: String) -> Self {
        let item = Catalogue::get().activity(&code).ok();
        Self {
            name_zh: item.map(|i| i.name_zh.clone()),
            name_en: item.map(|i| i.name_en.clone()),
            code,
        }
    }
}

/// A criminal-record check (违法犯罪记录查询).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriminalCheck {
    /// Date of the check; not in the future.
    pub date: NaiveDate,
    pub result: CriminalCheckResult,
    /// Who issued it, e.g. a public security bureau.
    pub issuer: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = teachers)]
pub(crate) struct TeacherRow {
    id: i64,
    name: String,
    id_kind: String,
    id_number: String,
    credentials: String,
    specialities: String,
    criminal_check_date: Option<NaiveDate>,
    criminal_check_result: Option<String>,
    criminal_check_issuer: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TeacherRow {
    fn into_teacher(self, today: NaiveDate) -> ApiResult<Teacher> {
        let id = self.id;
        let identity = PersonalId::from_stored(&self.id_kind, self.id_number, today)
            .map_err(internal(format!("teachers.{id}.id_kind")))?;
        let credentials: Vec<CredentialInput> = serde_json::from_str(&self.credentials)
            .map_err(|_| broken_row(format!("teachers.{id}.credentials")))?;
        let specialities: Vec<String> = serde_json::from_str(&self.specialities)
            .map_err(|_| broken_row(format!("teachers.{id}.specialities")))?;
        let criminal_check = match (
            self.criminal_check_date,
            self.criminal_check_result,
            self.criminal_check_issuer,
        ) {
            (Some(date), Some(result), Some(issuer)) => Some(CriminalCheck {
                date,
                result: CriminalCheckResult::parse(&result)
                    .ok_or_else(|| broken_row(format!("teachers.{id}.criminal_check_result")))?,
                issuer,
            }),
            _ => None,
        };
        Ok(Teacher {
            id,
            name: self.name,
            identity,
            credentials: credentials
                .into_iter()
                .map(|c| TeacherCredential::new(c, today))
                .collect(),
            specialities: specialities.into_iter().map(Speciality::of).collect(),
            criminal_check,
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
        })
    }
}

/// A teacher as submitted (`POST` creates, `PUT` replaces).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeacherInput {
    pub name: String,
    /// On `PUT`, leave `number` out to keep the stored number of the same kind.
    pub identity: IdDocumentInput,
    /// Each is checked on its own (errors name `credentials[i].field`). Expired credentials
    /// and level-3 sports instructors stay on the roster, flagged as not accepted.
    #[serde(default)]
    pub credentials: Vec<CredentialInput>,
    /// Catalogue item codes (`GET /categories`); academic subjects are refused.
    #[serde(default)]
    pub specialities: Vec<String>,
    #[serde(default)]
    pub criminal_check: Option<CriminalCheck>,
}

/// A teacher that passed every rule.
pub(crate) struct TeacherFields {
    name: String,
    identity: IdentityDocument,
    credentials: Vec<Credential>,
    specialities: Vec<String>,
    criminal_check: Option<CriminalCheck>,
}

pub(crate) fn too_many(field: &str) -> FieldIssue {
    FieldIssue::new(
        field,
        "too_many",
        Msg::new(
            format!("最多 {MAX_LIST_LEN} 项。"),
            format!("At most {MAX_LIST_LEN} entries."),
        ),
    )
}

impl TeacherInput {
    fn parse(
        &self,
        stored: Option<&PersonalId>,
        today: NaiveDate,
    ) -> Result<TeacherFields, Vec<FieldIssue>> {
        let mut issues = Vec::new();
        let name = text("name", &self.name, MAX_NAME_CHARS, &mut issues);
        let identity = identity("identity", &self.identity, stored, today, &mut issues);

        if self.credentials.len() > MAX_LIST_LEN {
            issues.push(too_many("credentials"));
        }
        let mut credentials = Vec::new();
        for (i, input) in self.credentials.iter().enumerate() {
            match Credential::parse(input.clone(), today) {
                Ok(credential) => credentials.push(credential),
                Err(found) => issues.extend(found.into_iter().map(|issue| {
                    let mut issue = FieldIssue::from(issue);
                    issue.field = format!("credentials[{i}].{}", issue.field);
                    issue
                })),
            }
        }

        if self.specialities.len() > MAX_LIST_LEN {
            issues.push(too_many("specialities"));
        }
        // Only non-academic activities (selection notice §一); the catalogue's error cites it.
        let catalogue = Catalogue::get();
        let mut specialities: Vec<String> = Vec::new();
        for (i, code) in self.specialities.iter().enumerate() {
            match catalogue.activity(code) {
                Ok(item) if specialities.contains(&item.code) => issues.push(FieldIssue::new(
                    format!("specialities[{i}]"),
                    "duplicate",
                    Msg::new("专长重复。", "Listed twice."),
                )),
                Ok(item) => specialities.push(item.code.clone()),
                Err(e) => issues.push(e.issue(format!("specialities[{i}]"))),
            }
        }

        let criminal_check = self.criminal_check.as_ref().map(|check| {
            if check.date > today {
                issues.push(FieldIssue::new(
                    "criminal_check.date",
                    "in_future",
                    Msg::new(
                        "查询日期不能晚于今天。",
                        "The date cannot be in the future.",
                    ),
                ));
            }
            CriminalCheck {
                date: check.date,
                result: check.result,
                issuer: text(
                    "criminal_check.issuer",
                    &check.issuer,
                    MAX_NAME_CHARS,
                    &mut issues,
                ),
            }
        });

        match identity {
            Some(identity) if issues.is_empty() => Ok(TeacherFields {
                name,
                identity,
                credentials,
                specialities,
                criminal_check,
            }),
            _ => Err(issues),
        }
    }
}

impl TeacherFields {
    /// The credentials in their stored (normalised) form: what `Credential::parse` accepts.
    fn stored_credentials(&self) -> ApiResult<String> {
        let stored: Vec<CredentialInput> = self
            .credentials
            .iter()
            .map(|c| CredentialInput {
                kind: c.kind(),
                number: c.number().to_owned(),
                issuer: c.issuer().to_owned(),
                issued_on: c.issued_on(),
                expires_on: c.expires_on(),
                level: match c.detail() {
                    CredentialDetail::SocialSportsInstructor(level) => {
                        Some(level.as_str().to_owned())
                    }
                    CredentialDetail::HeritageInheritor(level) => Some(level.as_str().to_owned()),
                    CredentialDetail::TeacherQualification(_)
                    | CredentialDetail::ProfessionalSkill
                    | CredentialDetail::VocationalQualification => None,
                },
            })
            .collect();
        serde_json::to_string(&stored).map_err(|e| ApiError::Internal(e.into()))
    }

    fn stored_specialities(&self) -> ApiResult<String> {
        serde_json::to_string(&self.specialities).map_err(|e| ApiError::Internal(e.into()))
    }

    /// What the audit trail records: no identity number.
    fn summary(&self, institution_id: i64) -> serde_json::Value {
        serde_json::json!({
            "institution_id": institution_id,
            "name": self.name,
            "id_kind": self.identity.kind().as_str(),
            "credentials": self.credentials.iter().map(|c| c.kind().as_str()).collect::<Vec<_>>(),
            "specialities": self.specialities,
            "criminal_check": self.criminal_check.as_ref().map(|c| c.result.as_str()),
        })
    }
}

pub(crate) fn teacher_not_found() -> ApiError {
    ApiError::not_found("教师", "teacher")
}

/// The institution's current roster (removed teachers left out), oldest first, with
/// identity numbers parsed and credentials judged as of `today` (Beijing).
pub fn active_teachers(
    conn: &mut DbConn,
    institution_id: i64,
    today: NaiveDate,
) -> ApiResult<Vec<Teacher>> {
    teachers::table
        .filter(teachers::institution_id.eq(institution_id))
        .filter(teachers::removed_at.is_null())
        .order(teachers::id.asc())
        .select(TeacherRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| row.into_teacher(today))
        .collect()
}

/// One teacher of the institution's current roster; another institution's teacher, or a
/// removed one, is "not found".
pub fn teacher(
    conn: &mut DbConn,
    institution_id: i64,
    teacher_id: i64,
    today: NaiveDate,
) -> ApiResult<Teacher> {
    teachers::table
        .filter(teachers::id.eq(teacher_id))
        .filter(teachers::institution_id.eq(institution_id))
        .filter(teachers::removed_at.is_null())
        .select(TeacherRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(teacher_not_found)?
        .into_teacher(today)
}

/// Of `roster` (this institution's teachers), the ids of those whose identity number is also
/// on another institution's current roster — a warning for the reviewer at submission.
pub fn teachers_on_other_rosters(
    conn: &mut DbConn,
    institution_id: i64,
    roster: &[Teacher],
) -> ApiResult<Vec<i64>> {
    let numbers: Vec<&str> = roster.iter().map(|t| t.identity.expose_number()).collect();
    let elsewhere: Vec<String> = teachers::table
        .filter(teachers::institution_id.ne(institution_id))
        .filter(teachers::removed_at.is_null())
        .filter(teachers::id_number.eq_any(&numbers))
        .select(teachers::id_number)
        .load(conn)?;
    Ok(roster
        .iter()
        .filter(|t| elsewhere.iter().any(|n| n == t.identity.expose_number()))
        .map(|t| t.id)
        .collect())
}

// ---- annual inspections ------------------------------------------------------------------
