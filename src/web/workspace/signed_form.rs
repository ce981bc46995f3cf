//! [`SignedForm`]: the one way a workspace page receives a posted form. It is the
//! [`SignedIn`] guard (session, role) plus the form read from the body plus the CSRF check: a
//! handler that takes it knows who posted, that the form came from one of this site's pages,
//! and has the fields. A form without a matching token is answered here, with the 403 page
//! (nothing was done), so no handler repeats the check. [`PageForm`] is the same step for the
//! one form a visitor posts in a workspace (registration).
//!
//! The body is one of two [`FormBody`] kinds: [`Fields`] (urlencoded; repeated names kept, as
//! checkbox lists post them) or [`Multipart`] (text fields and files, each file spooled to the
//! data directory within `UPLOAD_MAX_BYTES` like the API's uploads, removed when dropped).

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::TryStreamExt;

use crate::app::AppState;
use crate::auth::Roles;
use crate::documents::store::Incoming;
use crate::documents::upload::{multipart_error, receive_file, sanitize_filename};
use crate::error::{ApiError, ApiResult};
use crate::web::Page;
use crate::web::forms::Form;
use crate::web::security::{self, CSRF_FIELD};
use crate::web::session::SignedIn;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// A form posted by a signed-in user whose role is in `R`, its CSRF token checked. Derefs to
/// the [`SignedIn`] guard (`user`, `ctx`, `page`, `render`, `error`).
pub struct SignedForm<R: Roles, T: FormBody = Fields> {
    pub signed: SignedIn<R>,
    pub form: T,
}

impl<R: Roles, T: FormBody> Deref for SignedForm<R, T> {
    type Target = SignedIn<R>;

    fn deref(&self) -> &SignedIn<R> {
        &self.signed
    }
}

/// A body a [`SignedForm`] can read.
pub trait FormBody: Sized + 'static {
    /// Reads the body (the request's payload, taken).
    fn read(req: &HttpRequest, payload: &mut Payload) -> BoxFuture<ApiResult<Self>>;
    /// The CSRF token the form carried.
    fn csrf(&self) -> Option<&str>;
}

fn refuse(response: actix_web::HttpResponse) -> actix_web::Error {
    actix_web::error::InternalError::from_response("form refused", response).into()
}

/// The form of `req` read by `body`, its CSRF token checked against `page`'s key: the one
/// check of every workspace form (a refusal is the 403 page, nothing was done).
async fn checked<T: FormBody>(
    page: &Page,
    req: &HttpRequest,
    body: BoxFuture<ApiResult<T>>,
) -> Result<T, actix_web::Error> {
    let form = body.await.map_err(|e| refuse(page.error(&e)))?;
    if !security::csrf_ok(page.key(), req, form.csrf()) {
        return Err(refuse(page.error_page(
            StatusCode::FORBIDDEN,
            &page.t("error.refused_title"),
            &page.t("form.csrf_failed"),
        )));
    }
    Ok(form)
}

impl<R: Roles + 'static, T: FormBody> FromRequest for SignedForm<R, T> {
    type Error = actix_web::Error;
    type Future = BoxFuture<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let signed = SignedIn::<R>::from_request(req, payload);
        let body = T::read(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let signed = signed.await?;
            let form = checked(&signed.page, &req, body).await?;
            Ok(SignedForm { signed, form })
        })
    }
}

/// A form posted to a page open to visitors (registration), its CSRF token checked by the
/// same step as [`SignedForm`]'s: the page and the form, no session.
pub struct PageForm<T: FormBody = Fields> {
    pub page: Page,
    pub form: T,
}

impl<T: FormBody> FromRequest for PageForm<T> {
    type Error = actix_web::Error;
    type Future = BoxFuture<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let page = Page::from_request_parts(req);
        let body = T::read(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let form = checked(&page, &req, body).await?;
            Ok(PageForm { page, form })
        })
    }
}

/// The fields of a form, in order, a repeated name kept (checkboxes).
#[derive(Debug, Default, Clone)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// The fields of an urlencoded body.
    pub fn parse(body: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, or empty.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    /// The first value of `name`, or empty, borrowed.
    pub fn value(&self, name: &str) -> &str {
        self.get(name).unwrap_or_default()
    }

    /// The value as a JSON integer when it reads as one, else as the string typed (so the
    /// API's parser refuses it with its own message).
    pub fn int(&self, name: &str) -> serde_json::Value {
        let raw = self.value(name).trim();
        raw.parse::<i64>()
            .map_or_else(|_| serde_json::Value::String(raw.to_owned()), Into::into)
    }

    /// Puts the values typed back into the form's fields.
    pub fn refill(&self, form: &mut Form) {
        for (name, value) in self.typed() {
            form.set(name, value.clone());
        }
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every field but the CSRF token (the values typed, to show again).
    pub fn typed(&self) -> impl Iterator<Item = &(String, String)> {
        self.0.iter().filter(|(k, _)| k != CSRF_FIELD)
    }
}

impl FormBody for Fields {
    fn read(req: &HttpRequest, payload: &mut Payload) -> BoxFuture<ApiResult<Self>> {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = bytes.await.map_err(|e| {
                tracing::info!(error = %e, "form body refused");
                ApiError::bad_request(
                    "bad_request",
                    "表单无法读取（过大或格式错误）。",
                    "The form could not be read (too large or malformed).",
                )
            })?;
            Ok(Fields::parse(&body))
        })
    }

    fn csrf(&self) -> Option<&str> {
        self.get(CSRF_FIELD)
    }
}

/// A file posted in a multipart form, spooled to disk.
pub struct PostedFile {
    /// The input's name.
    pub field: String,
    /// The file's name as the browser sent it (last path component, no control characters).
    pub filename: String,
    pub content: Incoming,
}

impl PostedFile {
    /// The file's bytes (for small text files: a CSV, a calendar's JSON), read off the async
    /// worker.
    pub async fn bytes(self) -> ApiResult<Vec<u8>> {
        web::block(move || -> std::io::Result<Vec<u8>> {
            let (spooled, ..) = self.content.finish()?;
            std::fs::read(spooled.path())
        })
        .await?
        .map_err(|e| ApiError::Internal(e.into()))
    }
}

/// A multipart form: its text fields and its files (an empty file input posts no file).
pub struct Multipart {
    pub fields: Fields,
    pub files: Vec<PostedFile>,
    /// A file refused while it arrived (over the size cap) and its input's name: the form is
    /// read no further, and the refusal belongs next to that input ([`Multipart::take_file`]).
    refused: Option<(String, ApiError)>,
}

impl Multipart {
    /// Takes the file posted as `name`: none if none was chosen, the refusal if it was refused
    /// while it arrived (so the page shows it next to its input).
    pub fn take_file(&mut self, name: &str) -> ApiResult<Option<PostedFile>> {
        if let Some((field, refusal)) = self.refused.take() {
            if field == name {
                return Err(refusal);
            }
            self.refused = Some((field, refusal));
        }
        let Some(i) = self.files.iter().position(|f| f.field == name) else {
            return Ok(None);
        };
        Ok(Some(self.files.remove(i)))
    }
}

/// The most a multipart form's text fields may hold together.
const TEXT_LIMIT: usize = 256 * 1024;

impl FormBody for Multipart {
    fn read(req: &HttpRequest, payload: &mut Payload) -> BoxFuture<ApiResult<Self>> {
        // A form without files may come urlencoded (a browser sends it so when no file input
        // is involved, and a test may): the same fields, no files.
        let urlencoded = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if urlencoded {
            let fields = Fields::read(req, payload);
            return Box::pin(async move {
                Ok(Multipart {
                    fields: fields.await?,
                    files: Vec::new(),
                    refused: None,
                })
            });
        }
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let mut form = actix_multipart::Multipart::new(req.headers(), payload.take());
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state")))?;
            let limit = state.settings.upload_max_bytes;
            let (mut fields, mut files, mut text_bytes) = (Vec::new(), Vec::new(), 0usize);
            let mut refused = None;
            while let Some(mut field) = form.try_next().await.map_err(|e| multipart_error(&e))? {
                let name = field.name().unwrap_or_default().to_owned();
                let filename = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename().map(sanitize_filename));
                if let Some(filename) = filename {
                    let content = match receive_file(&state, field, limit).await {
                        Ok(content) => content,
                        Err(e) if e.code() == "file_too_large" => {
                            refused = Some((name, e));
                            break;
                        }
                        Err(e) => return Err(e),
                    };
                    // An empty file input posts a part without content.
                    if content.size > 0 {
                        files.push(PostedFile {
                            field: name,
                            filename,
                            content,
                        });
                    }
                    continue;
                }
                let mut value = Vec::new();
                while let Some(chunk) = field.try_next().await.map_err(|e| multipart_error(&e))? {
                    text_bytes += chunk.len();
                    if text_bytes > TEXT_LIMIT {
                        return Err(ApiError::bad_request(
                            "form_field_too_large",
                            "表单字段过长。",
                            "A form field is too long.",
                        ));
                    }
                    value.extend_from_slice(&chunk);
                }
                fields.push((name, String::from_utf8_lossy(&value).into_owned()));
            }
            Ok(Multipart {
                fields: Fields(fields),
                files,
                refused,
            })
        })
    }

    fn csrf(&self) -> Option<&str> {
        self.fields.get(CSRF_FIELD)
    }
}
