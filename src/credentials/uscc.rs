//! Unified Social Credit Code (统一社会信用代码) per GB 32100-2015.
//!
//! Owns normalisation of user input, the structural checks of the code and
//! the typed [`Uscc`] they produce. Whether a code is actually registered can
//! only be answered by the national credit information system, not here.
//!
//! Layout (GB 32100-2015, 代码结构):
//!
//! | position | content                                              |
//! |----------|------------------------------------------------------|
//! | 1        | 登记管理部门代码, registration authority             |
//! | 2        | 机构类别代码, entity category within that authority   |
//! | 3–8      | 登记管理机关行政区划码, GB/T 2260 region code         |
//! | 9–17     | 主体标识码 (组织机构代码, GB 11714)                   |
//! | 18       | 校验码, check character                              |

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};
use utoipa::ToSchema;

use super::certificates::FieldIssue;
use super::regions::{self, Province};

/// Code length (GB 32100-2015).
const LEN: usize = 18;

/// The code alphabet of GB 32100-2015: digits and capital letters
/// without I, O, Z, S, V, which are too easily read as 1, 0, 2, 5, U. A
/// character's index here is its value in the check computation.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Check weights W_i = 3^(i-1) mod 31 (GB 32100-2015, 校验码计算).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Region code of bodies registered by central authorities (e.g. the
/// `12100000…` public institutions directly under the State Council). It is
/// not a province, but it is a real value in the region field.
const CENTRAL_REGION: &str = "100000";

/// Separators removed before validation, as python-stdnum's `cn.uscc.compact`
/// does: space and hyphen plus the Unicode look-alikes that stdnum folds into
/// them (no-break and ideographic spaces, en/em dashes, fullwidth hyphen, …).
const SEPARATORS: &[char] = &[
    ' ', '\u{00A0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}',
    '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200A}', '\u{202F}', '\u{205F}',
    '\u{3000}', '-', '\u{00AF}', '\u{02D7}', '\u{058A}', '\u{05BE}', '\u{180A}', '\u{2010}',
    '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2015}', '\u{203E}', '\u{2043}', '\u{207B}',
    '\u{208B}', '\u{2212}', '\u{23AF}', '\u{23BA}', '\u{23BB}', '\u{23BC}', '\u{23BD}', '\u{23E4}',
    '\u{FE63}', '\u{FF0D}', '\u{FFE3}',
];

/// A structurally valid Unified Social Credit Code, in normalised form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uscc {
    code: String,
    authority: RegistrationAuthority,
    category: EntityCategory,
    province: Option<&'static Province>,
}

impl Uscc {
    /// Normalises `input` (trim, drop spaces and hyphens, ASCII upper-case) and
    /// checks it against GB 32100-2015, reporting every problem found at once.
    pub fn parse(input: &str) -> Result<Self, UsccError> {
        let code: String = input
            .trim()
            .chars()
            .filter(|c| !SEPARATORS.contains(c))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let chars: Vec<char> = code.chars().collect();
        if chars.is_empty() {
            return Err(UsccError::new(vec![UsccReason::Empty]));
        }

        let mut reasons = Vec::new();
        let bad_positions: Vec<usize> = (1..)
            .zip(&chars)
            .filter(|&(_, &c)| value_of(c).is_none())
            .map(|(position, _)| position)
            .collect();
        if chars.len() != LEN {
            // Without the right length the fields cannot be located, so only
            // the character set can still be judged.
            reasons.push(UsccReason::BadLength {
                actual: chars.len(),
            });
            if !bad_positions.is_empty() {
                reasons.push(UsccReason::BadCharset {
                    positions: bad_positions,
                });
            }
            return Err(UsccError::new(reasons));
        }
        if !bad_positions.is_empty() {
            reasons.push(UsccReason::BadCharset {
                positions: bad_positions,
            });
        }

        let authority = RegistrationAuthority::from_code(chars[0]);
        let category = authority.and_then(|a| a.category(chars[1]));
        match authority {
            None => reasons.push(UsccReason::UnknownRegistrationAuthority { found: chars[0] }),
            Some(authority) if category.is_none() => {
                reasons.push(UsccReason::UnknownEntityCategory {
                    authority,
                    found: chars[1],
                });
            }
            Some(_) => {}
        }

        let region: String = chars[2..8].iter().collect();
        let region_is_digits = region.bytes().all(|b| b.is_ascii_digit());
        let province = if region_is_digits {
            regions::province(&region[..2])
        } else {
            None
        };
        if province.is_none() && region != CENTRAL_REGION {
            reasons.push(UsccReason::BadRegionCode);
        }

        let values: Option<Vec<u32>> = chars[..LEN - 1].iter().map(|&c| value_of(c)).collect();
        if let Some(values) = values {
            let expected = check_character(&values);
            if chars[LEN - 1] != expected {
                reasons.push(UsccReason::BadCheckCharacter { expected });
            }
        }

        match (authority, category) {
            (Some(authority), Some(category)) if reasons.is_empty() => Ok(Self {
                code,
                authority,
                category,
                province,
            }),
            _ => Err(UsccError::new(reasons)),
        }
    }

    /// The normalised 18-character code.
    /// Appends the GB 32100 check character to the first 17 characters of a code (for demo and
    /// test data); `None` when `body` is not 17 characters of the code's alphabet.
    pub fn complete(body: &str) -> Option<String> {
        let values: Option<Vec<u32>> = body.chars().map(value_of).collect();
        let values = values.filter(|v| v.len() == LEN - 1)?;
        Some(format!("{body}{}", check_character(&values)))
    }

    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// Position 1: the authority that registered the entity.
    pub fn registration_authority(&self) -> RegistrationAuthority {
        self.authority
    }

    /// Position 2: the entity category within the registration authority.
    pub fn entity_category(&self) -> EntityCategory {
        self.category
    }

    /// Positions 1–2 mapped to the entity types the bureau distinguishes;
    /// `None` for every other category (机关, 事业单位, 工会, …).
    pub fn entity_type(&self) -> Option<EntityType> {
        EntityType::ALL
            .into_iter()
            .find(|t| self.code.starts_with(t.uscc_prefix()))
    }

    /// Whether the code belongs to an entity of type `entity_type`.
    pub fn fits(&self, entity_type: EntityType) -> bool {
        self.code.starts_with(entity_type.uscc_prefix())
    }

    /// Positions 3–8: the GB/T 2260 code of the registering authority's region.
    pub fn region_code(&self) -> &str {
        // Validated as six ASCII digits, so byte slicing is on char boundaries.
        &self.code[2..8]
    }

    /// Chinese name of the province-level division the code was registered
    /// in; `None` for bodies registered centrally (region `100000`).
    pub fn province(&self) -> Option<&'static str> {
        self.province.map(Province::name_zh)
    }

    /// Whether the code was registered inside the bureau's region, given as a
    /// GB/T 2260 prefix such as `"4501"` or `"450100"` (trailing `00` pairs
    /// mean "the whole division" and are ignored). An empty prefix matches all.
    pub fn in_region(&self, prefix: &str) -> bool {
        self.region_code()
            .starts_with(regions::significant_prefix(prefix.trim()))
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

/// Serialises as the bare code; a USCC is public information.
impl Serialize for Uscc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.code)
    }
}

fn value_of(c: char) -> Option<u32> {
    let byte = u8::try_from(c).ok()?;
    let index = ALPHABET.iter().position(|&a| a == byte)?;
    u32::try_from(index).ok()
}

/// C18 = 31 − (Σ C_i·W_i mod 31), with 31 written as 0 (GB 32100-2015).
fn check_character(values: &[u32]) -> char {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let index = (31 - sum % 31) % 31;
    ALPHABET.get(index as usize).map_or('0', |&b| char::from(b))
}

/// Position 1 of the code: the registration authority (登记管理部门), per the
/// GB 32100-2015 code table together with the codes the national
/// standardisation administration assigned to further authorities since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationAuthority {
    /// 1 机构编制: government bodies and public institutions.
    InstitutionalEstablishment,
    /// 2 外交: e.g. resident foreign news agencies.
    ForeignAffairs,
    /// 3 司法行政: law firms, notaries, forensic and arbitration bodies.
    JudicialAdministration,
    /// 4 文化: e.g. foreign cultural centres.
    Culture,
    /// 5 民政: social organisations, private non-enterprise units, foundations.
    CivilAffairs,
    /// 6 旅游: representative offices of foreign tourism authorities.
    Tourism,
    /// 7 宗教: religious venues and schools.
    ReligiousAffairs,
    /// 8 工会: trade unions.
    TradeUnion,
    /// 9 工商 (now 市场监管): enterprises, individual businesses, cooperatives.
    MarketRegulation,
    /// A 中央军委改革和编制办公室: military public institutions.
    MilitaryEstablishment,
    /// N 农业: rural collective economic organisations.
    Agriculture,
    /// Y 其他: everything else.
    Other,
}

impl RegistrationAuthority {
    /// Every authority, in code order.
    pub const ALL: [Self; 12] = [
        Self::InstitutionalEstablishment,
        Self::ForeignAffairs,
        Self::JudicialAdministration,
        Self::Culture,
        Self::CivilAffairs,
        Self::Tourism,
        Self::ReligiousAffairs,
        Self::TradeUnion,
        Self::MarketRegulation,
        Self::MilitaryEstablishment,
        Self::Agriculture,
        Self::Other,
    ];

    /// The authority whose code character is `code`.
    pub fn from_code(code: char) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// The entity category `code` (position 2) under this authority.
    pub fn category(self, code: char) -> Option<EntityCategory> {
        self.categories().find(|c| c.code == code)
    }

    /// The entity categories (机构类别) this authority registers.
    pub fn categories(self) -> impl Iterator<Item = EntityCategory> {
        CATEGORIES
            .into_iter()
            .filter(move |c| c.authority == self.code())
    }

    /// The code character at position 1.
    pub const fn code(self) -> char {
        match self {
            Self::InstitutionalEstablishment => '1',
            Self::ForeignAffairs => '2',
            Self::JudicialAdministration => '3',
            Self::Culture => '4',
            Self::CivilAffairs => '5',
            Self::Tourism => '6',
            Self::ReligiousAffairs => '7',
            Self::TradeUnion => '8',
            Self::MarketRegulation => '9',
            Self::MilitaryEstablishment => 'A',
            Self::Agriculture => 'N',
            Self::Other => 'Y',
        }
    }

    /// Name as printed in the standard's table.
    pub const fn name_zh(self) -> &'static str {
        match self {
            Self::InstitutionalEstablishment => "机构编制",
            Self::ForeignAffairs => "外交",
            Self::JudicialAdministration => "司法行政",
            Self::Culture => "文化",
            Self::CivilAffairs => "民政",
            Self::Tourism => "旅游",
            Self::ReligiousAffairs => "宗教",
            Self::TradeUnion => "工会",
            Self::MarketRegulation => "市场监管（工商）",
            Self::MilitaryEstablishment => "中央军委改革和编制办公室",
            Self::Agriculture => "农业",
            Self::Other => "其他",
        }
    }

    /// English name.
    pub const fn name_en(self) -> &'static str {
        match self {
            Self::InstitutionalEstablishment => "Institutional establishment",
            Self::ForeignAffairs => "Foreign affairs",
            Self::JudicialAdministration => "Judicial administration",
            Self::Culture => "Culture",
            Self::CivilAffairs => "Civil affairs",
            Self::Tourism => "Tourism",
            Self::ReligiousAffairs => "Religious affairs",
            Self::TradeUnion => "Trade union",
            Self::MarketRegulation => "Market regulation",
            Self::MilitaryEstablishment => "CMC reform and establishment office",
            Self::Agriculture => "Agriculture",
            Self::Other => "Other",
        }
    }
}

/// Position 2 of the code: an entity category (机构类别) under its
/// registration authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntityCategory {
    authority: char,
    code: char,
    name_zh: &'static str,
    name_en: &'static str,
}

/// The 机构类别 table of GB 32100-2015 and its later assignments: authority,
/// category, names. `9 其他` is the catch-all where an authority has one;
/// 市场监管 (9) has none, so `94` is not a valid prefix.
const CATEGORIES: [EntityCategory; 36] = [
    EntityCategory::new('1', '1', "机关", "Government body"),
    EntityCategory::new('1', '2', "事业单位", "Public institution"),
    EntityCategory::new(
        '1',
        '3',
        "中央编办直接管理机构编制的群众团体",
        "Mass organisation",
    ),
    EntityCategory::new('1', '9', "其他", "Other"),
    EntityCategory::new('2', '1', "外国常驻新闻机构", "Resident foreign news agency"),
    EntityCategory::new('2', '9', "其他", "Other"),
    EntityCategory::new('3', '1', "律师执业机构", "Law firm"),
    EntityCategory::new('3', '2', "公证处", "Notary office"),
    EntityCategory::new(
        '3',
        '3',
        "基层法律服务所",
        "Grassroots legal service office",
    ),
    EntityCategory::new('3', '4', "司法鉴定机构", "Forensic appraisal institution"),
    EntityCategory::new('3', '5', "仲裁委员会", "Arbitration commission"),
    EntityCategory::new('3', '9', "其他", "Other"),
    EntityCategory::new('4', '1', "外国在华文化中心", "Foreign cultural centre"),
    EntityCategory::new('4', '9', "其他", "Other"),
    EntityCategory::new('5', '1', "社会团体", "Social organisation"),
    EntityCategory::new('5', '2', "民办非企业单位", "Private non-enterprise unit"),
    EntityCategory::new('5', '3', "基金会", "Foundation"),
    EntityCategory::new('5', '9', "其他", "Other"),
    EntityCategory::new(
        '6',
        '1',
        "外国旅游部门常驻代表机构",
        "Foreign tourism office",
    ),
    EntityCategory::new(
        '6',
        '2',
        "港澳台地区旅游部门常驻内地（大陆）代表机构",
        "Hong Kong, Macao or Taiwan tourism office",
    ),
    EntityCategory::new('6', '9', "其他", "Other"),
    EntityCategory::new('7', '1', "宗教活动场所", "Religious venue"),
    EntityCategory::new('7', '2', "宗教院校", "Religious school"),
    EntityCategory::new('7', '9', "其他", "Other"),
    EntityCategory::new('8', '1', "基层工会", "Grassroots trade union"),
    EntityCategory::new('8', '9', "其他", "Other"),
    EntityCategory::new('9', '1', "企业", "Enterprise"),
    EntityCategory::new('9', '2', "个体工商户", "Individual business"),
    EntityCategory::new(
        '9',
        '3',
        "农民专业合作社",
        "Farmers' specialised cooperative",
    ),
    EntityCategory::new('A', '1', "军队事业单位", "Military public institution"),
    EntityCategory::new('A', '9', "其他", "Other"),
    EntityCategory::new('N', '1', "组级集体经济组织", "Group-level collective"),
    EntityCategory::new('N', '2', "村级集体经济组织", "Village-level collective"),
    EntityCategory::new('N', '3', "乡镇级集体经济组织", "Township-level collective"),
    EntityCategory::new('N', '9', "其他", "Other"),
    EntityCategory::new('Y', '1', "其他", "Other"),
];

impl EntityCategory {
    const fn new(
        authority: char,
        code: char,
        name_zh: &'static str,
        name_en: &'static str,
    ) -> Self {
        Self {
            authority,
            code,
            name_zh,
            name_en,
        }
    }

    /// The code character at position 2.
    pub const fn code(&self) -> char {
        self.code
    }

    /// Name as printed in the standard's table, e.g. `"事业单位"`.
    pub const fn name_zh(&self) -> &'static str {
        self.name_zh
    }

    /// English name.
    pub const fn name_en(&self) -> &'static str {
        self.name_en
    }
}

/// The kinds of legal entity that may run after-school services, each tied
/// to its positions 1–2 in the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    /// 91 企业.
    Enterprise,
    /// 92 个体工商户.
    IndividualBusiness,
    /// 93 农民专业合作社.
    FarmersCooperative,
    /// 51 社会团体.
    SocialOrganisation,
    /// 52 民办非企业单位 (renamed 社会服务机构 by the 2016 Charity Law; same code).
    PrivateNonEnterpriseUnit,
    /// 53 基金会.
    Foundation,
}

impl EntityType {
    /// Every entity type.
    pub const ALL: [Self; 6] = [
        Self::Enterprise,
        Self::IndividualBusiness,
        Self::FarmersCooperative,
        Self::SocialOrganisation,
        Self::PrivateNonEnterpriseUnit,
        Self::Foundation,
    ];

    /// The wire name, as serialised (`"private_non_enterprise_unit"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Enterprise => "enterprise",
            Self::IndividualBusiness => "individual_business",
            Self::FarmersCooperative => "farmers_cooperative",
            Self::SocialOrganisation => "social_organisation",
            Self::PrivateNonEnterpriseUnit => "private_non_enterprise_unit",
            Self::Foundation => "foundation",
        }
    }

    /// The type whose wire name is `name`, e.g. when reading back a stored value.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The first two characters of a USCC of this type.
    pub const fn uscc_prefix(self) -> &'static str {
        match self {
            Self::Enterprise => "91",
            Self::IndividualBusiness => "92",
            Self::FarmersCooperative => "93",
            Self::SocialOrganisation => "51",
            Self::PrivateNonEnterpriseUnit => "52",
            Self::Foundation => "53",
        }
    }

    /// Chinese label.
    pub const fn label_zh(self) -> &'static str {
        match self {
            Self::Enterprise => "企业",
            Self::IndividualBusiness => "个体工商户",
            Self::FarmersCooperative => "农民专业合作社",
            Self::SocialOrganisation => "社会团体",
            Self::PrivateNonEnterpriseUnit => "民办非企业单位",
            Self::Foundation => "基金会",
        }
    }

    /// English label.
    pub const fn label_en(self) -> &'static str {
        match self {
            Self::Enterprise => "Enterprise",
            Self::IndividualBusiness => "Individual business",
            Self::FarmersCooperative => "Farmers' specialised cooperative",
            Self::SocialOrganisation => "Social organisation",
            Self::PrivateNonEnterpriseUnit => "Private non-enterprise unit",
            Self::Foundation => "Foundation",
        }
    }
}

/// One reason a string is not a valid USCC. Positions are 1-based and count
/// characters of the normalised input (after separators are removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsccReason {
    /// Nothing left after normalisation.
    Empty,
    /// Not 18 characters.
    BadLength {
        /// Characters found.
        actual: usize,
    },
    /// Characters outside the code alphabet.
    BadCharset {
        /// Offending positions.
        positions: Vec<usize>,
    },
    /// Positions 3–8 are not six digits starting with a province-level code.
    BadRegionCode,
    /// Position 1 is not an assigned registration-authority code.
    UnknownRegistrationAuthority {
        /// The character found.
        found: char,
    },
    /// Position 2 is not a category of the authority at position 1.
    UnknownEntityCategory {
        /// The authority at position 1.
        authority: RegistrationAuthority,
        /// The character found.
        found: char,
    },
    /// Position 18 does not match the check computed from positions 1–17.
    BadCheckCharacter {
        /// The check character positions 1–17 call for.
        expected: char,
    },
}

impl UsccReason {
    /// Stable snake_case code for API clients.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::BadLength { .. } => "bad_length",
            Self::BadCharset { .. } => "bad_charset",
            Self::BadRegionCode => "bad_region_code",
            Self::UnknownRegistrationAuthority { .. } => "unknown_registration_authority",
            Self::UnknownEntityCategory { .. } => "unknown_entity_category",
            Self::BadCheckCharacter { .. } => "bad_check_character",
        }
    }

    /// Message for Chinese-speaking users.
    pub fn message_zh(&self) -> String {
        match self {
            Self::Empty => "请填写统一社会信用代码".to_owned(),
            Self::BadLength { actual } => {
                format!("统一社会信用代码应为 18 位，实际为 {actual} 位")
            }
            Self::BadCharset { positions } => format!(
                "第 {} 位字符不合法：只能使用数字和除 I、O、Z、S、V 以外的大写字母",
                join(positions, "、")
            ),
            Self::BadRegionCode => {
                "第 3–8 位应为 6 位数字的行政区划码，且前两位为有效的省级行政区代码".to_owned()
            }
            Self::UnknownRegistrationAuthority { found } => {
                format!("第 1 位登记管理部门代码“{found}”不存在")
            }
            Self::UnknownEntityCategory { authority, found } => format!(
                "第 2 位机构类别代码“{found}”不属于登记管理部门“{}”，可选：{}",
                authority.name_zh(),
                category_list(*authority, "、")
            ),
            Self::BadCheckCharacter { expected } => {
                format!("校验码错误：按前 17 位计算，第 18 位应为“{expected}”，请核对是否录入有误")
            }
        }
    }

    /// Message for English-speaking users.
    pub fn message_en(&self) -> String {
        match self {
            Self::Empty => "The unified social credit code is required.".to_owned(),
            Self::BadLength { actual } => {
                format!("A unified social credit code has 18 characters; got {actual}.")
            }
            Self::BadCharset { positions } => format!(
                "Invalid character at position(s) {}: only digits and capital letters \
                 other than I, O, Z, S and V are allowed.",
                join(positions, ", ")
            ),
            Self::BadRegionCode => "Positions 3–8 must be a six-digit region code starting \
                                    with a valid province-level code."
                .to_owned(),
            Self::UnknownRegistrationAuthority { found } => {
                format!("'{found}' at position 1 is not a registration authority code.")
            }
            Self::UnknownEntityCategory { authority, found } => format!(
                "'{found}' at position 2 is not an entity category of authority '{}' ({}); \
                 expected one of {}.",
                authority.code(),
                authority.name_en(),
                category_list(*authority, ", ")
            ),
            Self::BadCheckCharacter { expected } => format!(
                "Check character mismatch: positions 1–17 require '{expected}' at \
                 position 18; please check for a typing error."
            ),
        }
    }
}

fn category_list(authority: RegistrationAuthority, separator: &str) -> String {
    authority
        .categories()
        .map(|c| c.code.to_string())
        .collect::<Vec<_>>()
        .join(separator)
}

fn join(positions: &[usize], separator: &str) -> String {
    positions
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

/// Every reason a string was rejected as a USCC (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid unified social credit code: {}", codes(.reasons))]
pub struct UsccError {
    /// The reasons, in position order.
    pub reasons: Vec<UsccReason>,
}

fn codes(reasons: &[UsccReason]) -> String {
    reasons
        .iter()
        .map(UsccReason::code)
        .collect::<Vec<_>>()
        .join(", ")
}

impl UsccError {
    fn new(reasons: Vec<UsccReason>) -> Self {
        Self { reasons }
    }

    /// The reasons as issues against form field `field`.
    pub fn field_issues(&self, field: &str) -> Vec<FieldIssue> {
        self.reasons
            .iter()
            .map(|r| FieldIssue::new(field, r.code(), r.message_zh(), r.message_en()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Codes published online and collected in python-stdnum's test suite,
    /// plus the GB 32100 sample 91350100M000100Y43.
    const REAL_CODES: &[&str] = &[
        "91350100M000100Y43",
        "91110000600037341L",
        "91110000710926094P",
        "121200004013590816",
        "91120224064012553U",
        "9115220107837757XE",
        "91310115MA1K3BTP2B",
        "91340600MA2PBNE723",
        "91440300568520498A",
        "9144030071526726XG",
        "91620105L015101280",
        "92340602MA2PBMEM24",
        "92340603MA2PBQ16XJ",
        "92340621MA2UK3PJXE",
    ];

    fn codes_of(input: &str) -> Vec<&'static str> {
        match Uscc::parse(input) {
            Ok(_) => Vec::new(),
            Err(e) => e.reasons.iter().map(UsccReason::code).collect(),
        }
    }

    /// Appends the correct check character to 17 characters.
    fn complete(first17: &str) -> String {
        let values: Vec<u32> = first17.chars().filter_map(value_of).collect();
        assert_eq!(values.len(), 17, "{first17}");
        format!("{first17}{}", check_character(&values))
    }

    #[test]
    fn accepts_real_codes() {
        for code in REAL_CODES {
            let parsed = Uscc::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(parsed.as_str(), *code);
        }
    }

    #[test]
    fn normalises_like_stdnum() {
        for input in [
            " 91 110000 600037341L ",
            "91-110000-600037341l",
            "\u{3000}91110000\u{2014}600037341L\u{00A0}",
        ] {
            let parsed = Uscc::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(parsed.as_str(), "91110000600037341L");
        }
    }

    #[test]
    fn exposes_the_fields() {
        let code = Uscc::parse("91350100M000100Y43").unwrap();
        assert_eq!(
            code.registration_authority(),
            RegistrationAuthority::MarketRegulation
        );
        assert_eq!(code.registration_authority().code(), '9');
        assert_eq!(code.registration_authority().name_zh(), "市场监管（工商）");
        assert_eq!(code.entity_type(), Some(EntityType::Enterprise));
        assert!(code.fits(EntityType::Enterprise));
        assert!(!code.fits(EntityType::PrivateNonEnterpriseUnit));
        assert_eq!(code.region_code(), "350100");
        assert_eq!(code.province(), Some("福建省"));
        assert_eq!(code.to_string(), "91350100M000100Y43");
        assert_eq!(
            serde_json::to_string(&code).unwrap(),
            "\"91350100M000100Y43\""
        );

        let public_institution = Uscc::parse("121200004013590816").unwrap();
        assert_eq!(
            public_institution.registration_authority(),
            RegistrationAuthority::InstitutionalEstablishment
        );
        assert_eq!(public_institution.entity_type(), None);
        assert_eq!(public_institution.entity_category().code(), '2');
        assert_eq!(public_institution.entity_category().name_zh(), "事业单位");
        assert_eq!(public_institution.province(), Some("天津市"));
    }

    #[test]
    fn maps_every_entity_type_both_ways() {
        for entity_type in EntityType::ALL {
            let code = Uscc::parse(&complete(&format!(
                "{}450103MA5K00001",
                entity_type.uscc_prefix()
            )))
            .unwrap();
            assert_eq!(code.entity_type(), Some(entity_type));
            assert!(code.fits(entity_type));
            assert!(!entity_type.label_zh().is_empty() && !entity_type.label_en().is_empty());
        }
        for entity_type in EntityType::ALL {
            assert_eq!(
                serde_json::to_value(entity_type).unwrap(),
                serde_json::Value::from(entity_type.as_str())
            );
            assert_eq!(EntityType::parse(entity_type.as_str()), Some(entity_type));
        }
        assert_eq!(EntityType::parse("company"), None);
    }

    #[test]
    fn accepts_every_registration_authority_and_rejects_others() {
        for authority in RegistrationAuthority::ALL {
            let code = complete(&format!("{}1450103MA5K00001", authority.code()));
            assert_eq!(
                Uscc::parse(&code).map(|c| c.registration_authority()),
                Ok(authority)
            );
        }
        for other in [
            '0', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'P', 'Q', 'R',
        ] {
            let code = complete(&format!("{other}1450103MA5K00001"));
            assert_eq!(
                codes_of(&code),
                ["unknown_registration_authority"],
                "{code}"
            );
        }
    }

    #[test]
    fn checks_the_category_against_its_authority() {
        for category in CATEGORIES {
            let code = complete(&format!(
                "{}{}450103MA5K00001",
                category.authority,
                category.code()
            ));
            let parsed = Uscc::parse(&code).unwrap();
            assert_eq!(parsed.entity_category(), category);
            assert_eq!(parsed.registration_authority().code(), category.authority);
            assert!(!category.name_zh().is_empty() && !category.name_en().is_empty());
        }
        for prefix in ["94", "99", "90", "54", "Y2", "Y9", "A2", "N4", "1A", "9Y"] {
            let code = complete(&format!("{prefix}450103MA5K00001"));
            assert_eq!(codes_of(&code), ["unknown_entity_category"], "{code}");
        }
        let Err(error) = Uscc::parse(&complete("94450103MA5K00001")) else {
            panic!("accepted category 4 under authority 9");
        };
        assert!(error.reasons[0].message_zh().contains("1、2、3"));
        assert!(error.reasons[0].message_en().contains("1, 2, 3"));
    }

    #[test]
    fn accepts_centrally_registered_bodies() {
        let code = Uscc::parse(&complete("12100000400000000")).unwrap();
        assert_eq!(code.region_code(), "100000");
        assert_eq!(code.province(), None);
        assert!(!code.in_region("4501"));
    }

    #[test]
    fn checks_region_prefix() {
        let code = Uscc::parse(&complete("52450103MA5K00001")).unwrap();
        for inside in ["4501", "450100", "45", "450000", "450103", " 4501 ", ""] {
            assert!(code.in_region(inside), "{inside:?}");
        }
        for outside in ["4502", "450200", "46", "4501031", "x"] {
            assert!(!code.in_region(outside), "{outside:?}");
        }
    }

    #[test]
    fn reports_each_failure_reason() {
        let cases: &[(&str, &[&str])] = &[
            ("", &["empty"]),
            (" - ", &["empty"]),
            ("12345", &["bad_length"]),
            ("91350100M000100Y431", &["bad_length"]),
            ("9111000060003IOZSV", &["bad_charset"]),
            ("9135O100M000100Y43", &["bad_charset", "bad_region_code"]),
            (
                "91350100M000100Y4O",
                &["bad_charset", "bad_check_character"],
            ),
            (
                "913501A0M000100Y43",
                &["bad_region_code", "bad_check_character"],
            ),
            (
                "91990100M000100Y43",
                &["bad_region_code", "bad_check_character"],
            ),
            ("91350100M000100Y44", &["bad_check_character"]),
            ("A1110000600037341L", &["bad_check_character"]),
            ("0191", &["bad_length"]),
            ("9135I100", &["bad_length", "bad_charset"]),
            ("91350100中000100Y43", &["bad_charset"]),
        ];
        for (input, expected) in cases {
            assert_eq!(codes_of(input), *expected, "{input:?}");
        }
    }

    #[test]
    fn reason_details_are_specific() {
        let Err(error) = Uscc::parse("9135O100M000100Y4I") else {
            panic!("accepted an invalid code");
        };
        assert_eq!(
            error.reasons[0],
            UsccReason::BadCharset {
                positions: vec![5, 18]
            }
        );
        let Err(error) = Uscc::parse("91350100M000100Y44") else {
            panic!("accepted an invalid code");
        };
        assert_eq!(
            error.reasons,
            [UsccReason::BadCheckCharacter { expected: '3' }]
        );
        assert!(error.reasons[0].message_zh().contains("“3”"));
        assert!(error.reasons[0].message_en().contains("'3'"));
        assert_eq!(
            error.to_string(),
            "invalid unified social credit code: bad_check_character"
        );
        let issues = error.field_issues("uscc");
        assert_eq!(issues.len(), 1);
        assert_eq!(
            (issues[0].field.as_str(), issues[0].code.as_str()),
            ("uscc", "bad_check_character")
        );
    }

    #[test]
    fn every_reason_has_messages() {
        let reasons = [
            UsccReason::Empty,
            UsccReason::BadLength { actual: 3 },
            UsccReason::BadCharset {
                positions: vec![1, 2],
            },
            UsccReason::BadRegionCode,
            UsccReason::UnknownRegistrationAuthority { found: 'B' },
            UsccReason::UnknownEntityCategory {
                authority: RegistrationAuthority::Other,
                found: '2',
            },
            UsccReason::BadCheckCharacter { expected: 'Y' },
        ];
        for reason in reasons {
            assert!(!reason.message_zh().is_empty() && !reason.message_en().is_empty());
            assert!(
                reason
                    .code()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            );
        }
    }

    /// A valid code: any authority and category from the table, a province,
    /// any county digits and any body.
    fn valid_code() -> impl Strategy<Value = String> {
        let category = prop::sample::select(CATEGORIES.to_vec());
        let province = prop::sample::select(regions::all().to_vec());
        let body = prop::collection::vec(prop::sample::select(ALPHABET.to_vec()), 9);
        (category, province, "[0-9]{4}", body).prop_map(|(category, province, county, body)| {
            let body: String = body.into_iter().map(char::from).collect();
            complete(&format!(
                "{}{}{}{county}{body}",
                category.authority,
                category.code(),
                province.code()
            ))
        })
    }

    proptest! {
        #[test]
        fn generated_codes_parse(code in valid_code()) {
            let parsed = Uscc::parse(&code);
            prop_assert!(parsed.is_ok(), "{code}: {parsed:?}");
        }

        #[test]
        fn any_single_substitution_is_detected(
            code in valid_code(),
            position in 0..LEN,
            replacement in prop::sample::select(ALPHABET.to_vec()),
        ) {
            let mut chars: Vec<char> = code.chars().collect();
            prop_assume!(chars[position] != char::from(replacement));
            chars[position] = char::from(replacement);
            let altered: String = chars.into_iter().collect();
            prop_assert!(Uscc::parse(&altered).is_err(), "{code} -> {altered}");
        }

        #[test]
        fn completing_the_first_17_characters_gives_the_code_back(code in valid_code()) {
            prop_assert_eq!(Uscc::complete(&code[..LEN - 1]), Some(code.clone()));
        }

        #[test]
        fn never_panics(input in "\\PC{0,40}") {
            let _ = Uscc::parse(&input);
        }
    }
}
