//! Text of uploaded PDFs, extracted in an isolated child process (DESIGN.md §3 "PDF text").
//!
//! pdf-extract panics on common Chinese encodings (`UniGB-UCS2-H`, `GBK-EUC-H`), on many
//! corrupted files, and a small flate bomb drives it to gigabytes, so it never runs in the server
//! process. This module owns the whole pipeline:
//!
//! - [`isolate`] (the parent): [`PdfExtractor::extract`] runs the cheaper extractor first —
//!   poppler's `pdftotext`, one run for the whole document, started through util-linux's
//!   `prlimit` under the same memory and CPU limits, when both are present — and starts the
//!   same binary as `provider-registry extract-pdf-text <path>` (the child) under [`Limits`]
//!   (memory, CPU, wall clock, and a bound on concurrent children) only for what `pdftotext`
//!   left: the pages it read empty or with undecodable glyphs (merged with its pages, pages on
//!   which both read materially different text reported), or the whole document when it failed.
//!   It reads the child's report and maps every way it can end to one [`Status`]. Without
//!   `prlimit`, `pdftotext` runs inside the child instead;
//! - [`child`] (the child): applies the limits to itself, reads the listed pages (or every
//!   page) with pdf-extract page by page under `catch_unwind` — running `pdftotext` first itself
//!   when the parent passes it — and writes one JSON report to standard output;
//! - [`mod@normalize`]: the text normalisation (NFKC, radicals, whitespace) used before matching.
//!
//! # The parent–child protocol
//!
//! The parent clears the child's environment (the child never sees the server's secrets) and
//! passes exactly these variables; the child uses the [`Limits::default`] value for any that is
//! missing (so the subcommand can be run by hand) and refuses to start if one is malformed:
//!
//! | variable | meaning |
//! |---|---|
//! | `PDF_EXTRACT_MEMORY_BYTES` | `RLIMIT_AS` of the child (and of `pdftotext`, which inherits it) |
//! | `PDF_EXTRACT_CPU_SECONDS` | `RLIMIT_CPU` soft limit (SIGXCPU); the hard limit is one second more |
//! | `PDF_EXTRACT_WALL_MS` | the child's own deadline for `pdftotext` runs (the parent kills it at the same wall limit anyway) |
//! | `PDF_EXTRACT_PDFTOTEXT` | absolute path of `pdftotext`; absent or empty: pdf-extract only |
//! | `PDF_EXTRACT_PAGES` | `3,7` (or empty): pdf-extract reads only these pages and reports them with the document's `page_count` (the parent ran `pdftotext` and merges) |
//!
//! The child writes one [`Extraction`] as JSON (page text already normalised, status derived
//! from it) and exits 0; exit status 2 means it refused to run (bad variables, limits not
//! applicable). The parent holds the report to the page and text caps, and replaces it with an
//! `unreadable` one when the child crashed, hit a limit, timed out or wrote no valid report.

pub mod child;
pub mod isolate;
pub mod normalize;

use std::io::Read;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use child::child_main;
pub use isolate::{Limits, PdfExtractor};
pub use normalize::{compact, contains_normalized, normalize};

/// Pages read per document; later pages are counted in `page_count` but not extracted.
pub const MAX_PAGES: u32 = 500;
/// Bytes of text kept per page (a dense page of Chinese is about 10 KB of UTF-8).
pub const MAX_PAGE_TEXT_BYTES: usize = 16 * 1024;

/// `extractor` of a page read by pdf-extract.
pub const EXTRACTOR_PDF_EXTRACT: &str = "pdf-extract";
/// `extractor` of a page read by poppler's `pdftotext`.
pub const EXTRACTOR_PDFTOTEXT: &str = "pdftotext";

/// The extractors this machine offers, the first tried first: `pdftotext (<path>)` when it is
/// on `PATH`, then `pdf-extract` (built in). For the start-up log and readiness.
pub fn available_extractors() -> Vec<String> {
    let mut names: Vec<String> = isolate::find_on_path("pdftotext")
        .map(|path| format!("{EXTRACTOR_PDFTOTEXT} ({})", path.display()))
        .into_iter()
        .collect();
    names.push(EXTRACTOR_PDF_EXTRACT.to_owned());
    names
}

pub(crate) const ENV_MEMORY_BYTES: &str = "PDF_EXTRACT_MEMORY_BYTES";
pub(crate) const ENV_CPU_SECONDS: &str = "PDF_EXTRACT_CPU_SECONDS";
pub(crate) const ENV_WALL_MS: &str = "PDF_EXTRACT_WALL_MS";
pub(crate) const ENV_PDFTOTEXT: &str = "PDF_EXTRACT_PDFTOTEXT";
pub(crate) const ENV_PAGES: &str = "PDF_EXTRACT_PAGES";

/// Outcome of extracting a PDF's text. Advisory only: it raises warnings for reviewers and
/// routes documents to manual verification, it never rejects anything by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = TextStatus)]
pub enum Status {
    /// Every page has text.
    Ok,
    /// Some pages have text, others have none (unreadable, or an image only).
    Partial,
    /// A valid PDF in which no page has a text layer (a scan): verify by hand.
    NoText,
    /// A valid PDF (it opens, its pages are listed) in which no page's text could be decoded,
    /// e.g. a CID font without `pdftotext`: stored, and verified by hand.
    TextUnreadable,
    /// Opening the PDF needs a user password.
    Encrypted,
    /// Not a valid PDF (it cannot be opened, or has no pages), or the extractor crashed, hit a
    /// limit or timed out (`detail` says which).
    Unreadable,
}

impl Status {
    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Partial => "partial",
            Status::NoText => "no_text",
            Status::TextUnreadable => "text_unreadable",
            Status::Encrypted => "encrypted",
            Status::Unreadable => "unreadable",
        }
    }
}

/// Text of one page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PageText {
    /// 1-based page number.
    pub number: u32,
    /// Normalised text ([`normalize()`]); empty when the page has none.
    pub text: String,
    /// `pdf-extract` or `pdftotext`: which extractor produced `text`; `None` when none did.
    pub extractor: Option<String>,
    /// Why the page could not be read; `None` for pages with text and for image-only pages.
    pub error: Option<String>,
}

impl PageText {
    fn has_text(&self) -> bool {
        !self.text.trim().is_empty()
    }
}

/// Result of [`PdfExtractor::extract`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Extraction {
    /// What the text can be used for; see [`Status`].
    pub status: Status,
    /// Pages in the document (only the first [`MAX_PAGES`] are in `pages`).
    pub page_count: u32,
    /// The pages read, in order; empty when the document could not be opened.
    pub pages: Vec<PageText>,
    /// Why the status is not `ok`, in English for the reviewers' tooling and the logs.
    pub detail: Option<String>,
}

impl Extraction {
    /// A document-level failure with no pages.
    pub fn failed(status: Status, detail: impl Into<String>) -> Self {
        Extraction {
            status,
            page_count: 0,
            pages: Vec::new(),
            detail: Some(detail.into()),
        }
    }

    /// Text of all pages, separated by newlines.
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self.pages.iter().map(|p| p.text.as_str()).collect();
        texts.join("\n")
    }

    /// Builds the result from extracted pages, deriving the status from which pages have text.
    /// `note` (e.g. which extractor had to stand in) is kept in `detail` whatever the status.
    pub(crate) fn from_pages(page_count: u32, pages: Vec<PageText>, note: Option<String>) -> Self {
        let without: Vec<&PageText> = pages.iter().filter(|p| !p.has_text()).collect();
        let failed = without.iter().any(|p| p.error.is_some());
        let (status, why) = if pages.is_empty() {
            (
                Status::Unreadable,
                Some("the document has no pages".to_owned()),
            )
        } else if without.is_empty() {
            (Status::Ok, None)
        } else if without.len() == pages.len() && failed {
            (
                Status::TextUnreadable,
                Some(format!(
                    "no page could be read ({})",
                    describe_pages(&without)
                )),
            )
        } else if without.len() == pages.len() {
            (
                Status::NoText,
                Some("no page has a text layer (a scan?): verify by hand".to_owned()),
            )
        } else {
            (
                Status::Partial,
                Some(format!("no text on {}", describe_pages(&without))),
            )
        };
        let truncated = (page_count as usize > pages.len() && !pages.is_empty()).then(|| {
            format!(
                "only the first {} of {page_count} pages were read",
                pages.len()
            )
        });
        let detail = [why, note, truncated]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ");
        Extraction {
            status,
            page_count,
            pages,
            detail: (!detail.is_empty()).then_some(detail),
        }
    }
}

/// "page 2" / "pages 2, 5, 7" (at most ten listed), with the first error if there is one.
fn describe_pages(pages: &[&PageText]) -> String {
    let mut numbers: Vec<String> = pages
        .iter()
        .take(10)
        .map(|p| p.number.to_string())
        .collect();
    if pages.len() > 10 {
        numbers.push("…".to_owned());
    }
    let noun = if pages.len() == 1 { "page" } else { "pages" };
    let mut text = format!("{noun} {}", numbers.join(", "));
    if let Some(err) = pages.iter().find_map(|p| p.error.as_deref()) {
        text.push_str(&format!(": {err}"));
    }
    text
}

/// Reads at most `cap` bytes, then keeps draining (and dropping) the rest so the writer never
/// blocks on a full pipe. Returns the bytes kept and whether anything was dropped.
pub(crate) fn read_bounded(mut reader: impl Read, cap: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX);
    let _ = reader.by_ref().take(limit).read_to_end(&mut kept);
    let dropped = std::io::copy(&mut reader, &mut std::io::sink()).unwrap_or(0);
    (kept, dropped > 0)
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub(crate) fn truncate_utf8(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(number: u32, text: &str, error: Option<&str>) -> PageText {
        PageText {
            number,
            text: text.to_owned(),
            extractor: None,
            error: error.map(str::to_owned),
        }
    }

    #[test]
    fn every_page_with_text_is_ok() {
        let ex = Extraction::from_pages(2, vec![page(1, "a", None), page(2, "b", None)], None);
        assert_eq!(ex.status, Status::Ok);
        assert_eq!(ex.detail, None);
    }

    #[test]
    fn a_page_without_text_makes_it_partial_and_is_named() {
        let ex = Extraction::from_pages(
            3,
            vec![
                page(1, "a", None),
                page(2, " ", Some("bad stream")),
                page(3, "c", None),
            ],
            None,
        );
        assert_eq!(ex.status, Status::Partial);
        assert_eq!(ex.detail.as_deref(), Some("no text on page 2: bad stream"));
    }

    #[test]
    fn image_only_pages_are_no_text_but_failed_pages_are_unreadable() {
        let scan = Extraction::from_pages(1, vec![page(1, "", None)], None);
        assert_eq!(scan.status, Status::NoText);
        let broken = Extraction::from_pages(1, vec![page(1, "", Some("panicked"))], None);
        assert_eq!(broken.status, Status::TextUnreadable);
        let empty = Extraction::from_pages(0, vec![], None);
        assert_eq!(empty.status, Status::Unreadable);
    }

    #[test]
    fn pages_beyond_the_cap_are_reported() {
        let ex = Extraction::from_pages(900, vec![page(1, "a", None)], None);
        assert_eq!(ex.status, Status::Ok);
        assert_eq!(
            ex.detail.as_deref(),
            Some("only the first 1 of 900 pages were read")
        );
    }

    #[test]
    fn status_names_match_serde() {
        for s in [
            Status::Ok,
            Status::Partial,
            Status::NoText,
            Status::TextUnreadable,
            Status::Encrypted,
            Status::Unreadable,
        ] {
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::from(s.as_str())
            );
        }
    }

    #[test]
    fn bounded_reads_keep_the_head_and_drain_the_rest() {
        let (kept, dropped) = read_bounded(&b"abcdef"[..], 4);
        assert_eq!((kept.as_slice(), dropped), (&b"abcd"[..], true));
        let (kept, dropped) = read_bounded(&b"ab"[..], 4);
        assert_eq!((kept.as_slice(), dropped), (&b"ab"[..], false));
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        let mut s = "南宁市".to_owned();
        truncate_utf8(&mut s, 4);
        assert_eq!(s, "南");
    }
}
