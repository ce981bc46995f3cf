//! Uploaded documents: streamed to disk under a size cap with the SHA-256 computed on the way,
//! the type sniffed from the bytes (PDF, JPEG, PNG), stored content-addressed under the data
//! directory, and — for PDFs — their text extracted in an isolated child process ([`pdf`]).
//! Only the owning institution and bureau staff can read a document.

pub mod routes;
pub mod store;
