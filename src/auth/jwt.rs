//! Access tokens: HS256 JWTs (the algorithm is pinned; `exp`, `iss`, `aud` are required and
//! checked). Expiry is checked against the service [`Clock`](crate::clock::Clock), not the
//! system time, so the settable clock and tokens agree.
//!
//! Every token names its signing key in the header's `kid`, so keys can be rotated: the newest
//! key signs, the previous ones still verify the tokens they signed until those expire, and a
//! token naming a key this service does not know is refused (`unknown_signing_key`).
//!
//! - Production: `JWT_SECRET` signs; `JWT_PREVIOUS_SECRETS` (comma-separated) still verify. A
//!   key's id is derived from the secret (a SHA-256 prefix), so instances configured alike agree.
//! - Development: keys are generated once and kept in the database (`jwt_keys`), so every
//!   instance on one database shares them; `provider-registry rotate-key` adds a new one.

use std::collections::HashMap;
use std::sync::RwLock;

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::auth::Role;
use crate::db::{DbConn, db_time};

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

/// One signing secret and its id.
#[derive(Clone)]
pub struct Key {
    pub kid: String,
    secret: Vec<u8>,
}

impl Key {
    /// A configured secret; its id is derived from it.
    pub fn derived(secret: &[u8]) -> Self {
        let digest = sha2::Sha256::digest(secret);
        Self {
            kid: hex::encode(&digest[..8]),
            secret: secret.to_vec(),
        }
    }
}

struct KeySet {
    signing_kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
}

impl KeySet {
    /// The first key signs; all verify.
    fn new(keys: &[Key]) -> Option<Self> {
        let current = keys.first()?;
        Some(Self {
            signing_kid: current.kid.clone(),
            encoding: EncodingKey::from_secret(&current.secret),
            decoding: keys
                .iter()
                .map(|k| (k.kid.clone(), DecodingKey::from_secret(&k.secret)))
                .collect(),
        })
    }
}

pub struct JwtKeys {
    keys: RwLock<KeySet>,
    validation: Validation,
    ttl: chrono::Duration,
    /// Development: the keys live in the database and may be reloaded after a rotation.
    pub from_database: bool,
    /// A key derived from the signing secret at start-up for the portal's signed cookies and
    /// CSRF tokens, so the JWT secret itself signs nothing but tokens.
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
    /// The token names a signing key this service does not know (retired or foreign).
    UnknownKey,
}

impl JwtKeys {
    /// One configured secret that signs and verifies.
    pub fn new(secret: &[u8], ttl_minutes: i64) -> Self {
        Self::with_keys(&[Key::derived(secret)], ttl_minutes)
            .unwrap_or_else(|_| unreachable!("one key was given"))
    }

    /// The first key signs; every key verifies.
    pub fn with_keys(keys: &[Key], ttl_minutes: i64) -> anyhow::Result<Self> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked in `verify` against the service clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Ok(Self {
            keys: RwLock::new(KeySet::new(keys).context("no signing key")?),
            validation,
            ttl: chrono::Duration::minutes(ttl_minutes),
            from_database: false,
            page_key: derive_key(
                keys.first().map_or(&[][..], |k| k.secret.as_slice()),
                b"provider-registry/pages/v1",
            ),
        })
    }

    /// The key of the portal's signatures (CSRF tokens, flash cookies).
    pub fn page_key(&self) -> &[u8; 32] {
        &self.page_key
    }

    /// Replaces the keys (after a rotation in the database).
    pub fn replace(&self, keys: &[Key]) {
        if let (Some(set), Ok(mut current)) = (KeySet::new(keys), self.keys.write()) {
            *current = set;
        }
    }

    pub fn ttl(&self) -> chrono::Duration {
        self.ttl
    }

    /// The id of the key that signs new tokens.
    pub fn signing_kid(&self) -> String {
        self.keys
            .read()
            .map(|k| k.signing_kid.clone())
            .unwrap_or_default()
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
        let keys = self
            .keys
            .read()
            .map_err(|_| anyhow::anyhow!("signing keys poisoned"))?;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(keys.signing_kid.clone());
        let token =
            jsonwebtoken::encode(&header, &claims, &keys.encoding).context("cannot sign token")?;
        Ok((token, exp))
    }

    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        let keys = self.keys.read().map_err(|_| TokenError::Invalid)?;
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        let key = keys.decoding.get(&kid).ok_or(TokenError::UnknownKey)?;
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
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

#[derive(QueryableByName)]
struct StoredKey {
    #[diesel(sql_type = Text)]
    kid: String,
    #[diesel(sql_type = Text)]
    secret: String,
    #[diesel(sql_type = Timestamp)]
    created_at: NaiveDateTime,
}

fn new_stored_key(conn: &mut DbConn, generation: i32, now: DateTime<Utc>) -> QueryResult<usize> {
    let mut bytes = [0u8; 48];
    rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
    let mut kid = [0u8; 8];
    rand::Rng::fill(&mut rand::rng(), &mut kid[..]);
    // MultiBackend cannot express `on_conflict`; both engines accept this statement. Instances
    // starting together on an empty database all try generation 1, and exactly one row wins.
    diesel::sql_query(
        "INSERT INTO jwt_keys (generation, kid, secret, created_at) VALUES ($1, $2, $3, $4)          ON CONFLICT (generation) DO NOTHING",
    )
    .bind::<Integer, _>(generation)
    .bind::<Text, _>(hex::encode(kid))
    .bind::<Text, _>(hex::encode(bytes))
    .bind::<Timestamp, _>(db_time(now))
    .execute(conn)
}

/// Development: the keys kept in the database, newest first. A previous key is kept while tokens it signed may still be valid: until one token
/// lifetime after its successor was made.
pub fn database_keys(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> QueryResult<Vec<Key>> {
    let rows: Vec<StoredKey> =
        diesel::sql_query("SELECT kid, secret, created_at FROM jwt_keys ORDER BY generation DESC")
            .load(conn)?;
    let mut keys = Vec::new();
    let mut successor_made: Option<NaiveDateTime> = None;
    for row in rows {
        if successor_made.is_none_or(|made| made.and_utc() + ttl > now) {
            keys.push(Key {
                kid: row.kid,
                secret: row.secret.into_bytes(),
            });
        }
        successor_made = Some(row.created_at);
    }
    Ok(keys)
}

/// Development: adds a new signing key; returns its id. Instances sign with it from their next
/// start (or as soon as they meet a token it signed); the previous key keeps verifying.
pub fn rotate_database_key(conn: &mut DbConn, now: DateTime<Utc>) -> QueryResult<String> {
    #[derive(QueryableByName)]
    struct Max {
        #[diesel(sql_type = Integer)]
        generation: i32,
    }
    new_stored_key(conn, 1, now)?;
    let max: Max =
        diesel::sql_query("SELECT MAX(generation) AS generation FROM jwt_keys").get_result(conn)?;
    new_stored_key(conn, max.generation + 1, now)?;
    let newest: StoredKey = diesel::sql_query(
        "SELECT kid, secret, created_at FROM jwt_keys ORDER BY generation DESC LIMIT 1",
    )
    .get_result(conn)?;
    Ok(newest.kid)
}

/// The keys of this instance: the configured secrets (production, or whenever `JWT_SECRET` is
/// set), otherwise the database's.
pub fn load_keys(
    settings: &crate::config::Settings,
    conn: &mut DbConn,
    now: DateTime<Utc>,
) -> anyhow::Result<JwtKeys> {
    use secrecy::ExposeSecret;
    match &settings.jwt_secret {
        Some(current) => {
            let keys: Vec<Key> = std::iter::once(current)
                .chain(&settings.jwt_previous_secrets)
                .map(|s| Key::derived(s.expose_secret().as_bytes()))
                .collect();
            JwtKeys::with_keys(&keys, settings.jwt_ttl_minutes)
        }
        None => {
            let ttl = chrono::Duration::minutes(settings.jwt_ttl_minutes);
            // The first key is generated on the first start.
            let keys = crate::db::write_tx(conn, |c| {
                new_stored_key(c, 1, now)?;
                database_keys(c, now, ttl)
            })
            .context("cannot load the signing keys")?;
            let mut jwt = JwtKeys::with_keys(&keys, settings.jwt_ttl_minutes)?;
            jwt.from_database = true;
            Ok(jwt)
        }
    }
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
        assert_eq!(
            keys().verify(&token, now).unwrap_err(),
            TokenError::UnknownKey
        );
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
    fn a_previous_key_verifies_its_tokens_and_a_forged_kid_does_not_help() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
        let old = Key::derived(&[1u8; 32]);
        let new = Key::derived(&[2u8; 32]);
        let (old_token, _) = JwtKeys::with_keys(std::slice::from_ref(&old), 60)
            .unwrap()
            .issue(5, Role::Admin, now)
            .unwrap();
        let rotated = JwtKeys::with_keys(&[new.clone(), old.clone()], 60).unwrap();
        assert_eq!(rotated.signing_kid(), new.kid);
        assert!(rotated.verify(&old_token, now).is_ok());
        let (new_token, _) = rotated.issue(5, Role::Admin, now).unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&new_token).unwrap().kid,
            Some(new.kid.clone())
        );
        // Signed with another secret but naming a known key: refused as invalid.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(new.kid);
        let forged = jsonwebtoken::encode(
            &header,
            &admin_claims(AUDIENCE, now.timestamp() + 100),
            &EncodingKey::from_secret(&[9u8; 32]),
        )
        .unwrap();
        assert_eq!(
            rotated.verify(&forged, now).unwrap_err(),
            TokenError::Invalid
        );
        // Once the old key is retired its tokens name an unknown key.
        let retired = JwtKeys::with_keys(&[Key::derived(&[2u8; 32])], 60).unwrap();
        assert_eq!(
            retired.verify(&old_token, now).unwrap_err(),
            TokenError::UnknownKey
        );
    }

    fn admin_claims(aud: &str, exp: i64) -> Claims {
        Claims {
            sub: "1".into(),
            role: Role::Admin,
            iss: ISSUER.into(),
            aud: aud.into(),
            iat: 0,
            exp,
        }
    }

    #[test]
    fn wrong_audience_is_refused() {
        let now = Utc::now();
        // Signed with the right key and naming it: only the audience is wrong.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(Key::derived(&[7u8; 32]).kid);
        let t = jsonwebtoken::encode(
            &header,
            &admin_claims("other", now.timestamp() + 100),
            &EncodingKey::from_secret(&[7u8; 32]),
        )
        .unwrap();
        assert_eq!(keys().verify(&t, now).unwrap_err(), TokenError::Invalid);
    }
}
