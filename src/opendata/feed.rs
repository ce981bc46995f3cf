//! The change feed of a list: JSON pages after a version (`since`), and the same changes as an
//! Atom 1.0 feed (RFC 4287) for feed readers.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Change, List};

/// Largest page of changes.
pub const MAX_LIMIT: i64 = 500;
/// Changes in an Atom document.
pub const ATOM_ENTRIES: i64 = 100;

#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Only the changes after this version (default 0: from the first). Negative counts as 0.
    pub since: Option<i64>,
    /// Changes per page, 1–500 (default 100).
    pub limit: Option<i64>,
}

impl FeedQuery {
    pub fn since(&self) -> i64 {
        self.since.unwrap_or(0).max(0)
    }
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(100).clamp(1, MAX_LIMIT)
    }
}

/// One change in the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedChange {
    /// The list's version this change made.
    pub version: i64,
    /// `admitted`, `removed`, `expired`, `items_changed` (pool) or `recorded` (bans).
    pub kind: String,
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: DateTime<Utc>,
    pub institution_id: i64,
    /// The pool entry's id (pool) or the ban's id (bans).
    pub subject_id: i64,
    /// The entry (`PublicEntry`) or ban (`PublicBan`) after the change; for a removal or an
    /// expiry, as it stood.
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
}

impl TryFrom<Change> for FeedChange {
    type Error = diesel::result::Error;

    /// A stored record that is not JSON is an error, never an empty record.
    fn try_from(c: Change) -> diesel::QueryResult<Self> {
        Ok(Self {
            version: c.version,
            kind: c.kind,
            occurred_at: c.occurred_at.and_utc(),
            institution_id: c.institution_id,
            subject_id: c.subject_id,
            record: crate::db::json_text::decode(&c.record)?,
        })
    }
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedPage {
    /// `pool` or `bans`.
    pub list: String,
    /// The `since` this page answers.
    pub since: i64,
    /// The list's newest version when the page was read.
    pub current_version: i64,
    /// The changes after `since`, oldest first.
    pub items: Vec<FeedChange>,
    /// Ask again with `since` = this for the next page; `null` when this page reaches
    /// `current_version`.
    pub next_since: Option<i64>,
}

impl FeedPage {
    pub fn new(
        list: List,
        since: i64,
        current_version: i64,
        changes: Vec<Change>,
    ) -> diesel::QueryResult<Self> {
        let last = changes.last().map_or(since, |c| c.version);
        Ok(Self {
            list: list.as_str().to_owned(),
            since,
            current_version,
            items: changes
                .into_iter()
                .map(FeedChange::try_from)
                .collect::<diesel::QueryResult<_>>()?,
            next_since: (last < current_version).then_some(last),
        })
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What a change says in a feed reader's list, in Chinese (the bureau's language).
fn title(list: List, change: &FeedChange) -> String {
    let name = change
        .record
        .get("name")
        .or_else(|| change.record.get("institution_name"))
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let what = match (list, change.kind.as_str()) {
        (List::Pool, "admitted") => "纳入备选库",
        (List::Pool, "removed") => "清退出备选库",
        (List::Pool, "expired") => "备选库有效期届满",
        (List::Pool, "items_changed") => "服务项目变更",
        (List::Bans, _) => "禁入",
        (List::Pool, _) => "变更",
    };
    format!("{what}：{name}（第 {} 版）", change.version)
}

/// The Atom document of `changes` (newest first). `base` is the service's origin
/// (`https://host`), from which every link is absolute.
pub fn atom(list: List, base: &str, changes: &[FeedChange], now: DateTime<Utc>) -> String {
    let name = list.as_str();
    let (feed_title, author) = match list {
        List::Pool => ("课后服务第三方机构备选库变更", "课后服务第三方机构备选库"),
        List::Bans => ("课后服务第三方机构禁入名单变更", "课后服务第三方机构备选库"),
    };
    let updated = changes.first().map_or(now, |c| c.occurred_at);
    let mut out = String::with_capacity(512 + 700 * changes.len());
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"zh-CN\">\n");
    out.push_str(&format!(
        "  <id>tag:provider-registry,2026:{name}/changes</id>\n  <title>{}</title>\n  <updated>{}</updated>\n  <author><name>{}</name></author>\n",
        escape(feed_title),
        instant(updated),
        escape(author)
    ));
    out.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n  <link rel=\"alternate\" type=\"application/json\" href=\"{}\"/>\n",
        escape(&format!("{base}/api/v1/{name}/changes.atom")),
        escape(&format!("{base}/api/v1/{name}/changes"))
    ));
    for c in changes {
        let snapshot = format!("{base}/api/v1/{name}/snapshots/{}", c.version);
        let summary = format!(
            "{} {} {}",
            c.kind,
            c.record.get("uscc").and_then(|v| v.as_str()).unwrap_or(""),
            serde_json_canonicalizer::to_string(&c.record).unwrap_or_default()
        );
        out.push_str(&format!(
            "  <entry>\n    <id>tag:provider-registry,2026:{name}/version/{}</id>\n    <title>{}</title>\n    <updated>{}</updated>\n    <link rel=\"alternate\" type=\"application/json\" href=\"{}\"/>\n    <category term=\"{}\"/>\n    <content type=\"text\">{}</content>\n  </entry>\n",
            c.version,
            escape(&title(list, c)),
            instant(c.occurred_at),
            escape(&snapshot),
            escape(&c.kind),
            escape(&summary),
        ));
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_record_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }

    #[test]
    fn a_page_points_to_the_next_until_it_reaches_the_current_version() {
        let change = |version| Change {
            version,
            kind: "admitted".into(),
            institution_id: 1,
            subject_id: version,
            occurred_at: chrono::NaiveDateTime::default(),
            record: "{}".into(),
            sha256: None,
        };
        let page = FeedPage::new(List::Pool, 0, 5, vec![change(1), change(2)]).unwrap();
        assert_eq!(page.next_since, Some(2));
        let last = FeedPage::new(List::Pool, 2, 5, vec![change(3), change(4), change(5)]).unwrap();
        assert_eq!(last.next_since, None);
        assert_eq!(
            FeedPage::new(List::Pool, 5, 5, vec![]).unwrap().next_since,
            None
        );
    }
}
