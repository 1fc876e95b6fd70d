//! `Idempotency-Key` on every POST of the API (but the sign-in calls, whose answers hold
//! tokens): the same key with the same body replays the first answer and does nothing more;
//! the same key with another body is refused; keys are per user. A key is reserved before its
//! request runs and completed with the answer after, so two tries of one key never both act;
//! a refused request gives its key back. Should the process stop between the two, the key
//! stays reserved and answers 409: the first try's outcome is then checked, not guessed.

use sha2::{Digest, Sha256};

use crate::db::idempotency::IdempotencyRow;
use crate::db::{self, Database};
use crate::error::{AppError, AppResult};

pub const HEADER: &str = "Idempotency-Key";
pub const MAX_LEN: usize = 255;
/// The status of a reserved key whose request has not answered yet.
const RESERVED: i32 = 0;

#[derive(Clone, Debug)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> AppResult<Self> {
        // HTTP has dropped the spaces around a header's value; inside it they may stand.
        let raw = raw.trim_matches([' ', '\t']);
        let fits = |b: u8| b.is_ascii_graphic() || b == b' ' || b == b'\t';
        if raw.is_empty() || raw.len() > MAX_LEN || !raw.bytes().all(fits) {
            return Err(AppError::bad_request(format!(
                "{HEADER} must be 1 to {MAX_LEN} ASCII characters, letters, digits, marks or spaces"
            )));
        }
        Ok(Self(raw.to_string()))
    }
}

/// A keyed digest of what was asked: the route and the body (JSON with its keys in a
/// canonical order). Keyed, because a body may hold a password.
pub fn fingerprint(pepper: &[u8], route: &str, body: &[u8]) -> String {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .map(|v| v.to_string().into_bytes())
        .unwrap_or_else(|_| body.to_vec());
    let mut hasher = Sha256::new();
    hasher.update(pepper);
    hasher.update(route.as_bytes());
    hasher.update([0]);
    hasher.update(&canonical);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A first answer kept under a key.
pub struct Stored {
    pub status: u16,
    pub body: String,
    /// `Location`, `ETag` and `Content-Type`, as first answered.
    pub headers: Vec<(String, String)>,
}

pub enum Begun {
    /// The same request was answered before: answer it the same way.
    Replay(Stored),
    /// The key is reserved for this request.
    Fresh,
}

fn in_progress() -> AppError {
    AppError::conflict(format!(
        "A request with this {HEADER} has not finished (or its outcome is unknown); check, then retry with a new key."
    ))
}

/// Reserves the key for this request, or answers what it answered before.
pub async fn begin(
    db: &Database,
    user: &str,
    key: &IdempotencyKey,
    fingerprint: &str,
) -> AppResult<Begun> {
    let (user, key, fingerprint) = (user.to_string(), key.0.clone(), fingerprint.to_string());
    db.write(move |conn| {
        if let Some(row) = db::idempotency::find(conn, &user, &key)? {
            if row.request_hash != fingerprint {
                return Err(AppError::Unprocessable(format!(
                    "This {HEADER} was used for a different request; use a new key."
                )));
            }
            if row.status_code == RESERVED {
                return Err(in_progress());
            }
            let headers = serde_json::from_str(&row.response_headers).unwrap_or_default();
            return Ok(Begun::Replay(Stored {
                status: u16::try_from(row.status_code).unwrap_or(200),
                body: row.response_body,
                headers,
            }));
        }
        db::idempotency::insert(
            conn,
            &IdempotencyRow {
                user_id: user,
                idempotency_key: key,
                request_hash: fingerprint,
                status_code: RESERVED,
                response_body: String::new(),
                created_at: db::now(),
                response_headers: "[]".into(),
            },
        )
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict { .. } => in_progress(),
            other => other,
        })?;
        Ok(Begun::Fresh)
    })
    .await
}

/// Keeps the answer under the key.
pub async fn finish(
    db: &Database,
    user: &str,
    key: &IdempotencyKey,
    stored: Stored,
) -> AppResult<()> {
    let headers = serde_json::to_string(&stored.headers)
        .map_err(|e| AppError::internal(format!("serialising headers: {e}")))?;
    let (user, key) = (user.to_string(), key.0.clone());
    db.write(move |conn| {
        db::idempotency::complete(
            conn,
            &user,
            &key,
            i32::from(stored.status),
            &stored.body,
            &headers,
        )?;
        Ok(())
    })
    .await
}

/// Gives the key back after a refusal.
pub async fn release(db: &Database, user: &str, key: &IdempotencyKey) -> AppResult<()> {
    let (user, key) = (user.to_string(), key.0.clone());
    db.write(move |conn| {
        db::idempotency::release(conn, &user, &key)?;
        Ok(())
    })
    .await
}
