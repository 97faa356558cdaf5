//! A shop's secrets (its Stripe keys) sealed at rest: AES-256-GCM (`ring`) under the operator's
//! `CARTWHEEL_SECRETS_KEY`, a fresh random nonce per value, and the shop and the field as
//! associated data, so a sealed value copied to another shop or another column does not open.
//! Stored as `v1.<hex of nonce and ciphertext>`.

use std::sync::Arc;

use cartwheel_entity::TenantId;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::SecretString;

const VERSION: &str = "v1.";

/// The key that seals and opens shops' secrets.
#[derive(Clone)]
pub struct SecretsKey(Arc<LessSafeKey>);

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretsKey([REDACTED])")
    }
}

/// A sealed value that does not open with this key for this shop and field: another key,
/// another shop's or field's value, or changed bytes.
#[derive(Debug, thiserror::Error)]
#[error("a stored secret cannot be opened with this server's CARTWHEEL_SECRETS_KEY")]
pub struct Unreadable;

impl SecretsKey {
    /// From 32 bytes written as 64 hex digits (`openssl rand -hex 32`).
    pub fn from_hex(text: &str) -> Result<Self, &'static str> {
        let bytes = hex::decode(text.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or("must be 64 hex digits (32 bytes; `openssl rand -hex 32` makes one)")?;
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| "is not an AES-256 key")?;
        Ok(SecretsKey(Arc::new(LessSafeKey::new(key))))
    }

    pub fn seal(&self, tenant_id: TenantId, field: &str, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the operating system's random source works");
        let mut sealed = plain.as_bytes().to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated(tenant_id, field)),
                &mut sealed,
            )
            .expect("a secret of any size fits AES-GCM's limit");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{VERSION}{}", hex::encode(out))
    }

    pub fn open(
        &self,
        tenant_id: TenantId,
        field: &str,
        sealed: &str,
    ) -> Result<SecretString, Unreadable> {
        let bytes = sealed
            .strip_prefix(VERSION)
            .and_then(|h| hex::decode(h).ok())
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or(Unreadable)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unreadable)?;
        let mut buffer = ciphertext.to_vec();
        let len = self
            .0
            .open_in_place(nonce, Aad::from(associated(tenant_id, field)), &mut buffer)
            .map_err(|_| Unreadable)?
            .len();
        // The buffer itself becomes the secret (wiped when dropped), not a copy of it.
        buffer.truncate(len);
        let text = String::from_utf8(buffer).map_err(|_| Unreadable)?;
        Ok(text.into())
    }
}

fn associated(tenant_id: TenantId, field: &str) -> Vec<u8> {
    format!("cartwheel:{}:{field}", tenant_id.0).into_bytes()
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;
    use uuid::Uuid;

    use super::*;

    fn key(byte: u8) -> SecretsKey {
        SecretsKey::from_hex(&hex::encode([byte; 32])).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_for_its_shop_and_field_only() {
        let (shop, other) = (TenantId(Uuid::now_v7()), TenantId(Uuid::now_v7()));
        let sealed = key(1).seal(shop, "secret_key", "sk_test_abc123");
        assert!(!sealed.contains("sk_test"), "{sealed}");
        assert_eq!(
            key(1)
                .open(shop, "secret_key", &sealed)
                .unwrap()
                .expose_secret(),
            "sk_test_abc123"
        );
        assert!(key(1).open(other, "secret_key", &sealed).is_err());
        assert!(key(1).open(shop, "webhook_secret", &sealed).is_err());
        assert!(key(2).open(shop, "secret_key", &sealed).is_err());
        let mut flipped = sealed.clone();
        flipped.pop();
        flipped.push(if sealed.ends_with('0') { '1' } else { '0' });
        assert!(key(1).open(shop, "secret_key", &flipped).is_err());
    }

    #[test]
    fn each_seal_uses_a_new_nonce() {
        let shop = TenantId(Uuid::now_v7());
        assert_ne!(
            key(1).seal(shop, "secret_key", "same"),
            key(1).seal(shop, "secret_key", "same")
        );
    }

    #[test]
    fn a_key_is_64_hex_digits() {
        assert!(SecretsKey::from_hex(&"ab".repeat(32)).is_ok());
        assert!(SecretsKey::from_hex(&"ab".repeat(31)).is_err());
        assert!(SecretsKey::from_hex(&"zz".repeat(32)).is_err());
        assert_eq!(format!("{:?}", key(1)), "SecretsKey([REDACTED])");
    }
}
