//! `Idempotency-Key` on creating POSTs: the same key with the same body replays the first
//! answer (and creates nothing more); the same key with another body is refused. Keys are
//! scoped per user. The answer is stored in the transaction that creates the record, so a
//! replay exists exactly when the creation committed.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::db::idempotency::IdempotencyRow;
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult};
use crate::identity::Actor;

pub const HEADER: &str = "Idempotency-Key";
const MAX_LEN: usize = 255;

#[derive(Clone, Debug)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> AppResult<Self> {
        if raw.is_empty() || raw.len() > MAX_LEN || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::bad_request(format!(
                "{HEADER} must be 1 to {MAX_LEN} visible ASCII characters"
            )));
        }
        Ok(Self(raw.to_string()))
    }
}

/// A keyed digest of what was asked: the route and the JSON body with its keys in a
/// canonical order. Keyed, because a body may hold a password.
pub fn fingerprint(pepper: &[u8], route: &str, body: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(pepper);
    hasher.update(route.as_bytes());
    hasher.update([0]);
    hasher.update(body.to_string().as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The request a creating POST carries, for replay and storage.
pub struct Attempt {
    pub key: Option<IdempotencyKey>,
    pub fingerprint: String,
}

impl Attempt {
    /// The first answer to this key, if the same request was made before.
    pub async fn replay<T: DeserializeOwned>(
        &self,
        db: &Database,
        actor: &Actor,
    ) -> AppResult<Option<T>> {
        let Some(key) = self.key.clone() else {
            return Ok(None);
        };
        let user = actor.user_id.to_db();
        let row = db
            .run(move |conn| Ok(db::idempotency::find(conn, &user, &key.0)?))
            .await?;
        let Some(row) = row else { return Ok(None) };
        if row.request_hash != self.fingerprint {
            return Err(AppError::Unprocessable(format!(
                "This {HEADER} was used for a different request; use a new key."
            )));
        }
        serde_json::from_str(&row.response_body)
            .map(Some)
            .map_err(|e| AppError::internal(format!("stored idempotent answer: {e}")))
    }

    /// A hook for the creating transaction that stores its answer under the key.
    pub fn store<T: Serialize>(
        self,
        actor: &Actor,
        status: u16,
    ) -> impl FnOnce(&mut DbConn, &T) -> AppResult<()> + Send + 'static {
        let user = actor.user_id.to_db();
        move |conn, answer| {
            let Some(key) = self.key else { return Ok(()) };
            let body = serde_json::to_string(answer)
                .map_err(|e| AppError::internal(format!("serialising an answer: {e}")))?;
            db::idempotency::insert(
                conn,
                &IdempotencyRow {
                    user_id: user,
                    idempotency_key: key.0,
                    request_hash: self.fingerprint,
                    status_code: i32::from(status),
                    response_body: body,
                    created_at: db::now(),
                },
            )
            .map_err(|e| match AppError::from(e) {
                AppError::Conflict { .. } => AppError::conflict(format!(
                    "A request with this {HEADER} is being processed; retry shortly."
                )),
                other => other,
            })?;
            Ok(())
        }
    }
}
