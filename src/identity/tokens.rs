//! Access tokens (short-lived HS256 JWTs, algorithm pinned, every registered claim checked)
//! and refresh tokens (opaque random strings, stored only as their SHA-256).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::AuthSettings;
use crate::error::{AppError, AppResult};
use crate::ids::{SessionId, UserId};

const ACCESS: &str = "access";
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub sid: String,
    /// Token type: only `access` tokens are accepted on requests.
    pub typ: String,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    pub access_ttl_secs: i64,
}

impl TokenKeys {
    pub fn new(settings: &AuthSettings, key: &[u8]) -> Result<Self, String> {
        let encoding = EncodingKey::from_secret(key).map_err(|e| format!("signing key: {e}"))?;
        let decoding = DecodingKey::from_secret(key).map_err(|e| format!("signing key: {e}"))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let keys = Self {
            encoding,
            decoding,
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            access_ttl_secs: settings.access_token_ttl_secs,
        };
        // A crypto back end missing from the build would only show at the first login.
        let probe = keys
            .issue(
                UserId::generate(),
                SessionId::generate(),
                chrono::Utc::now().timestamp(),
            )
            .map_err(|e| format!("cannot sign tokens: {e}"))?;
        keys.verify(&probe)
            .map_err(|e| format!("cannot verify tokens: {e}"))?;
        Ok(keys)
    }

    pub fn issue(&self, user: UserId, session: SessionId, now: i64) -> AppResult<String> {
        let claims = Claims {
            sub: user.to_string(),
            sid: session.to_string(),
            typ: ACCESS.into(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + self.access_ttl_secs,
            nbf: now,
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("signing a token: {e}")))
    }

    /// Checks signature, algorithm, issuer, audience, times and type; any failure is 401.
    pub fn verify(&self, token: &str) -> AppResult<(UserId, SessionId)> {
        let invalid = || AppError::Unauthorized("The access token is invalid or expired.");
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| invalid())?;
        if data.claims.typ != ACCESS || data.claims.iat > data.claims.exp {
            return Err(invalid());
        }
        let user = uuid::Uuid::parse_str(&data.claims.sub).map_err(|_| invalid())?;
        let session = uuid::Uuid::parse_str(&data.claims.sid).map_err(|_| invalid())?;
        Ok((UserId(user), SessionId(session)))
    }
}

/// A new refresh token and the hash under which it is stored.
pub fn new_refresh_token() -> AppResult<(String, String)> {
    new_secret("rt_")
}

/// 32 random bytes behind a prefix naming their use, and the SHA-256 to store.
pub fn new_secret(prefix: &str) -> AppResult<(String, String)> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(format!("randomness: {e}")))?;
    let token = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_refresh_token(&token);
    Ok((token, hash))
}

/// The stored form of a refresh token or web-session cookie.
pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Random bytes for a development signing key.
pub fn random_key() -> Result<String, String> {
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).map_err(|e| format!("randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}
