//! Teaching and skill credentials of an institution's staff.
//!
//! Owns the 教师资格证书编号 format, the grades of 社会体育指导员 and
//! 非物质文化遗产代表性传承人, and [`Credential::parse`], which turns a
//! submitted credential into a typed value or the list of problems with it.
//! Also owns [`FieldIssue`], the issue shape every validator here reports in.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::regions::{self, Province};

/// Length of a teacher-qualification certificate number.
const TEACHER_NO_LEN: usize = 17;

/// The Teachers Law (教师法) took effect on 1994-01-01 and created the
/// qualification system; no certificate can carry an earlier year.
const FIRST_TEACHER_YEAR: i32 = 1994;

/// Longest free-form certificate number kept; longer input is a paste error.
const MAX_NUMBER_CHARS: usize = 64;

/// Longest issuing-authority name kept.
const MAX_ISSUER_CHARS: usize = 100;

/// A problem with one field of a submitted form, in the shape the API returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldIssue {
    /// The offending field, e.g. `number`.
    pub field: String,
    /// Stable snake_case code, e.g. `bad_year`.
    pub code: String,
    /// Message for Chinese-speaking users.
    pub message_zh: String,
    /// Message for English-speaking users.
    pub message_en: String,
}

/// The API's field issue: the same field, code and messages.
impl From<FieldIssue> for crate::error::FieldIssue {
    fn from(i: FieldIssue) -> Self {
        Self::new(
            i.field,
            i.code,
            crate::error::Msg::new(i.message_zh, i.message_en),
        )
    }
}

impl FieldIssue {
    /// An issue against `field`.
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message_zh: impl Into<String>,
        message_en: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message_zh: message_zh.into(),
            message_en: message_en.into(),
        }
    }
}

/// The seven kinds of teacher qualification of 《教师资格条例》 (1995) 第四条,
/// encoded in the ninth digit of the certificate number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QualificationType {
    /// 1 幼儿园教师资格.
    Kindergarten,
    /// 2 小学教师资格.
    PrimarySchool,
    /// 3 初级中学教师资格.
    JuniorSecondary,
    /// 4 高级中学教师资格.
    SeniorSecondary,
    /// 5 中等职业学校教师资格 (subject teaching).
    SecondaryVocational,
    /// 6 中等职业学校实习指导教师资格.
    SecondaryVocationalPractice,
    /// 7 高等学校教师资格.
    HigherEducation,
}

impl QualificationType {
    /// Every type, in digit order.
    pub const ALL: [Self; 7] = [
        Self::Kindergarten,
        Self::PrimarySchool,
        Self::JuniorSecondary,
        Self::SeniorSecondary,
        Self::SecondaryVocational,
        Self::SecondaryVocationalPractice,
        Self::HigherEducation,
    ];

    /// The type whose digit is `digit`.
    pub fn from_digit(digit: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.digit() == digit)
    }

    /// The ninth digit of a certificate number of this type.
    pub const fn digit(self) -> u32 {
        match self {
            Self::Kindergarten => 1,
            Self::PrimarySchool => 2,
            Self::JuniorSecondary => 3,
            Self::SeniorSecondary => 4,
            Self::SecondaryVocational => 5,
            Self::SecondaryVocationalPractice => 6,
            Self::HigherEducation => 7,
        }
    }

    /// Chinese label.
    pub const fn label_zh(self) -> &'static str {
        match self {
            Self::Kindergarten => "幼儿园教师资格",
            Self::PrimarySchool => "小学教师资格",
            Self::JuniorSecondary => "初级中学教师资格",
            Self::SeniorSecondary => "高级中学教师资格",
            Self::SecondaryVocational => "中等职业学校教师资格",
            Self::SecondaryVocationalPractice => "中等职业学校实习指导教师资格",
            Self::HigherEducation => "高等学校教师资格",
        }
    }

    /// English label.
    pub const fn label_en(self) -> &'static str {
        match self {
            Self::Kindergarten => "Kindergarten teacher",
            Self::PrimarySchool => "Primary school teacher",
            Self::JuniorSecondary => "Junior secondary school teacher",
            Self::SeniorSecondary => "Senior secondary school teacher",
            Self::SecondaryVocational => "Secondary vocational school teacher",
            Self::SecondaryVocationalPractice => "Secondary vocational practice instructor",
            Self::HigherEducation => "Higher education teacher",
        }
    }
}

/// A 教师资格证书编号 that passed its format checks: 17 digits, of which
/// 1–4 are the year of certification, 5–6 the province-level code of the
/// certifying authority and 9 the [`QualificationType`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TeacherQualificationNo {
    number: String,
    year: i32,
    province: &'static Province,
    qualification_type: QualificationType,
}

impl TeacherQualificationNo {
    /// Trims `input` and checks it, reporting every problem at once. The year
    /// must lie in 1994..=`current_year`.
    pub fn parse(input: &str, current_year: i32) -> Result<Self, TeacherNoError> {
        let fail = |reasons| Err(TeacherNoError { reasons });
        let number = input.trim();
        let chars: Vec<char> = number.chars().collect();
        if chars.is_empty() {
            return fail(vec![TeacherNoReason::Empty]);
        }
        let mut reasons = Vec::new();
        let bad_positions: Vec<usize> = (1..)
            .zip(&chars)
            .filter(|(_, c)| !c.is_ascii_digit())
            .map(|(position, _)| position)
            .collect();
        if chars.len() != TEACHER_NO_LEN {
            reasons.push(TeacherNoReason::BadLength {
                actual: chars.len(),
            });
        }
        if !bad_positions.is_empty() {
            reasons.push(TeacherNoReason::BadCharset {
                positions: bad_positions,
            });
        }
        if chars.len() != TEACHER_NO_LEN {
            return fail(reasons);
        }

        let year = digits_value(&chars[..4])
            .and_then(|y| i32::try_from(y).ok())
            .filter(|y| (FIRST_TEACHER_YEAR..=current_year).contains(y));
        if year.is_none() {
            reasons.push(TeacherNoReason::BadYear {
                latest: current_year,
            });
        }
        let province = digits_value(&chars[4..6])
            .and_then(|_| regions::province(&chars[4..6].iter().collect::<String>()));
        if province.is_none() {
            reasons.push(TeacherNoReason::BadProvinceCode);
        }
        let qualification_type = chars[8]
            .to_digit(10)
            .and_then(QualificationType::from_digit);
        if qualification_type.is_none() {
            reasons.push(TeacherNoReason::BadQualificationType);
        }

        match (year, province, qualification_type) {
            (Some(year), Some(province), Some(qualification_type)) if reasons.is_empty() => {
                Ok(Self {
                    number: number.to_owned(),
                    year,
                    province,
                    qualification_type,
                })
            }
            _ => fail(reasons),
        }
    }

    /// The 17-digit number.
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// Digits 1–4: the year of certification.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// Digits 5–6 as the Chinese name of the certifying province.
    pub fn province(&self) -> &'static str {
        self.province.name_zh()
    }

    /// Digit 9.
    pub fn qualification_type(&self) -> QualificationType {
        self.qualification_type
    }
}

/// The number the ASCII digits in `chars` spell, if they are all digits.
fn digits_value(chars: &[char]) -> Option<u32> {
    chars
        .iter()
        .try_fold(0u32, |acc, c| Some(acc * 10 + c.to_digit(10)?))
}

/// One reason a string is not a teacher-qualification certificate number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeacherNoReason {
    /// Nothing entered.
    Empty,
    /// Not 17 characters.
    BadLength {
        /// Characters found.
        actual: usize,
    },
    /// Non-digits.
    BadCharset {
        /// Offending 1-based positions.
        positions: Vec<usize>,
    },
    /// Digits 1–4 are not a year from 1994 to the current year.
    BadYear {
        /// The current year, the latest allowed.
        latest: i32,
    },
    /// Digits 5–6 are not a province-level code.
    BadProvinceCode,
    /// Digit 9 is not 1–7.
    BadQualificationType,
}

impl TeacherNoReason {
    /// Stable snake_case code for API clients.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::BadLength { .. } => "bad_length",
            Self::BadCharset { .. } => "bad_charset",
            Self::BadYear { .. } => "bad_year",
            Self::BadProvinceCode => "bad_province_code",
            Self::BadQualificationType => "bad_qualification_type",
        }
    }

    /// Message for Chinese-speaking users.
    pub fn message_zh(&self) -> String {
        match self {
            Self::Empty => "请填写教师资格证书编号".to_owned(),
            Self::BadLength { actual } => {
                format!("教师资格证书编号应为 17 位数字，实际为 {actual} 位")
            }
            Self::BadCharset { positions } => {
                format!("第 {} 位不是数字", join(positions, "、"))
            }
            Self::BadYear { latest } => {
                format!("第 1–4 位应为 {FIRST_TEACHER_YEAR} 至 {latest} 年之间的认定年度")
            }
            Self::BadProvinceCode => "第 5–6 位应为有效的省级行政区代码".to_owned(),
            Self::BadQualificationType => {
                "第 9 位资格种类代码应为 1–7（幼儿园至高等学校）".to_owned()
            }
        }
    }

    /// Message for English-speaking users.
    pub fn message_en(&self) -> String {
        match self {
            Self::Empty => "The teacher qualification certificate number is required.".to_owned(),
            Self::BadLength { actual } => {
                format!("A teacher qualification certificate number has 17 digits; got {actual}.")
            }
            Self::BadCharset { positions } => {
                format!("Position(s) {} must be digits.", join(positions, ", "))
            }
            Self::BadYear { latest } => format!(
                "Digits 1–4 must be the year of certification, {FIRST_TEACHER_YEAR}–{latest}."
            ),
            Self::BadProvinceCode => "Digits 5–6 must be a valid province-level code.".to_owned(),
            Self::BadQualificationType => {
                "Digit 9 must be a qualification type from 1 (kindergarten) to 7 (higher \
                 education)."
                    .to_owned()
            }
        }
    }
}

fn join(positions: &[usize], separator: &str) -> String {
    positions
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

/// Every reason a string was rejected as a teacher certificate number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid teacher qualification certificate number: {}", codes(.reasons))]
pub struct TeacherNoError {
    /// The reasons, in position order.
    pub reasons: Vec<TeacherNoReason>,
}

fn codes(reasons: &[TeacherNoReason]) -> String {
    reasons
        .iter()
        .map(TeacherNoReason::code)
        .collect::<Vec<_>>()
        .join(", ")
}

impl TeacherNoError {
    /// The reasons as issues against form field `field`.
    pub fn field_issues(&self, field: &str) -> Vec<FieldIssue> {
        self.reasons
            .iter()
            .map(|r| FieldIssue::new(field, r.code(), r.message_zh(), r.message_en()))
            .collect()
    }
}

/// 社会体育指导员 technical grades, lowest to highest 三级, 二级, 一级, 国家级
/// (《社会体育指导员管理办法》, 国家体育总局令第 16 号, 2011).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SportsInstructorLevel {
    /// 国家级.
    National,
    /// 一级.
    First,
    /// 二级.
    Second,
    /// 三级.
    Third,
}

impl SportsInstructorLevel {
    /// Every level, highest first.
    pub const ALL: [Self; 4] = [Self::National, Self::First, Self::Second, Self::Third];

    /// The level whose wire name (`national`, `first`, `second`, `third`) is `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// The wire name, as serialised.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::National => "national",
            Self::First => "first",
            Self::Second => "second",
            Self::Third => "third",
        }
    }

    /// Chinese label.
    pub const fn label_zh(self) -> &'static str {
        match self {
            Self::National => "国家级社会体育指导员",
            Self::First => "一级社会体育指导员",
            Self::Second => "二级社会体育指导员",
            Self::Third => "三级社会体育指导员",
        }
    }

    /// English label.
    pub const fn label_en(self) -> &'static str {
        match self {
            Self::National => "National-level social sports instructor",
            Self::First => "First-level social sports instructor",
            Self::Second => "Second-level social sports instructor",
            Self::Third => "Third-level social sports instructor",
        }
    }

    /// The bureau admits level 2 and above; level 3 is an entry grade.
    pub const fn is_accepted(self) -> bool {
        !matches!(self, Self::Third)
    }
}

/// The government level that recognised a representative inheritor of
/// intangible cultural heritage (非物质文化遗产法 第二十九条 for the national
/// and provincial lists; municipal and county lists exist under local rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeritageLevel {
    /// 国家级.
    National,
    /// 省级.
    Provincial,
    /// 市级.
    Municipal,
    /// 县级.
    County,
}

impl HeritageLevel {
    /// Every level, highest first.
    pub const ALL: [Self; 4] = [
        Self::National,
        Self::Provincial,
        Self::Municipal,
        Self::County,
    ];

    /// The level whose wire name (`national`, `provincial`, `municipal`,
    /// `county`) is `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// The wire name, as serialised.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::National => "national",
            Self::Provincial => "provincial",
            Self::Municipal => "municipal",
            Self::County => "county",
        }
    }

    /// Chinese label.
    pub const fn label_zh(self) -> &'static str {
        match self {
            Self::National => "国家级",
            Self::Provincial => "省级",
            Self::Municipal => "市级",
            Self::County => "县级",
        }
    }

    /// English label.
    pub const fn label_en(self) -> &'static str {
        match self {
            Self::National => "National",
            Self::Provincial => "Provincial",
            Self::Municipal => "Municipal",
            Self::County => "County",
        }
    }
}

/// The credentials staff may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// 教师资格证书.
    TeacherQualification,
    /// 专业技能证书.
    ProfessionalSkill,
    /// 职业资格证书.
    VocationalQualification,
    /// 社会体育指导员证书.
    SocialSportsInstructor,
    /// 非物质文化遗产代表性传承人.
    HeritageInheritor,
}

impl CredentialKind {
    /// Every kind.
    pub const ALL: [Self; 5] = [
        Self::TeacherQualification,
        Self::ProfessionalSkill,
        Self::VocationalQualification,
        Self::SocialSportsInstructor,
        Self::HeritageInheritor,
    ];

    /// The wire name, as serialised (`"teacher_qualification"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TeacherQualification => "teacher_qualification",
            Self::ProfessionalSkill => "professional_skill",
            Self::VocationalQualification => "vocational_qualification",
            Self::SocialSportsInstructor => "social_sports_instructor",
            Self::HeritageInheritor => "heritage_inheritor",
        }
    }

    /// The kind whose wire name is `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Chinese label.
    pub const fn label_zh(self) -> &'static str {
        match self {
            Self::TeacherQualification => "教师资格证书",
            Self::ProfessionalSkill => "专业技能证书",
            Self::VocationalQualification => "职业资格证书",
            Self::SocialSportsInstructor => "社会体育指导员证书",
            Self::HeritageInheritor => "非物质文化遗产代表性传承人",
        }
    }

    /// English label.
    pub const fn label_en(self) -> &'static str {
        match self {
            Self::TeacherQualification => "Teacher qualification certificate",
            Self::ProfessionalSkill => "Professional skill certificate",
            Self::VocationalQualification => "Vocational qualification certificate",
            Self::SocialSportsInstructor => "Social sports instructor certificate",
            Self::HeritageInheritor => "Intangible cultural heritage inheritor",
        }
    }
}

/// A credential as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CredentialInput {
    /// What the credential is.
    pub kind: CredentialKind,
    /// Certificate number (for heritage inheritors, the recognition document number).
    pub number: String,
    /// Issuing authority (for heritage inheritors, the recognising authority).
    pub issuer: String,
    /// Date of issue or recognition.
    pub issued_on: NaiveDate,
    /// Last day of validity, if the credential expires.
    #[serde(default)]
    pub expires_on: Option<NaiveDate>,
    /// `national|first|second|third` for sports instructors,
    /// `national|provincial|municipal|county` for heritage inheritors.
    #[serde(default)]
    pub level: Option<String>,
}

/// What is specific to each kind of credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialDetail {
    /// With its parsed certificate number.
    TeacherQualification(TeacherQualificationNo),
    /// 专业技能证书.
    ProfessionalSkill,
    /// 职业资格证书.
    VocationalQualification,
    /// With the instructor's grade.
    SocialSportsInstructor(SportsInstructorLevel),
    /// With the level that recognised the inheritor.
    HeritageInheritor(HeritageLevel),
}

/// A credential that passed every format and date rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    number: String,
    issuer: String,
    issued_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    detail: CredentialDetail,
}

impl Credential {
    /// Checks a submitted credential as of `today`, returning every problem:
    /// number and issuer present, teacher numbers well-formed, a level for
    /// sports instructors and heritage inheritors, `issued_on` not in the
    /// future and `expires_on` after it. A `level` on other kinds is ignored.
    /// Expiry and a too-low grade are not parse errors: see
    /// [`Credential::blocking_issue`].
    pub fn parse(input: CredentialInput, today: NaiveDate) -> Result<Self, Vec<FieldIssue>> {
        let mut issues = Vec::new();
        let number = input.number.trim().to_owned();
        let issuer = input.issuer.trim().to_owned();

        let teacher_number = if number.is_empty() {
            issues.push(required("number", "证书编号", "The certificate number"));
            None
        } else if input.kind == CredentialKind::TeacherQualification {
            match TeacherQualificationNo::parse(&number, today.year()) {
                Ok(parsed) => Some(parsed),
                Err(error) => {
                    issues.extend(error.field_issues("number"));
                    None
                }
            }
        } else {
            if number.chars().count() > MAX_NUMBER_CHARS {
                issues.push(too_long("number", MAX_NUMBER_CHARS));
            }
            None
        };

        if issuer.is_empty() {
            issues.push(required(
                "issuer",
                "发证（认定）机构",
                "The issuing authority",
            ));
        } else if issuer.chars().count() > MAX_ISSUER_CHARS {
            issues.push(too_long("issuer", MAX_ISSUER_CHARS));
        }

        let level = input.level.as_deref().map(str::trim).unwrap_or_default();
        let detail = match input.kind {
            CredentialKind::TeacherQualification => {
                teacher_number.map(CredentialDetail::TeacherQualification)
            }
            CredentialKind::ProfessionalSkill => Some(CredentialDetail::ProfessionalSkill),
            CredentialKind::VocationalQualification => {
                Some(CredentialDetail::VocationalQualification)
            }
            CredentialKind::SocialSportsInstructor => parse_level(
                level,
                SportsInstructorLevel::parse,
                "national, first, second, third",
                &mut issues,
            )
            .map(CredentialDetail::SocialSportsInstructor),
            CredentialKind::HeritageInheritor => parse_level(
                level,
                HeritageLevel::parse,
                "national, provincial, municipal, county",
                &mut issues,
            )
            .map(CredentialDetail::HeritageInheritor),
        };

        if input.issued_on > today {
            issues.push(FieldIssue::new(
                "issued_on",
                "in_future",
                "发证日期不能晚于今天",
                "The date of issue cannot be in the future.",
            ));
        }
        if let Some(expires_on) = input.expires_on
            && expires_on <= input.issued_on
        {
            issues.push(FieldIssue::new(
                "expires_on",
                "not_after_issued_on",
                "有效期截止日期应晚于发证日期",
                "The expiry date must be after the date of issue.",
            ));
        }

        match detail {
            Some(detail) if issues.is_empty() => Ok(Self {
                number,
                issuer,
                issued_on: input.issued_on,
                expires_on: input.expires_on,
                detail,
            }),
            _ => Err(issues),
        }
    }

    /// Which kind of credential this is.
    pub fn kind(&self) -> CredentialKind {
        match self.detail {
            CredentialDetail::TeacherQualification(_) => CredentialKind::TeacherQualification,
            CredentialDetail::ProfessionalSkill => CredentialKind::ProfessionalSkill,
            CredentialDetail::VocationalQualification => CredentialKind::VocationalQualification,
            CredentialDetail::SocialSportsInstructor(_) => CredentialKind::SocialSportsInstructor,
            CredentialDetail::HeritageInheritor(_) => CredentialKind::HeritageInheritor,
        }
    }

    /// The trimmed certificate number.
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The trimmed issuing authority.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Date of issue.
    pub fn issued_on(&self) -> NaiveDate {
        self.issued_on
    }

    /// Last day of validity, if any.
    pub fn expires_on(&self) -> Option<NaiveDate> {
        self.expires_on
    }

    /// The kind-specific part.
    pub fn detail(&self) -> &CredentialDetail {
        &self.detail
    }

    /// Heritage inheritors are admitted without a teaching qualification on
    /// the strength of their recognition, which a reviewer must confirm.
    pub fn needs_review(&self) -> bool {
        matches!(self.detail, CredentialDetail::HeritageInheritor(_))
    }

    /// Whether the credential had lapsed by `on` (valid through `expires_on`).
    pub fn is_expired(&self, on: NaiveDate) -> bool {
        self.expires_on.is_some_and(|last_day| last_day < on)
    }

    /// Why the credential cannot count on `on`, if it cannot; expiry is
    /// reported before a too-low grade.
    pub fn blocking_issue(&self, on: NaiveDate) -> Option<BlockingIssue> {
        match (self.expires_on, &self.detail) {
            (Some(expired_on), _) if self.is_expired(on) => {
                Some(BlockingIssue::Expired { expired_on })
            }
            (_, &CredentialDetail::SocialSportsInstructor(level)) if !level.is_accepted() => {
                Some(BlockingIssue::SportsInstructorLevelTooLow { level })
            }
            _ => None,
        }
    }
}

fn parse_level<T>(
    level: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
    issues: &mut Vec<FieldIssue>,
) -> Option<T> {
    if level.is_empty() {
        issues.push(required("level", "等级", "The level"));
        return None;
    }
    let parsed = parse(&level.to_ascii_lowercase());
    if parsed.is_none() {
        issues.push(FieldIssue::new(
            "level",
            "bad_level",
            format!("等级“{level}”无效，可选值：{allowed}"),
            format!("Unknown level '{level}'; expected one of: {allowed}."),
        ));
    }
    parsed
}

fn required(field: &str, label_zh: &str, label_en: &str) -> FieldIssue {
    FieldIssue::new(
        field,
        "required",
        format!("请填写{label_zh}"),
        format!("{label_en} is required."),
    )
}

fn too_long(field: &str, max: usize) -> FieldIssue {
    FieldIssue::new(
        field,
        "too_long",
        format!("不能超过 {max} 个字符"),
        format!("At most {max} characters are allowed."),
    )
}

/// Why a valid credential still cannot count towards a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockingIssue {
    /// Validity ended.
    Expired {
        /// The last valid day.
        expired_on: NaiveDate,
    },
    /// A sports instructor below level 2.
    SportsInstructorLevelTooLow {
        /// The grade held.
        level: SportsInstructorLevel,
    },
}

impl BlockingIssue {
    /// Stable snake_case code.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Expired { .. } => "credential_expired",
            Self::SportsInstructorLevelTooLow { .. } => "sports_instructor_level_too_low",
        }
    }

    /// The credential field at fault.
    pub const fn field(self) -> &'static str {
        match self {
            Self::Expired { .. } => "expires_on",
            Self::SportsInstructorLevelTooLow { .. } => "level",
        }
    }

    /// Message for Chinese-speaking users.
    pub fn message_zh(self) -> String {
        match self {
            Self::Expired { expired_on } => format!("证书已于 {expired_on} 过期"),
            Self::SportsInstructorLevelTooLow { level } => {
                format!("社会体育指导员须为二级及以上，当前为{}", level.label_zh())
            }
        }
    }

    /// Message for English-speaking users.
    pub fn message_en(self) -> String {
        match self {
            Self::Expired { expired_on } => format!("The credential expired on {expired_on}."),
            Self::SportsInstructorLevelTooLow { level } => format!(
                "Social sports instructors must hold level 2 or higher; this is: {}.",
                level.label_en()
            ),
        }
    }

    /// As an issue for the submission report.
    pub fn to_field_issue(self) -> FieldIssue {
        FieldIssue::new(
            self.field(),
            self.code(),
            self.message_zh(),
            self.message_en(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn today() -> NaiveDate {
        date(2025, 9, 1)
    }

    fn input(kind: CredentialKind, number: &str, level: Option<&str>) -> CredentialInput {
        CredentialInput {
            kind,
            number: number.to_owned(),
            issuer: "南宁市教育局".to_owned(),
            issued_on: date(2019, 7, 1),
            expires_on: None,
            level: level.map(str::to_owned),
        }
    }

    fn issue_codes(input: CredentialInput) -> Vec<(String, String)> {
        match Credential::parse(input, today()) {
            Ok(_) => Vec::new(),
            Err(issues) => issues.into_iter().map(|i| (i.field, i.code)).collect(),
        }
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
            .collect()
    }

    #[test]
    fn parses_teacher_numbers() {
        let cases = [
            (
                "20194501220001234",
                2019,
                "广西壮族自治区",
                QualificationType::PrimarySchool,
            ),
            (
                " 19941100110000001 ",
                1994,
                "北京市",
                QualificationType::Kindergarten,
            ),
            (
                "20254403730000088",
                2025,
                "广东省",
                QualificationType::HigherEducation,
            ),
            (
                "20086500550012345",
                2008,
                "新疆维吾尔自治区",
                QualificationType::SecondaryVocational,
            ),
        ];
        for (input, year, province, qualification_type) in cases {
            let number = TeacherQualificationNo::parse(input, 2025)
                .unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(number.as_str(), input.trim());
            assert_eq!(number.year(), year);
            assert_eq!(number.province(), province);
            assert_eq!(number.qualification_type(), qualification_type);
        }
    }

    #[test]
    fn reports_each_teacher_number_failure() {
        let cases: &[(&str, &[&str])] = &[
            ("", &["empty"]),
            ("2019450122000123", &["bad_length"]),
            ("201945012200012345", &["bad_length"]),
            ("2019450122000123A", &["bad_charset"]),
            ("2019-4501220001", &["bad_length", "bad_charset"]),
            ("19934501220001234", &["bad_year"]),
            ("20264501220001234", &["bad_year"]),
            ("20199901220001234", &["bad_province_code"]),
            ("20194501020001234", &["bad_qualification_type"]),
            ("20194501820001234", &["bad_qualification_type"]),
            (
                "00009901920001234",
                &["bad_year", "bad_province_code", "bad_qualification_type"],
            ),
            ("2O1945012200O1234", &["bad_charset", "bad_year"]),
        ];
        for (input, expected) in cases {
            let codes: Vec<_> = match TeacherQualificationNo::parse(input, 2025) {
                Ok(_) => Vec::new(),
                Err(e) => e.reasons.iter().map(TeacherNoReason::code).collect(),
            };
            assert_eq!(codes, *expected, "{input:?}");
        }
        let Err(error) = TeacherQualificationNo::parse("20264501220001234", 2025) else {
            panic!("accepted a future year");
        };
        assert!(error.reasons[0].message_zh().contains("1994 至 2025"));
        assert_eq!(
            error.to_string(),
            "invalid teacher qualification certificate number: bad_year"
        );
    }

    #[test]
    fn every_teacher_reason_has_messages() {
        let reasons = [
            TeacherNoReason::Empty,
            TeacherNoReason::BadLength { actual: 3 },
            TeacherNoReason::BadCharset { positions: vec![2] },
            TeacherNoReason::BadYear { latest: 2025 },
            TeacherNoReason::BadProvinceCode,
            TeacherNoReason::BadQualificationType,
        ];
        for reason in reasons {
            assert!(!reason.message_zh().is_empty() && !reason.message_en().is_empty());
        }
        for t in QualificationType::ALL {
            assert_eq!(QualificationType::from_digit(t.digit()), Some(t));
            assert!(!t.label_zh().is_empty() && !t.label_en().is_empty());
        }
    }

    #[test]
    fn sports_levels_two_and_above_are_accepted() {
        let accepted: Vec<_> = SportsInstructorLevel::ALL
            .into_iter()
            .filter(|l| l.is_accepted())
            .collect();
        assert_eq!(
            accepted,
            [
                SportsInstructorLevel::National,
                SportsInstructorLevel::First,
                SportsInstructorLevel::Second
            ]
        );
        for level in SportsInstructorLevel::ALL {
            assert_eq!(SportsInstructorLevel::parse(level.as_str()), Some(level));
            assert_eq!(
                serde_json::to_value(level).unwrap(),
                serde_json::Value::from(level.as_str())
            );
        }
        for level in HeritageLevel::ALL {
            assert_eq!(HeritageLevel::parse(level.as_str()), Some(level));
            assert_eq!(
                serde_json::to_value(level).unwrap(),
                serde_json::Value::from(level.as_str())
            );
        }
        for kind in CredentialKind::ALL {
            assert_eq!(CredentialKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
            assert!(!kind.label_zh().is_empty() && !kind.label_en().is_empty());
        }
    }

    #[test]
    fn parses_every_kind() {
        let teacher = Credential::parse(
            input(
                CredentialKind::TeacherQualification,
                " 20194501220001234 ",
                None,
            ),
            today(),
        )
        .unwrap();
        assert_eq!(teacher.kind(), CredentialKind::TeacherQualification);
        assert_eq!(teacher.number(), "20194501220001234");
        assert!(matches!(
            teacher.detail(),
            CredentialDetail::TeacherQualification(n) if n.qualification_type() == QualificationType::PrimarySchool
        ));

        for kind in [
            CredentialKind::ProfessionalSkill,
            CredentialKind::VocationalQualification,
        ] {
            let credential =
                Credential::parse(input(kind, "S000045010001", None), today()).unwrap();
            assert_eq!(credential.kind(), kind);
            assert!(!credential.needs_review());
        }

        let sports = Credential::parse(
            input(
                CredentialKind::SocialSportsInstructor,
                "TY2019-0088",
                Some(" Second "),
            ),
            today(),
        )
        .unwrap();
        assert_eq!(
            sports.detail(),
            &CredentialDetail::SocialSportsInstructor(SportsInstructorLevel::Second)
        );
        assert_eq!(sports.blocking_issue(today()), None);

        let heritage = Credential::parse(
            input(
                CredentialKind::HeritageInheritor,
                "桂文旅发〔2019〕12号",
                Some("provincial"),
            ),
            today(),
        )
        .unwrap();
        assert_eq!(
            heritage.detail(),
            &CredentialDetail::HeritageInheritor(HeritageLevel::Provincial)
        );
        assert!(heritage.needs_review());
        assert_eq!(heritage.issuer(), "南宁市教育局");
        assert_eq!(heritage.issued_on(), date(2019, 7, 1));
        assert_eq!(heritage.expires_on(), None);
    }

    #[test]
    fn reports_each_credential_issue() {
        let mut blank = input(CredentialKind::ProfessionalSkill, "  ", None);
        blank.issuer = " ".to_owned();
        assert_eq!(
            issue_codes(blank),
            pairs(&[("number", "required"), ("issuer", "required")])
        );

        let mut long = input(
            CredentialKind::VocationalQualification,
            &"9".repeat(65),
            None,
        );
        long.issuer = "局".repeat(101);
        assert_eq!(
            issue_codes(long),
            pairs(&[("number", "too_long"), ("issuer", "too_long")])
        );

        assert_eq!(
            issue_codes(input(
                CredentialKind::TeacherQualification,
                "20269901020001234",
                None
            )),
            pairs(&[
                ("number", "bad_year"),
                ("number", "bad_province_code"),
                ("number", "bad_qualification_type")
            ])
        );
        assert_eq!(
            issue_codes(input(CredentialKind::SocialSportsInstructor, "TY1", None)),
            pairs(&[("level", "required")])
        );
        assert_eq!(
            issue_codes(input(
                CredentialKind::SocialSportsInstructor,
                "TY1",
                Some("provincial")
            )),
            pairs(&[("level", "bad_level")])
        );
        assert_eq!(
            issue_codes(input(CredentialKind::HeritageInheritor, "FY1", Some(""))),
            pairs(&[("level", "required")])
        );
        assert_eq!(
            issue_codes(input(
                CredentialKind::HeritageInheritor,
                "FY1",
                Some("second")
            )),
            pairs(&[("level", "bad_level")])
        );

        let mut future = input(CredentialKind::ProfessionalSkill, "S1", None);
        future.issued_on = date(2025, 9, 2);
        assert_eq!(issue_codes(future), pairs(&[("issued_on", "in_future")]));

        let mut inverted = input(CredentialKind::ProfessionalSkill, "S1", None);
        inverted.expires_on = Some(inverted.issued_on);
        assert_eq!(
            issue_codes(inverted),
            pairs(&[("expires_on", "not_after_issued_on")])
        );
    }

    #[test]
    fn expiry_and_low_grades_block() {
        let mut expiring = input(CredentialKind::VocationalQualification, "V1", None);
        expiring.expires_on = Some(date(2025, 6, 30));
        let credential = Credential::parse(expiring, today()).unwrap();
        assert!(!credential.is_expired(date(2025, 6, 30)));
        assert!(credential.is_expired(date(2025, 7, 1)));
        assert_eq!(credential.blocking_issue(date(2025, 6, 30)), None);
        let blocking = credential.blocking_issue(today()).unwrap();
        assert_eq!(
            blocking,
            BlockingIssue::Expired {
                expired_on: date(2025, 6, 30)
            }
        );
        let issue = blocking.to_field_issue();
        assert_eq!(
            (issue.field.as_str(), issue.code.as_str()),
            ("expires_on", "credential_expired")
        );
        assert!(issue.message_zh.contains("2025-06-30"));

        let mut third = input(CredentialKind::SocialSportsInstructor, "TY3", Some("third"));
        third.expires_on = Some(date(2025, 6, 30));
        let third = Credential::parse(third, today()).unwrap();
        assert_eq!(
            third
                .blocking_issue(date(2025, 1, 1))
                .map(BlockingIssue::code),
            Some("sports_instructor_level_too_low")
        );
        assert_eq!(
            third.blocking_issue(today()).map(BlockingIssue::code),
            Some("credential_expired")
        );
        assert!(
            !third
                .blocking_issue(date(2025, 1, 1))
                .unwrap()
                .message_en()
                .is_empty()
        );
    }

    #[test]
    fn deserialises_api_input() {
        let json = r#"{"kind":"social_sports_instructor","number":"TY2019-0088",
                       "issuer":"广西壮族自治区体育局","issued_on":"2019-07-01","level":"first"}"#;
        let parsed: CredentialInput = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.kind, CredentialKind::SocialSportsInstructor);
        assert_eq!(parsed.expires_on, None);
        assert_eq!(parsed.level.as_deref(), Some("first"));
        assert!(Credential::parse(parsed, today()).is_ok());
        assert!(serde_json::from_str::<CredentialInput>(r#"{"kind":"diploma"}"#).is_err());
    }

    /// A valid teacher number for some year up to 2025.
    fn valid_teacher_number() -> impl Strategy<Value = String> {
        (
            FIRST_TEACHER_YEAR..=2025,
            prop::sample::select(regions::all().to_vec()),
            "[0-9]{2}",
            1..=7u32,
            "[0-9]{8}",
        )
            .prop_map(|(year, province, city, kind, rest)| {
                format!("{year}{}{city}{kind}{rest}", province.code())
            })
    }

    proptest! {
        #[test]
        fn generated_teacher_numbers_parse(number in valid_teacher_number()) {
            let parsed = TeacherQualificationNo::parse(&number, 2025);
            prop_assert!(parsed.is_ok(), "{number}: {parsed:?}");
        }

        #[test]
        fn teacher_numbers_from_later_years_are_refused(number in valid_teacher_number()) {
            let year: i32 = number[..4].parse().unwrap();
            prop_assert!(TeacherQualificationNo::parse(&number, year - 1).is_err());
        }

        #[test]
        fn never_panics(input in "\\PC{0,30}", year in 1990..2100i32) {
            let _ = TeacherQualificationNo::parse(&input, year);
        }
    }
}
