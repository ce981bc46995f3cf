//! Access tokens: HS256 JWTs (the algorithm is pinned; `exp`, `iss`, `aud` are required and
//! checked). Expiry is checked against the service [`Clock`](crate::clock::Clock), not the
//! system time, so the settable clock and tokens agree.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::auth::Role;

pub const ISSUER: &str = "provider-registry";
pub const AUDIENCE: &str = "provider-registry-api";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub role: Role,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: chrono::Duration,
    /// A key derived from the secret for the portal's signed cookies and CSRF tokens, so the
    /// JWT secret itself signs nothing but tokens.
    page_key: [u8; 32],
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Invalid,
    Expired,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl_minutes: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked in `verify` against the service clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl: chrono::Duration::minutes(ttl_minutes),
            page_key: derive_key(secret, b"provider-registry/pages/v1"),
        }
    }

    /// The key of the portal's signatures (CSRF tokens, flash cookies).
    pub fn page_key(&self) -> &[u8; 32] {
        &self.page_key
    }

    /// Issues a token for a user; returns it with its expiry.
    pub fn issue(
        &self,
        user_id: i64,
        role: Role,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let exp = now + self.ttl;
        let claims = Claims {
            sub: user_id.to_string(),
            role,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now.timestamp(),
            exp: exp.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("cannot sign token")?;
        Ok((token, exp))
    }

    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        if data.claims.exp <= now.timestamp() {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
    }
}

/// HMAC-SHA256(secret, purpose): an independent key for one purpose.
fn derive_key(secret: &[u8], purpose: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| <Hmac<sha2::Sha256> as Mac>::new(&Default::default()));
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

/// The signing secret: the configured one, or (development) one generated on first start and
/// kept, readable only by the owner, in `<data dir>/jwt-secret`.
pub fn load_or_create_secret(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = configured {
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(existing.as_bytes().to_vec());
        }
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let mut bytes = [0u8; 48];
    rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
    let secret = hex::encode(bytes);
    write_private(&path, secret.as_bytes())?;
    Ok(secret.into_bytes())
}

/// Writes a file with mode 0600 (created that way, never world-readable even briefly).
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(contents)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn keys() -> JwtKeys {
        JwtKeys::new(&[7u8; 32], 60)
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
        let (token, exp) = keys().issue(5, Role::Reviewer, now).unwrap();
        let claims = keys().verify(&token, now).unwrap();
        assert_eq!((claims.sub.as_str(), claims.role), ("5", Role::Reviewer));
        assert_eq!(keys().verify(&token, exp).unwrap_err(), TokenError::Expired);
    }

    #[test]
    fn other_algorithms_and_keys_are_refused() {
        let now = Utc::now();
        let (token, _) = JwtKeys::new(&[8u8; 32], 60)
            .issue(5, Role::Admin, now)
            .unwrap();
        assert_eq!(keys().verify(&token, now).unwrap_err(), TokenError::Invalid);
        // alg=none with the same claims
        let claims = Claims {
            sub: "1".into(),
            role: Role::Admin,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: 0,
            exp: now.timestamp() + 100,
        };
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let unsigned = format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(serde_json::to_vec(&claims).unwrap())
        );
        assert_eq!(
            keys().verify(&unsigned, now).unwrap_err(),
            TokenError::Invalid
        );
        // HS512 signed with the right key
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(&[7u8; 32]),
        )
        .unwrap();
        assert_eq!(keys().verify(&hs512, now).unwrap_err(), TokenError::Invalid);
    }

    #[test]
    fn wrong_audience_is_refused() {
        let now = Utc::now();
        let claims = Claims {
            sub: "1".into(),
            role: Role::Admin,
            iss: ISSUER.into(),
            aud: "other".into(),
            iat: 0,
            exp: now.timestamp() + 100,
        };
        let t = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&[7u8; 32]),
        )
        .unwrap();
        assert_eq!(keys().verify(&t, now).unwrap_err(), TokenError::Invalid);
    }
}
