//! Identity numbers as this capability holds them: the full number for Rust code, the masked
//! form for everything that leaves the service.
//!
//! DESIGN.md §1.2: identity numbers are personal information, "masked in every response
//! (e.g. `450103********1234`) except an explicit, audited reveal by a reviewer; never in
//! public responses or logs". So [`PersonalId`] serialises only as [`MaskedId`], its `Debug`
//! is masked, and the one way to the full number, [`PersonalId::expose_number`], is named so
//! that every call site stands out in review.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::credentials::{IdDocumentKind, IdentityDocument, mask_id_number};

/// A stored identity document number.
///
/// Numbers are parsed before they are stored, so `document` is `Some` for everything this
/// service wrote; it is `None` only for a value that no longer passes its rules (edited in the
/// database by hand), which is then masked generically and flagged for a manual check.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonalId {
    kind: IdDocumentKind,
    number: String,
    document: Option<IdentityDocument>,
}

impl PersonalId {
    /// A freshly parsed document.
    pub fn from_document(document: IdentityDocument) -> Self {
        Self {
            kind: document.kind(),
            number: document.as_str().to_owned(),
            document: Some(document),
        }
    }

    /// A stored kind and number, parsed again as of `today`. An unknown kind is a broken row
    /// (the service only writes known kinds) and is reported as an internal error by the
    /// caller; the message names the kind, never the number.
    pub(crate) fn from_stored(
        kind: &str,
        number: String,
        today: NaiveDate,
    ) -> anyhow::Result<Self> {
        let kind = IdDocumentKind::parse(kind)
            .ok_or_else(|| anyhow::anyhow!("unknown identity document kind `{kind}` stored"))?;
        let document = IdentityDocument::parse(kind, &number, today).ok();
        Ok(Self {
            kind,
            number,
            document,
        })
    }

    /// Which kind of document this is.
    pub fn kind(&self) -> IdDocumentKind {
        self.kind
    }

    /// The parsed document, when the stored number still passes its rules.
    pub fn document(&self) -> Option<&IdentityDocument> {
        self.document.as_ref()
    }

    /// The full number. Personal information: only for comparisons inside the service and for
    /// the audited reveal (`POST /institutions/{id}/reveal`); never log or serialise it.
    pub fn expose_number(&self) -> &str {
        &self.number
    }

    /// The number masked for display (`450103********1234` for a resident ID).
    pub fn masked(&self) -> String {
        match &self.document {
            Some(document) => document.mask(),
            None => mask_id_number(&self.number),
        }
    }

    /// Whether a reviewer must look at the original: every kind but a valid resident ID
    /// (a format check cannot tell a real passport number from a made-up one, §1.2).
    pub fn needs_manual_check(&self) -> bool {
        self.document
            .as_ref()
            .is_none_or(IdentityDocument::needs_manual_check)
    }

    /// The masked view, as serialised.
    pub fn view(&self) -> MaskedId {
        MaskedId {
            kind: self.kind,
            number_masked: self.masked(),
            needs_manual_check: self.needs_manual_check(),
        }
    }
}

impl fmt::Debug for PersonalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PersonalId")
            .field(&self.kind)
            .field(&self.masked())
            .finish()
    }
}

impl Serialize for PersonalId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.view().serialize(s)
    }
}

/// An identity document as every response shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MaskedId {
    pub kind: IdDocumentKind,
    /// The number with its middle hidden, e.g. `450103********1234`.
    pub number_masked: String,
    /// True for every document but a valid resident ID: a reviewer must see the original.
    pub needs_manual_check: bool,
}

/// An identity document as submitted.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdDocumentInput {
    pub kind: IdDocumentKind,
    /// The full number. Responses only ever show it masked, so on an update it may be left
    /// out to keep the stored number (when the kind is unchanged).
    #[serde(default)]
    pub number: Option<String>,
}

/// Masked, like everything that holds an identity number (requests are logged on failure).
impl fmt::Debug for IdDocumentInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdDocumentInput")
            .field("kind", &self.kind)
            .field("number", &self.number.as_deref().map(mask_id_number))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
    }

    #[test]
    fn serialisation_and_debug_show_only_the_masked_number() {
        let doc =
            IdentityDocument::parse(IdDocumentKind::ResidentId, "450103198503120026", today())
                .unwrap();
        let id = PersonalId::from_document(doc);
        let json = serde_json::to_string(&id).unwrap();
        assert!(json.contains("450103********0026"), "{json}");
        assert!(!json.contains("450103198503120026"), "{json}");
        let debug = format!("{id:?}");
        assert!(!debug.contains("19850312"), "{debug}");
        assert_eq!(id.expose_number(), "450103198503120026");
        assert!(!id.needs_manual_check());
    }

    #[test]
    fn a_stored_number_that_no_longer_parses_is_masked_and_flagged() {
        let id =
            PersonalId::from_stored("resident_id", "450103198503120027".into(), today()).unwrap();
        assert!(id.document().is_none());
        assert_eq!(id.masked(), "450103********0027");
        assert!(id.needs_manual_check());
        assert!(PersonalId::from_stored("library_card", "x".into(), today()).is_err());
    }

    #[test]
    fn the_debug_of_an_input_is_masked() {
        let input = IdDocumentInput {
            kind: IdDocumentKind::ResidentId,
            number: Some("450103198503120026".into()),
        };
        assert!(!format!("{input:?}").contains("19850312"));
    }
}
