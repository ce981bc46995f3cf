//! Institution data services: synchronous, taking `&mut DbConn`. Every write runs inside the
//! caller's `AppState::write` transaction and appends its audit event there, so the change and
//! its record commit together or not at all.
//!
//! Requests are parsed into typed values before anything is written, reporting every field
//! problem at once (422 `validation_failed`). Rows are private; they become the domain types
//! [`Profile`], [`Teacher`] and [`Inspection`] at this module's edge.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidateEmail, ValidationErrors};

use crate::audit;
use crate::auth::Ctx;
use crate::catalogue::Catalogue;
use crate::clock::beijing_date;
use crate::credentials::{
    Credential, CredentialDetail, CredentialInput, EntityType, IdDocumentKind, IdentityDocument,
};
use crate::db::columns::UtcTime;
use crate::db::schema::{inspections, institutions, teachers};
use crate::db::{DbConn, db_time, is_unique_violation};
use crate::documents::store::{self as documents, DocumentKind};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::institutions::pii::{IdDocumentInput, MaskedId, PersonalId};

/// Longest names of people and authorities kept.
const MAX_NAME_CHARS: usize = 100;
/// Longest certificate numbers kept.
const MAX_NUMBER_CHARS: usize = 64;
/// Longest addresses kept.
const MAX_ADDRESS_CHARS: usize = 200;
/// Longest district names kept.
const MAX_DISTRICT_CHARS: usize = 50;
/// Most credentials or specialities one teacher may list.
const MAX_LIST_LEN: usize = 20;
/// The earliest annual inspection year on record.
const FIRST_INSPECTION_YEAR: i32 = 2000;

// ---- enumerations ------------------------------------------------------------------------

/// The registration certificates of a legal entity that the selection notice accepts (§一:
/// 营业执照, 民办非企业单位登记证书, 社会团体法人登记证书).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationKind {
    /// 营业执照: enterprises, individual businesses, farmers' cooperatives.
    BusinessLicence,
    /// 民办非企业单位登记证书: private non-enterprise units.
    PrivateNonEnterpriseCertificate,
    /// 社会团体法人登记证书: social organisations and foundations.
    SocialOrganisationCertificate,
}

impl RegistrationKind {
    /// Every kind.
    pub const ALL: [Self; 3] = [
        Self::BusinessLicence,
        Self::PrivateNonEnterpriseCertificate,
        Self::SocialOrganisationCertificate,
    ];

    /// The wire and column name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BusinessLicence => "business_licence",
            Self::PrivateNonEnterpriseCertificate => "private_non_enterprise_certificate",
            Self::SocialOrganisationCertificate => "social_organisation_certificate",
        }
    }

    /// The kind whose wire name is `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Chinese name of the certificate.
    pub const fn label_zh(self) -> &'static str {
        match self {
            Self::BusinessLicence => "营业执照",
            Self::PrivateNonEnterpriseCertificate => "民办非企业单位登记证书",
            Self::SocialOrganisationCertificate => "社会团体法人登记证书",
        }
    }

    /// English name of the certificate.
    pub const fn label_en(self) -> &'static str {
        match self {
            Self::BusinessLicence => "business licence",
            Self::PrivateNonEnterpriseCertificate => "private non-enterprise unit certificate",
            Self::SocialOrganisationCertificate => "social organisation legal-person certificate",
        }
    }

    /// The certificate an entity of this type is registered with: market regulation issues
    /// business licences to the market entities (91, 92, 93), civil affairs the certificates
    /// of private non-enterprise units (52) and of social organisations and foundations
    /// (51, 53) — the same split as the credit code's registration authority (GB 32100-2015).
    pub const fn for_entity(entity: EntityType) -> Self {
        match entity {
            EntityType::Enterprise
            | EntityType::IndividualBusiness
            | EntityType::FarmersCooperative => Self::BusinessLicence,
            EntityType::PrivateNonEnterpriseUnit => Self::PrivateNonEnterpriseCertificate,
            EntityType::SocialOrganisation | EntityType::Foundation => {
                Self::SocialOrganisationCertificate
            }
        }
    }
}

/// The government level of the authority that issued the registration certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorityLevel {
    /// 乡镇级 — refused: the notice asks for county level or higher.
    Township,
    /// 县（区）级.
    County,
    /// 市级.
    City,
    /// 省级.
    Province,
    /// 国家级.
    National,
}

impl AuthorityLevel {
    /// Every level the column may hold (township is refused before it is stored).
    const STORED: [Self; 4] = [Self::County, Self::City, Self::Province, Self::National];

    /// The wire and column name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Township => "township",
            Self::County => "county",
            Self::City => "city",
            Self::Province => "province",
            Self::National => "national",
        }
    }

    fn parse_stored(name: &str) -> Option<Self> {
        Self::STORED.into_iter().find(|l| l.as_str() == name)
    }

    /// "具有县级以上登记机关颁发的登记证书" — selection notice §一.
    pub const fn is_county_or_higher(self) -> bool {
        !matches!(self, Self::Township)
    }
}

/// The outcome of a criminal-record check (违法犯罪记录查询).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CriminalCheckResult {
    /// 无违法犯罪记录.
    Clean,
    /// 有记录.
    RecordFound,
}

impl CriminalCheckResult {
    /// The wire and column name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::RecordFound => "record_found",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [Self::Clean, Self::RecordFound]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

/// The result of one year's annual inspection (年检).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InspectionResult {
    /// 合格.
    Passed,
    /// 不合格.
    Failed,
    /// 未参加.
    Missed,
}

impl InspectionResult {
    /// The wire and column name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Missed => "missed",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [Self::Passed, Self::Failed, Self::Missed]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

// ---- shared field checks -----------------------------------------------------------------

fn required(field: &str) -> FieldIssue {
    FieldIssue::new(field, "required", Msg::new("必填。", "Required."))
}

/// Trims `value`; a blank or over-long value is an issue against `field`.
fn text(field: &str, value: &str, max: usize, issues: &mut Vec<FieldIssue>) -> String {
    let value = value.trim();
    if value.is_empty() {
        issues.push(required(field));
    } else if value.chars().count() > max {
        issues.push(FieldIssue::new(
            field,
            "too_long",
            Msg::new(
                format!("不能超过 {max} 个字符。"),
                format!("At most {max} characters."),
            ),
        ));
    }
    value.to_owned()
}

/// A mainland mobile number: 11 digits, `1` then `3`–`9` (the MIIT numbering plan).
fn is_mainland_mobile(number: &str) -> bool {
    let bytes = number.as_bytes();
    bytes.len() == 11
        && bytes.iter().all(u8::is_ascii_digit)
        && bytes[0] == b'1'
        && (b'3'..=b'9').contains(&bytes[1])
}

/// The identity document of an update: the submitted number parsed, or — when the number is
/// left out — the stored one, provided the kind is unchanged. Responses only ever show the
/// number masked (DESIGN.md §1.2), so a client cannot send it back unchanged.
fn identity(
    field: &str,
    input: &IdDocumentInput,
    stored: Option<&PersonalId>,
    today: NaiveDate,
    issues: &mut Vec<FieldIssue>,
) -> Option<IdentityDocument> {
    let number_field = format!("{field}.number");
    match input.number.as_deref() {
        Some(number) => IdentityDocument::parse(input.kind, number, today)
            .map_err(|e| {
                issues.extend(
                    e.field_issues(&number_field)
                        .into_iter()
                        .map(|i| FieldIssue::from(i).caused_by("invalid_id_number")),
                );
            })
            .ok(),
        None => {
            let kept = stored
                .filter(|s| s.kind() == input.kind)
                .and_then(PersonalId::document)
                .cloned();
            if kept.is_none() {
                issues.push(required(&number_field));
            }
            kept
        }
    }
}

fn internal(context: String) -> impl FnOnce(anyhow::Error) -> ApiError {
    move |e| ApiError::Internal(e.context(context))
}

fn broken_row(what: String) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("unreadable stored value: {what}"))
}

// ---- profile -----------------------------------------------------------------------------

/// An institution's profile. The legal representative's number is held in full for the
/// service's own checks and shown masked wherever the profile is serialised.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Profile {
    pub id: i64,
    /// Registered name (set at registration).
    pub name: String,
    /// Unified social credit code (set at registration).
    pub uscc: String,
    /// Set at registration; decides which registration certificate fits.
    pub entity_type: EntityType,
    pub registration_kind: Option<RegistrationKind>,
    pub registration_number: Option<String>,
    pub issuing_authority: Option<String>,
    pub authority_level: Option<AuthorityLevel>,
    pub registered_address: Option<String>,
    pub district: Option<String>,
    pub legal_rep_name: Option<String>,
    /// The legal representative's identity document, masked.
    #[schema(value_type = Option<MaskedId>)]
    pub legal_rep_id: Option<PersonalId>,
    pub contact_person: Option<String>,
    pub contact_mobile: Option<String>,
    pub contact_email: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: UtcTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = institutions)]
struct ProfileRow {
    id: i64,
    name: String,
    uscc: String,
    entity_type: String,
    registration_kind: Option<String>,
    registration_number: Option<String>,
    issuing_authority: Option<String>,
    authority_level: Option<String>,
    registered_address: Option<String>,
    district: Option<String>,
    legal_rep_name: Option<String>,
    legal_rep_id_kind: Option<String>,
    legal_rep_id_number: Option<String>,
    contact_person: Option<String>,
    contact_mobile: Option<String>,
    contact_email: Option<String>,
    updated_at: NaiveDateTime,
}

impl ProfileRow {
    fn into_profile(self, today: NaiveDate) -> ApiResult<Profile> {
        let id = self.id;
        let entity_type = EntityType::parse(&self.entity_type)
            .ok_or_else(|| broken_row(format!("institutions.{id}.entity_type")))?;
        let registration_kind = self
            .registration_kind
            .map(|k| {
                RegistrationKind::parse(&k)
                    .ok_or_else(|| broken_row(format!("institutions.{id}.registration_kind")))
            })
            .transpose()?;
        let authority_level = self
            .authority_level
            .map(|l| {
                AuthorityLevel::parse_stored(&l)
                    .ok_or_else(|| broken_row(format!("institutions.{id}.authority_level")))
            })
            .transpose()?;
        let legal_rep_id = match (self.legal_rep_id_kind, self.legal_rep_id_number) {
            (Some(kind), Some(number)) => Some(
                PersonalId::from_stored(&kind, number, today)
                    .map_err(internal(format!("institutions.{id}.legal_rep_id_kind")))?,
            ),
            _ => None,
        };
        Ok(Profile {
            id,
            name: self.name,
            uscc: self.uscc,
            entity_type,
            registration_kind,
            registration_number: self.registration_number,
            issuing_authority: self.issuing_authority,
            authority_level,
            registered_address: self.registered_address,
            district: self.district,
            legal_rep_name: self.legal_rep_name,
            legal_rep_id,
            contact_person: self.contact_person,
            contact_mobile: self.contact_mobile,
            contact_email: self.contact_email,
            updated_at: self.updated_at.into(),
        })
    }
}

fn institution_not_found() -> ApiError {
    ApiError::not_found("机构", "institution")
}

/// An institution's profile, its identity numbers parsed as of `today` (Beijing).
pub fn profile(conn: &mut DbConn, institution_id: i64, today: NaiveDate) -> ApiResult<Profile> {
    institutions::table
        .find(institution_id)
        .select(ProfileRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(institution_not_found)?
        .into_profile(today)
}

/// 404 unless the institution exists.
pub fn ensure_exists(conn: &mut DbConn, institution_id: i64) -> ApiResult<()> {
    let found: i64 = institutions::table
        .find(institution_id)
        .count()
        .get_result(conn)?;
    if found == 0 {
        return Err(institution_not_found());
    }
    Ok(())
}

/// The editable part of the profile; `PUT /institutions/me` replaces all of it. Name, credit
/// code and entity type are fixed at registration.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    /// Must fit the entity type: business licence for enterprises, individual businesses and
    /// farmers' cooperatives; private non-enterprise certificate for private non-enterprise
    /// units; social organisation certificate for social organisations and foundations.
    pub registration_kind: RegistrationKind,
    pub registration_number: String,
    /// The registration authority, e.g. 南宁市民政局.
    pub issuing_authority: String,
    /// County level or higher (selection notice §一); `township` is refused.
    pub authority_level: AuthorityLevel,
    pub registered_address: String,
    pub district: String,
    pub legal_rep_name: String,
    /// Leave `number` out to keep the stored number of the same kind.
    pub legal_rep_id: IdDocumentInput,
    pub contact_person: String,
    /// Mainland mobile number, `1[3-9]` and 9 more digits.
    pub contact_mobile: String,
    #[serde(default)]
    pub contact_email: Option<String>,
}

/// A profile update that passed every rule.
struct ProfileFields {
    registration_kind: RegistrationKind,
    registration_number: String,
    issuing_authority: String,
    authority_level: AuthorityLevel,
    registered_address: String,
    district: String,
    legal_rep_name: String,
    legal_rep_id: IdentityDocument,
    contact_person: String,
    contact_mobile: String,
    contact_email: Option<String>,
}

impl ProfileUpdate {
    fn parse(&self, current: &Profile, today: NaiveDate) -> Result<ProfileFields, Vec<FieldIssue>> {
        let mut issues = Vec::new();
        let expected = RegistrationKind::for_entity(current.entity_type);
        if self.registration_kind != expected {
            issues.push(FieldIssue::new(
                "registration_kind",
                "registration_kind_mismatch",
                Msg::new(
                    format!(
                        "主体类型为{}的机构应提供{}，而不是{}（《公告》第一条：具有县级以上登记机关颁发的登记证书）。",
                        current.entity_type.label_zh(),
                        expected.label_zh(),
                        self.registration_kind.label_zh()
                    ),
                    format!(
                        "An institution of type {} is registered with a {}, not a {} (selection notice §1).",
                        current.entity_type.label_en(),
                        expected.label_en(),
                        self.registration_kind.label_en()
                    ),
                ),
            ));
        }
        if !self.authority_level.is_county_or_higher() {
            issues.push(FieldIssue::new(
                "authority_level",
                "authority_level_too_low",
                Msg::new(
                    "登记证书须由县级以上登记机关颁发（《公告》第一条）。",
                    "The registration certificate must come from a county-level or higher authority (selection notice §1).",
                ),
            ));
        }
        let registration_number = text(
            "registration_number",
            &self.registration_number,
            MAX_NUMBER_CHARS,
            &mut issues,
        );
        let issuing_authority = text(
            "issuing_authority",
            &self.issuing_authority,
            MAX_NAME_CHARS,
            &mut issues,
        );
        let registered_address = text(
            "registered_address",
            &self.registered_address,
            MAX_ADDRESS_CHARS,
            &mut issues,
        );
        let district = text("district", &self.district, MAX_DISTRICT_CHARS, &mut issues);
        let legal_rep_name = text(
            "legal_rep_name",
            &self.legal_rep_name,
            MAX_NAME_CHARS,
            &mut issues,
        );
        let legal_rep_id = identity(
            "legal_rep_id",
            &self.legal_rep_id,
            current.legal_rep_id.as_ref(),
            today,
            &mut issues,
        );
        let contact_person = text(
            "contact_person",
            &self.contact_person,
            MAX_NAME_CHARS,
            &mut issues,
        );
        let contact_mobile = self.contact_mobile.trim().to_owned();
        if !is_mainland_mobile(&contact_mobile) {
            issues.push(FieldIssue::new(
                "contact_mobile",
                "invalid_mobile",
                Msg::new(
                    "请填写 11 位中国大陆手机号码（1 开头，第二位为 3–9）。",
                    "Give an 11-digit mainland mobile number (1, then 3–9, then 9 digits).",
                ),
            ));
        }
        let contact_email = self
            .contact_email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_lowercase);
        if let Some(email) = &contact_email
            && (!email.validate_email() || email.len() > 254)
        {
            issues.push(FieldIssue::new(
                "contact_email",
                "invalid_email",
                Msg::new("邮箱地址格式不正确。", "Not a valid e-mail address."),
            ));
        }
        match legal_rep_id {
            Some(legal_rep_id) if issues.is_empty() => Ok(ProfileFields {
                registration_kind: self.registration_kind,
                registration_number,
                issuing_authority,
                authority_level: self.authority_level,
                registered_address,
                district,
                legal_rep_name,
                legal_rep_id,
                contact_person,
                contact_mobile,
                contact_email,
            }),
            _ => Err(issues),
        }
    }
}

impl ProfileFields {
    /// The names of the fields that differ from `current` (the audit summary names fields,
    /// never values: the profile holds an identity number).
    fn changed_from(&self, current: &Profile) -> Vec<&'static str> {
        let same_id = current.legal_rep_id.as_ref().is_some_and(|id| {
            id.kind() == self.legal_rep_id.kind()
                && id.expose_number() == self.legal_rep_id.as_str()
        });
        [
            (
                "registration_kind",
                current.registration_kind == Some(self.registration_kind),
            ),
            (
                "registration_number",
                current.registration_number.as_deref() == Some(&self.registration_number),
            ),
            (
                "issuing_authority",
                current.issuing_authority.as_deref() == Some(&self.issuing_authority),
            ),
            (
                "authority_level",
                current.authority_level == Some(self.authority_level),
            ),
            (
                "registered_address",
                current.registered_address.as_deref() == Some(&self.registered_address),
            ),
            (
                "district",
                current.district.as_deref() == Some(&self.district),
            ),
            (
                "legal_rep_name",
                current.legal_rep_name.as_deref() == Some(&self.legal_rep_name),
            ),
            ("legal_rep_id", same_id),
            (
                "contact_person",
                current.contact_person.as_deref() == Some(&self.contact_person),
            ),
            (
                "contact_mobile",
                current.contact_mobile.as_deref() == Some(&self.contact_mobile),
            ),
            ("contact_email", current.contact_email == self.contact_email),
        ]
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(field, _)| field)
        .collect()
    }
}

/// Replaces the editable profile fields, all rules checked and every problem reported at once.
pub fn update_profile(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    req: &ProfileUpdate,
) -> ApiResult<Profile> {
    let today = beijing_date(ctx.now);
    let current = profile(conn, institution_id, today)?;
    let fields = req.parse(&current, today).map_err(ApiError::validation)?;
    let changed = fields.changed_from(&current);
    diesel::update(institutions::table.find(institution_id))
        .set((
            institutions::registration_kind.eq(fields.registration_kind.as_str()),
            institutions::registration_number.eq(&fields.registration_number),
            institutions::issuing_authority.eq(&fields.issuing_authority),
            institutions::authority_level.eq(fields.authority_level.as_str()),
            institutions::registered_address.eq(&fields.registered_address),
            institutions::district.eq(&fields.district),
            institutions::legal_rep_name.eq(&fields.legal_rep_name),
            institutions::legal_rep_id_kind.eq(fields.legal_rep_id.kind().as_str()),
            institutions::legal_rep_id_number.eq(fields.legal_rep_id.as_str()),
            institutions::contact_person.eq(&fields.contact_person),
            institutions::contact_mobile.eq(&fields.contact_mobile),
            institutions::contact_email.eq(&fields.contact_email),
            institutions::updated_at.eq(db_time(ctx.now)),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        ctx,
        "institution.profile_updated",
        "institution",
        institution_id,
        serde_json::json!({ "changed": changed }),
    )?;
    profile(conn, institution_id, today)
}

// ---- teacher roster ----------------------------------------------------------------------

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
struct TeacherRow {
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
struct TeacherFields {
    name: String,
    identity: IdentityDocument,
    credentials: Vec<Credential>,
    specialities: Vec<String>,
    criminal_check: Option<CriminalCheck>,
}

fn too_many(field: &str) -> FieldIssue {
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

fn teacher_not_found() -> ApiError {
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

// ---- annual inspections ------------------------------------------------------------------

/// One year's annual inspection (年检). Applications need the two latest years on record to be
/// consecutive passes (连续两年年检合格, selection notice §一).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Inspection {
    pub id: i64,
    pub year: i32,
    pub result: InspectionResult,
    pub authority: String,
    /// The supporting `inspection_record` document, if uploaded.
    pub document_id: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UtcTime,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: UtcTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = inspections)]
struct InspectionRow {
    id: i64,
    year: i32,
    result: String,
    authority: String,
    document_id: Option<i64>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl InspectionRow {
    fn into_inspection(self) -> ApiResult<Inspection> {
        Ok(Inspection {
            id: self.id,
            year: self.year,
            result: InspectionResult::parse(&self.result)
                .ok_or_else(|| broken_row(format!("inspections.{}.result", self.id)))?,
            authority: self.authority,
            document_id: self.document_id,
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
        })
    }
}

/// An annual inspection record as submitted.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionInput {
    /// From 2000 to the current year (Beijing); one record per year.
    pub year: i32,
    pub result: InspectionResult,
    /// The inspecting authority, e.g. 南宁市民政局.
    pub authority: String,
    /// One of the institution's own documents of kind `inspection_record`.
    #[serde(default)]
    pub document_id: Option<i64>,
}

impl InspectionInput {
    /// The trimmed authority, or every field problem; then the document's ownership and kind.
    fn parse(&self, conn: &mut DbConn, institution_id: i64, today: NaiveDate) -> ApiResult<String> {
        let mut issues = Vec::new();
        let this_year = today.year();
        if !(FIRST_INSPECTION_YEAR..=this_year).contains(&self.year) {
            issues.push(FieldIssue::new(
                "year",
                "year_out_of_range",
                Msg::new(
                    format!("年份须在 {FIRST_INSPECTION_YEAR} 到 {this_year} 之间。"),
                    format!("The year must be between {FIRST_INSPECTION_YEAR} and {this_year}."),
                ),
            ));
        }
        let authority = text("authority", &self.authority, MAX_NAME_CHARS, &mut issues);
        if !issues.is_empty() {
            return Err(ApiError::validation(issues));
        }
        if let Some(document_id) = self.document_id {
            // Another institution's document looks exactly like a missing one.
            let fits = documents::of_institution(conn, institution_id, &[document_id])?
                .iter()
                .any(|d| d.kind == DocumentKind::InspectionRecord);
            if !fits {
                let message = || {
                    Msg::new(
                        "证明材料须为本机构上传的“年检记录”（inspection_record）文件。",
                        "The supporting document must be one of your uploads of kind inspection_record.",
                    )
                };
                let m = message();
                return Err(
                    ApiError::rule("invalid_document", m.zh, m.en).with_errors(vec![
                        FieldIssue::new("document_id", "invalid_document", message()),
                    ]),
                );
            }
        }
        Ok(authority)
    }

    fn summary(&self, institution_id: i64) -> serde_json::Value {
        serde_json::json!({
            "institution_id": institution_id,
            "year": self.year,
            "result": self.result.as_str(),
            "document_id": self.document_id,
        })
    }
}

fn inspection_not_found() -> ApiError {
    ApiError::not_found("年检记录", "inspection record")
}

/// One record per year: the `UNIQUE (institution_id, year)` constraint arbitrates.
fn year_taken(e: diesel::result::Error, year: i32) -> ApiError {
    if is_unique_violation(&e) {
        ApiError::conflict(
            "inspection_year_exists",
            format!("{year} 年的年检记录已存在。"),
            format!("There is already an inspection record for {year}."),
        )
    } else {
        e.into()
    }
}

/// The institution's annual inspections, newest year first.
pub fn inspections(conn: &mut DbConn, institution_id: i64) -> ApiResult<Vec<Inspection>> {
    inspections::table
        .filter(inspections::institution_id.eq(institution_id))
        .order(inspections::year.desc())
        .select(InspectionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(InspectionRow::into_inspection)
        .collect()
}

fn own_inspection(
    conn: &mut DbConn,
    institution_id: i64,
    inspection_id: i64,
) -> ApiResult<Inspection> {
    inspections::table
        .filter(inspections::id.eq(inspection_id))
        .filter(inspections::institution_id.eq(institution_id))
        .select(InspectionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(inspection_not_found)?
        .into_inspection()
}

/// Records a year's inspection; 409 `inspection_year_exists` if that year is on record.
pub fn create_inspection(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    req: &InspectionInput,
) -> ApiResult<Inspection> {
    let authority = req.parse(conn, institution_id, beijing_date(ctx.now))?;
    let now = db_time(ctx.now);
    let id: i64 = diesel::insert_into(inspections::table)
        .values((
            inspections::institution_id.eq(institution_id),
            inspections::year.eq(req.year),
            inspections::result.eq(req.result.as_str()),
            inspections::authority.eq(&authority),
            inspections::document_id.eq(req.document_id),
            inspections::created_at.eq(now),
            inspections::updated_at.eq(now),
        ))
        .returning(inspections::id)
        .get_result(conn)
        .map_err(|e| year_taken(e, req.year))?;
    audit::record(
        conn,
        ctx,
        "inspection.created",
        "inspection",
        id,
        req.summary(institution_id),
    )?;
    own_inspection(conn, institution_id, id)
}

/// Replaces a year's record (moving it onto a year already on record is 409).
pub fn update_inspection(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    inspection_id: i64,
    req: &InspectionInput,
) -> ApiResult<Inspection> {
    own_inspection(conn, institution_id, inspection_id)?;
    let authority = req.parse(conn, institution_id, beijing_date(ctx.now))?;
    let changed = diesel::update(
        inspections::table
            .filter(inspections::id.eq(inspection_id))
            .filter(inspections::institution_id.eq(institution_id)),
    )
    .set((
        inspections::year.eq(req.year),
        inspections::result.eq(req.result.as_str()),
        inspections::authority.eq(&authority),
        inspections::document_id.eq(req.document_id),
        inspections::updated_at.eq(db_time(ctx.now)),
    ))
    .execute(conn)
    .map_err(|e| year_taken(e, req.year))?;
    if changed == 0 {
        return Err(inspection_not_found());
    }
    audit::record(
        conn,
        ctx,
        "inspection.updated",
        "inspection",
        inspection_id,
        req.summary(institution_id),
    )?;
    own_inspection(conn, institution_id, inspection_id)
}

/// Deletes a year's record (entered by mistake).
pub fn delete_inspection(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    inspection_id: i64,
) -> ApiResult<()> {
    let old = own_inspection(conn, institution_id, inspection_id)?;
    diesel::delete(
        inspections::table
            .filter(inspections::id.eq(inspection_id))
            .filter(inspections::institution_id.eq(institution_id)),
    )
    .execute(conn)?;
    audit::record(
        conn,
        ctx,
        "inspection.deleted",
        "inspection",
        inspection_id,
        serde_json::json!({
            "institution_id": institution_id, "year": old.year, "result": old.result.as_str(),
        }),
    )?;
    Ok(())
}

// ---- the reviewer's reveal ---------------------------------------------------------------

/// Whose identity number a reviewer asks to see.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(tag = "subject", rename_all = "snake_case", deny_unknown_fields)]
pub enum RevealRequest {
    /// The institution's legal representative.
    LegalRepresentative,
    /// A teacher on the institution's current roster.
    Teacher { teacher_id: i64 },
}

/// The body is fully checked by its shape.
impl Validate for RevealRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

impl RevealRequest {
    /// `legal_representative` or `teacher`.
    pub fn subject(&self) -> &'static str {
        match self {
            Self::LegalRepresentative => "legal_representative",
            Self::Teacher { .. } => "teacher",
        }
    }

    /// The teacher asked about, if any.
    pub fn teacher_id(&self) -> Option<i64> {
        match self {
            Self::LegalRepresentative => None,
            Self::Teacher { teacher_id } => Some(*teacher_id),
        }
    }
}

/// A full identity number, revealed to a reviewer and recorded in the audit trail. No `Debug`:
/// it must not reach a log.
#[derive(Serialize, ToSchema)]
pub struct RevealedId {
    /// `legal_representative` or `teacher`.
    pub subject: String,
    pub teacher_id: Option<i64>,
    /// The person's name.
    pub name: String,
    pub kind: IdDocumentKind,
    /// The full number — personal information.
    pub number: String,
}

/// Reveals one identity number to a reviewer, audited as `pii.revealed` (the summary names the
/// subject, never the number) — the one exception to masking (DESIGN.md §1.2).
pub fn reveal(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    req: &RevealRequest,
) -> ApiResult<RevealedId> {
    let today = beijing_date(ctx.now);
    let (name, id) = match req {
        RevealRequest::LegalRepresentative => {
            let profile = profile(conn, institution_id, today)?;
            match (profile.legal_rep_name, profile.legal_rep_id) {
                (Some(name), Some(id)) => (name, id),
                _ => {
                    return Err(ApiError::not_found(
                        "法定代表人身份证件",
                        "legal representative's identity document",
                    ));
                }
            }
        }
        RevealRequest::Teacher { teacher_id } => {
            ensure_exists(conn, institution_id)?;
            let teacher = teacher(conn, institution_id, *teacher_id, today)?;
            (teacher.name, teacher.identity)
        }
    };
    audit::record(
        conn,
        ctx,
        "pii.revealed",
        "institution",
        institution_id,
        serde_json::json!({
            "subject": req.subject(), "teacher_id": req.teacher_id(), "id_kind": id.kind().as_str(),
        }),
    )?;
    Ok(RevealedId {
        subject: req.subject().to_owned(),
        teacher_id: req.teacher_id(),
        name,
        kind: id.kind(),
        number: id.expose_number().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainland_mobile_numbers_start_with_1_then_3_to_9() {
        for ok in ["13800771234", "19912345678", "15000000000"] {
            assert!(is_mainland_mobile(ok), "{ok}");
        }
        for bad in [
            "12800771234",
            "1380077123",
            "138007712345",
            "2380077123a",
            "+8613800771234",
            "",
        ] {
            assert!(!is_mainland_mobile(bad), "{bad}");
        }
    }

    #[test]
    fn each_entity_type_has_its_registration_certificate() {
        use EntityType::*;
        use RegistrationKind::*;
        for (entity, kind) in [
            (Enterprise, BusinessLicence),
            (IndividualBusiness, BusinessLicence),
            (FarmersCooperative, BusinessLicence),
            (PrivateNonEnterpriseUnit, PrivateNonEnterpriseCertificate),
            (SocialOrganisation, SocialOrganisationCertificate),
            (Foundation, SocialOrganisationCertificate),
        ] {
            assert_eq!(RegistrationKind::for_entity(entity), kind, "{entity:?}");
        }
        for kind in RegistrationKind::ALL {
            assert_eq!(RegistrationKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn only_township_authorities_are_below_county_level() {
        assert!(!AuthorityLevel::Township.is_county_or_higher());
        for level in AuthorityLevel::STORED {
            assert!(level.is_county_or_higher());
            assert_eq!(AuthorityLevel::parse_stored(level.as_str()), Some(level));
        }
        assert_eq!(AuthorityLevel::parse_stored("township"), None);
    }
}
