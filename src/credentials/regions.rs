//! Province-level administrative divisions (省级行政区划代码, GB/T 2260).
//!
//! Owns the one table that the USCC, resident-ID and teacher-certificate
//! validators share: the first two digits of a GB/T 2260 region code name
//! the province-level division. Only that level is checked here. Prefecture
//! and county codes change every year (GB/T 2260 is republished by the
//! Ministry of Civil Affairs), and an ID number keeps the code that was valid
//! when it was issued, so a full county table would reject real numbers.

/// A province-level administrative division (省、自治区、直辖市、特别行政区).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Province {
    code: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
}

impl Province {
    const fn new(code: &'static str, name_zh: &'static str, name_en: &'static str) -> Self {
        Self {
            code,
            name_zh,
            name_en,
        }
    }

    /// The two-digit code, e.g. `"45"`.
    pub const fn code(&self) -> &'static str {
        self.code
    }

    /// The official Chinese name, e.g. `"广西壮族自治区"`.
    pub const fn name_zh(&self) -> &'static str {
        self.name_zh
    }

    /// The English name, e.g. `"Guangxi"`.
    pub const fn name_en(&self) -> &'static str {
        self.name_en
    }
}

/// GB/T 2260 province-level codes. 71 (Taiwan), 81 (Hong Kong) and 82 (Macao)
/// are part of the standard even though mainland registries rarely issue them.
const PROVINCES: [Province; 34] = [
    Province::new("11", "北京市", "Beijing"),
    Province::new("12", "天津市", "Tianjin"),
    Province::new("13", "河北省", "Hebei"),
    Province::new("14", "山西省", "Shanxi"),
    Province::new("15", "内蒙古自治区", "Inner Mongolia"),
    Province::new("21", "辽宁省", "Liaoning"),
    Province::new("22", "吉林省", "Jilin"),
    Province::new("23", "黑龙江省", "Heilongjiang"),
    Province::new("31", "上海市", "Shanghai"),
    Province::new("32", "江苏省", "Jiangsu"),
    Province::new("33", "浙江省", "Zhejiang"),
    Province::new("34", "安徽省", "Anhui"),
    Province::new("35", "福建省", "Fujian"),
    Province::new("36", "江西省", "Jiangxi"),
    Province::new("37", "山东省", "Shandong"),
    Province::new("41", "河南省", "Henan"),
    Province::new("42", "湖北省", "Hubei"),
    Province::new("43", "湖南省", "Hunan"),
    Province::new("44", "广东省", "Guangdong"),
    Province::new("45", "广西壮族自治区", "Guangxi"),
    Province::new("46", "海南省", "Hainan"),
    Province::new("50", "重庆市", "Chongqing"),
    Province::new("51", "四川省", "Sichuan"),
    Province::new("52", "贵州省", "Guizhou"),
    Province::new("53", "云南省", "Yunnan"),
    Province::new("54", "西藏自治区", "Xizang"),
    Province::new("61", "陕西省", "Shaanxi"),
    Province::new("62", "甘肃省", "Gansu"),
    Province::new("63", "青海省", "Qinghai"),
    Province::new("64", "宁夏回族自治区", "Ningxia"),
    Province::new("65", "新疆维吾尔自治区", "Xinjiang"),
    Province::new("71", "台湾省", "Taiwan"),
    Province::new("81", "香港特别行政区", "Hong Kong"),
    Province::new("82", "澳门特别行政区", "Macao"),
];

/// Every province-level division, in code order.
pub fn all() -> &'static [Province] {
    &PROVINCES
}

/// The province-level division whose two-digit code is `code`, if any.
pub fn province(code: &str) -> Option<&'static Province> {
    PROVINCES.iter().find(|p| p.code == code)
}

/// The significant part of a GB/T 2260 code: trailing `00` pairs only say
/// "the whole of the level above" (`450100` is the city of Nanning, `4501`),
/// so they are dropped before a prefix comparison.
pub fn significant_prefix(code: &str) -> &str {
    let mut prefix = code;
    while let Some(shorter) = prefix.strip_suffix("00") {
        prefix = shorter;
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_two_digit_codes() {
        for pair in PROVINCES.windows(2) {
            assert!(pair[0].code < pair[1].code, "{pair:?}");
        }
        assert!(
            PROVINCES
                .iter()
                .all(|p| p.code.len() == 2 && p.code.bytes().all(|b| b.is_ascii_digit()))
        );
    }

    #[test]
    fn looks_up_known_and_rejects_unknown_codes() {
        assert_eq!(
            province("45").map(Province::name_zh),
            Some("广西壮族自治区")
        );
        assert_eq!(province("11").map(Province::name_en), Some("Beijing"));
        for missing in [
            "00", "10", "16", "24", "47", "55", "66", "72", "83", "91", "4", "",
        ] {
            assert!(province(missing).is_none(), "{missing}");
        }
    }

    #[test]
    fn significant_prefix_drops_trailing_zero_pairs() {
        assert_eq!(significant_prefix("450100"), "4501");
        assert_eq!(significant_prefix("450000"), "45");
        assert_eq!(significant_prefix("450103"), "450103");
        assert_eq!(significant_prefix("4501"), "4501");
        assert_eq!(significant_prefix("4500"), "45");
        assert_eq!(significant_prefix(""), "");
    }
}
