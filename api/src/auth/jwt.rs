//! Signed login tokens (HS256 JWTs). Admin tokens carry audience `admin`; storefront customer
//! tokens will carry `storefront`, and neither is accepted where the other is expected.

use cartwheel_entity::TenantId;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ISSUER: &str = "cartwheel";
pub const ADMIN_AUDIENCE: &str = "admin";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// The tenant the user belongs to.
    pub tid: TenantId,
    /// The role when the token was issued (informational: each request reads the current one).
    pub role: String,
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    /// The account's session version when the token was issued: a password reset moves the
    /// account's on, and a token of an older version is refused.
    #[serde(default)]
    pub sv: i32,
}

/// Signing and checking keys from `CARTWHEEL_JWT_SECRET`.
#[derive(Clone)]
pub struct Jwt {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub admin_ttl: Duration,
}

impl Jwt {
    pub fn new(secret: &[u8], admin_ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            admin_ttl,
        }
    }

    /// A token for `audience`, of the account's `session_version`; returns it with its expiry.
    pub fn issue(
        &self,
        user_id: Uuid,
        tenant_id: TenantId,
        session_version: i32,
        role: &str,
        audience: &str,
        ttl: Duration,
    ) -> (String, chrono::DateTime<chrono::Utc>) {
        let now = chrono::Utc::now();
        let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
        let claims = Claims {
            sub: user_id,
            tid: tenant_id,
            role: role.to_string(),
            aud: audience.to_string(),
            iss: ISSUER.to_string(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
            sv: session_version,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with a byte secret does not fail");
        (token, expires)
    }

    /// The claims of a valid, unexpired token for `audience`.
    pub fn verify(&self, token: &str, audience: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 0;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_only_good_for_its_audience_and_secret() {
        let jwt = Jwt::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let (user, tenant) = (Uuid::now_v7(), TenantId(Uuid::now_v7()));
        let (token, _) = jwt.issue(user, tenant, 0, "Owner", ADMIN_AUDIENCE, jwt.admin_ttl);
        let claims = jwt.verify(&token, ADMIN_AUDIENCE).unwrap();
        assert_eq!((claims.sub, claims.tid), (user, tenant));
        assert!(jwt.verify(&token, "storefront").is_none());
        let other = Jwt::new(
            b"another secret of at least 32 bytes",
            Duration::from_secs(60),
        );
        assert!(other.verify(&token, ADMIN_AUDIENCE).is_none());
        let (expired, _) = jwt.issue(user, tenant, 0, "Owner", ADMIN_AUDIENCE, Duration::ZERO);
        std::thread::sleep(Duration::from_millis(1100));
        assert!(jwt.verify(&expired, ADMIN_AUDIENCE).is_none());
    }
}
