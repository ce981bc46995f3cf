//! The parent side: runs the extraction child under limits and turns however it ended into an
//! [`Extraction`].
//!
//! It owns the [`Limits`], the bound on concurrent children (a counting semaphore usable from
//! blocking code: callers run [`PdfExtractor::extract`] inside `web::block`), the wall-clock
//! timeout (kill and reap), bounded reads of the child's output, and the mapping of signals and
//! exit codes to an `unreadable` status with a `detail` naming the cause. Nothing the PDF does
//! can make this side panic, hang or allocate more than the bounded output.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use super::child::{self, EXIT_REFUSED, PDFTOTEXT_SHARE_OF_WALL};
use super::{
    ENV_CPU_SECONDS, ENV_MEMORY_BYTES, ENV_PAGES, ENV_PDFTOTEXT, ENV_WALL_MS, Extraction,
    MAX_PAGE_TEXT_BYTES, MAX_PAGES, Status, read_bounded, truncate_utf8,
};

/// The hidden subcommand the child runs (`provider-registry extract-pdf-text <path>`).
pub const CHILD_SUBCOMMAND: &str = "extract-pdf-text";

/// The child's report, at most: every page at its cap, JSON escaping doubling it at worst.
const MAX_REPORT_BYTES: usize = MAX_PAGES as usize * (2 * MAX_PAGE_TEXT_BYTES + 512) + 64 * 1024;
/// Standard error kept for diagnosis (the child writes a line or two at most).
const MAX_STDERR_BYTES: usize = 16 * 1024;

const SIGABRT: i32 = 6;
const SIGBUS: i32 = 7;
const SIGKILL: i32 = 9;
const SIGSEGV: i32 = 11;
const SIGXCPU: i32 = 24;

/// Resources one extraction may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Address space of the child (`RLIMIT_AS`), which `pdftotext` inherits.
    pub memory_bytes: u64,
    /// CPU seconds of the child (`RLIMIT_CPU`); `pdftotext` gets as many of its own.
    pub cpu_seconds: u64,
    /// Wall-clock time after which the parent kills the child.
    pub wall: Duration,
    /// Children running at once per [`PdfExtractor`]; further calls wait their turn.
    pub max_concurrent: usize,
}

impl Default for Limits {
    /// 512 MiB, 20 CPU seconds, 30 s wall clock, 2 at once: an ordinary application PDF takes
    /// well under a second and 50 MiB; two children leave the 2-core machine to the service.
    fn default() -> Self {
        Limits {
            memory_bytes: 512 * 1024 * 1024,
            cpu_seconds: 20,
            wall: Duration::from_secs(30),
            max_concurrent: 2,
        }
    }
}

/// Runs PDF text extraction in a child process under [`Limits`]. Cheap to clone; clones share
/// the concurrency bound.
#[derive(Debug, Clone)]
pub struct PdfExtractor {
    program: PathBuf,
    limits: Limits,
    pdftotext: Option<PathBuf>,
    /// util-linux's `prlimit`, which starts `pdftotext` under the limits (this crate forbids
    /// the `unsafe` of a `pre_exec` hook); without it `pdftotext` runs inside the child.
    prlimit: Option<PathBuf>,
    slots: Arc<Slots>,
}

impl PdfExtractor {
    /// An extractor whose child is this very executable (`std::env::current_exe()`), with
    /// `pdftotext` taken from `PATH` if it is there.
    pub fn new(limits: Limits) -> std::io::Result<Self> {
        Ok(Self::with_program(std::env::current_exe()?, limits))
    }

    /// An extractor whose child is `program` (tests pass the built binary,
    /// `env!("CARGO_BIN_EXE_provider-registry")`, since their own executable is the test
    /// harness).
    pub fn with_program(program: impl Into<PathBuf>, limits: Limits) -> Self {
        let slots = Arc::new(Slots::new(limits.max_concurrent));
        PdfExtractor {
            program: program.into(),
            limits,
            pdftotext: find_on_path("pdftotext"),
            prlimit: find_on_path("prlimit"),
            slots,
        }
    }

    /// Reads text with this `pdftotext` first (pdf-extract for what it leaves), or none at all.
    pub fn with_pdftotext(mut self, pdftotext: Option<PathBuf>) -> Self {
        self.pdftotext = pdftotext;
        self
    }

    /// Runs `pdftotext` through this `prlimit` (or, with `None`, inside the extraction child).
    pub fn with_prlimit(mut self, prlimit: Option<PathBuf>) -> Self {
        self.prlimit = prlimit;
        self
    }

    /// The limits every child runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The binary run as the extraction child.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The `pdftotext` the child tries first, if any.
    pub fn pdftotext(&self) -> Option<&Path> {
        self.pdftotext.as_deref()
    }

    /// Extracts the text of the PDF at `pdf`. Blocks (waiting for a free slot, then for the
    /// child) for at most the wall limit past the wait; never panics.
    pub fn extract(&self, pdf: &Path) -> Extraction {
        let _slot = self.slots.acquire();
        let started = Instant::now();
        let extraction = match (&self.pdftotext, &self.prlimit) {
            (Some(pdftotext), Some(prlimit)) => self.pdftotext_first(pdftotext, prlimit, pdf),
            _ => self
                .run_child(pdf, self.pdftotext.as_deref(), None, self.limits.wall)
                .unwrap_or_else(|failed| failed),
        };
        tracing::debug!(
            pdf = %pdf.display(),
            status = extraction.status.as_str(),
            pages = extraction.page_count,
            elapsed_ms = started.elapsed().as_millis() as u64,
            detail = extraction.detail.as_deref().unwrap_or(""),
            "pdf text extracted"
        );
        extraction
    }

    /// The cheaper extractor first, started from here: `pdftotext` under the limits (through
    /// `prlimit`), given [`PDFTOTEXT_SHARE_OF_WALL`] of the wall limit. A document it reads
    /// whole, every page with text, costs no extraction child. The child (pdf-extract) reads
    /// the pages it left empty or with undecodable glyphs, merged here, or the whole document
    /// when `pdftotext` failed or found no pages.
    fn pdftotext_first(&self, pdftotext: &Path, prlimit: &Path, pdf: &Path) -> Extraction {
        let started = Instant::now();
        let limits = &self.limits;
        // As in the child: each limit clamped to the hard limit in force, which an
        // unprivileged process cannot raise (prlimit would refuse to run).
        let hard = |resource: rlimit::Resource| {
            rlimit::getrlimit(resource).map_or(u64::MAX, |(_, hard)| hard)
        };
        let memory = limits.memory_bytes.max(1).min(hard(rlimit::Resource::AS));
        let cpu_hard = hard(rlimit::Resource::CPU);
        let cpu = limits.cpu_seconds.max(1);
        let mut command = Command::new(prlimit);
        command
            .arg(format!("--as={memory}"))
            .arg(format!(
                "--cpu={}:{}",
                cpu.min(cpu_hard),
                cpu.saturating_add(1).min(cpu_hard)
            ))
            .arg("--core=0")
            .arg(pdftotext);
        child::pdftotext_args(&mut command, pdf);
        let read = child::run_pdftotext(
            command,
            started + limits.wall.mul_f64(PDFTOTEXT_SHARE_OF_WALL),
        );
        let left = limits
            .wall
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1));
        let note = match read {
            Ok(texts) if !texts.is_empty() => {
                let pages = child::pdftotext_pages(texts);
                let Some(check) = child::pages_to_check(&pages) else {
                    let count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
                    return Extraction::from_pages(count, pages, None);
                };
                return match self.run_child(pdf, None, Some(&check), left) {
                    Ok(other) => child::merge(pages, Some(other)),
                    Err(failed) => failed,
                };
            }
            Ok(_) => "pdftotext found no pages".to_owned(),
            Err(why) => format!("pdftotext: {why}"),
        };
        match self.run_child(pdf, None, None, left) {
            Ok(mut ex) => {
                let detail = ex
                    .detail
                    .take()
                    .map_or_else(|| note.clone(), |d| format!("{d}; {note}"));
                ex.detail = Some(detail);
                ex
            }
            Err(failed) => failed,
        }
    }

    /// Runs the extraction child over `pdf` (with `pdftotext` inside it, or only the `pages`
    /// listed) for at most `wall`: its report, or `Err` with the `unreadable` extraction that
    /// says how it ended without one (crash, limit, time-out).
    fn run_child(
        &self,
        pdf: &Path,
        pdftotext: Option<&Path>,
        pages: Option<&[u32]>,
        wall: Duration,
    ) -> Result<Extraction, Extraction> {
        let limits = &self.limits;
        let mut command = Command::new(&self.program);
        command
            .arg(CHILD_SUBCOMMAND)
            .arg(pdf)
            // The child needs nothing of the server's environment, secrets least of all.
            .env_clear()
            .env(ENV_MEMORY_BYTES, limits.memory_bytes.max(1).to_string())
            .env(ENV_CPU_SECONDS, limits.cpu_seconds.max(1).to_string())
            .env(ENV_WALL_MS, wall.as_millis().max(1).to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(pdftotext) = pdftotext {
            command.env(ENV_PDFTOTEXT, pdftotext);
        }
        if let Some(pages) = pages {
            let list: Vec<String> = pages.iter().map(u32::to_string).collect();
            command.env(ENV_PAGES, list.join(","));
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) => return Err(unreadable(format!("cannot start the extractor: {err}"))),
        };
        // Both pipes are drained while the child runs: a child blocked on a full pipe would
        // look like a hang.
        let stdout = child.stdout.take().map(|s| drain(s, MAX_REPORT_BYTES));
        let stderr = child.stderr.take().map(|s| drain(s, MAX_STDERR_BYTES));
        let waited = child.wait_timeout(wall);
        let (status, timed_out) = match waited {
            Ok(Some(status)) => (Some(status), false),
            Ok(None) => {
                let _ = child.kill();
                (child.wait().ok(), true)
            }
            Err(_) => {
                let _ = child.kill();
                (child.wait().ok(), false)
            }
        };
        let (report, report_cut) = joined(stdout);
        let (stderr, _) = joined(stderr);
        let stderr = String::from_utf8_lossy(&stderr);

        if timed_out {
            return Err(unreadable(format!(
                "stopped by the wall-clock limit ({} s)",
                limits.wall.as_secs_f64()
            )));
        }
        let Some(status) = status else {
            return Err(unreadable("the extractor could not be waited for"));
        };
        if let Some(why) = abnormal_end(status, &stderr, limits) {
            return Err(unreadable(why));
        }
        if report_cut {
            return Err(unreadable(format!(
                "the extractor's report exceeded {MAX_REPORT_BYTES} bytes"
            )));
        }
        match serde_json::from_slice::<Extraction>(&report) {
            Ok(extraction) => Ok(bounded(extraction)),
            Err(err) => Err(unreadable(format!(
                "the extractor's report is not valid: {err}"
            ))),
        }
    }
}

/// Why a child that did not exit 0 ended, in words for `detail`; `None` for a normal exit.
fn abnormal_end(status: ExitStatus, stderr: &str, limits: &Limits) -> Option<String> {
    let first_line = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mib = limits.memory_bytes / (1024 * 1024);
    if let Some(signal) = status.signal() {
        // Rust aborts (SIGABRT) when an allocation fails, after printing this line.
        if stderr.contains("memory allocation of") {
            return Some(format!(
                "stopped by the memory limit ({mib} MiB): {first_line}"
            ));
        }
        if stderr.contains("overflowed its stack") {
            return Some("crashed: stack overflow".to_owned());
        }
        return Some(match signal {
            SIGXCPU => format!("stopped by the CPU limit ({} s)", limits.cpu_seconds),
            // Only the hard CPU limit (one second past the soft one) or the kernel's OOM killer
            // sends SIGKILL here: the parent's own kill is reported as the wall-clock limit.
            SIGKILL => format!(
                "killed (SIGKILL): the CPU limit ({} s) or the system ran out of memory",
                limits.cpu_seconds
            ),
            SIGABRT | SIGSEGV | SIGBUS => format!("crashed (signal {signal}) {first_line}")
                .trim_end()
                .to_owned(),
            other => format!("ended by signal {other}"),
        });
    }
    match status.code() {
        Some(0) => None,
        Some(code) if code == i32::from(EXIT_REFUSED) => {
            Some(format!("the extractor refused to run: {first_line}"))
        }
        Some(code) => Some(format!(
            "the extractor failed (exit status {code}): {first_line}"
        )),
        None => Some("the extractor ended abnormally".to_owned()),
    }
}

/// The child's report, held to the page and text caps whatever it says.
fn bounded(mut extraction: Extraction) -> Extraction {
    extraction.pages.truncate(MAX_PAGES as usize);
    for page in &mut extraction.pages {
        truncate_utf8(&mut page.text, MAX_PAGE_TEXT_BYTES);
    }
    extraction
}

fn unreadable(detail: impl Into<String>) -> Extraction {
    Extraction::failed(Status::Unreadable, detail)
}

type Drain = Option<JoinHandle<(Vec<u8>, bool)>>;

fn drain(pipe: impl std::io::Read + Send + 'static, cap: usize) -> Drain {
    std::thread::Builder::new()
        .name("pdf-child-pipe".into())
        .spawn(move || read_bounded(pipe, cap))
        .ok()
}

/// The bytes a drain thread read. Called once the child is gone, when the pipe is at its end.
fn joined(drain: Option<Drain>) -> (Vec<u8>, bool) {
    drain
        .flatten()
        .and_then(|handle| handle.join().ok())
        .unwrap_or_default()
}

pub(crate) fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A counting semaphore on a mutex and a condition variable, so blocking code can wait for a
/// slot without a runtime.
#[derive(Debug)]
struct Slots {
    busy: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

impl Slots {
    fn new(max: usize) -> Self {
        Slots {
            busy: Mutex::new(0),
            freed: Condvar::new(),
            max: max.max(1),
        }
    }

    fn acquire(&self) -> Slot<'_> {
        // The count stays right even if a holder panicked: poisoning is ignored.
        let mut busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        while *busy >= self.max {
            busy = self
                .freed
                .wait(busy)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *busy += 1;
        Slot(self)
    }
}

/// A held slot; dropping it frees the slot and wakes one waiter.
struct Slot<'a>(&'a Slots);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut busy = self.0.busy.lock().unwrap_or_else(PoisonError::into_inner);
        *busy = busy.saturating_sub(1);
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_and_exit_codes_name_their_cause() {
        let limits = Limits::default();
        let oom = "memory allocation of 1073741824 bytes failed\n";
        let by_signal = |signal: i32, stderr: &str| {
            abnormal_end(ExitStatus::from_raw(signal), stderr, &limits).unwrap()
        };
        assert_eq!(
            by_signal(SIGABRT, oom),
            "stopped by the memory limit (512 MiB): memory allocation of 1073741824 bytes failed"
        );
        assert_eq!(by_signal(SIGXCPU, ""), "stopped by the CPU limit (20 s)");
        assert_eq!(by_signal(SIGSEGV, ""), "crashed (signal 11)");
        let stack = "\nthread 'main' has overflowed its stack\n";
        assert_eq!(by_signal(SIGABRT, stack), "crashed: stack overflow");
        // Exit codes live in the high byte of a raw wait status.
        assert_eq!(abnormal_end(ExitStatus::from_raw(0), "", &limits), None);
        assert_eq!(
            abnormal_end(ExitStatus::from_raw(2 << 8), "bad variable\n", &limits).unwrap(),
            "the extractor refused to run: bad variable"
        );
    }

    #[test]
    fn slots_bound_concurrency_and_are_freed_on_drop() {
        let slots = Arc::new(Slots::new(1));
        let first = slots.acquire();
        let waiter = {
            let slots = Arc::clone(&slots);
            std::thread::spawn(move || {
                let _slot = slots.acquire();
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished(), "a second holder got in");
        drop(first);
        waiter.join().unwrap();
        assert_eq!(*slots.busy.lock().unwrap(), 0);
    }
}
