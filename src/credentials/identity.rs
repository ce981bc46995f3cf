//! Identity documents of the people an institution registers (legal
//! representatives, staff).
//!
//! Owns the citizen identity number of GB 11643-1999 (公民身份号码), the format
//! checks for the other documents the bureau accepts, and masking: the types
//! here never print a full number through `Debug`, so they can sit in structs
//! that get logged.
//!
//! Only the resident ID can be verified offline with any confidence; every
//! other kind gets a format check and is flagged for a reviewer.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::certificates::FieldIssue;
use super::regions::{self, Province};

/// Length of a citizen identity number (GB 11643-1999).
const RESIDENT_ID_LEN: usize = 18;

/// Length of the first-generation number (GB 11643-1989), which the second
/// generation card replaced; first-generation cards lost validity on
/// 2013-01-01 (居民身份证法, 2011 amendment).
const FIRST_GENERATION_LEN: usize = 15;

/// Weights W_i = 2^(18−i) mod 11 (GB 11643-1999 校验码, ISO 7064 MOD 11-2).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Check character indexed by Σ(a_i·W_i) mod 11; 10 is written X.
const CHECK_CHARACTERS: &[u8; 11] = b"10X98765432";

/// The earliest birth year accepted; older dates are typing errors.
const EARLIEST_BIRTH_YEAR: i32 = 1900;

/// Region prefixes of 港澳台居民居住证 numbers (Hong Kong, Macao, Taiwan),
/// per the 2018 国务院办公厅《港澳台居民居住证申领发放办法》.
const RESIDENCE_PERMIT_PREFIXES: [&str; 3] = ["810000", "820000", "830000"];

/// A citizen identity number (公民身份号码) that passed every GB 11643-1999
/// check. `Debug` prints only the masked form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId {
    number: String,
    province: &'static Province,
    birth_date: NaiveDate,
}

impl ResidentId {
    /// Appends the check character to the first 17 digits of a number (for demo and test
    /// data); `None` when `body` is not 17 digits.
    pub fn complete(body: &str) -> Option<String> {
        let chars: Vec<char> = body.chars().collect();
        Some(format!("{body}{}", check_character(&chars)?))
    }

    /// Normalises `input` (trim, lower-case `x` → `X`) and checks length,
    /// characters, province, birth date (real, from 1900, not after `today`)
    /// and check character, reporting every problem found at once.
    pub fn parse(input: &str, today: NaiveDate) -> Result<Self, IdError> {
        let fail = |reasons| Err(IdError::new(IdDocumentKind::ResidentId, reasons));
        let number = input.trim().to_ascii_uppercase();
        let chars: Vec<char> = number.chars().collect();
        if chars.is_empty() {
            return fail(vec![IdReason::Empty]);
        }
        if chars.len() == FIRST_GENERATION_LEN && chars.iter().all(char::is_ascii_digit) {
            return fail(vec![IdReason::FirstGenerationId]);
        }

        let mut reasons = Vec::new();
        // Only the final character may be X (the check value 10).
        let last = chars.len() - 1;
        let bad_positions: Vec<usize> = chars
            .iter()
            .enumerate()
            .filter(|&(i, c)| !(c.is_ascii_digit() || (i == last && *c == 'X')))
            .map(|(i, _)| i + 1)
            .collect();
        if chars.len() != RESIDENT_ID_LEN {
            reasons.push(IdReason::BadLength {
                actual: chars.len(),
            });
            if !bad_positions.is_empty() {
                reasons.push(IdReason::BadCharset {
                    positions: bad_positions,
                });
            }
            return fail(reasons);
        }
        if !bad_positions.is_empty() {
            reasons.push(IdReason::BadCharset {
                positions: bad_positions,
            });
        }

        // 地址码: positions 1–6 are the GB/T 2260 code of the registered
        // residence; only the province level is stable enough to check.
        let province = digits(&chars[..6])
            .and_then(|_| regions::province(&chars[..2].iter().collect::<String>()));
        if province.is_none() {
            reasons.push(IdReason::BadRegionCode);
        }

        // 出生日期码: positions 7–14 are the birth date as YYYYMMDD.
        let birth_date = digits(&chars[6..14]).and_then(|d| {
            let year = i32::try_from(d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]).ok()?;
            NaiveDate::from_ymd_opt(year, d[4] * 10 + d[5], d[6] * 10 + d[7])
        });
        match birth_date {
            Some(date) if date.year() < EARLIEST_BIRTH_YEAR => reasons.push(IdReason::BadBirthDate),
            Some(date) if date > today => reasons.push(IdReason::BirthDateInFuture),
            Some(_) => {}
            None => reasons.push(IdReason::BadBirthDate),
        }

        if let Some(expected) = check_mismatch(&chars) {
            reasons.push(IdReason::BadCheckCharacter { expected });
        }

        match (province, birth_date) {
            (Some(province), Some(birth_date)) if reasons.is_empty() => Ok(Self {
                number,
                province,
                birth_date,
            }),
            _ => fail(reasons),
        }
    }

    /// The full normalised number. Handle with care: personal information.
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// Positions 1–6: GB/T 2260 code of the registered residence at issue.
    pub fn region_code(&self) -> &str {
        // Validated as ASCII digits, so byte slicing is on char boundaries.
        &self.number[..6]
    }

    /// Chinese name of the province-level division of the region code.
    pub fn province(&self) -> &'static str {
        self.province.name_zh()
    }

    /// Positions 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// Position 17, the sequence code (顺序码): odd for men, even for women.
    pub fn gender(&self) -> Gender {
        let sequence = self.number.chars().nth(16).and_then(|c| c.to_digit(10));
        if sequence.is_some_and(|d| d % 2 == 1) {
            Gender::Male
        } else {
            Gender::Female
        }
    }

    /// `450103********1234`: region and sequence stay, the birth date goes.
    pub fn mask(&self) -> String {
        mask_keeping(&self.number, 6, 4)
    }
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ResidentId").field(&self.mask()).finish()
    }
}

/// The digit values of `chars`, if all are ASCII digits.
fn digits(chars: &[char]) -> Option<Vec<u32>> {
    chars.iter().map(|c| c.to_digit(10)).collect()
}

/// The ISO 7064 MOD 11-2 check character of 17 digits.
fn check_character(body: &[char]) -> Option<char> {
    let values = digits(body).filter(|v| v.len() == WEIGHTS.len())?;
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    CHECK_CHARACTERS
        .get((sum % 11) as usize)
        .map(|&c| char::from(c))
}

/// For an 18-character number whose first 17 characters are digits: the
/// ISO 7064 MOD 11-2 check character, if the 18th differs from it.
fn check_mismatch(chars: &[char]) -> Option<char> {
    let (&actual, body) = chars.split_last()?;
    let expected = check_character(body)?;
    (actual != expected).then_some(expected)
}

/// Sex encoded in a resident ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// 男.
    Male,
    /// 女.
    Female,
}

impl Gender {
    /// Chinese label.
    pub const fn label_zh(self) -> &'static str {
        match self {
            Self::Male => "男",
            Self::Female => "女",
        }
    }

    /// English label.
    pub const fn label_en(self) -> &'static str {
        match self {
            Self::Male => "Male",
            Self::Female => "Female",
        }
    }
}

/// The identity documents the bureau accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdDocumentKind {
    /// 居民身份证 (GB 11643-1999 number).
    ResidentId,
    /// 护照, Chinese or foreign.
    Passport,
    /// 港澳居民来往内地通行证.
    HkMacauPermit,
    /// 台湾居民来往大陆通行证.
    TaiwanPermit,
    /// 港澳台居民居住证.
    ResidencePermit,
    /// 外国人永久居留身份证.
    ForeignPermanentResidence,
}

impl IdDocumentKind {
    /// Every kind.
    pub const ALL: [Self; 6] = [
        Self::ResidentId,
        Self::Passport,
        Self::HkMacauPermit,
        Self::TaiwanPermit,
        Self::ResidencePermit,
        Self::ForeignPermanentResidence,
    ];

    /// The wire name, as serialised (`"hk_macau_permit"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ResidentId => "resident_id",
            Self::Passport => "passport",
            Self::HkMacauPermit => "hk_macau_permit",
            Self::TaiwanPermit => "taiwan_permit",
            Self::ResidencePermit => "residence_permit",
            Self::ForeignPermanentResidence => "foreign_permanent_residence",
        }
    }

    /// The kind whose wire name is `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Chinese name of the document.
    pub const fn label_zh(self) -> &'static str {
        match self {
            Self::ResidentId => "居民身份证",
            Self::Passport => "护照",
            Self::HkMacauPermit => "港澳居民来往内地通行证",
            Self::TaiwanPermit => "台湾居民来往大陆通行证",
            Self::ResidencePermit => "港澳台居民居住证",
            Self::ForeignPermanentResidence => "外国人永久居留身份证",
        }
    }

    /// English name of the document.
    pub const fn label_en(self) -> &'static str {
        match self {
            Self::ResidentId => "resident identity card",
            Self::Passport => "passport",
            Self::HkMacauPermit => "mainland travel permit for Hong Kong and Macao residents",
            Self::TaiwanPermit => "mainland travel permit for Taiwan residents",
            Self::ResidencePermit => "residence permit for Hong Kong, Macao and Taiwan residents",
            Self::ForeignPermanentResidence => "foreign permanent resident ID card",
        }
    }

    const fn format_zh(self) -> &'static str {
        match self {
            Self::ResidentId => "应为 18 位",
            Self::Passport => "应为 5–17 位字母或数字",
            Self::HkMacauPermit => "应为 H 或 M 加 8 位数字（旧证为 10 位数字）",
            Self::TaiwanPermit => "应为 8 位数字（旧证为 10 位）",
            Self::ResidencePermit => "应为 18 位，以 810000、820000 或 830000 开头，末位为数字或 X",
            Self::ForeignPermanentResidence => {
                "应为 15 位（3 个字母加 12 位数字）或 18 位（2023 年版，以 9 开头）"
            }
        }
    }

    const fn format_en(self) -> &'static str {
        match self {
            Self::ResidentId => "has 18 characters",
            Self::Passport => "has 5–17 letters or digits",
            Self::HkMacauPermit => "is H or M followed by 8 digits (10 on older permits)",
            Self::TaiwanPermit => "has 8 digits (10 characters on older permits)",
            Self::ResidencePermit => {
                "has 18 characters, starts with 810000, 820000 or 830000 and ends in a digit or X"
            }
            Self::ForeignPermanentResidence => {
                "has 15 characters (3 letters and 12 digits) or 18 (2023 version, starting with 9)"
            }
        }
    }

    /// Whether `number` (normalised, ASCII) has this kind's format. Resident
    /// IDs are not judged here but by [`ResidentId::parse`].
    fn has_format(self, number: &[u8]) -> bool {
        let all_digits = |b: &[u8]| b.iter().all(u8::is_ascii_digit);
        let id_like = |b: &[u8]| {
            b.len() == RESIDENT_ID_LEN
                && all_digits(&b[..RESIDENT_ID_LEN - 1])
                && matches!(b[RESIDENT_ID_LEN - 1], b'0'..=b'9' | b'X')
        };
        match self {
            Self::ResidentId => id_like(number),
            Self::Passport => {
                (5..=17).contains(&number.len()) && number.iter().all(u8::is_ascii_alphanumeric)
            }
            // H (Hong Kong) or M (Macao) and 8 digits; older records carry 10
            // digits (the last two counted renewals).
            Self::HkMacauPermit => match number.split_first() {
                Some((b'H' | b'M', rest)) => matches!(rest.len(), 8 | 10) && all_digits(rest),
                _ => false,
            },
            // The card issued since 2015 has 8 digits; numbers of the older
            // booklets ran to 10 characters and still appear in records.
            Self::TaiwanPermit => {
                (number.len() == 8 && all_digits(number))
                    || (number.len() == 10 && number.iter().all(u8::is_ascii_alphanumeric))
            }
            Self::ResidencePermit => {
                id_like(number)
                    && RESIDENCE_PERMIT_PREFIXES
                        .iter()
                        .any(|p| number.starts_with(p.as_bytes()))
            }
            // 2004 card: 3-letter nationality code + 12 digits. 2023 card: 18
            // characters led by 9, with the resident-ID check character.
            Self::ForeignPermanentResidence => {
                (number.len() == 15
                    && number[..3].iter().all(u8::is_ascii_uppercase)
                    && all_digits(&number[3..]))
                    || (id_like(number) && number.first() == Some(&b'9'))
            }
        }
    }
}

/// A document number that passed its format check. `Debug` prints only the
/// masked form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DocumentNumber(String);

impl DocumentNumber {
    /// The full normalised number. Handle with care: personal information.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// At most the first and last two characters, asterisks between; fewer
    /// for short numbers so at least half is always hidden.
    pub fn mask(&self) -> String {
        let keep = (self.0.chars().count() / 4).min(2);
        mask_keeping(&self.0, keep, keep)
    }
}

impl fmt::Debug for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DocumentNumber").field(&self.mask()).finish()
    }
}

/// An identity document of any accepted kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdentityDocument {
    /// 居民身份证, fully verified.
    ResidentId(ResidentId),
    /// 护照.
    Passport(DocumentNumber),
    /// 港澳居民来往内地通行证.
    HkMacauPermit(DocumentNumber),
    /// 台湾居民来往大陆通行证.
    TaiwanPermit(DocumentNumber),
    /// 港澳台居民居住证.
    ResidencePermit(DocumentNumber),
    /// 外国人永久居留身份证.
    ForeignPermanentResidence(DocumentNumber),
}

impl IdentityDocument {
    /// Parses `number` as a document of `kind`. Input is trimmed and ASCII
    /// upper-cased; resident IDs get every GB 11643-1999 check, other kinds a
    /// format check (plus the MOD 11-2 check character where they carry one).
    pub fn parse(kind: IdDocumentKind, number: &str, today: NaiveDate) -> Result<Self, IdError> {
        let wrap: fn(DocumentNumber) -> Self = match kind {
            IdDocumentKind::ResidentId => {
                return ResidentId::parse(number, today).map(Self::ResidentId);
            }
            IdDocumentKind::Passport => Self::Passport,
            IdDocumentKind::HkMacauPermit => Self::HkMacauPermit,
            IdDocumentKind::TaiwanPermit => Self::TaiwanPermit,
            IdDocumentKind::ResidencePermit => Self::ResidencePermit,
            IdDocumentKind::ForeignPermanentResidence => Self::ForeignPermanentResidence,
        };
        let number = number.trim().to_ascii_uppercase();
        let fail = |reason| Err(IdError::new(kind, vec![reason]));
        if number.is_empty() {
            return fail(IdReason::Empty);
        }
        if !kind.has_format(number.as_bytes()) {
            return fail(IdReason::BadFormat { kind });
        }
        // Both 18-character permits carry the resident-ID check character.
        let carries_check = matches!(
            kind,
            IdDocumentKind::ResidencePermit | IdDocumentKind::ForeignPermanentResidence
        ) && number.len() == RESIDENT_ID_LEN;
        if carries_check {
            let chars: Vec<char> = number.chars().collect();
            if let Some(expected) = check_mismatch(&chars) {
                return fail(IdReason::BadCheckCharacter { expected });
            }
        }
        Ok(wrap(DocumentNumber(number)))
    }

    /// Which kind of document this is.
    pub fn kind(&self) -> IdDocumentKind {
        match self {
            Self::ResidentId(_) => IdDocumentKind::ResidentId,
            Self::Passport(_) => IdDocumentKind::Passport,
            Self::HkMacauPermit(_) => IdDocumentKind::HkMacauPermit,
            Self::TaiwanPermit(_) => IdDocumentKind::TaiwanPermit,
            Self::ResidencePermit(_) => IdDocumentKind::ResidencePermit,
            Self::ForeignPermanentResidence(_) => IdDocumentKind::ForeignPermanentResidence,
        }
    }

    /// The full normalised number, for storage. Handle with care.
    pub fn as_str(&self) -> &str {
        match self {
            Self::ResidentId(id) => id.as_str(),
            Self::Passport(n)
            | Self::HkMacauPermit(n)
            | Self::TaiwanPermit(n)
            | Self::ResidencePermit(n)
            | Self::ForeignPermanentResidence(n) => n.as_str(),
        }
    }

    /// The number masked for display.
    pub fn mask(&self) -> String {
        match self {
            Self::ResidentId(id) => id.mask(),
            Self::Passport(n)
            | Self::HkMacauPermit(n)
            | Self::TaiwanPermit(n)
            | Self::ResidencePermit(n)
            | Self::ForeignPermanentResidence(n) => n.mask(),
        }
    }

    /// True for every kind but the resident ID: a format check cannot tell a
    /// real document from a made-up one, so a reviewer must see the original.
    pub fn needs_manual_check(&self) -> bool {
        !matches!(self, Self::ResidentId(_))
    }

    /// The resident ID, when that is the kind.
    pub fn resident_id(&self) -> Option<&ResidentId> {
        match self {
            Self::ResidentId(id) => Some(id),
            _ => None,
        }
    }
}

/// Masks any string for display or logs, whether or not it parsed: at most
/// the first 6 and last 4 characters of 14 or more, at most 2 and 2 of
/// shorter ones (never more than 40 %), and nothing of 4 or fewer.
pub fn mask_id_number(raw: &str) -> String {
    let raw = raw.trim();
    let len = raw.chars().count();
    let (head, tail) = match len {
        0..=4 => (0, 0),
        5..=13 => (len / 5, len / 5),
        _ => (6, 4),
    };
    mask_keeping(raw, head, tail)
}

/// Keeps `head` leading and `tail` trailing characters, one `*` for each
/// character in between.
fn mask_keeping(value: &str, head: usize, tail: usize) -> String {
    let len = value.chars().count();
    let head = head.min(len);
    let tail = tail.min(len - head);
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i < head || i >= len - tail { c } else { '*' })
        .collect()
}

/// One reason a string is not a valid document number. Positions are
/// 1-based character positions of the trimmed input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdReason {
    /// Nothing entered.
    Empty,
    /// A resident ID that is not 18 characters.
    BadLength {
        /// Characters found.
        actual: usize,
    },
    /// Non-digits in a resident ID (X is allowed only last).
    BadCharset {
        /// Offending positions.
        positions: Vec<usize>,
    },
    /// A 15-digit first-generation number, invalid since 2013-01-01.
    FirstGenerationId,
    /// Positions 1–6 do not start with a province-level code.
    BadRegionCode,
    /// Positions 7–14 are not a real date from 1900 on.
    BadBirthDate,
    /// The birth date is after today.
    BirthDateInFuture,
    /// The last character does not match the MOD 11-2 check.
    BadCheckCharacter {
        /// The check character the other 17 digits call for.
        expected: char,
    },
    /// A non-resident-ID number that does not have its kind's format.
    BadFormat {
        /// The kind whose format was expected.
        kind: IdDocumentKind,
    },
}

impl IdReason {
    /// Stable snake_case code for API clients.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::BadLength { .. } => "bad_length",
            Self::BadCharset { .. } => "bad_charset",
            Self::FirstGenerationId => "first_generation_id",
            Self::BadRegionCode => "bad_region_code",
            Self::BadBirthDate => "bad_birth_date",
            Self::BirthDateInFuture => "birth_date_in_future",
            Self::BadCheckCharacter { .. } => "bad_check_character",
            Self::BadFormat { .. } => "bad_format",
        }
    }

    /// Message for Chinese-speaking users.
    pub fn message_zh(&self) -> String {
        match self {
            Self::Empty => "请填写证件号码".to_owned(),
            Self::BadLength { actual } => {
                format!("居民身份证号码应为 18 位，实际为 {actual} 位")
            }
            Self::BadCharset { positions } => format!(
                "第 {} 位字符不合法：前 17 位应为数字，末位为数字或 X",
                join(positions, "、")
            ),
            Self::FirstGenerationId => {
                "15 位第一代居民身份证已于 2013 年 1 月 1 日停止使用，请提供 18 位号码".to_owned()
            }
            Self::BadRegionCode => "前 6 位行政区划码无效：前两位应为省级行政区代码".to_owned(),
            Self::BadBirthDate => {
                "第 7–14 位出生日期不是有效日期（YYYYMMDD，不早于 1900 年）".to_owned()
            }
            Self::BirthDateInFuture => "第 7–14 位出生日期晚于今天".to_owned(),
            Self::BadCheckCharacter { expected } => {
                format!("校验码错误：按前 17 位计算，末位应为“{expected}”，请核对是否录入有误")
            }
            Self::BadFormat { kind } => format!("{}号码{}", kind.label_zh(), kind.format_zh()),
        }
    }

    /// Message for English-speaking users.
    pub fn message_en(&self) -> String {
        match self {
            Self::Empty => "The document number is required.".to_owned(),
            Self::BadLength { actual } => {
                format!("A resident ID number has 18 characters; got {actual}.")
            }
            Self::BadCharset { positions } => format!(
                "Invalid character at position(s) {}: the first 17 must be digits, the last \
                 a digit or X.",
                join(positions, ", ")
            ),
            Self::FirstGenerationId => "15-digit first-generation ID cards expired on \
                                        2013-01-01; please give the 18-character number."
                .to_owned(),
            Self::BadRegionCode => {
                "Positions 1–6 must start with a valid province-level code.".to_owned()
            }
            Self::BadBirthDate => {
                "Positions 7–14 are not a valid birth date (YYYYMMDD, 1900 or later).".to_owned()
            }
            Self::BirthDateInFuture => {
                "The birth date in positions 7–14 is in the future.".to_owned()
            }
            Self::BadCheckCharacter { expected } => format!(
                "Check character mismatch: the first 17 digits require '{expected}' at the \
                 end; please check for a typing error."
            ),
            Self::BadFormat { kind } => {
                format!("A {} number {}.", kind.label_en(), kind.format_en())
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

/// Every reason a document number was rejected (never empty). Holds no part
/// of the number, so it is safe to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {} number: {}", .kind.label_en(), codes(.reasons))]
pub struct IdError {
    /// The kind of document that was being parsed.
    pub kind: IdDocumentKind,
    /// The reasons, in position order.
    pub reasons: Vec<IdReason>,
}

fn codes(reasons: &[IdReason]) -> String {
    reasons
        .iter()
        .map(IdReason::code)
        .collect::<Vec<_>>()
        .join(", ")
}

impl IdError {
    fn new(kind: IdDocumentKind, reasons: Vec<IdReason>) -> Self {
        Self { kind, reasons }
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

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn completing_17_digits_appends_the_check_character() {
        assert_eq!(
            ResidentId::complete("11010519491231002").as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(
            ResidentId::complete("45010319850312002").as_deref(),
            Some("450103198503120026")
        );
        assert_eq!(ResidentId::complete("4501031985031200"), None);
        assert_eq!(ResidentId::complete("4501031985031200A"), None);
    }

    fn today() -> NaiveDate {
        date(2025, 9, 1)
    }

    /// Appends the MOD 11-2 check character to 17 digits.
    fn complete(first17: &str) -> String {
        let values: Vec<u32> = first17.chars().filter_map(|c| c.to_digit(10)).collect();
        assert_eq!(values.len(), 17, "{first17}");
        let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
        format!(
            "{first17}{}",
            char::from(CHECK_CHARACTERS[(sum % 11) as usize])
        )
    }

    fn codes_of(input: &str) -> Vec<&'static str> {
        match ResidentId::parse(input, today()) {
            Ok(_) => Vec::new(),
            Err(e) => e.reasons.iter().map(IdReason::code).collect(),
        }
    }

    #[test]
    fn accepts_published_and_constructed_numbers() {
        // The first four are python-stdnum's cn.ric examples.
        let cases = [
            (
                "360426199101010071",
                date(1991, 1, 1),
                Gender::Male,
                "江西省",
            ),
            (
                "44011320141005001x",
                date(2014, 10, 5),
                Gender::Male,
                "广东省",
            ),
            (
                "412723199010050012",
                date(1990, 10, 5),
                Gender::Male,
                "河南省",
            ),
            (
                "110102199101010078",
                date(1991, 1, 1),
                Gender::Male,
                "北京市",
            ),
            (
                "110105194910010023",
                date(1949, 10, 1),
                Gender::Female,
                "北京市",
            ),
            (
                "45010319870315006x",
                date(1987, 3, 15),
                Gender::Female,
                "广西壮族自治区",
            ),
            (
                "450103200002291230",
                date(2000, 2, 29),
                Gender::Male,
                "广西壮族自治区",
            ),
            (
                "820000190001010001",
                date(1900, 1, 1),
                Gender::Female,
                "澳门特别行政区",
            ),
        ];
        for (input, birth, gender, province) in cases {
            let id = ResidentId::parse(input, today()).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(id.as_str(), input.to_ascii_uppercase());
            assert_eq!(id.birth_date(), birth, "{input}");
            assert_eq!(id.gender(), gender, "{input}");
            assert_eq!(id.province(), province, "{input}");
            assert_eq!(id.region_code(), &input[..6]);
        }
    }

    #[test]
    fn reports_each_failure_reason() {
        let cases: &[(&str, &[&str])] = &[
            ("", &["empty"]),
            ("   ", &["empty"]),
            ("110105491001002", &["first_generation_id"]),
            ("11010519491001002", &["bad_length"]),
            ("1101051949100100X2", &["bad_charset"]),
            ("11010519491001002XX", &["bad_length", "bad_charset"]),
            ("T60426199101010078", &["bad_charset", "bad_region_code"]),
            ("990426199112010074", &["bad_region_code"]),
            ("360426199113010079", &["bad_birth_date"]),
            ("450103189912310010", &["bad_birth_date"]),
            ("450103190002290012", &["bad_birth_date"]),
            ("450103202509020017", &["birth_date_in_future"]),
            ("36042619910102009X", &["bad_check_character"]),
            ("360426199101010072", &["bad_check_character"]),
            ("１10105194910010021", &["bad_charset", "bad_region_code"]),
        ];
        for (input, expected) in cases {
            assert_eq!(codes_of(input), *expected, "{input:?}");
        }
    }

    #[test]
    fn future_birth_date_is_relative_to_today() {
        let id = complete("45010320250901001");
        assert!(ResidentId::parse(&id, today()).is_ok());
        assert_eq!(
            ResidentId::parse(&id, date(2025, 8, 31)).map_err(|e| e.reasons),
            Err(vec![IdReason::BirthDateInFuture])
        );
    }

    #[test]
    fn reason_details_are_specific() {
        let Err(error) = ResidentId::parse("1101A519491001002X", today()) else {
            panic!("accepted an invalid number");
        };
        assert_eq!(
            error.reasons,
            [
                IdReason::BadCharset { positions: vec![5] },
                IdReason::BadRegionCode
            ]
        );
        let Err(error) = ResidentId::parse("360426199101010072", today()) else {
            panic!("accepted an invalid number");
        };
        assert_eq!(
            error.reasons,
            [IdReason::BadCheckCharacter { expected: '1' }]
        );
        assert_eq!(error.kind, IdDocumentKind::ResidentId);
        assert_eq!(
            error.to_string(),
            "invalid resident identity card number: bad_check_character"
        );
        assert_eq!(
            error.field_issues("legal_rep.id_number")[0].code,
            "bad_check_character"
        );
    }

    #[test]
    fn masks_resident_ids() {
        let id = ResidentId::parse("45010319870315006X", today()).unwrap();
        assert_eq!(id.mask(), "450103********006X");
        assert_eq!(format!("{id:?}"), "ResidentId(\"450103********006X\")");
        let document = IdentityDocument::ResidentId(id);
        assert_eq!(document.mask(), "450103********006X");
        assert!(!format!("{document:?}").contains("19870315"));
    }

    #[test]
    fn accepts_other_documents_with_a_format_check() {
        let cases = [
            (IdDocumentKind::Passport, "E12345678", "E1*****78"),
            (IdDocumentKind::Passport, "g12345678", "G1*****78"),
            (IdDocumentKind::Passport, "X1234", "X***4"),
            (
                IdDocumentKind::Passport,
                "AB1234567890CDEFG",
                "AB*************FG",
            ),
            (IdDocumentKind::HkMacauPermit, "H12345678", "H1*****78"),
            (IdDocumentKind::HkMacauPermit, "m1234567890", "M1*******90"),
            (IdDocumentKind::TaiwanPermit, "12345678", "12****78"),
            (IdDocumentKind::TaiwanPermit, "1234567801", "12******01"),
            (
                IdDocumentKind::ResidencePermit,
                &complete("81000019900101001"),
                "81**************",
            ),
            (
                IdDocumentKind::ResidencePermit,
                &complete("83000019900101002"),
                "83**************",
            ),
            (
                IdDocumentKind::ForeignPermanentResidence,
                "USA110090123456",
                "US***********56",
            ),
            (
                IdDocumentKind::ForeignPermanentResidence,
                &complete("93184019900101001"),
                "93**************",
            ),
        ];
        for (kind, input, masked_prefix) in cases {
            let document = IdentityDocument::parse(kind, input, today())
                .unwrap_or_else(|e| panic!("{kind:?} {input}: {e}"));
            assert_eq!(document.kind(), kind);
            assert!(document.needs_manual_check());
            assert!(document.resident_id().is_none());
            assert_eq!(document.as_str(), input.trim().to_ascii_uppercase());
            assert!(
                document.mask().starts_with(masked_prefix),
                "{}",
                document.mask()
            );
            assert_eq!(document.mask().chars().count(), input.chars().count());
            assert!(!format!("{document:?}").contains(document.as_str()));
        }
    }

    #[test]
    fn resident_id_kind_is_fully_checked() {
        let document =
            IdentityDocument::parse(IdDocumentKind::ResidentId, " 45010319870315006x ", today())
                .unwrap();
        assert!(!document.needs_manual_check());
        assert_eq!(document.as_str(), "45010319870315006X");
        assert_eq!(
            document.resident_id().map(ResidentId::birth_date),
            Some(date(1987, 3, 15))
        );
        assert!(
            IdentityDocument::parse(IdDocumentKind::ResidentId, "110105194910010021", today())
                .is_err()
        );
    }

    #[test]
    fn rejects_malformed_other_documents() {
        let residence_bad_check = {
            let mut n = complete("81000019900101001");
            let last = if n.ends_with('0') { '1' } else { '0' };
            n.pop();
            n.push(last);
            n
        };
        let cases: &[(IdDocumentKind, &str, &str)] = &[
            (IdDocumentKind::Passport, "", "empty"),
            (IdDocumentKind::Passport, "E123", "bad_format"),
            (IdDocumentKind::Passport, "E1234567890123456X", "bad_format"),
            (IdDocumentKind::Passport, "E1234-5678", "bad_format"),
            (IdDocumentKind::Passport, "Е12345678", "bad_format"), // Cyrillic Е
            (IdDocumentKind::HkMacauPermit, "C12345678", "bad_format"),
            (IdDocumentKind::HkMacauPermit, "H123456789", "bad_format"),
            (IdDocumentKind::HkMacauPermit, "H1234567A", "bad_format"),
            (IdDocumentKind::TaiwanPermit, "1234567", "bad_format"),
            (IdDocumentKind::TaiwanPermit, "1234567A", "bad_format"),
            (
                IdDocumentKind::ResidencePermit,
                "110105194910010021",
                "bad_format",
            ),
            (
                IdDocumentKind::ResidencePermit,
                &residence_bad_check,
                "bad_check_character",
            ),
            (
                IdDocumentKind::ForeignPermanentResidence,
                "US1110090123456",
                "bad_format",
            ),
            (
                IdDocumentKind::ForeignPermanentResidence,
                "110105194910010021",
                "bad_format",
            ),
        ];
        for (kind, input, code) in cases {
            let Err(error) = IdentityDocument::parse(*kind, input, today()) else {
                panic!("{kind:?} accepted {input:?}");
            };
            assert_eq!(error.kind, *kind);
            let codes: Vec<_> = error.reasons.iter().map(IdReason::code).collect();
            assert_eq!(codes, [*code], "{kind:?} {input:?}");
        }
    }

    #[test]
    fn mask_id_number_reveals_little() {
        let cases = [
            ("", ""),
            ("1234", "****"),
            ("12345", "1***5"),
            ("1234567890", "12******90"),
            ("1234567890123", "12*********23"),
            ("12345678901234", "123456****1234"),
            (" 110105194910010021 ", "110105********0021"),
            ("张三李四王五", "张****五"),
        ];
        for (raw, masked) in cases {
            assert_eq!(mask_id_number(raw), masked, "{raw:?}");
        }
    }

    #[test]
    fn every_reason_and_kind_has_messages() {
        let mut reasons = vec![
            IdReason::Empty,
            IdReason::BadLength { actual: 17 },
            IdReason::BadCharset { positions: vec![1] },
            IdReason::FirstGenerationId,
            IdReason::BadRegionCode,
            IdReason::BadBirthDate,
            IdReason::BirthDateInFuture,
            IdReason::BadCheckCharacter { expected: 'X' },
        ];
        reasons.extend(IdDocumentKind::ALL.map(|kind| IdReason::BadFormat { kind }));
        for reason in reasons {
            assert!(!reason.message_zh().is_empty() && !reason.message_en().is_empty());
        }
        for kind in IdDocumentKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
            assert_eq!(IdDocumentKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Gender::Female.label_zh(), "女");
    }

    /// A valid resident ID: any province, any birth date 1900..=today.
    fn valid_resident_id() -> impl Strategy<Value = String> {
        let province = prop::sample::select(regions::all().to_vec());
        let days = 0..=(today() - date(1900, 1, 1)).num_days();
        (province, "[0-9]{4}", days, "[0-9]{3}").prop_map(|(province, county, days, sequence)| {
            let birth = date(1900, 1, 1) + chrono::Duration::days(days);
            complete(&format!(
                "{}{county}{}{sequence}",
                province.code(),
                birth.format("%Y%m%d")
            ))
        })
    }

    proptest! {
        #[test]
        fn generated_ids_parse(number in valid_resident_id()) {
            let id = ResidentId::parse(&number, today());
            prop_assert!(id.is_ok(), "{number}: {id:?}");
        }

        #[test]
        fn any_single_substitution_is_detected(
            number in valid_resident_id(),
            position in 0..RESIDENT_ID_LEN,
            replacement in prop::sample::select(b"0123456789X".to_vec()),
        ) {
            let replacement = char::from(replacement);
            let mut chars: Vec<char> = number.chars().collect();
            prop_assume!(chars[position] != replacement);
            prop_assume!(replacement != 'X' || position == RESIDENT_ID_LEN - 1);
            chars[position] = replacement;
            let altered: String = chars.into_iter().collect();
            prop_assert!(ResidentId::parse(&altered, today()).is_err(), "{number} -> {altered}");
        }

        #[test]
        fn masks_and_debug_hide_the_middle(number in valid_resident_id()) {
            let id = ResidentId::parse(&number, today()).unwrap();
            let masked = id.mask();
            prop_assert_eq!(&masked[6..14], "********");
            prop_assert_eq!(&mask_id_number(&number), &masked);
            let debug = format!("{:?}", IdentityDocument::ResidentId(id));
            prop_assert!(!debug.contains(&number));
            prop_assert!(!debug.contains(&number[6..14]));
        }

        #[test]
        fn mask_id_number_hides_the_middle_of_anything(raw in "\\PC{0,30}") {
            let chars: Vec<char> = raw.trim().chars().collect();
            let masked: Vec<char> = mask_id_number(&raw).chars().collect();
            prop_assert_eq!(masked.len(), chars.len());
            let shown = masked.iter().zip(&chars).filter(|(m, c)| m == c && **m != '*').count();
            prop_assert!(shown <= 10);
            if chars.len() >= 14 {
                prop_assert!(masked[6..chars.len() - 4].iter().all(|&c| c == '*'));
            } else {
                prop_assert!(shown * 5 <= chars.len() * 2);
            }
        }

        #[test]
        fn other_documents_never_debug_in_full(
            number in "[A-Z][0-9]{4,16}",
        ) {
            let document = IdentityDocument::parse(IdDocumentKind::Passport, &number, today()).unwrap();
            let debug = format!("{document:?}");
            prop_assert!(!debug.contains(&number), "{}", debug);
        }

        #[test]
        fn never_panics(input in "\\PC{0,40}", kind in prop::sample::select(IdDocumentKind::ALL.to_vec())) {
            let _ = IdentityDocument::parse(kind, &input, today());
            let _ = mask_id_number(&input);
        }
    }
}
