//! What a document is for (its kind), and the file types recognised from the bytes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The kinds of document (DESIGN.md §1.2 and the later workflow steps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    RegistrationCertificate,
    UsccCertificate,
    LegalRepId,
    TeacherCertificate,
    CriminalRecordCheck,
    InspectionRecord,
    ServicePlan,
    IntegrityPledge,
    /// The one merged PDF of all materials, "XXX机构申报课后服务备选库材料" (notice §六).
    MergedPdf,
    ObjectionEvidence,
    ExitEvidence,
    StatementOfDefence,
    Other,
}

impl DocumentKind {
    pub const ALL: [Self; 13] = [
        Self::RegistrationCertificate,
        Self::UsccCertificate,
        Self::LegalRepId,
        Self::TeacherCertificate,
        Self::CriminalRecordCheck,
        Self::InspectionRecord,
        Self::ServicePlan,
        Self::IntegrityPledge,
        Self::MergedPdf,
        Self::ObjectionEvidence,
        Self::ExitEvidence,
        Self::StatementOfDefence,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RegistrationCertificate => "registration_certificate",
            Self::UsccCertificate => "uscc_certificate",
            Self::LegalRepId => "legal_rep_id",
            Self::TeacherCertificate => "teacher_certificate",
            Self::CriminalRecordCheck => "criminal_record_check",
            Self::InspectionRecord => "inspection_record",
            Self::ServicePlan => "service_plan",
            Self::IntegrityPledge => "integrity_pledge",
            Self::MergedPdf => "merged_pdf",
            Self::ObjectionEvidence => "objection_evidence",
            Self::ExitEvidence => "exit_evidence",
            Self::StatementOfDefence => "statement_of_defence",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::RegistrationCertificate => "登记证书",
            Self::UsccCertificate => "统一社会信用代码证书",
            Self::LegalRepId => "法定代表人身份证件",
            Self::TeacherCertificate => "教师资质证书",
            Self::CriminalRecordCheck => "违法犯罪记录查询证明",
            Self::InspectionRecord => "年检记录",
            Self::ServicePlan => "服务方案",
            Self::IntegrityPledge => "诚信承诺书",
            Self::MergedPdf => "申报材料合并 PDF",
            Self::ObjectionEvidence => "异议证据",
            Self::ExitEvidence => "退出证据",
            Self::StatementOfDefence => "陈述申辩材料",
            Self::Other => "其他材料",
        }
    }
}

/// The file types accepted, recognised by their first bytes (never by name or header).
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.windows(5).take(1024).any(|w| w == b"%PDF-") {
        // PDF readers accept the header anywhere in the first 1024 bytes (ISO 32000 §7.5.2
        // implementation note), and some producers prepend bytes.
        Some("application/pdf")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_sniffed_from_the_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"\r\n%PDF-1.4"), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Some("image/png")
        );
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b"PK\x03\x04 docx"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn kinds_round_trip() {
        for k in DocumentKind::ALL {
            assert_eq!(DocumentKind::parse(k.as_str()), Some(k));
        }
    }
}
