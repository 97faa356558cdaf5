//! One-time tokens for password resets and invitations: random, and stored only as a hash.

use sha2::{Digest, Sha256};

/// 32 random bytes as 64 hex characters.
pub fn generate() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// What the database keeps: the token's SHA-256, in hex.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
