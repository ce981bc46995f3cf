//! Offline validators for the credentials an after-school service provider
//! submits: its Unified Social Credit Code, the identity documents of its
//! people and its staff's teaching and skill certificates.
//!
//! Every validator parses into a type with private fields ("parse, don't
//! validate"): a value of that type has passed every check, so callers never
//! re-check it. Failures carry all their reasons at once, each with a stable
//! snake_case code and Chinese and English messages.

pub mod certificates;
pub mod identity;
pub mod regions;
pub mod routes;
pub mod uscc;

pub use certificates::{
    BlockingIssue, Credential, CredentialDetail, CredentialInput, CredentialKind, FieldIssue,
    HeritageLevel, QualificationType, SportsInstructorLevel, TeacherNoError, TeacherNoReason,
    TeacherQualificationNo,
};
pub use identity::{
    DocumentNumber, Gender, IdDocumentKind, IdError, IdReason, IdentityDocument, ResidentId,
    mask_id_number,
};
pub use regions::Province;
pub use uscc::{EntityType, RegistrationAuthority, Uscc, UsccError, UsccReason};
