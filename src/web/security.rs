//! Cookies of the portal and what they carry, all signed with the page key (HMAC-SHA256 with a
//! key derived from the JWT secret, [`crate::auth::jwt::JwtKeys::page_key`]):
//!
//! - **CSRF** — a signed double-submit token: the `csrf` cookie holds a random value
//!   (HttpOnly, `SameSite=Strict`), each form carries `HMAC(key, "csrf:" + value)`, and a post is
//!   accepted only when the form's token is the signature of the cookie it came with. Another
//!   site can neither read the cookie nor forge the signature; `SameSite=Strict` keeps the
//!   cookie off cross-site posts altogether.
//! - **Flash** — a one-time message for the page after a redirect (Post/Redirect/Get): the
//!   `flash` cookie holds `hex(json).signature`, read once and cleared.
//! - **Language** — `lang=zh|en`, remembered after a `?lang=` switch (not signed: it only
//!   picks strings).

use actix_web::HttpRequest;
use actix_web::http::header::COOKIE;
use hmac::{Hmac, Mac};
use rand::RngCore;

type HmacSha256 = Hmac<sha2::Sha256>;

pub const CSRF_COOKIE: &str = "csrf";
pub const FLASH_COOKIE: &str = "flash";
pub const LANG_COOKIE: &str = "lang";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// A cookie of the request, by name.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

/// Whether the browser reached the service over TLS: a TLS listener, a trusted proxy
/// (`REGISTRY_TRUSTED_PROXIES`) saying `X-Forwarded-Proto: https`, or an `https`
/// `PUBLIC_BASE_URL`. Cookies are then `Secure`. A header from an untrusted peer is ignored.
pub fn over_tls(req: &HttpRequest) -> bool {
    if req.app_config().secure() {
        return true;
    }
    let Some(state) = req.app_data::<actix_web::web::Data<crate::app::AppState>>() else {
        return false;
    };
    if state.settings.public_base_url.starts_with("https://") {
        return true;
    }
    let from_trusted_proxy = req
        .peer_addr()
        .is_some_and(|peer| state.settings.trusted_proxies.contains(peer.ip()));
    from_trusted_proxy
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: path `/`, `SameSite` as given, `Secure` behind TLS, and a
/// `Max-Age` (0 deletes).
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<i64>,
    http_only: bool,
    same_site: &str,
    secure: bool,
) -> String {
    let mut out = format!("{name}={value}; Path=/; SameSite={same_site}");
    if let Some(age) = max_age {
        out.push_str(&format!("; Max-Age={age}"));
    }
    if http_only {
        out.push_str("; HttpOnly");
    }
    if secure {
        out.push_str("; Secure");
    }
    out
}

fn mac(key: &[u8; 32], purpose: &str, data: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length: `new_from_slice` cannot fail on 32 bytes.
    let mut mac =
        HmacSha256::new_from_slice(key).unwrap_or_else(|_| HmacSha256::new(&Default::default()));
    mac.update(purpose.as_bytes());
    mac.update(b":");
    mac.update(data);
    mac
}

/// `hex(HMAC(key, purpose:data))`.
pub fn sign(key: &[u8; 32], purpose: &str, data: &[u8]) -> String {
    hex::encode(mac(key, purpose, data).finalize().into_bytes())
}

/// Whether `signature` is the signature of `data` (compared in constant time).
pub fn verify(key: &[u8; 32], purpose: &str, data: &[u8], signature: &str) -> bool {
    match hex::decode(signature) {
        Ok(bytes) => mac(key, purpose, data).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

/// A fresh random cookie value (128 bits, hex).
pub fn random_value() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The CSRF cookie value of a request, if it has a well-formed one.
pub fn csrf_cookie(req: &HttpRequest) -> Option<String> {
    cookie(req, CSRF_COOKIE).filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The token a form carries for a CSRF cookie value.
pub fn csrf_token(key: &[u8; 32], cookie_value: &str) -> String {
    sign(key, "csrf", cookie_value.as_bytes())
}

/// Whether a posted token matches the request's CSRF cookie.
pub fn csrf_ok(key: &[u8; 32], req: &HttpRequest, token: Option<&str>) -> bool {
    match (csrf_cookie(req), token) {
        (Some(value), Some(token)) => verify(key, "csrf", value.as_bytes(), token),
        _ => false,
    }
}

/// The value of a flash cookie carrying `message`.
pub fn flash_value(key: &[u8; 32], message: &serde_json::Value) -> String {
    let data = hex::encode(message.to_string());
    let signature = sign(key, "flash", data.as_bytes());
    format!("{data}.{signature}")
}

/// The request's flash message, if its cookie is present and correctly signed.
pub fn read_flash(key: &[u8; 32], req: &HttpRequest) -> Option<serde_json::Value> {
    let value = cookie(req, FLASH_COOKIE)?;
    let (data, signature) = value.split_once('.')?;
    if !verify(key, "flash", data.as_bytes(), signature) {
        return None;
    }
    let json = hex::decode(data).ok()?;
    serde_json::from_slice(&json).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::test::TestRequest;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn a_csrf_token_is_accepted_only_with_the_cookie_it_was_made_for() {
        let value = random_value();
        let token = csrf_token(&KEY, &value);
        let req = TestRequest::default()
            .insert_header((COOKIE, format!("lang=en; csrf={value}")))
            .to_http_request();
        assert!(csrf_ok(&KEY, &req, Some(&token)));
        assert!(!csrf_ok(
            &KEY,
            &req,
            Some(&csrf_token(&KEY, &random_value()))
        ));
        assert!(!csrf_ok(&[8; 32], &req, Some(&token)));
        assert!(!csrf_ok(&KEY, &req, None));
        let no_cookie = TestRequest::default().to_http_request();
        assert!(!csrf_ok(&KEY, &no_cookie, Some(&token)));
    }

    #[test]
    fn a_flash_message_survives_only_unaltered() {
        let message = serde_json::json!({"receipt": 42});
        let value = flash_value(&KEY, &message);
        let req = |v: &str| {
            TestRequest::default()
                .insert_header((COOKIE, format!("flash={v}")))
                .to_http_request()
        };
        assert_eq!(read_flash(&KEY, &req(&value)), Some(message));
        let (data, signature) = value.split_once('.').unwrap();
        let forged = format!("{}.{signature}", hex::encode(r#"{"receipt":43}"#));
        assert_eq!(read_flash(&KEY, &req(&forged)), None);
        assert_eq!(read_flash(&KEY, &req(data)), None);
    }
}
