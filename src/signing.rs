//! The Ed25519 keys that sign the snapshots (RustCrypto's `ed25519-dalek`).
//!
//! - The key is configuration: `SNAPSHOT_SIGNING_KEY` (or `…_FILE`), a PKCS#8 PEM private key
//!   as `openssl genpkey -algorithm ed25519` writes it; required in production. In development
//!   without one, a key is generated once and kept in `signing_keys`, where every instance
//!   sharing the database finds it.
//! - Every key that signed is registered in `signing_keys` by its public key, so setting a new
//!   key rotates it and the old public keys stay published, each with its key id.
//! - Key id: the first 8 bytes of the SHA-256 of the raw 32-byte public key, in hex
//!   (`openssl pkey -pubin -in key.pem -outform DER | tail -c 32 | sha256sum | cut -c1-16`).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier, VerifyingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::db::schema::signing_keys;
use crate::db::{DbConn, db_time, is_unique_violation};

/// Parses a PKCS#8 PEM Ed25519 private key.
pub fn parse_private_pem(pem: &str) -> Result<SigningKey, ed25519_dalek::pkcs8::Error> {
    SigningKey::from_pkcs8_pem(pem.trim())
}

/// Every `PUBLIC KEY` block of a PEM text (one key, or the list `GET /pool/keys.pem` gives).
pub fn parse_public_pems(text: &str) -> Vec<VerifyingKey> {
    const END: &str = "-----END PUBLIC KEY-----";
    text.split_inclusive(END)
        .filter_map(|block| {
            let start = block.find("-----BEGIN PUBLIC KEY-----")?;
            VerifyingKey::from_public_key_pem(block[start..].trim()).ok()
        })
        .collect()
}

/// The key id of a public key.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// The SubjectPublicKeyInfo PEM of a public key (what `openssl pkeyutl -pubin` reads).
pub fn public_pem(key: &VerifyingKey) -> String {
    key.to_public_key_pem(LineEnding::LF).unwrap_or_default()
}

/// Whether `signature` (64 bytes) is `key`'s signature of exactly `message`.
pub fn verify(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    Signature::from_slice(signature).is_ok_and(|s| key.verify(message, &s).is_ok())
}

/// The key this instance signs with.
pub struct Signer {
    key: SigningKey,
    pub key_id: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    fn new(key: SigningKey) -> Self {
        let key_id = key_id(&key.verifying_key());
        Self { key, key_id }
    }

    /// The Ed25519 signature of exactly `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }
}

/// The signer of this instance: the configured key (registered in `signing_keys` if new), or
/// in development the database's generated key (generated now if there is none).
pub fn load(
    conn: &mut DbConn,
    configured: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<Signer> {
    if let Some(pem) = configured {
        let key = parse_private_pem(pem).map_err(|e| {
            anyhow::anyhow!("SNAPSHOT_SIGNING_KEY is not an Ed25519 PKCS#8 key: {e}")
        })?;
        let signer = Signer::new(key);
        register(conn, &signer, None, now)?;
        return Ok(signer);
    }
    if let Some(signer) = generated(conn)? {
        return Ok(signer);
    }
    let mut seed = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut seed[..]);
    let signer = Signer::new(SigningKey::from_bytes(&seed));
    let private = signer
        .key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("cannot encode the generated key: {e}"))?;
    register(conn, &signer, Some(private.as_str()), now)?;
    // Another instance may have generated one first: everyone uses the stored one.
    generated(conn)?.ok_or_else(|| anyhow::anyhow!("the generated signing key was not stored"))
}

fn generated(conn: &mut DbConn) -> anyhow::Result<Option<Signer>> {
    let stored: Option<Option<String>> = signing_keys::table
        .filter(signing_keys::generated_slot.eq(1))
        .select(signing_keys::private_key_pem)
        .first(conn)
        .optional()?;
    match stored.flatten() {
        Some(pem) => Ok(Some(Signer::new(parse_private_pem(&pem).map_err(|e| {
            anyhow::anyhow!("the stored signing key is unreadable: {e}")
        })?))),
        None => Ok(None),
    }
}

/// Registers a signer's public key (and, for a generated key, its private key); a key already
/// registered (or a generated key that lost the race for the slot) is left as it is.
fn register(
    conn: &mut DbConn,
    signer: &Signer,
    private: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let inserted = diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::key_id.eq(&signer.key_id),
            signing_keys::public_key_pem.eq(public_pem(&signer.verifying_key())),
            signing_keys::private_key_pem.eq(private),
            signing_keys::generated_slot.eq(private.map(|_| 1)),
            signing_keys::created_at.eq(db_time(now)),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A published public key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedKey {
    /// First 8 bytes of the SHA-256 of the raw public key, hex.
    pub key_id: String,
    /// Always `Ed25519`.
    pub algorithm: String,
    /// SubjectPublicKeyInfo PEM: `openssl pkeyutl -verify -pubin -inkey` reads it.
    pub public_key_pem: String,
    /// When the service first used the key.
    #[schema(value_type = String, format = DateTime)]
    pub first_used_at: DateTime<Utc>,
}

/// Every key that ever signed, oldest first.
pub fn published(conn: &mut DbConn) -> QueryResult<Vec<PublishedKey>> {
    let rows: Vec<(String, String, NaiveDateTime)> = signing_keys::table
        .order((signing_keys::created_at.asc(), signing_keys::key_id.asc()))
        .select((
            signing_keys::key_id,
            signing_keys::public_key_pem,
            signing_keys::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(key_id, public_key_pem, created_at)| PublishedKey {
            key_id,
            algorithm: "Ed25519".into(),
            public_key_pem,
            first_used_at: created_at.and_utc(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_the_published_pem_and_fails_for_a_changed_byte() {
        let signer = Signer::new(SigningKey::from_bytes(&[7u8; 32]));
        let message = br#"{"list":"pool","version":1}"#;
        let signature = signer.sign(message);
        let keys = parse_public_pems(&format!(
            "{}{}",
            public_pem(&SigningKey::from_bytes(&[8u8; 32]).verifying_key()),
            public_pem(&signer.verifying_key())
        ));
        assert_eq!(keys.len(), 2);
        assert!(!verify(&keys[0], message, &signature));
        assert!(verify(&keys[1], message, &signature));
        let mut changed = message.to_vec();
        changed[3] ^= 1;
        assert!(!verify(&keys[1], &changed, &signature));
        assert_eq!(key_id(&keys[1]), signer.key_id);
        assert_eq!(signer.key_id.len(), 16);
    }
}
