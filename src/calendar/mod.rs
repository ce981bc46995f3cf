//! The working-day calendar: the pure arithmetic in [`rules`].

pub mod rules;
