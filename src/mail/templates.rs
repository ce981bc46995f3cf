//! The message templates: one per event, each a pair of files under `src/mail/templates/`
//! (`<name>.txt` whose first line is the subject, and `<name>.html`), compiled into the binary.
//!
//! Engine: minijinja (pure Rust, no build step, on the registry): the templates need loops
//! (reasons, activity items) and conditions (an objection upheld or dismissed), which a
//! `{{name}}` substitution cannot express without pre-formatting every list in Rust; and it
//! escapes every variable in the `.html` files (auto-escape by file name), never in `.txt`.
//! Undefined variables are errors, so a caller that forgets one fails in tests, not in a
//! mailbox.
//!
//! Variables of every template (dates `YYYY-MM-DD`, Beijing; lists are lists of strings):
//!
//! | template | to | variables |
//! |---|---|---|
//! | `application_received` | institution | `institution_name`, `application_id`, `round_name`, `submitted_on`, `items` |
//! | `application_returned` | institution | `institution_name`, `application_id`, `reasons`, `deadline` |
//! | `application_rejected` | institution | `institution_name`, `application_id`, `reasons` |
//! | `application_approved` | institution | `institution_name`, `application_id`, `items` |
//! | `notice_published` | institution | `institution_name`, `notice_title`, `starts_on`, `ends_on` |
//! | `objection_filed` | institution | `institution_name`, `notice_title`, `filed_on`, `grounds` (no objector data) |
//! | `objection_resolved` | objector | `institution_name`, `upheld` (bool), `reasons` |
//! | `admitted` | institution | `institution_name`, `items`, `valid_from`, `valid_until` |
//! | `exit_case_opened` | institution | `institution_name`, `case_id`, `grounds`, `statement_due` |
//! | `statement_received` | reviewers | `institution_name`, `case_id`, `filed_on` |
//! | `removed_and_banned` | institution | `institution_name`, `grounds`, `decided_on`, `last_day` (the last banned day), `may_apply_from` |
//! | `contract_created` | school, institution | `school_name`, `institution_name`, `contract_id`, `items`, `starts_on`, `ends_on` |
//! | `contract_ended` | school, institution | `school_name`, `institution_name`, `contract_id`, `ended_on`, `reason` |
//! | `reviewer_new_work` | reviewers | `work` (`submission`, `objection`, `exit_case`), `institution_name`, `reference_id` |
//! | `inspection_reminder` | institution | `institution_name`, `year` (the year whose record is missing), `due_on` |
//! | `credential_expiring` | institution | `institution_name`, `teacher_name`, `credential`, `expires_on`, `days_left` |
//! | `criminal_check_expiring` | institution | `institution_name`, `teacher_name`, `checked_on`, `valid_until`, `days_left` |
//! | `calendar_missing` | each admin | `admin_name`, `year` (the next year, whose calendar is not loaded) |

use std::sync::OnceLock;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

/// One template per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    ApplicationReceived,
    ApplicationReturned,
    ApplicationRejected,
    ApplicationApproved,
    NoticePublished,
    ObjectionFiled,
    ObjectionResolved,
    Admitted,
    ExitCaseOpened,
    StatementReceived,
    RemovedAndBanned,
    ContractCreated,
    ContractEnded,
    ReviewerNewWork,
    InspectionReminder,
    CredentialExpiring,
    CriminalCheckExpiring,
    CalendarMissing,
}

macro_rules! files {
    ($($variant:ident => $name:literal),* $(,)?) => {
        impl Template {
            pub const ALL: &'static [Template] = &[$(Template::$variant),*];

            /// The file name stem under `src/mail/templates/`.
            pub const fn name(self) -> &'static str {
                match self { $(Template::$variant => $name),* }
            }
        }

        const SOURCES: &[(&str, &str)] = &[
            ("_layout.txt", include_str!("templates/_layout.txt")),
            ("_layout.html", include_str!("templates/_layout.html")),
            $(
                (concat!($name, ".txt"), include_str!(concat!("templates/", $name, ".txt"))),
                (concat!($name, ".html"), include_str!(concat!("templates/", $name, ".html"))),
            )*
        ];
    };
}

files! {
    ApplicationReceived => "application_received",
    ApplicationReturned => "application_returned",
    ApplicationRejected => "application_rejected",
    ApplicationApproved => "application_approved",
    NoticePublished => "notice_published",
    ObjectionFiled => "objection_filed",
    ObjectionResolved => "objection_resolved",
    Admitted => "admitted",
    ExitCaseOpened => "exit_case_opened",
    StatementReceived => "statement_received",
    RemovedAndBanned => "removed_and_banned",
    ContractCreated => "contract_created",
    ContractEnded => "contract_ended",
    ReviewerNewWork => "reviewer_new_work",
    InspectionReminder => "inspection_reminder",
    CredentialExpiring => "credential_expiring",
    CriminalCheckExpiring => "criminal_check_expiring",
    CalendarMissing => "calendar_missing",
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn environment() -> &'static Result<Environment<'static>, minijinja::Error> {
    static ENV: OnceLock<Result<Environment<'static>, minijinja::Error>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_keep_trailing_newline(true);
        for (name, source) in SOURCES {
            env.add_template(name, source)?;
        }
        Ok(env)
    })
}

/// The origin links are rendered with until the message is sent (a reserved `.invalid` name,
/// so a link that somehow kept it leads nowhere).
pub const BASE_URL_STAND_IN: &str = "https://public-base-url.invalid";

/// A rendered message with its links pointed at `base_url` (`PUBLIC_BASE_URL`).
pub fn with_base_url(mut rendered: Rendered, base_url: &str) -> Rendered {
    rendered.text = rendered.text.replace(BASE_URL_STAND_IN, base_url);
    rendered.html = rendered.html.replace(BASE_URL_STAND_IN, base_url);
    rendered
}

/// Renders a template with its variables (a JSON object).
pub fn render(template: Template, vars: &serde_json::Value) -> anyhow::Result<Rendered> {
    let env = environment()
        .as_ref()
        .map_err(|e| anyhow::anyhow!("mail templates do not compile: {e:#}"))?;
    // Links are written against a stand-in origin, replaced by `PUBLIC_BASE_URL` when the
    // message is sent ([`with_base_url`]): rendering happens in the transaction of the
    // change, which knows no settings.
    let mut vars = vars.clone();
    if let serde_json::Value::Object(map) = &mut vars {
        map.insert("base_url".into(), BASE_URL_STAND_IN.into());
    }
    let ctx = minijinja::Value::from_serialize(&vars);
    let render = |ext: &str| -> anyhow::Result<String> {
        let name = format!("{}.{ext}", template.name());
        env.get_template(&name)
            .and_then(|t| t.render(&ctx))
            .map_err(|e| anyhow::anyhow!("cannot render mail template {name}: {e:#}"))
    };
    let text = render("txt")?;
    let (subject, body) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let subject = subject.trim().to_owned();
    if subject.is_empty() {
        anyhow::bail!("mail template {}.txt has no subject line", template.name());
    }
    Ok(Rendered {
        subject,
        text: normalise_text(body),
        html: render("html")?,
    })
}

/// Trims the blank lines around the text body and collapses runs of blank lines that
/// template tags leave behind.
fn normalise_text(body: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in body.trim_matches('\n').lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Sample variables of every template: also the reference for callers.
    pub fn sample(template: Template) -> serde_json::Value {
        let inst = "南宁市<青少年>体育中心";
        match template {
            Template::ApplicationReceived => json!({"institution_name": inst, "application_id": 12,
                "round_name": "2026年遴选", "submitted_on": "2026-02-13", "items": ["篮球", "书法"]}),
            Template::ApplicationReturned => json!({"institution_name": inst, "application_id": 12,
                "reasons": ["营业执照不清晰"], "deadline": "2026-02-27"}),
            Template::ApplicationRejected => json!({"institution_name": inst, "application_id": 12,
                "reasons": ["年检不合格"]}),
            Template::ApplicationApproved => json!({"institution_name": inst, "application_id": 12,
                "items": ["篮球"]}),
            Template::NoticePublished => json!({"institution_name": inst, "notice_title": "公示",
                "starts_on": "2026-02-13", "ends_on": "2026-02-26"}),
            Template::ObjectionFiled => json!({"institution_name": inst, "notice_title": "公示",
                "filed_on": "2026-02-14", "grounds": "师资不实"}),
            Template::ObjectionResolved => json!({"institution_name": inst, "upheld": true,
                "reasons": "经核实属实"}),
            Template::Admitted => json!({"institution_name": inst, "items": ["篮球"],
                "valid_from": "2026-09-01", "valid_until": "2028-08-31"}),
            Template::ExitCaseOpened => json!({"institution_name": inst, "case_id": 3,
                "grounds": ["分包或转包"], "statement_due": "2026-10-12"}),
            Template::StatementReceived => json!({"institution_name": inst, "case_id": 3,
                "filed_on": "2026-10-09"}),
            Template::RemovedAndBanned => {
                json!({"institution_name": inst, "grounds": ["分包或转包"],
                "decided_on": "2026-10-20", "last_day": "2029-10-20", "may_apply_from": "2029-10-21"})
            }
            Template::ContractCreated => {
                json!({"school_name": "测试小学", "institution_name": inst,
                "contract_id": 5, "items": ["篮球"], "starts_on": "2026-09-01", "ends_on": "2028-08-31"})
            }
            Template::ContractEnded => json!({"school_name": "测试小学", "institution_name": inst,
                "contract_id": 5, "ended_on": "2027-01-10", "reason": "提前终止"}),
            Template::ReviewerNewWork => json!({"work": "submission", "institution_name": inst,
                "reference_id": 12}),
            Template::InspectionReminder => json!({"institution_name": inst, "year": 2025,
                "due_on": "2026-06-30"}),
            Template::CredentialExpiring => {
                json!({"institution_name": inst, "teacher_name": "李老师",
                "credential": "教师资格证书", "expires_on": "2026-03-01", "days_left": 16})
            }
            Template::CriminalCheckExpiring => json!({"institution_name": inst,
                "teacher_name": "李老师", "checked_on": "2025-09-01", "valid_until": "2026-02-28",
                "days_left": 15}),
            Template::CalendarMissing => json!({"admin_name": inst, "year": 2027}),
        }
    }

    #[test]
    fn every_template_renders_with_a_subject_and_escaped_html() {
        for &t in Template::ALL {
            let r = render(t, &sample(t)).unwrap_or_else(|e| panic!("{t:?}: {e:#}"));
            assert!(!r.subject.is_empty() && !r.subject.contains('\n'), "{t:?}");
            assert!(
                r.text.contains("南宁市<青少年>体育中心"),
                "{t:?}: {}",
                r.text
            );
            assert!(
                r.html.contains("南宁市&lt;青少年&gt;体育中心"),
                "{t:?}: {}",
                r.html
            );
            assert!(
                !r.html.contains("<青少年>"),
                "{t:?} html is escaped: {}",
                r.html
            );
            assert!(
                r.html.contains("<html") && r.html.contains("charset=utf-8"),
                "{t:?}"
            );
        }
    }

    #[test]
    fn a_missing_variable_is_an_error() {
        let err = render(
            Template::ApplicationReturned,
            &json!({"institution_name": "x"}),
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("application_returned"),
            "{err:#}"
        );
    }
}
