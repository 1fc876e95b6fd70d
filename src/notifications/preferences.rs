//! Each user's notification preferences: routine kinds may be muted or gathered into one
//! daily digest; safety-relevant kinds always go out at once.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::kinds::{self, Kind};
use crate::access::Actor;
use crate::db::notifications::PreferencesRow;
use crate::db::{self, Database};
use crate::error::{AppError, AppResult};

pub fn is_muted(muted_kinds: &str, kind: Kind) -> bool {
    muted_kinds.split(',').any(|k| k == kind.as_str())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KindSetting {
    pub kind: Kind,
    /// Safety-relevant kinds (account security, raised risk, call requests) cannot be muted.
    pub can_mute: bool,
    pub muted: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Preferences {
    /// Gather routine emails into one summary a day instead of one email each.
    pub daily_digest: bool,
    pub kinds: Vec<KindSetting>,
    /// The version an `If-Match` header must name (0 until first saved).
    pub version: i32,
}

fn to_preferences(row: Option<PreferencesRow>) -> Preferences {
    let (daily_digest, muted, version) = row
        .map(|r| (r.daily_digest, r.muted_kinds, r.version))
        .unwrap_or((false, String::new(), 0));
    Preferences {
        daily_digest,
        kinds: kinds::ALL
            .iter()
            .filter(|k| **k != Kind::Digest)
            .map(|k| KindSetting {
                kind: *k,
                can_mute: k.is_routine(),
                muted: is_muted(&muted, *k),
            })
            .collect(),
        version,
    }
}

pub async fn get(db: &Database, actor: &Actor) -> AppResult<Preferences> {
    let user = actor.user_id.to_db();
    let row = db
        .run(move |conn| Ok(db::notifications::preferences(conn, &user)?))
        .await?;
    Ok(to_preferences(row))
}

/// Saves the caller's preferences at `expected` version (0 when never saved).
pub async fn update(
    db: &Database,
    actor: &Actor,
    expected: i32,
    daily_digest: bool,
    muted: Vec<Kind>,
) -> AppResult<Preferences> {
    if let Some(kind) = muted.iter().find(|k| !k.is_routine()) {
        return Err(AppError::invalid(
            "muted",
            format!(
                "{} cannot be turned off: it concerns your safety or your account",
                kind.as_str()
            ),
        ));
    }
    let mut names: Vec<&str> = muted.iter().map(|k| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let muted_kinds = names.join(",");
    let user = actor.user_id.to_db();
    let row = db
        .write(move |conn| {
            let now = db::now();
            let current = db::notifications::preferences(conn, &user)?;
            let changed = match current {
                None if expected == 0 => db::notifications::insert_preferences(
                    conn,
                    &PreferencesRow {
                        user_id: user.clone(),
                        daily_digest,
                        muted_kinds,
                        version: 1,
                        updated_at: now,
                    },
                )?,
                None => 0,
                Some(_) => db::notifications::update_preferences(
                    conn,
                    &user,
                    expected,
                    daily_digest,
                    &muted_kinds,
                    now,
                )?,
            };
            if changed == 0 {
                return Err(AppError::PreconditionFailed);
            }
            Ok(db::notifications::preferences(conn, &user)?)
        })
        .await?;
    Ok(to_preferences(row))
}
