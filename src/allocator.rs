//! glibc's malloc, kept small (issue 17; README "Idle memory: where it goes").
//!
//! - [`configure`] at start-up: **two arenas and a fixed mmap threshold of 128 KiB**. With the
//!   defaults each thread that once hashed a password (argon2id: a 19 MiB buffer) kept those
//!   19 MiB in its own arena for good — freeing an mmapped block raises the threshold to its
//!   size, so the next ones come from the arena and are never given back — which left
//!   250–355 MB resident after 2,000 registrations. A fixed threshold keeps every block of
//!   128 KiB or more mmapped and returned when freed. Two arenas instead of up to eight per
//!   core bound what freed memory the arenas can hold between trims.
//! - [`trim`] after the pool's read model is rebuilt: the rebuild is the largest transient
//!   allocation at rest (every entry read, rendered and indexed), and glibc keeps freed pages
//!   inside the heap until asked for them (`malloc_trim`).
//!
//! These are the crate's only `unsafe` blocks: two glibc functions without caller-side
//! invariants. An operator's own `GLIBC_TUNABLES` takes precedence over [`configure`].
//! mimalloc was measured instead and refused: more memory at rest and after load, and under the
//! extraction child's address-space limit it could no longer start `pdftotext` (README).

/// What [`configure`] sets, in `GLIBC_TUNABLES` terms (for the start-up log).
pub const SETTINGS: &str = "glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072";

/// Applies the settings unless the operator set `GLIBC_TUNABLES`; call first in `main`, before
/// any other thread exists. Returns what is in force. (Until now the binary executed itself
/// again with `GLIBC_TUNABLES` set: `mallopt` does the same without a second start.)
pub fn configure() -> String {
    if let Some(own) = std::env::var_os("GLIBC_TUNABLES") {
        return own.to_string_lossy().into_owned();
    }
    if glibc::set(glibc::M_ARENA_MAX, 2) && glibc::set(glibc::M_MMAP_THRESHOLD, 128 * 1024) {
        SETTINGS.to_owned()
    } else {
        "malloc defaults".to_owned()
    }
}

/// Gives the heap's free pages back to the system.
pub fn trim() {
    glibc::trim();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    pub use libc::{M_ARENA_MAX, M_MMAP_THRESHOLD};

    pub fn set(param: libc::c_int, value: libc::c_int) -> bool {
        // SAFETY: `mallopt` takes two integers and reports an unknown parameter or value with 0.
        #[allow(unsafe_code)]
        let done = unsafe { libc::mallopt(param, value) };
        done == 1
    }

    pub fn trim() {
        // SAFETY: `malloc_trim` takes the padding to keep and locks each arena itself.
        #[allow(unsafe_code)]
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod glibc {
    //! Other C libraries: nothing to set or trim.
    pub const M_ARENA_MAX: i32 = 0;
    pub const M_MMAP_THRESHOLD: i32 = 0;

    pub fn set(_: i32, _: i32) -> bool {
        false
    }

    pub fn trim() {}
}
