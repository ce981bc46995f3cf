//! The activity catalogue (two levels, stable codes like `sports.basketball`) and the academic
//! subjects that are refused wherever an activity is proposed — only non-academic (非学科类)
//! institutions may apply (selection notice §一). The data is `fixtures/catalogue.json`,
//! compiled into the binary.

pub mod routes;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, Msg};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcademicSubject {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Other names under which the subject is refused (英语, 奥数, …).
    pub aliases: Vec<String>,
}

/// The whole catalogue as served by `GET /categories`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub source: String,
    pub categories: Vec<Category>,
    pub academic_subjects: Vec<AcademicSubject>,
    #[serde(skip)]
    index: HashMap<String, (usize, usize)>,
}

/// Why a proposed activity is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityError {
    /// An academic subject (学科类): refused by the selection notice §一.
    Academic {
        code: String,
        name_zh: String,
        name_en: String,
    },
    /// Neither an item of the catalogue nor an academic subject.
    Unknown(String),
}

impl ActivityError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Academic { .. } => "academic_subject_forbidden",
            Self::Unknown(_) => "unknown_category",
        }
    }

    pub fn message(&self) -> Msg {
        match self {
            Self::Academic {
                name_zh, name_en, ..
            } => Msg::new(
                format!(
                    "“{name_zh}”属于学科类项目。依据《关于引进第三方机构参与课后服务工作的公告》第一条，备选库只引进非学科类（体育、文化艺术、综合实践）机构，学科类项目不予受理。"
                ),
                format!(
                    "“{name_en}” is an academic subject. Under §1 of the selection notice only non-academic activities (sports, culture and arts, comprehensive practice) are admitted."
                ),
            ),
            Self::Unknown(code) => Msg::new(
                format!("活动项目代码“{code}”不在活动目录中，请从 GET /api/v1/categories 中选择。"),
                format!(
                    "“{code}” is not an activity of the catalogue; choose one from GET /api/v1/categories."
                ),
            ),
        }
    }

    /// As a field issue of the request.
    pub fn issue(&self, field: impl Into<String>) -> crate::error::FieldIssue {
        crate::error::FieldIssue::new(field, self.code(), self.message())
    }

    /// As a whole-request problem (422).
    pub fn problem(&self) -> ApiError {
        let m = self.message();
        ApiError::rule(self.code(), m.zh, m.en)
    }
}

/// The top-level catalogue category of an item code (`sports` for `sports.basketball`).
pub fn category_of(item: &str) -> &str {
    item.split('.').next().unwrap_or(item)
}

impl Catalogue {
    pub fn parse(json: &str) -> Result<Self, serde_json::Error> {
        let mut catalogue: Catalogue = serde_json::from_str(json)?;
        for (ci, category) in catalogue.categories.iter().enumerate() {
            for (ii, item) in category.items.iter().enumerate() {
                catalogue.index.insert(item.code.clone(), (ci, ii));
            }
        }
        Ok(catalogue)
    }

    /// The catalogue compiled into the service.
    pub fn get() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            // The fixture is compiled in and checked by a unit test, so this cannot fail at
            // run time; an empty catalogue would refuse everything rather than crash.
            Catalogue::parse(include_str!("../../fixtures/catalogue.json")).unwrap_or_else(|e| {
                tracing::error!(error = %e, "the compiled-in catalogue is invalid");
                Catalogue {
                    source: String::new(),
                    categories: Vec::new(),
                    academic_subjects: Vec::new(),
                    index: HashMap::new(),
                }
            })
        })
    }

    /// The item a proposed activity code names, or why it is refused. Academic subjects are
    /// recognised by code, name or alias (so `数学`, `奥数` or `academic.mathematics` are all
    /// refused with the rule, not merely "unknown").
    pub fn activity(&self, code: &str) -> Result<&Item, ActivityError> {
        let code = code.trim();
        if let Some((ci, ii)) = self.index.get(code) {
            return Ok(&self.categories[*ci].items[*ii]);
        }
        let lower = code.to_lowercase();
        if let Some(subject) = self.academic_subjects.iter().find(|s| {
            s.code == lower
                || s.name_zh == code
                || s.aliases.iter().any(|a| a.to_lowercase() == lower)
        }) {
            return Err(ActivityError::Academic {
                code: subject.code.clone(),
                name_zh: subject.name_zh.clone(),
                name_en: subject.name_en.clone(),
            });
        }
        Err(ActivityError::Unknown(code.to_owned()))
    }

    /// True when `filter` (a top-level category code or an item code) covers `item_code`.
    pub fn covers(filter: &str, item_code: &str) -> bool {
        item_code == filter
            || item_code
                .strip_prefix(filter)
                .is_some_and(|rest| rest.starts_with('.'))
    }

    /// Whether `code` is a top-level category or an item (valid as a search filter).
    pub fn is_filter(&self, code: &str) -> bool {
        self.index.contains_key(code) || self.categories.iter().any(|c| c.code == code)
    }

    /// The item codes a filter covers.
    pub fn items_under(&self, filter: &str) -> Vec<&str> {
        self.categories
            .iter()
            .flat_map(|c| c.items.iter())
            .map(|i| i.code.as_str())
            .filter(|code| Self::covers(filter, code))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_item_belongs_to_its_top_level_category() {
        assert_eq!(super::category_of("sports.basketball"), "sports");
        assert_eq!(super::category_of("arts.music.choir"), "arts");
        assert_eq!(super::category_of("sports"), "sports");
    }

    use super::*;

    #[test]
    fn the_compiled_in_catalogue_parses_and_covers_the_required_fields() {
        let c = Catalogue::parse(include_str!("../../fixtures/catalogue.json")).unwrap();
        let tops: Vec<&str> = c.categories.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(tops, ["sports", "arts", "practice"]);
        for required in [
            "sports.basketball",
            "arts.vocal_music",
            "arts.fine_arts",
            "arts.dance",
            "arts.calligraphy",
            "arts.drama",
            "arts.intangible_heritage",
            "practice.programming",
            "practice.robotics",
            "practice.information_technology",
            "practice.technology",
            "practice.science_popularisation",
            "practice.reading",
        ] {
            assert!(c.activity(required).is_ok(), "{required}");
        }
        // Every item code sits under its category's code and is unique.
        let mut seen = std::collections::HashSet::new();
        for cat in &c.categories {
            for item in &cat.items {
                assert!(Catalogue::covers(&cat.code, &item.code), "{}", item.code);
                assert!(seen.insert(item.code.clone()), "duplicate {}", item.code);
            }
        }
    }

    #[test]
    fn academic_subjects_are_refused_by_code_name_or_alias() {
        let c = Catalogue::get();
        for input in [
            "academic.mathematics",
            "数学",
            "奥数",
            "英语",
            "English",
            "物理",
            "道德与法治",
        ] {
            let err = c.activity(input).unwrap_err();
            assert_eq!(err.code(), "academic_subject_forbidden", "{input}");
            assert!(
                err.message().zh.contains("第一条"),
                "the message cites the rule"
            );
        }
        assert_eq!(
            c.activity("sports.quidditch").unwrap_err().code(),
            "unknown_category"
        );
        assert_eq!(c.activity("").unwrap_err().code(), "unknown_category");
    }

    #[test]
    fn a_top_level_code_covers_its_items_only() {
        assert!(Catalogue::covers("sports", "sports.basketball"));
        assert!(Catalogue::covers("sports.basketball", "sports.basketball"));
        assert!(!Catalogue::covers("sport", "sports.basketball"));
        assert!(!Catalogue::covers("arts", "sports.basketball"));
        assert_eq!(Catalogue::get().items_under("practice").len(), 12);
    }
}
