//! The submission checks: a pure function from the facts of an application to its blocking
//! findings and its warnings for the reviewer. Every finding names its code, the field it
//! concerns and the rule it enforces. No database and no clock inside: the caller gathers the
//! facts (see `service::facts`).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::Catalogue;
use crate::credentials::{
    Credential, CredentialInput, CredentialKind, EntityType, IdDocumentKind, IdentityDocument, Uscc,
};
use crate::documents::store::DocumentKind;
use crate::error::Msg;
use crate::pdf::{PageText, Status as TextStatus, compact, normalize};
use crate::sanctions::bans::{BanPeriod, banned_message};

/// The rules cited by findings.
pub mod rule {
    pub const ELIGIBILITY: &str = "南宁市教育局公告 第一条（申报条件）";
    pub const MATERIALS: &str = "南宁市教育局公告 第二条（申报材料）";
    pub const MERGED_PDF: &str =
        "南宁市教育局公告 第六条（合并 PDF：XXX机构申报课后服务备选库材料）";
    pub const ACADEMIC: &str = "南宁市教育局公告 第一条（仅限非学科类）";
    pub const INSPECTION: &str = "南宁市教育局公告 第一条（连续两年年检合格）";
    pub const CRIMINAL_CHECK: &str = "赣教基字〔2023〕38号（校外人员违法犯罪记录查询）";
    pub const ROUND: &str = "南宁市教育局公告 第二条（遴选周期与申报时间）";
    pub const EXIT: &str = "南宁市教育局公告 第五条（退出机制：清退后三年内不得参加遴选）";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    pub code: String,
    pub field: String,
    pub rule: String,
    pub message_zh: String,
    pub message_en: String,
    /// Further facts (e.g. the pages searched).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

impl Finding {
    fn new(code: &str, field: impl Into<String>, rule: &str, msg: Msg) -> Self {
        Self {
            code: code.to_owned(),
            field: field.into(),
            rule: rule.to_owned(),
            message_zh: msg.zh.into_owned(),
            message_en: msg.en.into_owned(),
            detail: None,
        }
    }

    fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = SubmissionFindings)]
pub struct Outcome {
    pub blocking: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

/// The institution's profile as the checks need it (raw values: they are parsed here).
#[derive(Debug, Clone, Default)]
pub struct ProfileFacts {
    pub name: String,
    pub uscc: String,
    pub entity_type: String,
    pub registration_kind: Option<String>,
    pub registration_number: Option<String>,
    pub issuing_authority: Option<String>,
    pub authority_level: Option<String>,
    pub registered_address: Option<String>,
    pub district: Option<String>,
    pub legal_rep_name: Option<String>,
    pub legal_rep_id_kind: Option<String>,
    pub legal_rep_id_number: Option<String>,
    pub contact_person: Option<String>,
    pub contact_mobile: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TeacherFacts {
    pub id: i64,
    pub name: String,
    pub id_kind: String,
    pub id_number: String,
    pub credentials: Vec<CredentialInput>,
    pub specialities: Vec<String>,
    pub criminal_check_date: Option<NaiveDate>,
    pub criminal_check_result: Option<String>,
    /// Whether the same identity number is on another institution's roster.
    pub on_other_roster: bool,
}

#[derive(Debug, Clone)]
pub struct DocumentFacts {
    pub id: i64,
    pub kind: DocumentKind,
    pub filename: String,
    pub text_status: Option<TextStatus>,
}

#[derive(Debug, Clone)]
pub struct Facts {
    pub today: NaiveDate,
    pub other_live_application: bool,
    pub profile: ProfileFacts,
    pub proposed_items: Vec<String>,
    pub service_plan: String,
    pub pledge_signed: bool,
    pub teachers: Vec<TeacherFacts>,
    /// Teacher ids in the application that are not (or no longer) on the roster.
    pub unknown_teacher_ids: Vec<i64>,
    pub documents: Vec<DocumentFacts>,
    pub merged_pdf_pages: Vec<PageText>,
    /// (year, result) of every annual inspection on record.
    pub inspections: Vec<(i32, String)>,
    pub criminal_check_max_age_days: i64,
    pub region_prefix: String,
    /// The active ban on the credit code, if any (notice §五).
    pub ban: Option<BanPeriod>,
    /// Sources of the blacklists naming the credit code.
    pub blacklist_sources: Vec<String>,
    /// The legal representative's or a teacher's identity number appears in the records of an
    /// institution under an active ban (re-registration under a new entity).
    pub linked_to_banned_institution: bool,
}

/// Document kinds every application must carry (notice §二, items 2–8).
pub const REQUIRED_KINDS: [DocumentKind; 7] = [
    DocumentKind::RegistrationCertificate,
    DocumentKind::UsccCertificate,
    DocumentKind::LegalRepId,
    DocumentKind::TeacherCertificate,
    DocumentKind::InspectionRecord,
    DocumentKind::ServicePlan,
    DocumentKind::IntegrityPledge,
];

pub fn evaluate(f: &Facts) -> Outcome {
    let mut out = Outcome::default();
    let (b, w) = (&mut out.blocking, &mut out.warnings);

    if let Some(ban) = &f.ban {
        b.push(
            Finding::new(
                "uscc_banned",
                "profile.uscc",
                rule::EXIT,
                banned_message(ban),
            )
            .detail(ban.to_json()),
        );
    }
    if !f.blacklist_sources.is_empty() {
        b.push(
            Finding::new(
                "blacklisted",
                "profile.uscc",
                rule::EXIT,
                Msg::new(
                    format!("该机构被列入黑名单（{}）。", f.blacklist_sources.join("、")),
                    format!(
                        "The institution is blacklisted ({}).",
                        f.blacklist_sources.join(", ")
                    ),
                ),
            )
            .detail(serde_json::json!({ "sources": f.blacklist_sources })),
        );
    }
    if f.linked_to_banned_institution {
        w.push(Finding::new(
            "linked_to_banned_institution",
            "profile",
            rule::EXIT,
            Msg::new(
                "法定代表人或教师的身份证件号码出现在处于禁入期的机构记录中，请核查是否换壳重新申报。",
                "The legal representative's or a teacher's identity number appears in a banned institution's records: check for re-registration under a new entity.",
            ),
        ));
    }
    if f.other_live_application {
        b.push(Finding::new(
            "duplicate_application",
            "round_id",
            rule::ROUND,
            Msg::new(
                "本机构在该批次已有一份在办申报，不能重复提交。",
                "The institution already has a live application in this round.",
            ),
        ));
    }

    // Identity of the institution (notice §一).
    let uscc = match Uscc::parse(&f.profile.uscc) {
        Ok(u) => Some(u),
        Err(e) => {
            b.push(Finding::new("invalid_uscc", "profile.uscc", rule::ELIGIBILITY, Msg::new("统一社会信用代码无效。", "The unified social credit code is invalid.")).detail(serde_json::json!({"reasons": e.reasons.iter().map(|r| r.code()).collect::<Vec<_>>() })));
            None
        }
    };
    let entity = EntityType::parse(&f.profile.entity_type);
    if let (Some(u), Some(t)) = (&uscc, entity)
        && !u.fits(t)
    {
        b.push(Finding::new(
            "entity_type_mismatch",
            "profile.entity_type",
            rule::ELIGIBILITY,
            Msg::new(
                "统一社会信用代码与主体类型不符。",
                "The credit code does not fit the entity type.",
            ),
        ));
    }
    if let Some(u) = &uscc
        && !u.in_region(&f.region_prefix)
    {
        w.push(Finding::new(
            "region_outside_bureau",
            "profile.uscc",
            rule::ELIGIBILITY,
            Msg::new(
                format!("登记机关行政区划 {} 不在本局辖区。", u.region_code()),
                format!(
                    "Registered in region {}, outside the bureau's.",
                    u.region_code()
                ),
            ),
        ));
    }
    let p = &f.profile;
    let missing: Vec<&str> = [
        ("registration_kind", &p.registration_kind),
        ("registration_number", &p.registration_number),
        ("issuing_authority", &p.issuing_authority),
        ("authority_level", &p.authority_level),
        ("registered_address", &p.registered_address),
        ("district", &p.district),
        ("legal_rep_name", &p.legal_rep_name),
        ("contact_person", &p.contact_person),
        ("contact_mobile", &p.contact_mobile),
    ]
    .into_iter()
    .filter(|(_, v)| v.as_deref().is_none_or(|s| s.trim().is_empty()))
    .map(|(k, _)| k)
    .collect();
    if !missing.is_empty() {
        b.push(
            Finding::new(
                "profile_incomplete",
                "profile",
                rule::MATERIALS,
                Msg::new(
                    format!("机构信息不完整：{}。", missing.join("、")),
                    format!("The profile is incomplete: {}.", missing.join(", ")),
                ),
            )
            .detail(serde_json::json!({"missing": missing})),
        );
    }
    match (
        p.legal_rep_id_kind
            .as_deref()
            .and_then(IdDocumentKind::parse),
        p.legal_rep_id_number.as_deref(),
    ) {
        (Some(kind), Some(number)) => match IdentityDocument::parse(kind, number, f.today) {
            Ok(doc) if doc.needs_manual_check() => w.push(Finding::new(
                "identity_needs_manual_check",
                "profile.legal_rep_id_number",
                rule::MATERIALS,
                Msg::new(
                    "法定代表人使用非居民身份证件，请人工核验。",
                    "The legal representative's document is not a resident ID: verify it by hand.",
                ),
            )),
            Ok(_) => {}
            Err(_) => b.push(Finding::new(
                "invalid_legal_rep_id",
                "profile.legal_rep_id_number",
                rule::MATERIALS,
                Msg::new(
                    "法定代表人身份证件号码无效。",
                    "The legal representative's identity number is invalid.",
                ),
            )),
        },
        _ => b.push(Finding::new(
            "invalid_legal_rep_id",
            "profile.legal_rep_id_number",
            rule::MATERIALS,
            Msg::new(
                "缺少法定代表人身份证件。",
                "The legal representative's identity document is missing.",
            ),
        )),
    }

    // Activities: non-academic catalogue items only.
    let catalogue = Catalogue::get();
    if f.proposed_items.is_empty() {
        b.push(Finding::new(
            "no_items",
            "proposed_items",
            rule::ACADEMIC,
            Msg::new("请至少申报一个活动项目。", "Propose at least one activity."),
        ));
    }
    for (i, code) in f.proposed_items.iter().enumerate() {
        if let Err(e) = catalogue.activity(code) {
            let m = e.message();
            b.push(Finding::new(
                e.code(),
                format!("proposed_items[{i}]"),
                rule::ACADEMIC,
                m,
            ));
        } else if !f
            .teachers
            .iter()
            .any(|t| t.specialities.iter().any(|s| s == code))
        {
            w.push(Finding::new(
                "item_not_covered",
                format!("proposed_items[{i}]"),
                rule::MATERIALS,
                Msg::new(
                    format!("没有教师的专长覆盖申报项目 {code}。"),
                    format!("No teacher's speciality covers {code}."),
                ),
            ));
        }
    }
    if f.service_plan.trim().is_empty() {
        b.push(Finding::new(
            "service_plan_missing",
            "service_plan",
            rule::MATERIALS,
            Msg::new("请填写服务方案。", "The service plan is missing."),
        ));
    }
    if !f.pledge_signed {
        b.push(Finding::new(
            "pledge_not_signed",
            "pledge_signed",
            rule::MATERIALS,
            Msg::new("请签署诚信承诺书。", "The integrity pledge is not signed."),
        ));
    }

    // Documents.
    for kind in REQUIRED_KINDS {
        if !f.documents.iter().any(|d| d.kind == kind) {
            b.push(Finding::new(
                "document_missing",
                format!("documents.{}", kind.as_str()),
                rule::MATERIALS,
                Msg::new(
                    format!("缺少材料：{}。", kind.label_zh()),
                    format!("A required document is missing: {}.", kind.as_str()),
                ),
            ));
        }
    }
    check_merged_pdf(f, uscc.as_ref(), b, w);

    check_inspections(f, b);
    check_teachers(f, b, w);
    out
}

fn check_merged_pdf(f: &Facts, uscc: Option<&Uscc>, b: &mut Vec<Finding>, w: &mut Vec<Finding>) {
    let Some(merged) = f
        .documents
        .iter()
        .find(|d| d.kind == DocumentKind::MergedPdf)
    else {
        b.push(Finding::new(
            "merged_pdf_missing",
            "documents.merged_pdf",
            rule::MERGED_PDF,
            Msg::new(
                "缺少全部材料合并的 PDF。",
                "The merged PDF of all materials is missing.",
            ),
        ));
        return;
    };
    if !merged.filename.contains("申报课后服务备选库材料") {
        w.push(
            Finding::new(
                "merged_pdf_name",
                "documents.merged_pdf",
                rule::MERGED_PDF,
                Msg::new(
                    "合并 PDF 应命名为“XXX机构申报课后服务备选库材料”。",
                    "The merged PDF should be named “XXX机构申报课后服务备选库材料”.",
                ),
            )
            .detail(serde_json::json!({"filename": merged.filename})),
        );
    }
    match merged.text_status {
        Some(TextStatus::Ok) | Some(TextStatus::Partial) => {}
        Some(TextStatus::NoText) => {
            w.push(Finding::new("merged_pdf_no_text", "documents.merged_pdf", rule::MERGED_PDF, Msg::new("合并 PDF 没有文字层（扫描件），需人工核对与填报信息一致。", "The merged PDF has no text layer (a scan): verify it against the form by hand.")));
            return;
        }
        Some(TextStatus::TextUnreadable) => {
            w.push(Finding::new(
                "merged_pdf_text_unreadable",
                "documents.merged_pdf",
                rule::MERGED_PDF,
                Msg::new(
                    "合并 PDF 的文字无法识别，需人工核对与填报信息一致。",
                    "The merged PDF's text cannot be decoded: verify it against the form by hand.",
                ),
            ));
            return;
        }
        _ => {
            b.push(Finding::new(
                "merged_pdf_unreadable",
                "documents.merged_pdf",
                rule::MERGED_PDF,
                Msg::new("合并 PDF 无法读取。", "The merged PDF cannot be read."),
            ));
            return;
        }
    }
    if merged.text_status == Some(TextStatus::Partial) {
        let unreadable: Vec<u32> = f
            .merged_pdf_pages
            .iter()
            .filter(|p| p.text.trim().is_empty())
            .map(|p| p.number)
            .collect();
        w.push(
            Finding::new(
                "merged_pdf_partial",
                "documents.merged_pdf",
                rule::MERGED_PDF,
                Msg::new(
                    "合并 PDF 部分页面无法读取文字，需人工核对。",
                    "Some pages of the merged PDF have no readable text.",
                ),
            )
            .detail(serde_json::json!({"pages": unreadable})),
        );
    }
    // Paper and electronic versions must agree (notice §六): look for the form's key values.
    let searched: Vec<u32> = f
        .merged_pdf_pages
        .iter()
        .filter(|p| !p.text.trim().is_empty())
        .map(|p| p.number)
        .collect();
    let text = compact(
        &f.merged_pdf_pages
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    let found =
        |needle: &str| !needle.trim().is_empty() && text.contains(&compact(&normalize(needle)));
    let pages = serde_json::json!({ "pages_searched": searched });
    if let Some(u) = uscc
        && !found(u.as_str())
    {
        w.push(
            Finding::new(
                "uscc_not_in_pdf",
                "documents.merged_pdf",
                rule::MERGED_PDF,
                Msg::new(
                    "合并 PDF 文字中未找到统一社会信用代码。",
                    "The credit code was not found in the merged PDF's text.",
                ),
            )
            .detail(pages.clone()),
        );
    }
    if !found(&f.profile.name) {
        w.push(
            Finding::new(
                "name_not_in_pdf",
                "documents.merged_pdf",
                rule::MERGED_PDF,
                Msg::new(
                    "合并 PDF 文字中未找到机构名称。",
                    "The institution's name was not found in the merged PDF's text.",
                ),
            )
            .detail(pages.clone()),
        );
    }
    for t in &f.teachers {
        for (i, c) in t.credentials.iter().enumerate() {
            if !found(&c.number) {
                w.push(
                    Finding::new(
                        "certificate_not_in_pdf",
                        format!("teachers[{}].credentials[{i}].number", t.id),
                        rule::MERGED_PDF,
                        Msg::new(
                            format!("合并 PDF 中未找到教师 {} 的证书编号。", t.name),
                            format!(
                                "Teacher {}'s certificate number was not found in the merged PDF.",
                                t.name
                            ),
                        ),
                    )
                    .detail(pages.clone()),
                );
            }
        }
    }
}

/// Two consecutive passed inspections, the later one Y-1 or Y-2 (notice §一).
fn check_inspections(f: &Facts, b: &mut Vec<Finding>) {
    let y = f.today.year();
    let mut records = f.inspections.clone();
    records.sort_by_key(|r| std::cmp::Reverse(r.0));
    let latest: Vec<&(i32, String)> = records.iter().take(2).collect();
    let ok = match latest.as_slice() {
        [(y1, r1), (y2, r2)] => {
            *y1 == *y2 + 1 && r1 == "passed" && r2 == "passed" && (*y1 == y - 1 || *y1 == y - 2)
        }
        _ => false,
    };
    if !ok {
        b.push(Finding::new("annual_inspection_insufficient", "inspections", rule::INSPECTION, Msg::new(
            format!("须有连续两年年检合格记录，且最近一年为 {} 或 {} 年；最近记录中有不合格、未参加或不连续的年度。", y - 1, y - 2),
            format!("Two consecutive passed annual inspections are required, the later in {} or {}.", y - 1, y - 2),
        )).detail(serde_json::json!({ "latest": latest.iter().map(|(yr, r)| serde_json::json!({"year": yr, "result": r})).collect::<Vec<_>>() })));
    }
}

fn check_teachers(f: &Facts, b: &mut Vec<Finding>, w: &mut Vec<Finding>) {
    if f.teachers.is_empty() {
        b.push(Finding::new(
            "no_teachers",
            "teacher_ids",
            rule::MATERIALS,
            Msg::new("请至少列入一名教师。", "List at least one teacher."),
        ));
    }
    for id in &f.unknown_teacher_ids {
        b.push(Finding::new(
            "unknown_teacher",
            "teacher_ids",
            rule::MATERIALS,
            Msg::new(
                format!("教师 {id} 不在本机构花名册中。"),
                format!("Teacher {id} is not on the roster."),
            ),
        ));
    }
    for t in &f.teachers {
        let field = |s: &str| format!("teachers[{}].{s}", t.id);
        if IdDocumentKind::parse(&t.id_kind)
            .and_then(|k| IdentityDocument::parse(k, &t.id_number, f.today).ok())
            .is_none()
        {
            b.push(Finding::new(
                "invalid_teacher_id",
                field("id_number"),
                rule::MATERIALS,
                Msg::new(
                    format!("教师 {} 的身份证件号码无效。", t.name),
                    format!("Teacher {}'s identity number is invalid.", t.name),
                ),
            ));
        }
        let parsed: Vec<Credential> = t
            .credentials
            .iter()
            .filter_map(|c| Credential::parse(c.clone(), f.today).ok())
            .collect();
        let mut accepted = false;
        for (i, c) in parsed.iter().enumerate() {
            match c.blocking_issue(f.today) {
                Some(issue) => {
                    let fi = issue.to_field_issue();
                    b.push(Finding::new(
                        &fi.code,
                        field(&format!("credentials[{i}].{}", fi.field)),
                        rule::MATERIALS,
                        Msg::new(
                            format!("教师 {}：{}", t.name, fi.message_zh),
                            format!("Teacher {}: {}", t.name, fi.message_en),
                        ),
                    ));
                }
                None => accepted = true,
            }
            if c.kind() == CredentialKind::HeritageInheritor {
                w.push(Finding::new(
                    "heritage_inheritor_exemption",
                    field(&format!("credentials[{i}]")),
                    rule::MATERIALS,
                    Msg::new(
                        format!(
                            "教师 {} 以非遗传承人身份放宽资质要求，请审核认定文件。",
                            t.name
                        ),
                        format!(
                            "Teacher {} relies on a heritage-inheritor recognition: check it.",
                            t.name
                        ),
                    ),
                ));
            }
        }
        if !accepted {
            b.push(Finding::new(
                "teacher_without_credential",
                field("credentials"),
                rule::MATERIALS,
                Msg::new(
                    format!("教师 {} 没有有效且被认可的资质证书。", t.name),
                    format!("Teacher {} has no valid accepted credential.", t.name),
                ),
            ));
        }
        let max_age = f.criminal_check_max_age_days;
        match (t.criminal_check_date, t.criminal_check_result.as_deref()) {
            (Some(date), Some("clean")) if (f.today - date).num_days() <= max_age && date <= f.today => {}
            (Some(date), Some("clean")) => b.push(Finding::new("criminal_record_check_outdated", field("criminal_check_date"), rule::CRIMINAL_CHECK, Msg::new(format!("教师 {} 的违法犯罪记录查询于 {date}，已超过 {max_age} 天。", t.name), format!("Teacher {}'s criminal-record check of {date} is older than {max_age} days.", t.name)))),
            (Some(_), Some(_)) => b.push(Finding::new("criminal_record_not_clean", field("criminal_check_result"), rule::CRIMINAL_CHECK, Msg::new(format!("教师 {} 的违法犯罪记录查询结果不合格。", t.name), format!("Teacher {}'s criminal-record check is not clean.", t.name)))),
            _ => b.push(Finding::new("criminal_record_check_missing", field("criminal_check_date"), rule::CRIMINAL_CHECK, Msg::new(format!("教师 {} 缺少违法犯罪记录查询。", t.name), format!("Teacher {} has no criminal-record check.", t.name)))),
        }
        if t.on_other_roster {
            w.push(Finding::new(
                "teacher_on_other_roster",
                field("id_number"),
                rule::MATERIALS,
                Msg::new(
                    format!("教师 {} 同时在其他机构的花名册中。", t.name),
                    format!(
                        "Teacher {} is also on another institution's roster.",
                        t.name
                    ),
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> PageText {
        PageText {
            number: 1,
            text: text.to_owned(),
            extractor: Some("pdf-extract".into()),
            error: None,
        }
    }

    /// Facts that pass every check without a warning; each case below breaks one thing.
    fn passing() -> Facts {
        let today = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let credential: CredentialInput = serde_json::from_value(serde_json::json!({
            "kind": "teacher_qualification", "number": "20154500212345678", "issuer": "南宁市教育局", "issued_on": "2015-07-01"
        }))
        .unwrap();
        let mut documents: Vec<DocumentFacts> = REQUIRED_KINDS
            .iter()
            .enumerate()
            .map(|(i, k)| DocumentFacts {
                id: i as i64,
                kind: *k,
                filename: "x.pdf".into(),
                text_status: Some(TextStatus::Ok),
            })
            .collect();
        documents.push(DocumentFacts {
            id: 99,
            kind: DocumentKind::MergedPdf,
            filename: "中心申报课后服务备选库材料.pdf".into(),
            text_status: Some(TextStatus::Ok),
        });
        Facts {
            today,
            other_live_application: false,
            profile: ProfileFacts {
                name: "南宁市青少年体育培训中心".into(),
                uscc: "52450100MJ9000002T".into(),
                entity_type: "private_non_enterprise_unit".into(),
                registration_kind: Some("private_non_enterprise_certificate".into()),
                registration_number: Some("1".into()),
                issuing_authority: Some("南宁市民政局".into()),
                authority_level: Some("city".into()),
                registered_address: Some("南宁市".into()),
                district: Some("青秀区".into()),
                legal_rep_name: Some("张三".into()),
                legal_rep_id_kind: Some("resident_id".into()),
                legal_rep_id_number: Some("450103198503120026".into()),
                contact_person: Some("王".into()),
                contact_mobile: Some("13800771234".into()),
            },
            proposed_items: vec!["sports.basketball".into()],
            service_plan: "篮球".into(),
            pledge_signed: true,
            teachers: vec![TeacherFacts {
                id: 1,
                name: "李老师".into(),
                id_kind: "resident_id".into(),
                id_number: "45010219900715003X".into(),
                credentials: vec![credential],
                specialities: vec!["sports.basketball".into()],
                criminal_check_date: Some(NaiveDate::from_ymd_opt(2026, 1, 10).unwrap()),
                criminal_check_result: Some("clean".into()),
                on_other_roster: false,
            }],
            unknown_teacher_ids: vec![],
            documents,
            merged_pdf_pages: vec![page(
                "南宁市青少年体育培训中心 52450100MJ9000002T 教师资格证 2015 4500 2123 45678",
            )],
            inspections: vec![(2024, "passed".into()), (2025, "passed".into())],
            criminal_check_max_age_days: 180,
            region_prefix: "4501".into(),
            ban: None,
            blacklist_sources: vec![],
            linked_to_banned_institution: false,
        }
    }

    fn codes(f: &Facts) -> (Vec<String>, Vec<String>) {
        let o = evaluate(f);
        (
            o.blocking.into_iter().map(|x| x.code).collect(),
            o.warnings.into_iter().map(|x| x.code).collect(),
        )
    }

    #[test]
    fn complete_facts_pass_without_findings() {
        assert_eq!(codes(&passing()), (vec![], vec![]));
    }

    type Change = fn(&mut Facts);

    /// One row per blocking finding: the change that triggers it.
    #[test]
    fn each_blocking_finding() {
        let cases: Vec<(&str, Change)> = vec![
            ("duplicate_application", |f| f.other_live_application = true),
            ("invalid_uscc", |f| {
                f.profile.uscc = "52450100MJ9000002A".into()
            }),
            ("entity_type_mismatch", |f| {
                f.profile.entity_type = "enterprise".into()
            }),
            ("profile_incomplete", |f| f.profile.district = None),
            ("invalid_legal_rep_id", |f| {
                f.profile.legal_rep_id_number = Some("450103198503120027".into())
            }),
            ("no_items", |f| f.proposed_items.clear()),
            ("academic_subject_forbidden", |f| {
                f.proposed_items.push("academic.mathematics".into())
            }),
            ("unknown_category", |f| {
                f.proposed_items.push("sports.quidditch".into())
            }),
            ("service_plan_missing", |f| f.service_plan = " ".into()),
            ("pledge_not_signed", |f| f.pledge_signed = false),
            ("document_missing", |f| {
                f.documents.retain(|d| d.kind != DocumentKind::ServicePlan)
            }),
            ("merged_pdf_missing", |f| {
                f.documents.retain(|d| d.kind != DocumentKind::MergedPdf)
            }),
            ("annual_inspection_insufficient", |f| {
                f.inspections[1].1 = "failed".into()
            }),
            ("annual_inspection_insufficient", |f| {
                f.inspections[1].1 = "missed".into()
            }),
            ("annual_inspection_insufficient", |f| {
                f.inspections = vec![(2022, "passed".into()), (2023, "passed".into())]
            }),
            ("annual_inspection_insufficient", |f| {
                f.inspections = vec![(2023, "passed".into()), (2025, "passed".into())]
            }),
            ("annual_inspection_insufficient", |f| {
                f.inspections.truncate(1)
            }),
            ("no_teachers", |f| f.teachers.clear()),
            ("unknown_teacher", |f| f.unknown_teacher_ids.push(7)),
            ("invalid_teacher_id", |f| {
                f.teachers[0].id_number = "45010219900715003Y".into()
            }),
            ("teacher_without_credential", |f| {
                f.teachers[0].credentials.clear()
            }),
            ("credential_expired", |f| {
                f.teachers[0].credentials[0].expires_on = NaiveDate::from_ymd_opt(2026, 1, 1)
            }),
            ("sports_instructor_level_too_low", |f| {
                f.teachers[0].credentials[0] = serde_json::from_value(serde_json::json!({
                    "kind": "social_sports_instructor", "number": "TY1", "issuer": "体育局", "issued_on": "2020-01-01", "level": "third"
                }))
                .unwrap();
            }),
            ("criminal_record_check_missing", |f| {
                f.teachers[0].criminal_check_date = None
            }),
            ("criminal_record_not_clean", |f| {
                f.teachers[0].criminal_check_result = Some("record_found".into())
            }),
            ("uscc_banned", |f| {
                f.ban = NaiveDate::from_ymd_opt(2026, 3, 2).and_then(BanPeriod::after_decision)
            }),
            ("blacklisted", |f| {
                f.blacklist_sources = vec!["市场监管".into()]
            }),
            ("criminal_record_check_outdated", |f| {
                f.teachers[0].criminal_check_date = NaiveDate::from_ymd_opt(2025, 9, 1)
            }),
        ];
        for (code, change) in cases {
            let mut f = passing();
            change(&mut f);
            let (blocking, _) = codes(&f);
            assert!(
                blocking.iter().any(|c| c == code),
                "{code}: got {blocking:?}"
            );
        }
    }

    #[test]
    fn inspections_ending_two_years_back_are_enough() {
        let mut f = passing();
        f.inspections = vec![
            (2023, "passed".into()),
            (2024, "passed".into()),
            (2022, "failed".into()),
        ];
        assert!(codes(&f).0.is_empty());
    }

    /// One row per warning: the change that triggers it (none of them blocks).
    #[test]
    fn each_warning() {
        let cases: Vec<(&str, Change)> = vec![
            ("merged_pdf_no_text", |f| {
                f.documents.last_mut().unwrap().text_status = Some(TextStatus::NoText)
            }),
            ("merged_pdf_partial", |f| {
                f.documents.last_mut().unwrap().text_status = Some(TextStatus::Partial);
                f.merged_pdf_pages.push(PageText {
                    number: 2,
                    text: String::new(),
                    extractor: None,
                    error: Some("x".into()),
                });
            }),
            ("merged_pdf_name", |f| {
                f.documents.last_mut().unwrap().filename = "materials.pdf".into()
            }),
            ("uscc_not_in_pdf", |f| {
                f.merged_pdf_pages = vec![page("南宁市青少年体育培训中心 20154500212345678")]
            }),
            ("name_not_in_pdf", |f| {
                f.merged_pdf_pages = vec![page("52450100MJ9000002T 20154500212345678")]
            }),
            ("certificate_not_in_pdf", |f| {
                f.merged_pdf_pages = vec![page("南宁市青少年体育培训中心 52450100MJ9000002T")]
            }),
            ("region_outside_bureau", |f| f.region_prefix = "3501".into()),
            ("linked_to_banned_institution", |f| {
                f.linked_to_banned_institution = true
            }),
            ("item_not_covered", |f| {
                f.proposed_items.push("arts.dance".into())
            }),
            ("teacher_on_other_roster", |f| {
                f.teachers[0].on_other_roster = true
            }),
            ("identity_needs_manual_check", |f| {
                f.profile.legal_rep_id_kind = Some("passport".into());
                f.profile.legal_rep_id_number = Some("E12345678".into());
            }),
            ("heritage_inheritor_exemption", |f| {
                let heritage: CredentialInput = serde_json::from_value(serde_json::json!({
                    "kind": "heritage_inheritor", "number": "桂文旅发〔2019〕12号", "issuer": "广西壮族自治区文化和旅游厅", "issued_on": "2019-06-01", "level": "provincial"
                }))
                .unwrap();
                f.teachers[0].credentials.push(heritage);
            }),
        ];
        for (code, change) in cases {
            let mut f = passing();
            change(&mut f);
            let (blocking, warnings) = codes(&f);
            assert!(
                warnings.iter().any(|c| c == code),
                "{code}: got {warnings:?}"
            );
            assert!(blocking.is_empty(), "{code} must not block: {blocking:?}");
        }
    }
}
