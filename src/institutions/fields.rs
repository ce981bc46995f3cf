//! Shared by the profile, the roster and the inspections: the enumerations they store, the
//! limits, and the field parsers that report every problem at once.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::credentials::{EntityType, IdentityDocument};
use crate::error::{ApiError, FieldIssue, Msg};
use crate::institutions::pii::{IdDocumentInput, PersonalId};

/// Longest names of people and authorities kept.
pub(crate) const MAX_NAME_CHARS: usize = 100;
/// Longest certificate numbers kept.
pub(crate) const MAX_NUMBER_CHARS: usize = 64;
/// Longest addresses kept.
pub(crate) const MAX_ADDRESS_CHARS: usize = 200;
/// Longest district names kept.
pub(crate) const MAX_DISTRICT_CHARS: usize = 50;
/// Most credentials or specialities one teacher may list.
pub(crate) const MAX_LIST_LEN: usize = 20;
/// The earliest annual inspection year on record.
pub(crate) const FIRST_INSPECTION_YEAR: i32 = 2000;

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

    pub(crate) fn parse_stored(name: &str) -> Option<Self> {
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

    pub(crate) fn parse(name: &str) -> Option<Self> {
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

    pub(crate) fn parse(name: &str) -> Option<Self> {
        [Self::Passed, Self::Failed, Self::Missed]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

// ---- shared field checks -----------------------------------------------------------------

pub(crate) fn required(field: &str) -> FieldIssue {
    FieldIssue::new(field, "required", Msg::new("必填。", "Required."))
}

/// Trims `value`; a blank or over-long value is an issue against `field`.
pub(crate) fn text(field: &str, value: &str, max: usize, issues: &mut Vec<FieldIssue>) -> String {
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
pub(crate) fn is_mainland_mobile(number: &str) -> bool {
    let bytes = number.as_bytes();
    bytes.len() == 11
        && bytes.iter().all(u8::is_ascii_digit)
        && bytes[0] == b'1'
        && (b'3'..=b'9').contains(&bytes[1])
}

/// The identity document of an update: the submitted number parsed, or — when the number is
/// left out — the stored one, provided the kind is unchanged. Responses only ever show the
/// number masked (DESIGN.md §1.2), so a client cannot send it back unchanged.
pub(crate) fn identity(
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

pub(crate) fn internal(context: String) -> impl FnOnce(anyhow::Error) -> ApiError {
    move |e| ApiError::Internal(e.context(context))
}

pub(crate) fn broken_row(what: String) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("unreadable stored value: {what}"))
}

// ---- profile -----------------------------------------------------------------------------

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
