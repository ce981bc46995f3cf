//! A form as the workspace pages show it: its fields with their values, and every refusal of
//! the service placed next to the field it concerns (a field issue's `field` names the input),
//! listed again in an error summary at the top that links to the fields. What concerns no
//! field stays at the top. The template side is `templates/_forms.html`.

use actix_web::http::StatusCode;
use serde::Serialize;

use crate::error::ApiError;
use crate::web::Page;

/// One input of a form.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub name: String,
    pub label: String,
    /// `text`, `email`, `password`, `date`, `number`, `tel`, `textarea`, `select`, `file`,
    /// `checkbox`.
    pub kind: &'static str,
    pub value: String,
    pub hint: Option<String>,
    pub error: Option<String>,
    /// `(value, label)` of a `select`.
    pub options: Vec<(String, String)>,
    pub required: bool,
    pub autocomplete: Option<&'static str>,
    /// `accept` of a file input.
    pub accept: Option<&'static str>,
}

impl Field {
    pub fn new(name: &str, label: impl Into<String>, kind: &'static str) -> Self {
        Self {
            name: name.to_owned(),
            label: label.into(),
            kind,
            value: String::new(),
            hint: None,
            error: None,
            options: Vec::new(),
            required: false,
            autocomplete: None,
            accept: None,
        }
    }

    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.value = value.into();
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn options(mut self, options: Vec<(String, String)>) -> Self {
        self.options = options;
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn autocomplete(mut self, token: &'static str) -> Self {
        self.autocomplete = Some(token);
        self
    }

    pub fn accept(mut self, accept: &'static str) -> Self {
        self.accept = Some(accept);
        self
    }
}

/// A form with its fields, its errors and where it posts.
#[derive(Debug, Clone, Serialize)]
pub struct Form {
    pub action: String,
    pub submit: String,
    pub multipart: bool,
    pub fields: Vec<Field>,
    /// `(field name, label, message)` of every field error, in field order.
    pub summary: Vec<(String, String, String)>,
    /// Refusals that concern no field (an expired form, a rate limit, a state conflict).
    pub form_errors: Vec<String>,
    /// Extra hidden inputs `(name, value)` besides the CSRF token.
    pub hidden: Vec<(String, String)>,
}

impl Form {
    pub fn new(action: impl Into<String>, submit: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            submit: submit.into(),
            multipart: false,
            fields: Vec::new(),
            summary: Vec::new(),
            form_errors: Vec::new(),
            hidden: Vec::new(),
        }
    }

    pub fn multipart(mut self) -> Self {
        self.multipart = true;
        self
    }

    pub fn field(mut self, field: Field) -> Self {
        self.fields.push(field);
        self
    }

    pub fn hidden(mut self, name: &str, value: impl Into<String>) -> Self {
        self.hidden.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the value of the field `name` (the value typed, shown again after a refusal).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == name) {
            f.value = value.into();
        }
    }

    /// The field a service issue concerns: its exact name, or the name before a `.`/`[`
    /// (`items[0]` → `items`).
    fn index_of(&self, issue_field: &str) -> Option<usize> {
        let base = issue_field.split(['.', '[']).next().unwrap_or(issue_field);
        self.fields
            .iter()
            .position(|f| f.name == issue_field)
            .or_else(|| self.fields.iter().position(|f| f.name == base))
    }

    /// Places a message next to a field (the first message of a field is kept).
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        match self.index_of(field) {
            Some(i) if self.fields[i].error.is_none() => self.fields[i].error = Some(message),
            Some(i) => {
                if let Some(e) = &mut self.fields[i].error {
                    e.push(' ');
                    e.push_str(&message);
                }
            }
            None => self.form_errors.push(message),
        }
        self.rebuild_summary();
    }

    fn rebuild_summary(&mut self) {
        self.summary = self
            .fields
            .iter()
            .filter_map(|f| {
                f.error
                    .as_ref()
                    .map(|e| (f.name.clone(), f.label.clone(), e.clone()))
            })
            .collect();
    }

    /// The form's CSRF token did not match: nothing was done.
    pub fn csrf_failed(&mut self, page: &Page) -> StatusCode {
        self.form_errors.push(page.t("form.csrf_failed"));
        StatusCode::FORBIDDEN
    }

    /// Spreads a service refusal over the form: each field issue next to its field, the rest
    /// at the top. Returns the status to answer with.
    pub fn refused(&mut self, page: &Page, err: &ApiError) -> StatusCode {
        match err {
            ApiError::Problem(p) => {
                if p.errors.is_empty() {
                    self.form_errors.push(page.msg(&p.detail));
                }
                for issue in &p.errors {
                    self.error(&issue.field, page.msg(&issue.message));
                }
                p.status
            }
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "workspace form failed");
                self.form_errors.push(page.t("error.internal_text"));
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn has_errors(&self) -> bool {
        !self.summary.is_empty() || !self.form_errors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issue_goes_next_to_its_field_or_to_the_top() {
        let mut form = Form::new("/x", "ok")
            .field(Field::new("uscc", "代码", "text"))
            .field(Field::new("items", "项目", "select"));
        form.error("uscc", "校验位错误");
        form.error("items[2]", "未知项目");
        form.error("round_id", "批次未开放");
        assert_eq!(form.fields[0].error.as_deref(), Some("校验位错误"));
        assert_eq!(form.fields[1].error.as_deref(), Some("未知项目"));
        assert_eq!(form.form_errors, vec!["批次未开放".to_owned()]);
        assert_eq!(form.summary.len(), 2);
        assert!(form.has_errors());
    }
}
