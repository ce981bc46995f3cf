//! Column types shared by every capability: how stored values are read back and served.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

/// A stored naive-UTC timestamp that serialises as RFC 3339 with offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UtcTime(pub DateTime<Utc>);

impl From<NaiveDateTime> for UtcTime {
    fn from(t: NaiveDateTime) -> Self {
        Self(t.and_utc())
    }
}

impl Serialize for UtcTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_rfc3339_opts(chrono::SecondsFormat::Micros, false))
    }
}

/// A JSON document stored as TEXT, served as JSON.
#[derive(Debug, Clone)]
pub struct JsonText(pub serde_json::Value);

impl From<String> for JsonText {
    fn from(s: String) -> Self {
        Self(serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s)))
    }
}

impl Serialize for JsonText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}
