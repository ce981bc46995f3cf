//! A reviewer's verdict on a credential (an inspection record or a teacher's credentials): a
//! false one opens or joins a case with a system ground.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::grounds::{check_evidence, require_member};
use super::{ExitCase, NewGround, Source, get_unchecked, open_or_join};

use crate::audit;
use crate::auth::{AuthUser, Ctx};
use crate::db::DbConn;
use crate::db::schema::{inspections, teachers};
use crate::error::{ApiError, ApiResult};

use crate::sanctions::Ground;

/// A reviewer's verdict on a credential (an inspection record or a teacher's credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Checked and genuine.
    Genuine,
    /// Found false: opens (or joins) a `false_credentials` case.
    False,
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(as = CredentialVerification)]
pub struct Verification {
    pub verdict: Verdict,
    #[validate(length(min = 1, max = 10000))]
    pub note: String,
    #[serde(default)]
    #[validate(length(max = 50))]
    pub evidence_document_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationOutcome {
    pub verdict: Verdict,
    /// The `false_credentials` case the verdict opened or joined.
    pub exit_case: Option<ExitCase>,
}

/// What a verification is about.
#[derive(Debug, Clone, Copy)]
pub enum Verified {
    Inspection(i64),
    Teacher(i64),
}

/// Records a reviewer's verdict on a credential; `false` opens or joins a case (source
/// `system`, reported by the reviewer).
pub fn verify(
    conn: &mut DbConn,
    user: &AuthUser,
    ctx: &Ctx,
    institution_id: i64,
    subject: Verified,
    req: &Verification,
) -> ApiResult<VerificationOutcome> {
    crate::institutions::ensure_exists(conn, institution_id)?;
    let (entity, id, found, label) = match subject {
        Verified::Inspection(id) => {
            let year: Option<i32> = inspections::table
                .filter(inspections::id.eq(id))
                .filter(inspections::institution_id.eq(institution_id))
                .select(inspections::year)
                .first(conn)
                .optional()?;
            (
                "inspection",
                id,
                year.is_some(),
                format!("{}年度年检记录", year.unwrap_or_default()),
            )
        }
        Verified::Teacher(id) => {
            let name: Option<String> = teachers::table
                .filter(teachers::id.eq(id))
                .filter(teachers::institution_id.eq(institution_id))
                .select(teachers::name)
                .first(conn)
                .optional()?;
            (
                "teacher",
                id,
                name.is_some(),
                format!("教师{}的资质证明", name.unwrap_or_default()),
            )
        }
    };
    if !found {
        return Err(ApiError::not_found("记录", entity));
    }
    if req.verdict == Verdict::False {
        require_member(conn, institution_id)?;
    }
    check_evidence(conn, user, &req.evidence_document_ids)?;
    audit::record(
        conn,
        ctx,
        &format!("{entity}.verified"),
        entity,
        id,
        serde_json::json!({ "institution_id": institution_id, "verdict": req.verdict, "note": req.note }),
    )?;
    let exit_case = match req.verdict {
        Verdict::Genuine => None,
        Verdict::False => {
            // The case counts as opened by the system (the verdict triggers it); the ground is
            // the reviewer's finding, so each false record adds its own ground.
            let g = NewGround {
                ground: Ground::FalseCredentials,
                source: Source::Reviewer,
                contract_id: None,
                statement: format!("经核查，{label}不实：{}", req.note),
                document_ids: req.evidence_document_ids.clone(),
                reported_by: Some(user.id),
            };
            let joined = open_or_join(conn, ctx, institution_id, Source::System, &[g])?;
            Some(get_unchecked(conn, joined.case_id)?)
        }
    };
    Ok(VerificationOutcome {
        verdict: req.verdict,
        exit_case,
    })
}
