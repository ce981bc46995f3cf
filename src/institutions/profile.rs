//! The institution's profile: registration certificate, legal representative, business
//! contact; reading it and updating it (audited).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidateEmail};

use crate::audit;
use crate::auth::Ctx;
use crate::clock::beijing_date;
use crate::credentials::{EntityType, IdentityDocument};
use crate::db::columns::UtcTime;
use crate::db::schema::institutions;
use crate::db::{DbConn, db_time};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::institutions::pii::{IdDocumentInput, MaskedId, PersonalId};

use super::fields::*;

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
pub(crate) struct ProfileRow {
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

pub(crate) fn institution_not_found() -> ApiError {
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
pub(crate) struct ProfileFields {
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
