//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes) in PHC strings, and
//! the policy every new password meets (ASVS V2.1.1, V2.1.7): at least 12 characters (Unicode
//! scalar values), at most 256, and not one of the commonest leaked passwords.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// The shortest password accepted (ASVS V2.1.1).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest accepted: argon2 itself has no limit, but hashing megabytes is a cheap DoS.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The 20,000 commonest passwords of the Pwned Passwords corpus, lowercased, one a line
/// (Django's list: `fixtures/passwords/README.md` has its source and checksum).
const COMMON_PASSWORDS: &str = include_str!("../../fixtures/passwords/common-passwords.txt");

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    TooShort,
    TooLong,
    TooCommon,
}

impl Weakness {
    /// The stable code of the refusal.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooShort => "password_too_short",
            Self::TooLong => "password_too_long",
            Self::TooCommon => "password_too_common",
        }
    }
}

/// True when `password`, lowercased and trimmed, is on the list of the commonest leaked
/// passwords (so `Password1234` and ` password1234 ` count as `password1234`).
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.trim().to_lowercase().as_str())
}

/// The policy for every password that is set (registration, admin-created accounts, the
/// `create-user` CLI): length first, then the list.
pub fn weakness(password: &str) -> Option<Weakness> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        Some(Weakness::TooShort)
    } else if chars > MAX_PASSWORD_CHARS {
        Some(Weakness::TooLong)
    } else if is_common(password) {
        Some(Weakness::TooCommon)
    } else {
        None
    }
}

pub fn hash(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// True when `password` matches the stored PHC string; a malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends the time of one verification, so that a login for an unknown account takes as
/// long as one with a wrong password (no account enumeration by timing).
pub fn burn_verification(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("dummy-password-for-timing").unwrap_or_default());
    let _ = verify(password, stored);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_the_whole_shipped_file() {
        assert_eq!(COMMON.len(), 19_640);
        for known in [
            "123456",
            "password",
            "qwerty123456",
            "1q2w3e4r5t6y",
            "iloveyou",
        ] {
            assert!(is_common(known), "{known}");
        }
    }

    #[test]
    fn length_counts_characters_and_the_list_ignores_case_and_surrounding_spaces() {
        assert_eq!(weakness("short-pw-11"), Some(Weakness::TooShort));
        // Twelve characters of three bytes each: long enough.
        assert_eq!(weakness("课后服务机构备选库管理系统"), None);
        assert_eq!(weakness("课后服务机构备选库管理"), Some(Weakness::TooShort));
        assert_eq!(weakness(&"x".repeat(257)), Some(Weakness::TooLong));
        for common in [
            "qwerty123456",
            "QWERTY123456",
            " Qwerty123456 ",
            "1Q2W3E4R5T6Y",
        ] {
            assert_eq!(weakness(common), Some(Weakness::TooCommon), "{common}");
        }
        // The demo and test passwords meet the policy.
        assert_eq!(weakness("demo-password-2026"), None);
        assert_eq!(weakness("test-password-123"), None);
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("anything", "not a hash"));
    }
}
