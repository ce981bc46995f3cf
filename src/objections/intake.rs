//! Receiving an objection from the public, whichever front end it comes through (the JSON API
//! or the portal's form): the multipart reader (text fields and an optional `evidence` file
//! streamed to disk) and [`receive`], which validates, checks everything before storing the
//! evidence, and files the objection in one write transaction.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::{HttpRequest, web};
use futures_util::TryStreamExt;
use validator::Validate;

use crate::app::AppState;
use crate::auth::Ctx;
use crate::documents::store::{DocumentKind, Incoming};
use crate::documents::upload::{multipart_error, prepare, receive_file, sanitize_filename};
use crate::error::{ApiError, ApiResult, FieldIssue, Msg};
use crate::http::json::validation_issues;
use crate::objections::{self, NewObjection, ObjectionReceipt};

/// Longest text field accepted (grounds may be long).
const TEXT_LIMIT: usize = 64 * 1024;

/// An evidence file received with a form: its sanitised name and the streamed temporary file.
pub type Evidence = (String, Incoming);

/// A multipart objection as received: the objection, its evidence, and the text fields that
/// are not part of an objection (`extra`: the portal's CSRF token; the API ignores them).
pub struct Received {
    pub objection: NewObjection,
    pub evidence: Option<Evidence>,
    pub extra: HashMap<String, String>,
}

/// Validates and files an objection to notice `notice_id` from `client_ip`: every check
/// (window, fields, application in the notice, rate limit) runs before the evidence is stored,
/// and again in the filing transaction. The evidence's temporary file is removed when it drops, on refusal too.
pub async fn receive(
    state: &AppState,
    ctx: Ctx,
    notice_id: i64,
    body: NewObjection,
    evidence: Option<Evidence>,
    client_ip: String,
) -> ApiResult<ObjectionReceipt> {
    let limit = state.settings.objection_rate_limit;
    if let Err(e) = body.validate() {
        return Err(ApiError::validation(validation_issues(&e)));
    }
    let evidence = match evidence {
        None => None,
        Some((filename, incoming)) => {
            // Refuse before storing anything when the objection itself cannot be accepted.
            let (c, b, i) = (ctx.clone(), body.clone(), client_ip.clone());
            let checked = state
                .run(move |conn| objections::precheck(conn, &c, notice_id, &b, &i, limit))
                .await;
            checked?;
            Some(
                prepare(
                    state,
                    DocumentKind::ObjectionEvidence,
                    filename,
                    incoming,
                    None,
                    None,
                )
                .await?,
            )
        }
    };
    state
        .write(move |conn| {
            objections::file(
                conn,
                &ctx,
                notice_id,
                &body,
                &client_ip,
                limit,
                evidence.as_ref(),
            )
        })
        .await
}

/// Reads a multipart objection.
pub async fn read_multipart(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> ApiResult<Received> {
    let mut file: Option<Evidence> = None;
    let mut extra = HashMap::new();
    let objection = read(state, req, payload, &mut file, &mut extra).await?;
    Ok(Received {
        objection,
        evidence: file,
        extra,
    })
}

async fn read(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    file: &mut Option<Evidence>,
    extra: &mut HashMap<String, String>,
) -> ApiResult<NewObjection> {
    let limit = state.settings.upload_max_bytes;
    let mut form = Multipart::new(req.headers(), payload.into_inner());
    let mut fields = serde_json::Map::new();
    while let Some(field) = form.try_next().await.map_err(|e| multipart_error(&e))? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "evidence" && file.is_none() {
            let filename = field
                .content_disposition()
                .and_then(|cd| cd.get_filename().map(sanitize_filename))
                .unwrap_or_else(|| "evidence".to_owned());
            *file = Some((filename, receive_file(state, field, limit).await?));
            continue;
        }
        let text = read_text(&name, field).await?;
        let value = match name.as_str() {
            "application_id" => match text.trim().parse::<i64>() {
                Ok(n) => serde_json::Value::from(n),
                Err(_) => {
                    return Err(ApiError::validation(vec![FieldIssue::new(
                        "application_id",
                        "invalid_value",
                        Msg::new("申报编号须为整数。", "application_id must be an integer."),
                    )]));
                }
            },
            "name" | "mobile" | "grounds" => serde_json::Value::from(text),
            "email" if !text.trim().is_empty() => serde_json::Value::from(text),
            "email" => continue,
            _ => {
                extra.insert(name, text);
                continue;
            }
        };
        fields.insert(name, value);
    }
    crate::http::json::parse_json(serde_json::Value::Object(fields).to_string().as_bytes())
}

/// A text part: UTF-8 without control characters (the rule of every input channel).
async fn read_text(name: &str, mut field: actix_multipart::Field) -> ApiResult<String> {
    let mut out = Vec::new();
    while let Some(chunk) = field.try_next().await.map_err(|e| multipart_error(&e))? {
        out.extend_from_slice(&chunk);
        if out.len() > TEXT_LIMIT {
            return Err(ApiError::bad_request(
                "form_field_too_large",
                "表单字段过长。",
                "A form field is too long.",
            ));
        }
    }
    crate::http::input::form_text(name, out)
}
