//! The demo's institutions at every stage before the pool, built through the same service
//! functions and request bodies as the API: complete profiles, rosters, inspections and
//! documents, with applications as a draft ready to submit, submitted, withdrawn, returned for
//! correction, rejected, and approved and published in an open notice.

use chrono::Datelike;
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::accounts::{self, RegisterRequest};
use crate::app::AppState;
use crate::applications::service::{self as applications, NewApplication};
use crate::auth::{AuthUser, Ctx};
use crate::credentials::identity::ResidentId;
use crate::credentials::uscc::{EntityType, Uscc};
use crate::db::{DbConn, schema::users};
use crate::documents::store::{self, DocumentKind, NewDocument};
use crate::error::{ApiError, ApiResult};
use crate::institutions;

/// The merged application PDF every demo institution uploads (a real Chinese PDF).
const MERGED_PDF: &[u8] = include_bytes!("../../fixtures/pdf/libreoffice.pdf");

/// Where a demo institution's application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Draft,
    Submitted,
    Withdrawn,
    Returned,
    Rejected,
    /// Approved; [`publish`] puts these in one open notice.
    InNotice,
}

/// One demo institution.
pub struct Persona {
    pub email: &'static str,
    pub name: &'static str,
    /// The first 17 characters of its USCC; the check character is computed.
    pub uscc_body: &'static str,
    pub entity_type: EntityType,
    pub district: &'static str,
    pub items: &'static [&'static str],
    pub stage: Stage,
}

pub const PERSONAS: &[Persona] = &[
    Persona {
        email: "institution@demo.local",
        name: "南宁市青少年体育培训中心",
        uscc_body: "52450100MJ9000002",
        entity_type: EntityType::PrivateNonEnterpriseUnit,
        district: "青秀区",
        items: &["sports.basketball", "sports.football"],
        stage: Stage::Draft,
    },
    Persona {
        email: "lvyin@demo.local",
        name: "南宁市绿茵足球俱乐部有限公司",
        uscc_body: "91450103MA5K00013",
        entity_type: EntityType::Enterprise,
        district: "兴宁区",
        items: &["sports.football"],
        stage: Stage::Submitted,
    },
    Persona {
        email: "moxiang@demo.local",
        name: "南宁市墨香书法艺术培训学校",
        uscc_body: "52450102MJ9000021",
        entity_type: EntityType::PrivateNonEnterpriseUnit,
        district: "江南区",
        items: &["arts.calligraphy", "arts.painting"],
        stage: Stage::Submitted,
    },
    Persona {
        email: "chuangke@demo.local",
        name: "南宁市创客科技教育中心",
        uscc_body: "52450107MJ9000035",
        entity_type: EntityType::PrivateNonEnterpriseUnit,
        district: "西乡塘区",
        items: &["practice.robotics", "practice.programming"],
        stage: Stage::Withdrawn,
    },
    Persona {
        email: "yuefeng@demo.local",
        name: "南宁市悦风舞蹈艺术培训中心",
        uscc_body: "52450103MJ9000047",
        entity_type: EntityType::PrivateNonEnterpriseUnit,
        district: "青秀区",
        items: &["arts.dance"],
        stage: Stage::Returned,
    },
    Persona {
        email: "jiaxue@demo.local",
        name: "南宁市佳学教育咨询有限公司",
        uscc_body: "91450105MA5K00059",
        entity_type: EntityType::Enterprise,
        district: "江南区",
        items: &["practice.reading"],
        stage: Stage::Rejected,
    },
    Persona {
        email: "feiyang@demo.local",
        name: "南宁市飞扬乒乓球俱乐部",
        uscc_body: "52450108MJ9000063",
        entity_type: EntityType::PrivateNonEnterpriseUnit,
        district: "良庆区",
        items: &["sports.table_tennis", "sports.badminton"],
        stage: Stage::InNotice,
    },
    Persona {
        email: "xingkong@demo.local",
        name: "南宁市星空天文科普中心",
        uscc_body: "52450109MJ9000071",
        entity_type: EntityType::PrivateNonEnterpriseUnit,
        district: "邕宁区",
        items: &["practice.astronomy", "practice.science_popularisation"],
        stage: Stage::InNotice,
    },
];

fn from_json<T: DeserializeOwned>(value: Value) -> ApiResult<T> {
    serde_json::from_value(value).map_err(|e| ApiError::Internal(e.into()))
}

fn auth_user(conn: &mut DbConn, user_id: i64) -> ApiResult<AuthUser> {
    Ok(users::table
        .find(user_id)
        .select(AuthUser::as_select())
        .first(conn)?)
}

/// Records `bytes` as one of `institution_id`'s documents, spooled and extracted exactly as an
/// upload is, its content stored in the database.
fn document(
    conn: &mut DbConn,
    state: &AppState,
    ctx: &Ctx,
    (institution_id, user_id): (i64, i64),
    kind: DocumentKind,
    filename: &str,
    bytes: &[u8],
) -> ApiResult<i64> {
    let internal = |e: std::io::Error| ApiError::Internal(e.into());
    let mut incoming =
        store::Incoming::create(&state.settings.data_dir, u64::MAX).map_err(internal)?;
    incoming.push(bytes).map_err(internal)?;
    let (content, sha256, size, _) = incoming.finish().map_err(internal)?;
    let extraction = match store::known_extraction(conn, &sha256)? {
        Some(known) => known,
        None => state.pdf.extract(content.path()),
    };
    let doc = store::insert(
        conn,
        ctx,
        &NewDocument {
            institution_id: Some(institution_id),
            uploaded_by: Some(user_id),
            kind,
            filename: filename.to_owned(),
            content_type: "application/pdf",
            size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
            sha256,
            extraction: Some(extraction),
            content,
        },
    )?;
    Ok(doc.id)
}

/// A resident identity number with its GB 11643 check character, for demo people.
fn resident_id(seed: usize) -> String {
    ResidentId::complete(&format!(
        "450103{}{:02}{:02}{:03}",
        1980 + seed % 15,
        1 + seed % 12,
        1 + seed % 28,
        100 + seed % 900
    ))
    .unwrap_or_default()
}

/// The demo reviewer who decides the demo applications.
pub fn user_by_email(conn: &mut DbConn, email: &str) -> ApiResult<AuthUser> {
    let id: i64 = users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(conn)?;
    auth_user(conn, id)
}

/// Registers `persona`, completes its profile, roster, inspections and documents, and brings
/// its application in `round_id` to the persona's stage (`InNotice` stops at approved; see
/// [`publish`]). Returns the application id.
pub fn build(
    conn: &mut DbConn,
    state: &AppState,
    (ctx, reviewer): (&Ctx, &AuthUser),
    round_id: i64,
    (index, persona): (usize, &Persona),
    password: &str,
) -> ApiResult<i64> {
    let uscc = Uscc::complete(persona.uscc_body)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("bad demo USCC body")))?;
    // The demo loads once, at start-up, before any request: hashing inside its transaction
    // makes no one wait.
    let registration = accounts::prepare_registration(&RegisterRequest {
        email: persona.email.into(),
        password: password.into(),
        display_name: "王经理".into(),
        institution_name: persona.name.into(),
        uscc: uscc.clone(),
        entity_type: persona.entity_type,
    })?;
    let user_id = accounts::register(conn, ctx, &registration)?;
    let user = auth_user(conn, user_id)?;
    let institution_id = user
        .institution_id
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("registration made no institution")))?;
    let registration_kind = match persona.entity_type {
        EntityType::PrivateNonEnterpriseUnit => "private_non_enterprise_certificate",
        EntityType::SocialOrganisation | EntityType::Foundation => {
            "social_organisation_certificate"
        }
        _ => "business_licence",
    };
    let authority = match persona.entity_type {
        EntityType::Enterprise => "南宁市市场监督管理局",
        _ => "南宁市民政局",
    };
    institutions::update_profile(
        conn,
        ctx,
        institution_id,
        &from_json(json!({
            "registration_kind": registration_kind,
            "registration_number": uscc,
            "issuing_authority": authority,
            "authority_level": "city",
            "registered_address": format!("南宁市{}民族大道{}号", persona.district, 100 + index),
            "district": persona.district,
            "legal_rep_name": "张建国",
            "legal_rep_id": {"kind": "resident_id", "number": resident_id(index * 2)},
            "contact_person": "王经理",
            "contact_mobile": format!("1380077{:04}", 1000 + index),
            "contact_email": persona.email,
        }))?,
    )?;
    let today = crate::clock::beijing_date(ctx.now);
    let teacher = institutions::create_teacher(
        conn,
        ctx,
        institution_id,
        &from_json(json!({
            "name": "李明",
            "identity": {"kind": "resident_id", "number": resident_id(index * 2 + 1)},
            "credentials": [{
                "kind": "teacher_qualification",
                "number": format!("2015450021{:07}", 1000 + index),
                "issuer": "南宁市教育局",
                "issued_on": "2015-07-01",
            }],
            "specialities": persona.items,
            "criminal_check": {"date": today - chrono::Duration::days(90), "result": "clean", "issuer": "南宁市公安局"},
        }))?,
    )?;
    let year = today.year();
    for year in [year - 2, year - 1] {
        institutions::create_inspection(
            conn,
            ctx,
            institution_id,
            &from_json(json!({"year": year, "result": "passed", "authority": authority}))?,
        )?;
    }
    let owner = (institution_id, user_id);
    let mut document_ids = Vec::new();
    for (kind, name) in [
        (DocumentKind::RegistrationCertificate, "登记证书.pdf"),
        (DocumentKind::UsccCertificate, "统一社会信用代码证书.pdf"),
        (DocumentKind::LegalRepId, "法定代表人身份证明.pdf"),
        (DocumentKind::TeacherCertificate, "教师资格证书.pdf"),
        (DocumentKind::InspectionRecord, "年检记录.pdf"),
        (DocumentKind::ServicePlan, "课后服务方案.pdf"),
        (DocumentKind::IntegrityPledge, "诚信承诺书.pdf"),
        (DocumentKind::MergedPdf, "申报材料合并版.pdf"),
    ] {
        document_ids.push(document(conn, state, ctx, owner, kind, name, MERGED_PDF)?);
    }
    let application = applications::create(
        conn,
        &user,
        ctx,
        &from_json::<NewApplication>(json!({
            "round_id": round_id,
            "proposed_items": persona.items,
            "service_plan": "每周三次课后训练，每次90分钟，配备专职教练与安全员。",
            "teacher_ids": [teacher.id],
            "document_ids": document_ids,
            "pledge_signed": true,
        }))?,
    )?;
    match persona.stage {
        Stage::Draft => {}
        Stage::Submitted => {
            applications::submit(
                conn,
                &user,
                ctx,
                application.id,
                &state.settings.region_prefix,
            )?;
        }
        Stage::Withdrawn => {
            applications::withdraw(conn, &user, ctx, application.id)?;
        }
        Stage::Returned | Stage::Rejected | Stage::InNotice => {
            applications::submit(
                conn,
                &user,
                ctx,
                application.id,
                &state.settings.region_prefix,
            )?;
            let decision = match persona.stage {
                Stage::Returned => json!({
                    "decision": "return",
                    "reasons": "课后服务方案未写明安全应急预案，请补充后重新提交。",
                    "deadline_working_days": 5,
                }),
                Stage::Rejected => json!({
                    "decision": "reject",
                    "reasons": "申报的阅读辅导内容属于学科类培训，不在第三方机构课后服务范围内。",
                }),
                _ => json!({"decision": "approve", "approved_items": persona.items}),
            };
            crate::review::decide(conn, reviewer, ctx, application.id, &from_json(decision)?)?;
        }
    }
    Ok(application.id)
}

/// Publishes the approved demo applications in one notice starting today, when the working-day
/// calendar covers its window (a demo run in a year not loaded leaves them approved).
pub fn publish(
    conn: &mut DbConn,
    (ctx, reviewer): (&Ctx, &AuthUser),
    approved: Vec<i64>,
) -> ApiResult<bool> {
    let today = crate::clock::beijing_date(ctx.now);
    let calendar = crate::calendar::store::calendar(conn)?;
    if approved.is_empty() || calendar.nth_working_day(today, 5).is_err() {
        return Ok(false);
    }
    crate::notices::service::publish(
        conn,
        reviewer,
        ctx,
        &from_json(json!({"publication_date": today, "application_ids": approved}))?,
    )?;
    Ok(true)
}
