//! Sanctions (DESIGN.md §1.8, selection notice §五): the seven exit grounds, the 3-year bans on a
//! credit code (public list, the `active_ban` check used by registration and submission), the
//! imported blacklists, and the daily annual-inspection sweep. Exit cases themselves live in
//! [`crate::exits`].

pub mod bans;
pub mod blacklist;
pub mod routes;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The seven exit grounds of notice §五, with their stored codes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    /// 提供虚假资质证明
    FalseCredentials,
    /// 服务过程中出现较大管理过失
    MajorManagementFailure,
    /// 服务质量、内容与约定明显不符
    ServiceMismatch,
    /// 被列入黑名单
    Blacklisted,
    /// 上年度不按时参加年检或年检不合格
    AnnualInspection,
    /// 分包或转包
    Subcontracting,
    /// 机构或其人员存在违法或严重违规行为
    IllegalConduct,
}

impl Ground {
    pub const ALL: [Self; 7] = [
        Self::FalseCredentials,
        Self::MajorManagementFailure,
        Self::ServiceMismatch,
        Self::Blacklisted,
        Self::AnnualInspection,
        Self::Subcontracting,
        Self::IllegalConduct,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FalseCredentials => "false_credentials",
            Self::MajorManagementFailure => "major_management_failure",
            Self::ServiceMismatch => "service_mismatch",
            Self::Blacklisted => "blacklisted",
            Self::AnnualInspection => "annual_inspection",
            Self::Subcontracting => "subcontracting",
            Self::IllegalConduct => "illegal_conduct",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::FalseCredentials => "提供虚假资质证明",
            Self::MajorManagementFailure => "服务过程中出现较大管理过失",
            Self::ServiceMismatch => "服务质量、内容与约定明显不符",
            Self::Blacklisted => "被列入黑名单",
            Self::AnnualInspection => "上年度不按时参加年检或年检不合格",
            Self::Subcontracting => "分包或转包",
            Self::IllegalConduct => "机构或其人员存在违法或严重违规行为",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// A ground as shown to clients: its code and its Chinese name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroundRef {
    pub code: Ground,
    pub name_zh: String,
}

impl From<Ground> for GroundRef {
    fn from(g: Ground) -> Self {
        Self {
            code: g,
            name_zh: g.name_zh().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ground_codes_round_trip() {
        for g in Ground::ALL {
            assert_eq!(Ground::parse(g.as_str()), Some(g));
            assert_eq!(
                serde_json::to_value(g).ok(),
                Some(serde_json::json!(g.as_str()))
            );
        }
    }
}
