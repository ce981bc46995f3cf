//! The child side: what `provider-registry extract-pdf-text <path>` runs.
//!
//! It owns everything that touches the PDF's bytes: applying the resource limits to its own
//! process, running `pdftotext` over the whole document first when it is present, loading the
//! document with lopdf (through pdf-extract) for the pages `pdftotext` left (or for all of
//! them without it), telling a user password apart, extracting each page's text under
//! `catch_unwind`, and writing the JSON report to standard output. Anything that
//! goes wrong beyond what `catch_unwind` can stop — an allocation failing at the memory limit,
//! a stack overflow, the CPU limit — ends this process only; the parent reports it.

use std::any::Any;
use std::fmt;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use pdf_extract::content::Content;
use pdf_extract::encryption::DecryptionError;
use pdf_extract::{ConvertToFmt, Document, ObjectId, PlainTextOutput};
use rlimit::Resource;
use wait_timeout::ChildExt;

use super::normalize::normalize;
use super::{
    ENV_CPU_SECONDS, ENV_MEMORY_BYTES, ENV_PAGES, ENV_PDFTOTEXT, ENV_WALL_MS,
    EXTRACTOR_PDF_EXTRACT, EXTRACTOR_PDFTOTEXT, Extraction, Limits, MAX_PAGE_TEXT_BYTES, MAX_PAGES,
    PageText, Status, read_bounded, truncate_utf8,
};

/// Exit status when the child refuses to run: malformed variables, or limits it cannot apply.
pub const EXIT_REFUSED: u8 = 2;
/// Exit status when the report could not be written to standard output.
pub const EXIT_OUTPUT: u8 = 3;

/// `pdftotext` gets until this share of the wall limit has passed (an ordinary document takes
/// it a fraction of a second): a hostile file that keeps it busy leaves pdf-extract, the
/// fallback, the rest of the time to reach its own verdict (a memory or CPU limit) before the
/// parent kills this process at the full wall limit, which would leave `pdftotext` orphaned.
pub(crate) const PDFTOTEXT_SHARE_OF_WALL: f64 = 0.3;

/// Entry point of the hidden `extract-pdf-text` subcommand: limits first, then the PDF. Exit 0
/// with a JSON [`Extraction`] on standard output, whatever the PDF is like.
pub fn child_main(path: &Path) -> ExitCode {
    let started = Instant::now();
    let config = match ChildConfig::from_env(started) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("extract-pdf-text: {err}");
            return ExitCode::from(EXIT_REFUSED);
        }
    };
    if let Err(err) = apply_limits(&config) {
        // Running without the limits is what this process exists to prevent.
        eprintln!("extract-pdf-text: cannot apply resource limits: {err}");
        return ExitCode::from(EXIT_REFUSED);
    }
    // pdf-extract panics on many inputs; each panic is caught and reported per page, so the
    // default hook's message and backtrace on stderr would only flood the logs.
    std::panic::set_hook(Box::new(|_| {}));

    let report = extract(path, &config);
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, &report)
        .map_err(std::io::Error::from)
        .and_then(|()| out.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("extract-pdf-text: cannot write the report: {err}");
            ExitCode::from(EXIT_OUTPUT)
        }
    }
}

/// The limits and helpers the parent passed in the environment (see the module map in `mod.rs`).
struct ChildConfig {
    memory_bytes: u64,
    cpu_seconds: u64,
    pdftotext_deadline: Instant,
    pdftotext: Option<PathBuf>,
    /// Only these pages, through pdf-extract (the parent ran `pdftotext` itself).
    pages: Option<Vec<u32>>,
}

impl ChildConfig {
    fn from_env(started: Instant) -> Result<Self, String> {
        let defaults = Limits::default();
        let number = |name: &str, default: u64| -> Result<u64, String> {
            match std::env::var(name) {
                Err(std::env::VarError::NotPresent) => Ok(default),
                Ok(value) => match value.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(format!("{name} must be a positive integer, not `{value}`")),
                },
                Err(err) => Err(format!("{name}: {err}")),
            }
        };
        let default_wall = u64::try_from(defaults.wall.as_millis()).unwrap_or(u64::MAX);
        let wall = Duration::from_millis(number(ENV_WALL_MS, default_wall)?);
        let pdftotext = std::env::var_os(ENV_PDFTOTEXT)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        let pages = match std::env::var(ENV_PAGES) {
            Err(std::env::VarError::NotPresent) => None,
            Ok(list) => Some(parse_pages(&list)?),
            Err(err) => return Err(format!("{ENV_PAGES}: {err}")),
        };
        Ok(ChildConfig {
            memory_bytes: number(ENV_MEMORY_BYTES, defaults.memory_bytes)?,
            cpu_seconds: number(ENV_CPU_SECONDS, defaults.cpu_seconds)?,
            pdftotext_deadline: started + wall.mul_f64(PDFTOTEXT_SHARE_OF_WALL),
            pdftotext,
            pages,
        })
    }
}

/// `3,7,12` (or nothing): page numbers, each at least 1.
fn parse_pages(list: &str) -> Result<Vec<u32>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| match n.parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{ENV_PAGES} must list page numbers, not `{list}`")),
        })
        .collect()
}

/// Address space (the only memory limit Linux enforces on a process), CPU seconds (soft: SIGXCPU;
/// hard one second later: SIGKILL), and no core files (a 512 MiB core per killed child would fill
/// the disk). Each limit is clamped to the hard limit already in force, which an unprivileged
/// process cannot raise.
fn apply_limits(config: &ChildConfig) -> std::io::Result<()> {
    let set = |resource: Resource, soft: u64, hard: u64| -> std::io::Result<()> {
        let (_, current_hard) = rlimit::getrlimit(resource)?;
        rlimit::setrlimit(resource, soft.min(current_hard), hard.min(current_hard))
    };
    set(Resource::CORE, 0, 0)?;
    set(Resource::AS, config.memory_bytes, config.memory_bytes)?;
    set(
        Resource::CPU,
        config.cpu_seconds,
        config.cpu_seconds.saturating_add(1),
    )
}

/// The cheaper extractor first: `pdftotext` (when present) reads the whole document in one
/// run; pdf-extract then reads only the pages it left empty or with undecodable glyphs. Without
/// `pdftotext`, or when it cannot open the file, pdf-extract reads every page.
/// With `PDF_EXTRACT_PAGES` (the parent ran `pdftotext`), pdf-extract reads only the pages
/// listed.
fn extract(path: &Path, config: &ChildConfig) -> Extraction {
    if let Some(pages) = &config.pages {
        return listed_pages(path, pages);
    }
    let Some(pdftotext) = &config.pdftotext else {
        return with_pdf_extract(path, None);
    };
    match run_pdftotext(
        pdftotext_command(pdftotext, path),
        config.pdftotext_deadline,
    ) {
        Ok(texts) if !texts.is_empty() => pdftotext_first(path, texts),
        Ok(_) => with_pdf_extract(path, Some("pdftotext found no pages".to_owned())),
        Err(why) => with_pdf_extract(path, Some(format!("pdftotext: {why}"))),
    }
}

/// The pages `numbers` through pdf-extract, for the parent to merge with `pdftotext`'s: the
/// document's page count and those of the pages it has, or the failure that ends it (no pages).
fn listed_pages(path: &Path, numbers: &[u32]) -> Extraction {
    let doc = match load(path) {
        Ok(doc) => doc,
        Err(ex) => return ex,
    };
    let ids = match pages_of(&doc) {
        Ok(ids) => ids,
        Err(why) => return Extraction::failed(Status::Unreadable, why),
    };
    let pages: Vec<PageText> = numbers
        .iter()
        .filter_map(|number| ids.get(number).map(|&id| read_page(&doc, *number, id)))
        .collect();
    Extraction {
        status: Status::Ok,
        page_count: u32::try_from(ids.len()).unwrap_or(u32::MAX),
        pages,
        detail: None,
    }
}

/// Loads the document with lopdf (through pdf-extract): the document, or the extraction that
/// ends it (a user password, a file that cannot be read or parsed).
fn load(path: &Path) -> Result<Document, Extraction> {
    let doc = match catch_unwind(|| Document::load(path)) {
        Ok(Ok(doc)) => doc,
        Ok(Err(
            pdf_extract::Error::InvalidPassword
            | pdf_extract::Error::Decryption(DecryptionError::IncorrectPassword),
        )) => return Err(needs_password()),
        Ok(Err(pdf_extract::Error::IO(err))) => {
            return Err(Extraction::failed(
                Status::Unreadable,
                format!("cannot read the file: {err}"),
            ));
        }
        Ok(Err(err)) => {
            return Err(Extraction::failed(
                Status::Unreadable,
                format!("not a valid PDF: {err}"),
            ));
        }
        Err(panic) => {
            return Err(Extraction::failed(
                Status::Unreadable,
                format!(
                    "pdf-extract panicked loading it: {}",
                    panic_message(&*panic)
                ),
            ));
        }
    };
    // lopdf decrypts on load when the empty user password opens the file, and removes /Encrypt;
    // a document still encrypted needs a user password (or an algorithm lopdf lacks).
    if doc.is_encrypted() {
        return Err(match doc.authenticate_password("") {
            Err(pdf_extract::Error::Decryption(DecryptionError::IncorrectPassword))
            | Err(pdf_extract::Error::InvalidPassword) => needs_password(),
            Err(err) => Extraction::failed(
                Status::Unreadable,
                format!("encryption not supported: {err}"),
            ),
            Ok(()) => Extraction::failed(Status::Unreadable, "encrypted, not decrypted on load"),
        });
    }
    Ok(doc)
}

/// The document's pages (number → object id), or why there are none.
fn pages_of(doc: &Document) -> Result<std::collections::BTreeMap<u32, ObjectId>, String> {
    match catch_unwind(AssertUnwindSafe(|| doc.get_pages())) {
        Ok(pages) if !pages.is_empty() => Ok(pages),
        Ok(_) => Err("pdf-extract found no pages".into()),
        Err(panic) => Err(format!(
            "pdf-extract panicked listing pages: {}",
            panic_message(&*panic)
        )),
    }
}

/// Every page through pdf-extract (no `pdftotext`, or it could not open the file: `note` says
/// why). A document that loads and has pages is a valid PDF even when no page's text can be
/// decoded: that is `text_unreadable` (stored, verified by hand), not `unreadable`.
fn with_pdf_extract(path: &Path, note: Option<String>) -> Extraction {
    let with_note = |mut ex: Extraction| {
        if let Some(note) = &note {
            let detail = ex
                .detail
                .take()
                .map_or_else(|| note.clone(), |d| format!("{d}; {note}"));
            ex.detail = Some(detail);
        }
        ex
    };
    let doc = match load(path) {
        Ok(doc) => doc,
        Err(ex) => return with_note(ex),
    };
    let pages = match pages_of(&doc) {
        Ok(pages) => pages,
        Err(why) => return with_note(Extraction::failed(Status::Unreadable, why)),
    };
    let page_count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let read: Vec<PageText> = pages
        .iter()
        .take(MAX_PAGES as usize)
        .map(|(&number, &id)| read_page(&doc, number, id))
        .collect();
    Extraction::from_pages(page_count, read, note)
}

/// `pdftotext` read the document: its pages, with pdf-extract on the pages it left empty or
/// with U+FFFD (glyphs it could not map), in this process.
fn pdftotext_first(path: &Path, texts: Vec<String>) -> Extraction {
    let pages = pdftotext_pages(texts);
    let Some(suspects) = pages_to_check(&pages) else {
        let count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
        return Extraction::from_pages(count, pages, None);
    };
    merge(pages, Some(listed_pages(path, &suspects)))
}

/// `pdftotext`'s texts as pages (an empty text: a page without text).
pub(crate) fn pdftotext_pages(texts: Vec<String>) -> Vec<PageText> {
    (1..)
        .zip(texts)
        .map(|(number, text)| PageText {
            number,
            extractor: (!text.is_empty()).then(|| EXTRACTOR_PDFTOTEXT.to_owned()),
            text,
            error: None,
        })
        .collect()
}

/// The pages pdf-extract must read after `pdftotext` (those it left empty or with U+FFFD), or
/// `None` when there are none and the page count is known (fewer than [`MAX_PAGES`] pages
/// read: `pdftotext` read the whole document).
pub(crate) fn pages_to_check(pages: &[PageText]) -> Option<Vec<u32>> {
    let suspects: Vec<u32> = pages
        .iter()
        .filter(|p| p.text.is_empty() || p.text.contains(REPLACEMENT))
        .map(|p| p.number)
        .collect();
    let read_all = pages.len() >= MAX_PAGES as usize;
    (!suspects.is_empty() || read_all).then_some(suspects)
}

/// Merges pdf-extract's reading of the checked pages (`other`: [`listed_pages`]) into
/// `pdftotext`'s `pages`. Where both read a page, the text with fewer undecodable glyphs is
/// kept, and a material difference between them is reported. When pdf-extract could not open
/// the document (poppler opened what lopdf may not: a broken cross-reference table),
/// `pdftotext`'s pages stand.
pub(crate) fn merge(mut pages: Vec<PageText>, other: Option<Extraction>) -> Extraction {
    let mut page_count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let Some(other) = other.filter(|o| o.page_count > 0) else {
        return Extraction::from_pages(page_count, pages, None);
    };
    page_count = page_count.max(other.page_count);
    let mut differing = Vec::new();
    for other in other.pages {
        let number = other.number;
        let Some(page) = pages.get_mut(number as usize - 1) else {
            continue;
        };
        if page.text.is_empty() {
            if other.text.is_empty() {
                page.error = other
                    .error
                    .map(|e| format!("{e}; pdftotext found no text either"));
            } else {
                *page = other;
            }
            continue;
        }
        if other.text.is_empty() {
            continue;
        }
        if differ_materially(&page.text, &other.text) {
            differing.push(number);
        }
        if undecoded(&other.text) < undecoded(&page.text) {
            *page = other;
        }
    }
    let note = (!differing.is_empty()).then(|| {
        let list: Vec<String> = differing.iter().map(u32::to_string).collect();
        format!(
            "pdftotext and pdf-extract read different text on page {}: verify by hand",
            list.join(", ")
        )
    });
    Extraction::from_pages(page_count, pages, note)
}

/// What poppler writes for a glyph it cannot map to Unicode.
const REPLACEMENT: char = '\u{fffd}';

fn undecoded(text: &str) -> usize {
    text.chars().filter(|&c| c == REPLACEMENT).count()
}

/// Whether two extractions of one page differ materially: less than 90 % of their
/// non-whitespace characters (as multisets, so reading order does not count) in common.
pub(crate) fn differ_materially(a: &str, b: &str) -> bool {
    let mut counts: std::collections::HashMap<char, i64> = std::collections::HashMap::new();
    let (mut len_a, mut len_b) = (0i64, 0i64);
    for c in a.chars().filter(|c| !c.is_whitespace()) {
        *counts.entry(c).or_default() += 1;
        len_a += 1;
    }
    let mut common = 0i64;
    for c in b.chars().filter(|c| !c.is_whitespace()) {
        len_b += 1;
        if let Some(n) = counts.get_mut(&c).filter(|n| **n > 0) {
            *n -= 1;
            common += 1;
        }
    }
    // 2·common / (|a| + |b|) < 0.9, in integers.
    20 * common < 9 * (len_a + len_b)
}

fn needs_password() -> Extraction {
    Extraction::failed(Status::Encrypted, "opening the PDF needs a user password")
}

/// One page through pdf-extract; a page without text says why when it shows text or its
/// content cannot be decoded (so it does not pass for an image-only page).
fn read_page(doc: &Document, number: u32, id: ObjectId) -> PageText {
    let mut sink = CappedText::new(2 * MAX_PAGE_TEXT_BYTES);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut output = PlainTextOutput::new(&mut sink);
        pdf_extract::output_doc_page(doc, &mut output, number)
    }));
    let mut page = PageText {
        number,
        text: String::new(),
        extractor: None,
        error: None,
    };
    match outcome {
        Ok(Ok(())) => {
            page.text = clean(&sink.text);
            if !page.text.is_empty() {
                page.extractor = Some(EXTRACTOR_PDF_EXTRACT.to_owned());
                return page;
            }
            page.error = damaged_content(doc, id).or_else(|| {
                shows_text(doc, id)
                    .then(|| "pdf-extract decoded no text although the page shows text".to_owned())
            });
        }
        Ok(Err(err)) => page.error = Some(format!("pdf-extract: {err}")),
        Err(panic) => {
            page.error = Some(format!("pdf-extract panicked: {}", panic_message(&*panic)));
        }
    }
    page
}

/// A content stream of the page that cannot be decompressed. lopdf reports a corrupt deflate
/// stream as an empty one (and pdf-extract then finds nothing), so non-empty compressed bytes
/// that decode to nothing count as damage too: such a page must not pass for an image-only one.
fn damaged_content(doc: &Document, id: ObjectId) -> Option<String> {
    catch_unwind(AssertUnwindSafe(|| {
        doc.get_page_contents(id).into_iter().find_map(|stream_id| {
            let stream = doc.get_object(stream_id).and_then(|o| o.as_stream()).ok()?;
            stream.filters().ok()?;
            let why = match stream.decompressed_content() {
                Err(err) => err.to_string(),
                Ok(data) if data.is_empty() && !stream.content.is_empty() => {
                    "its compressed data is corrupt".to_owned()
                }
                Ok(_) => return None,
            };
            Some(format!(
                "content stream {} {} cannot be decoded: {why}",
                stream_id.0, stream_id.1
            ))
        })
    }))
    .unwrap_or(None)
}

/// Whether the page's own content stream has text-showing operators (`Tj`, `TJ`, `'`, `"`):
/// what separates a page whose text could not be decoded from an image-only page. Text drawn
/// only inside form XObjects is not seen here; such a page counts as image-only unless
/// `pdftotext` reads it.
fn shows_text(doc: &Document, id: ObjectId) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        let Ok(bytes) = doc.get_page_content(id) else {
            return false;
        };
        Content::decode(&bytes).is_ok_and(|content| {
            content
                .operations
                .iter()
                .any(|op| matches!(op.operator.as_str(), "Tj" | "TJ" | "'" | "\""))
        })
    }))
    .unwrap_or(false)
}

/// `pdftotext -f 1 -l MAX_PAGES -enc UTF-8 -q <pdf> -` with an empty environment. Without
/// `-layout`: poppler's reading order keeps a line's words together, which matching needs,
/// where the layout mode pads columns apart.
pub(crate) fn pdftotext_command(pdftotext: &Path, pdf: &Path) -> Command {
    let mut command = Command::new(pdftotext);
    pdftotext_args(&mut command, pdf);
    command
}

/// The arguments of a `pdftotext` run over `pdf` (also after a `prlimit … pdftotext`).
pub(crate) fn pdftotext_args(command: &mut Command, pdf: &Path) {
    command
        .args(["-f", "1", "-l", &MAX_PAGES.to_string()])
        .args(["-enc", "UTF-8", "-q"])
        .arg(pdf)
        .arg("-")
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
}

/// Runs a [`pdftotext_command`]: one cleaned text per page. The process runs under whatever
/// limits it was given (this process's, inherited, or `prlimit`'s) and is killed at the
/// deadline.
pub(crate) fn run_pdftotext(
    mut command: Command,
    deadline: Instant,
) -> Result<Vec<String>, String> {
    let Some(budget) = deadline.checked_duration_since(Instant::now()) else {
        return Err("no time left within the wall limit".into());
    };
    let mut child = command.spawn().map_err(|e| format!("cannot start: {e}"))?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("no output pipe".into());
    };
    let pages = MAX_PAGES as usize;
    let cap = pages.saturating_mul(2 * MAX_PAGE_TEXT_BYTES + 16);
    let reader = std::thread::Builder::new()
        .name("pdftotext-out".into())
        .spawn(move || read_bounded(stdout, cap));
    let status = match child.wait_timeout(budget) {
        Ok(Some(status)) => Ok(status),
        Ok(None) => Err("timed out".to_owned()),
        Err(err) => Err(format!("wait failed: {err}")),
    };
    if status.is_err() {
        let _ = child.kill();
        let _ = child.wait();
    }
    // The pipe is closed once pdftotext has exited, so the reader ends.
    let (bytes, _) = match reader {
        Ok(handle) => handle.join().unwrap_or_default(),
        Err(err) => return Err(format!("cannot read its output: {err}")),
    };
    let status = status?;
    if !status.success() {
        return Err(match status.code() {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal (a resource limit?)".to_owned(),
        });
    }
    let text = String::from_utf8_lossy(&bytes);
    // pdftotext ends every page with a form feed.
    let mut texts: Vec<String> = text.split('\u{c}').map(clean).collect();
    if text.ends_with('\u{c}') {
        texts.pop();
    }
    texts.truncate(pages);
    Ok(texts)
}

/// Normalised and capped page text.
fn clean(raw: &str) -> String {
    let mut text = normalize(raw);
    truncate_utf8(&mut text, MAX_PAGE_TEXT_BYTES);
    text
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    let mut message = message.replace('\n', " ");
    truncate_utf8(&mut message, 300);
    message
}

/// pdf-extract's text sink, keeping at most `cap` bytes so a page that draws millions of glyphs
/// cannot grow the text without bound (the rest is dropped silently, as a truncation).
struct CappedText {
    text: String,
    cap: usize,
    full: bool,
}

impl CappedText {
    fn new(cap: usize) -> Self {
        CappedText {
            text: String::new(),
            cap,
            full: false,
        }
    }
}

impl fmt::Write for CappedText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.full {
            return Ok(());
        }
        let room = self.cap.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
        } else {
            // Cut once and keep nothing after, so the kept text has no holes.
            let mut end = room;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&s[..end]);
            self.full = true;
        }
        Ok(())
    }
}

impl<'a> ConvertToFmt for &'a mut CappedText {
    type Writer = &'a mut CappedText;

    fn convert(self) -> Self::Writer {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn texts_differ_materially_below_nine_tenths_of_characters_in_common() {
        let full = "机构名称：南宁市青少年体育培训中心 统一社会信用代码：52450100MJ9000002T";
        assert!(!differ_materially(full, full));
        // Reading order and whitespace do not count.
        assert!(!differ_materially(
            "统一社会信用代码 机构名称",
            "机构名称\n统一社会信用代码"
        ));
        // One character of 40 missing is no material difference; the name missing is.
        assert!(!differ_materially(full, &full.replacen('：', "", 1)));
        assert!(differ_materially(
            full,
            "统一社会信用代码：52450100MJ9000002T"
        ));
        assert!(differ_materially(full, ""));
    }

    #[test]
    fn capped_text_stops_at_the_cap_on_a_character_boundary() {
        let mut sink = CappedText::new(7);
        sink.write_str("ab").unwrap();
        sink.write_str("南宁市").unwrap();
        sink.write_str("x").unwrap();
        assert_eq!(sink.text, "ab南");
    }

    #[test]
    fn panic_messages_are_read_from_both_payload_types() {
        let caught = catch_unwind(|| std::panic::panic_any("static")).unwrap_err();
        assert_eq!(panic_message(&*caught), "static");
        let caught = catch_unwind(|| std::panic::panic_any(String::from("owned"))).unwrap_err();
        assert_eq!(panic_message(&*caught), "owned");
    }
}
