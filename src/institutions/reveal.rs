//! A reviewer's audited reveal of one identity number (legal representative or teacher).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationErrors};

use crate::audit;
use crate::auth::Ctx;
use crate::clock::beijing_date;
use crate::credentials::IdDocumentKind;
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};

use super::profile::*;
use super::roster::*;

/// Whose identity number a reviewer asks to see.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(tag = "subject", rename_all = "snake_case", deny_unknown_fields)]
pub enum RevealRequest {
    /// The institution's legal representative.
    LegalRepresentative,
    /// A teacher on the institution's current roster.
    Teacher { teacher_id: i64 },
}

/// The body is fully checked by its shape.
impl Validate for RevealRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

impl RevealRequest {
    /// `legal_representative` or `teacher`.
    pub fn subject(&self) -> &'static str {
        match self {
            Self::LegalRepresentative => "legal_representative",
            Self::Teacher { .. } => "teacher",
        }
    }

    /// The teacher asked about, if any.
    pub fn teacher_id(&self) -> Option<i64> {
        match self {
            Self::LegalRepresentative => None,
            Self::Teacher { teacher_id } => Some(*teacher_id),
        }
    }
}

/// A full identity number, revealed to a reviewer and recorded in the audit trail. No `Debug`:
/// it must not reach a log.
#[derive(Serialize, ToSchema)]
pub struct RevealedId {
    /// `legal_representative` or `teacher`.
    pub subject: String,
    pub teacher_id: Option<i64>,
    /// The person's name.
    pub name: String,
    pub kind: IdDocumentKind,
    /// The full number — personal information.
    pub number: String,
}

/// Reveals one identity number to a reviewer, audited as `pii.revealed` (the summary names the
/// subject, never the number) — the one exception to masking (DESIGN.md §1.2).
pub fn reveal(
    conn: &mut DbConn,
    ctx: &Ctx,
    institution_id: i64,
    req: &RevealRequest,
) -> ApiResult<RevealedId> {
    let today = beijing_date(ctx.now);
    let (name, id) = match req {
        RevealRequest::LegalRepresentative => {
            let profile = profile(conn, institution_id, today)?;
            match (profile.legal_rep_name, profile.legal_rep_id) {
                (Some(name), Some(id)) => (name, id),
                _ => {
                    return Err(ApiError::not_found(
                        "法定代表人身份证件",
                        "legal representative's identity document",
                    ));
                }
            }
        }
        RevealRequest::Teacher { teacher_id } => {
            ensure_exists(conn, institution_id)?;
            let teacher = teacher(conn, institution_id, *teacher_id, today)?;
            (teacher.name, teacher.identity)
        }
    };
    audit::record(
        conn,
        ctx,
        "pii.revealed",
        "institution",
        institution_id,
        serde_json::json!({
            "subject": req.subject(), "teacher_id": req.teacher_id(), "id_kind": id.kind().as_str(),
        }),
    )?;
    Ok(RevealedId {
        subject: req.subject().to_owned(),
        teacher_id: req.teacher_id(),
        name,
        kind: id.kind(),
        number: id.expose_number().to_owned(),
    })
}
