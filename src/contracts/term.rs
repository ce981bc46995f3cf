//! School years and school terms (pure).
//!
//! A school year runs 1 September – 31 August and is named by the year it starts in. A
//! contract's term is at most **two school years** counted from the school year of its start
//! date (N§四): it may not end after 31 August of the school year that starts one year after
//! the start date's school year. A start on 31 August 2026 lies in 2025/26, so the latest end is
//! 31 August 2027; a start on 1 September 2026 lies in 2026/27, so the latest end is 31 August
//! 2028.
//!
//! An evaluation term (学期) is written `YYYY-YYYY-N`: the school year and `1` for the autumn
//! term (1 September – 31 January) or `2` for the spring term (1 February – 31 August).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

/// The year a date's school year starts in (2026-08-31 → 2025, 2026-09-01 → 2026).
pub fn school_year_of(date: NaiveDate) -> i32 {
    if date.month() >= 9 {
        date.year()
    } else {
        date.year() - 1
    }
}

/// The latest end date of a contract starting on `start`: two school years.
pub fn latest_end(start: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(school_year_of(start) + 2, 8, 31).unwrap_or(NaiveDate::MAX)
}

/// A school term, e.g. `2026-2027-1` (autumn 2026) or `2026-2027-2` (spring 2027).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Term {
    /// The year the school year starts in.
    pub year: i32,
    /// 1 = autumn, 2 = spring.
    pub half: u8,
}

impl Term {
    pub fn first_day(self) -> NaiveDate {
        match self.half {
            1 => NaiveDate::from_ymd_opt(self.year, 9, 1),
            _ => NaiveDate::from_ymd_opt(self.year + 1, 2, 1),
        }
        .unwrap_or(NaiveDate::MAX)
    }

    pub fn last_day(self) -> NaiveDate {
        match self.half {
            1 => NaiveDate::from_ymd_opt(self.year + 1, 1, 31),
            _ => NaiveDate::from_ymd_opt(self.year + 1, 8, 31),
        }
        .unwrap_or(NaiveDate::MAX)
    }

    /// Whether the term shares at least one day with `[from, to]`.
    pub fn overlaps(self, from: NaiveDate, to: NaiveDate) -> bool {
        self.first_day() <= to && from <= self.last_day()
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.year, self.year + 1, self.half)
    }
}

impl FromStr for Term {
    type Err = ();

    /// `YYYY-YYYY-N`, the second year following the first, N 1 or 2.
    fn from_str(s: &str) -> Result<Self, ()> {
        let parts: Vec<&str> = s.trim().split('-').collect();
        let [a, b, n] = parts.as_slice() else {
            return Err(());
        };
        let digits = |p: &str, len: usize| p.len() == len && p.bytes().all(|c| c.is_ascii_digit());
        if !(digits(a, 4) && digits(b, 4) && digits(n, 1)) {
            return Err(());
        }
        let year: i32 = a.parse().map_err(|_| ())?;
        let next: i32 = b.parse().map_err(|_| ())?;
        let half: u8 = n.parse().map_err(|_| ())?;
        if next != year + 1 || !(1..=2).contains(&half) || !(2000..=2999).contains(&year) {
            return Err(());
        }
        Ok(Term { year, half })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_school_year_turns_on_the_first_of_september() {
        assert_eq!(school_year_of(d("2026-08-31")), 2025);
        assert_eq!(school_year_of(d("2026-09-01")), 2026);
        assert_eq!(school_year_of(d("2027-01-15")), 2026);
    }

    #[test]
    fn two_school_years_count_from_the_start_dates_school_year() {
        assert_eq!(latest_end(d("2026-08-31")), d("2027-08-31"));
        assert_eq!(latest_end(d("2026-09-01")), d("2028-08-31"));
        assert_eq!(latest_end(d("2027-03-01")), d("2028-08-31"));
    }

    #[test]
    fn terms_parse_and_span_their_halves() {
        let t: Term = "2026-2027-1".parse().unwrap();
        assert_eq!(
            (t.first_day(), t.last_day()),
            (d("2026-09-01"), d("2027-01-31"))
        );
        let t: Term = "2026-2027-2".parse().unwrap();
        assert_eq!(
            (t.first_day(), t.last_day()),
            (d("2027-02-01"), d("2027-08-31"))
        );
        assert_eq!(t.to_string(), "2026-2027-2");
        for bad in [
            "2026-2028-1",
            "2026-2027-3",
            "2026/2027/1",
            "26-27-1",
            "",
            "2026-2027",
        ] {
            assert!(bad.parse::<Term>().is_err(), "{bad}");
        }
        assert!(t.overlaps(d("2027-08-31"), d("2028-01-01")));
        assert!(!t.overlaps(d("2027-09-01"), d("2028-01-01")));
    }
}
