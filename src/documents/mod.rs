//! Uploaded documents: streamed to a spool file under a size cap with the SHA-256 computed on
//! the way, the type sniffed from the bytes (PDF, JPEG, PNG), their content stored
//! content-addressed in the database ([`blobs`]) so that every instance serves it, and — for
//! PDFs — their text extracted in an isolated child process ([`crate::pdf`]).
//! Only the owning institution and bureau staff can read a document.

pub mod blobs;
pub mod kind;
pub mod routes;
pub mod store;
pub mod upload;
