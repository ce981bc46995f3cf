//! The child side: what `provider-registry extract-pdf-text <path>` runs.
//!
//! It owns everything that touches the PDF's bytes: applying the resource limits to its own
//! process, loading the document with lopdf (through pdf-extract), telling a user password
//! apart, extracting each page's text under `catch_unwind`, running `pdftotext` for the pages
//! pdf-extract could not read, and writing the JSON report to standard output. Anything that
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
    ENV_CPU_SECONDS, ENV_MEMORY_BYTES, ENV_PDFTOTEXT, ENV_WALL_MS, EXTRACTOR_PDF_EXTRACT,
    EXTRACTOR_PDFTOTEXT, Extraction, Limits, MAX_PAGE_TEXT_BYTES, MAX_PAGES, PageText, Status,
    read_bounded, truncate_utf8,
};

/// Exit status when the child refuses to run: malformed variables, or limits it cannot apply.
pub const EXIT_REFUSED: u8 = 2;
/// Exit status when the report could not be written to standard output.
pub const EXIT_OUTPUT: u8 = 3;

/// `pdftotext` gets until this share of the wall limit has passed, so that it finishes (or is
/// killed by this process) before the parent kills this process at the full wall limit and would
/// leave it orphaned.
const PDFTOTEXT_SHARE_OF_WALL: f64 = 0.9;

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
    deadline: Instant,
    pdftotext: Option<PathBuf>,
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
        Ok(ChildConfig {
            memory_bytes: number(ENV_MEMORY_BYTES, defaults.memory_bytes)?,
            cpu_seconds: number(ENV_CPU_SECONDS, defaults.cpu_seconds)?,
            deadline: started + wall.mul_f64(PDFTOTEXT_SHARE_OF_WALL),
            pdftotext,
        })
    }
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

fn extract(path: &Path, config: &ChildConfig) -> Extraction {
    let doc = match catch_unwind(|| Document::load(path)) {
        Ok(Ok(doc)) => doc,
        Ok(Err(
            pdf_extract::Error::InvalidPassword
            | pdf_extract::Error::Decryption(DecryptionError::IncorrectPassword),
        )) => return needs_password(),
        // The file itself is missing or unreadable: nothing another extractor could fix.
        Ok(Err(pdf_extract::Error::IO(err))) => {
            return Extraction::failed(Status::Unreadable, format!("cannot read the file: {err}"));
        }
        Ok(Err(err)) => return whole_document(path, config, format!("not a valid PDF: {err}")),
        Err(panic) => {
            let why = format!(
                "pdf-extract panicked loading it: {}",
                panic_message(&*panic)
            );
            return whole_document(path, config, why);
        }
    };
    // lopdf decrypts on load when the empty user password opens the file, and removes /Encrypt;
    // a document still encrypted needs a user password — unless lopdf merely lacks the
    // algorithm, in which case poppler may well open it.
    if doc.is_encrypted() {
        return match doc.authenticate_password("") {
            Err(pdf_extract::Error::Decryption(DecryptionError::IncorrectPassword))
            | Err(pdf_extract::Error::InvalidPassword) => needs_password(),
            Err(err) => whole_document(path, config, format!("encryption not supported: {err}")),
            Ok(()) => whole_document(path, config, "encrypted, not decrypted on load".into()),
        };
    }
    let pages = match catch_unwind(AssertUnwindSafe(|| doc.get_pages())) {
        Ok(pages) if !pages.is_empty() => pages,
        Ok(_) => return whole_document(path, config, "pdf-extract found no pages".into()),
        Err(panic) => {
            let why = format!(
                "pdf-extract panicked listing pages: {}",
                panic_message(&*panic)
            );
            return whole_document(path, config, why);
        }
    };
    let page_count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let mut read: Vec<PageText> = Vec::new();
    let mut retry: Vec<u32> = Vec::new();
    for (&number, &id) in pages.iter().take(MAX_PAGES as usize) {
        let (page, worth_retrying) = read_page(&doc, number, id);
        if worth_retrying {
            retry.push(number);
        }
        read.push(page);
    }
    drop(doc);
    if let Some(pdftotext) = &config.pdftotext {
        fill_in(pdftotext, path, config.deadline, &mut read, &retry);
    }
    Extraction::from_pages(page_count, read, None)
}

fn needs_password() -> Extraction {
    Extraction::failed(Status::Encrypted, "opening the PDF needs a user password")
}

/// One page through pdf-extract. Also says whether `pdftotext` should try it: a page without
/// text that failed, or that has content streams at all (pdf-extract misses text that poppler
/// finds, e.g. in fonts without a usable encoding).
fn read_page(doc: &Document, number: u32, id: ObjectId) -> (PageText, bool) {
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
                return (page, false);
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
    let has_content = !doc.get_page_contents(id).is_empty();
    let retry = page.error.is_some() || has_content;
    (page, retry)
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

/// Runs `pdftotext` over each run of consecutive pages in `numbers` and takes its text for the
/// pages it could read.
fn fill_in(
    pdftotext: &Path,
    pdf: &Path,
    deadline: Instant,
    pages: &mut [PageText],
    numbers: &[u32],
) {
    for (first, last) in runs(numbers) {
        let outcome = run_pdftotext(pdftotext, pdf, Some((first, last)), deadline);
        for page in pages
            .iter_mut()
            .filter(|p| (first..=last).contains(&p.number))
        {
            let index = (page.number - first) as usize;
            let found = outcome.as_ref().ok().and_then(|texts| texts.get(index));
            match (found, &mut page.error) {
                (Some(text), _) if !text.is_empty() => {
                    page.text.clone_from(text);
                    page.extractor = Some(EXTRACTOR_PDFTOTEXT.to_owned());
                    page.error = None;
                }
                (_, Some(error)) => match &outcome {
                    Ok(_) => error.push_str("; pdftotext found no text either"),
                    Err(why) => error.push_str(&format!("; pdftotext: {why}")),
                },
                // An image-only page stays what it is: no text, no error.
                (_, None) => {}
            }
        }
    }
}

/// When pdf-extract cannot open the document at all, poppler (which rebuilds broken
/// cross-reference tables, among others) may: its text, split into pages, is then the result.
fn whole_document(pdf: &Path, config: &ChildConfig, why: String) -> Extraction {
    let Some(pdftotext) = &config.pdftotext else {
        return Extraction::failed(Status::Unreadable, why);
    };
    match run_pdftotext(pdftotext, pdf, None, config.deadline) {
        Ok(texts) if !texts.is_empty() => {
            let pages: Vec<PageText> = (1..)
                .zip(texts)
                .map(|(number, text)| PageText {
                    number,
                    extractor: (!text.is_empty()).then(|| EXTRACTOR_PDFTOTEXT.to_owned()),
                    text,
                    error: None,
                })
                .collect();
            let count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
            Extraction::from_pages(count, pages, Some(format!("{why}; text from pdftotext")))
        }
        Ok(_) => Extraction::failed(
            Status::Unreadable,
            format!("{why}; pdftotext found no pages"),
        ),
        Err(err) => Extraction::failed(Status::Unreadable, format!("{why}; pdftotext: {err}")),
    }
}

/// `pdftotext -f first -l last -enc UTF-8 -q <pdf> -`, one cleaned text per page. Without
/// `-layout`: poppler's reading order keeps a line's words together, which matching needs,
/// where the layout mode pads columns apart. The process inherits this process's memory and CPU
/// limits and is killed at the deadline.
fn run_pdftotext(
    pdftotext: &Path,
    pdf: &Path,
    range: Option<(u32, u32)>,
    deadline: Instant,
) -> Result<Vec<String>, String> {
    let (first, last) = range.unwrap_or((1, MAX_PAGES));
    let Some(budget) = deadline.checked_duration_since(Instant::now()) else {
        return Err("no time left within the wall limit".into());
    };
    let mut command = Command::new(pdftotext);
    command
        .args(["-f", &first.to_string(), "-l", &last.to_string()])
        .args(["-enc", "UTF-8", "-q"])
        .arg(pdf)
        .arg("-")
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().map_err(|e| format!("cannot start: {e}"))?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("no output pipe".into());
    };
    let pages = (last - first + 1) as usize;
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

/// Consecutive page numbers grouped into inclusive ranges: [1, 2, 3, 7] → (1, 3), (7, 7).
fn runs(numbers: &[u32]) -> Vec<(u32, u32)> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &n in numbers {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == n => *last = n,
            _ => runs.push((n, n)),
        }
    }
    runs
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
    fn consecutive_pages_form_runs() {
        assert_eq!(runs(&[1, 2, 3, 7, 9, 10]), vec![(1, 3), (7, 7), (9, 10)]);
        assert!(runs(&[]).is_empty());
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
