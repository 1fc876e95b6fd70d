//! Two-step verification: a TOTP second factor (RFC 6238) after the password, required of
//! the roles `auth.mfa_required_roles` names (admins and programme managers by default) and of
//! supervisors where their organisation asks, optional for everyone else. Secrets are sealed
//! at rest with the recovery keys; ten single-use recovery codes stand in for a lost phone; a
//! code is limited like a password and never taken twice; an admin can reset a lost factor.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::sessions::Verified;
use super::{Actor, Email, Identity, Role, authz, totp};
use crate::audit::{self, Event};
use crate::crypto::{Keyring, Sealed};
use crate::db::mfa::{ChallengeRow, FactorRow};
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult};
use crate::ids::{OrganisationId, UserId};
use crate::notifications::{self, Kind, Notifications};

/// How long a challenge waits for its code.
pub const CHALLENGE_MINUTES: i64 = 5;
/// Wrong codes a challenge takes before it is spent (the account's login limit applies too).
pub const CHALLENGE_ATTEMPTS: i32 = 5;
/// Recovery codes made at a time.
pub const RECOVERY_CODES: usize = 10;
/// The name an authenticator app shows beside the account.
const ISSUER: &str = "peerpath";

const EXPIRED: &str = "This sign-in has expired or was used. Sign in again with your password.";
/// The refusal of a wrong code (the pages tell it apart from an expired challenge).
pub const WRONG_CODE: &str =
    "The code is not right. Check the time on your phone and try the newest code.";

/// A secret to add to an authenticator app: as text, as a link and as a QR code.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Enrolment {
    /// The secret in base32, in groups of four, for typing into an app.
    pub secret: String,
    /// The `otpauth://` link the QR code holds.
    pub otpauth_uri: String,
    /// The QR code as an SVG image.
    pub qr_svg: String,
}

/// What the password alone opened: a challenge for the second step.
#[derive(Clone, Copy, Debug, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    /// Send the code the authenticator app shows (or a recovery code).
    CodeRequired,
    /// This role must use a second factor and has none yet: add `enrolment` to an app and
    /// send its first code.
    EnrolmentRequired,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SecondFactorChallenge {
    pub status: ChallengeKind,
    /// Send it to `POST /api/v1/auth/mfa` with the code; it works once.
    pub challenge: String,
    /// Seconds the challenge stays open.
    pub expires_in: i64,
    /// Only when `status` is `enrolment_required`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrolment: Option<Enrolment>,
}

/// The second step's answer: a code from the app, or one of the recovery codes.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondStep {
    #[schema(min_length = 1)]
    pub challenge: String,
    /// Six digits from the authenticator app.
    #[serde(default)]
    pub code: Option<String>,
    /// One of the recovery codes (each works once); not while setting up.
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// Whether a person has two-step verification, must have it, and codes left.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MfaStatus {
    pub enabled: bool,
    pub required: bool,
    pub recovery_codes_left: i64,
}

/// Recovery codes, shown once.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

fn context(user: &str) -> String {
    format!("mfa_factors.secret:{user}")
}

fn secret_of(keys: &Keyring, row: &FactorRow) -> AppResult<Vec<u8>> {
    let sealed = Sealed {
        key_id: row.key_id.clone(),
        bytes: row.secret.clone(),
    };
    let text = keys.open(&sealed, &context(&row.user_id))?;
    decode_hex(&text)
}

fn decode_hex(text: &str) -> AppResult<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| AppError::internal("a second-factor secret is malformed"))
        })
        .collect()
}

fn now_step() -> i64 {
    totp::step_at(Utc::now().timestamp())
}

fn enrolment_for(secret: &[u8], email: &str) -> Enrolment {
    let encoded = totp::base32(secret);
    let uri = totp::otpauth_uri(ISSUER, email, &encoded);
    Enrolment {
        secret: totp::grouped(&encoded),
        qr_svg: totp::qr_svg(&uri),
        otpauth_uri: uri,
    }
}

/// A new secret, sealed for the person, and what their app needs to learn it.
fn new_factor(keys: &Keyring, user: &str, email: &str) -> AppResult<(FactorRow, Enrolment)> {
    let mut secret = [0u8; totp::SECRET_BYTES];
    getrandom::fill(&mut secret).map_err(|e| AppError::internal(format!("randomness: {e}")))?;
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let sealed = keys.seal(&hex, &context(user))?;
    let enrolment = enrolment_for(&secret, email);
    let row = FactorRow {
        user_id: user.to_string(),
        key_id: sealed.key_id,
        secret: sealed.bytes,
        confirmed_at: None,
        last_used_step: 0,
        created_at: db::now(),
    };
    Ok((row, enrolment))
}

fn hash_recovery_code(pepper: &[u8], code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Sha256::new()
        .chain_update(b"peerpath recovery code")
        .chain_update(pepper)
        .chain_update(normal.as_bytes())
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Ten new recovery codes (`xxxxx-xxxxx`, about 50 bits each) in place of the old ones.
fn make_recovery_codes(conn: &mut DbConn, pepper: &[u8], user: &str) -> AppResult<Vec<String>> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut bytes = [0u8; 10];
        getrandom::fill(&mut bytes).map_err(|e| AppError::internal(format!("randomness: {e}")))?;
        let chars: String = bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
            .collect();
        codes.push(format!("{}-{}", &chars[..5], &chars[5..]));
    }
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| hash_recovery_code(pepper, c))
        .collect();
    db::mfa::replace_recovery_codes(conn, user, &hashes, db::now())?;
    Ok(codes)
}

/// Whether this person must sign in with a second factor.
fn required_for(
    conn: &mut DbConn,
    identity: &Identity,
    user: &db::users::UserRow,
) -> AppResult<bool> {
    let role = Role::parse(&user.role).ok_or_else(|| AppError::internal("unknown role"))?;
    let organisation_asks = match &user.organisation_id {
        Some(org) => db::organisations::find(conn, org)?.is_some_and(|o| o.mfa_for_supervisors),
        None => false,
    };
    Ok(authz::second_factor_required(
        role,
        &identity.mfa_required_roles,
        organisation_asks,
    ))
}

/// After a right password: nothing more (`None`), or a challenge for the second step. A
/// person who must use a second factor and has none is given one to set up now.
pub async fn after_password(
    identity: &Arc<Identity>,
    db: &Database,
    keys: &Arc<Keyring>,
    verified: &Verified,
) -> AppResult<Option<SecondFactorChallenge>> {
    let user = verified.user.clone();
    let rehash = verified.rehash.clone();
    let (identity_in, keys) = (identity.clone(), keys.clone());
    let (token, token_hash) = super::tokens::new_secret("mfa_")?;
    db.write(move |conn| {
        let factor = db::mfa::factor(conn, &user.id)?;
        let confirmed = factor.as_ref().is_some_and(|f| f.confirmed_at.is_some());
        let enrolment = if confirmed {
            None
        } else if required_for(conn, &identity_in, &user)? {
            let (row, enrolment) = new_factor(&keys, &user.id, &user.email)?;
            db::mfa::put_factor(conn, &row)?;
            Some(enrolment)
        } else {
            return Ok(None);
        };
        // The password was right: keep its upgraded hash now, whatever the second step does.
        if let Some(hash) = &rehash {
            db::users::set_password_hash(conn, &user.id, hash, db::now())?;
        }
        let now = db::now();
        db::mfa::insert_challenge(
            conn,
            &ChallengeRow {
                token_hash,
                user_id: user.id.clone(),
                enrolment: enrolment.is_some(),
                attempts: 0,
                expires_at: now + TimeDelta::minutes(CHALLENGE_MINUTES),
                created_at: now,
            },
        )?;
        Ok(Some(SecondFactorChallenge {
            status: if enrolment.is_some() {
                ChallengeKind::EnrolmentRequired
            } else {
                ChallengeKind::CodeRequired
            },
            challenge: token,
            expires_in: CHALLENGE_MINUTES * 60,
            enrolment,
        }))
    })
    .await
}

/// The factor a person is setting up, as their app learns it; `None` when nothing is being
/// set up (none started, or it is on already).
fn pending_enrolment(
    conn: &mut DbConn,
    keys: &Keyring,
    user: &str,
) -> AppResult<Option<Enrolment>> {
    let Some(row) = db::users::find(conn, user)? else {
        return Ok(None);
    };
    match db::mfa::factor(conn, user)?.filter(|f| f.confirmed_at.is_none()) {
        Some(factor) => Ok(Some(enrolment_for(&secret_of(keys, &factor)?, &row.email))),
        None => Ok(None),
    }
}

/// The secret a challenge asks to set up, again (the set-up page and its QR code read it
/// from the challenge, never from a URL).
pub async fn enrolment_of(
    db: &Database,
    keys: &Arc<Keyring>,
    challenge: &str,
) -> AppResult<Enrolment> {
    let (hash, keys) = (
        super::tokens::hash_refresh_token(challenge.trim()),
        keys.clone(),
    );
    db.run(move |conn| {
        let challenge = db::mfa::challenge(conn, &hash)?
            .filter(|c| c.enrolment && c.expires_at > db::now() && c.attempts < CHALLENGE_ATTEMPTS)
            .ok_or(AppError::Unauthorized(EXPIRED))?;
        pending_enrolment(conn, &keys, &challenge.user_id)?.ok_or(AppError::Unauthorized(EXPIRED))
    })
    .await
}

/// The secret of a factor being set up, for the person's own set-up page.
pub async fn own_enrolment(
    db: &Database,
    keys: &Arc<Keyring>,
    actor: &Actor,
) -> AppResult<Enrolment> {
    let (user, keys) = (actor.user_id.to_db(), keys.clone());
    db.run(move |conn| {
        pending_enrolment(conn, &keys, &user)?
            .ok_or_else(|| AppError::conflict("Start setting up two-step verification first."))
    })
    .await
}

/// A second step taken: the person, ready for a session, and the recovery codes made when
/// it completed a setting-up.
pub struct Completed {
    pub verified: Verified,
    pub recovery_codes: Option<Vec<String>>,
}

/// What a second step came to, decided and audited in one transaction.
enum Checked {
    Passed {
        user: Box<db::users::UserRow>,
        organisation: Option<OrganisationId>,
        codes: Option<Vec<String>>,
    },
    Failed,
}

/// Checks the code (or recovery code) of a challenge. Wrong answers count against the
/// account's login limit and spend the challenge after `CHALLENGE_ATTEMPTS`.
pub async fn complete(
    identity: &Arc<Identity>,
    db: &Database,
    keys: &Arc<Keyring>,
    step: SecondStep,
    client: IpAddr,
    request_id: Option<String>,
) -> AppResult<Completed> {
    let token_hash = super::tokens::hash_refresh_token(step.challenge.trim());
    let hash = token_hash.clone();
    let challenge = db
        .run(move |conn| Ok(db::mfa::challenge(conn, &hash)?))
        .await?
        .filter(|c| c.expires_at > db::now() && c.attempts < CHALLENGE_ATTEMPTS)
        .ok_or(AppError::Unauthorized(EXPIRED))?;
    let user_id = challenge.user_id.clone();
    let account = {
        let id = user_id.clone();
        db.run(move |conn| db::users::find(conn, &id).map_err(AppError::from))
            .await?
            .filter(|u| u.active)
            .map(|u| Email::parse(&u.email).map(|e| e.key()).unwrap_or(u.email))
            .ok_or(AppError::Unauthorized(EXPIRED))?
    };
    identity.limiter.admit(&account, client)?;
    let (code, recovery) = (step.code.clone(), step.recovery_code.clone());
    if code.is_none() == recovery.is_none() {
        return Err(AppError::invalid(
            "code",
            "send either the code from your app or a recovery code",
        ));
    }
    if challenge.enrolment && recovery.is_some() {
        return Err(AppError::invalid(
            "recovery_code",
            "cannot be used while setting up; send the code from your app",
        ));
    }
    let (identity_in, keys) = (identity.clone(), keys.clone());
    let checked = db
        .write(move |conn| {
            let user = db::users::find(conn, &user_id)?
                .filter(|u| u.active)
                .ok_or(AppError::Unauthorized(EXPIRED))?;
            let factor = db::mfa::factor(conn, &user_id)?.ok_or(AppError::Unauthorized(EXPIRED))?;
            let passed = match (&code, &recovery) {
                (Some(code), _) => {
                    let secret = secret_of(&keys, &factor)?;
                    match totp::matching_step(&secret, code, now_step(), factor.last_used_step) {
                        Some(step) if challenge.enrolment => {
                            db::mfa::confirm(conn, &user_id, step, db::now())?;
                            true
                        }
                        Some(step) => db::mfa::take_step(conn, &user_id, step)?,
                        None => false,
                    }
                }
                (None, Some(recovery)) => db::mfa::use_recovery_code(
                    conn,
                    &user_id,
                    &hash_recovery_code(&identity_in.pepper, recovery),
                    db::now(),
                )?,
                (None, None) => false,
            };
            let organisation = user
                .organisation_id
                .as_deref()
                .map(OrganisationId::from_db)
                .transpose()?;
            let (outcome, action) = if !passed {
                db::mfa::count_attempt(conn, &token_hash)?;
                (Checked::Failed, "auth.mfa_failed")
            } else {
                db::mfa::delete_challenge(conn, &token_hash)?;
                let (codes, action) = if challenge.enrolment {
                    let codes = make_recovery_codes(conn, &identity_in.pepper, &user_id)?;
                    (Some(codes), "auth.mfa_enrolled")
                } else if recovery.is_some() {
                    (None, "auth.mfa_recovery_code_used")
                } else {
                    (None, "auth.mfa_passed")
                };
                let passed = Checked::Passed {
                    user: Box::new(user),
                    organisation,
                    codes,
                };
                (passed, action)
            };
            // The person's own event either way: they are the actor of their sign-in.
            audit::record(
                conn,
                Event {
                    action,
                    entity: "user",
                    entity_id: Some(user_id.clone()),
                    organisation_id: organisation,
                    actor_id: Some(user_id),
                    request_id: request_id.as_deref(),
                },
            )?;
            Ok(outcome)
        })
        .await?;
    match checked {
        Checked::Failed => {
            identity.limiter.record_failure(&account);
            Err(AppError::Unauthorized(WRONG_CODE))
        }
        Checked::Passed {
            user,
            organisation,
            codes,
        } => {
            identity.limiter.record_success(&account);
            Ok(Completed {
                verified: Verified {
                    user: *user,
                    organisation,
                    rehash: None,
                },
                recovery_codes: codes,
            })
        }
    }
}

/// The caller's own two-step verification.
pub async fn status(
    db: &Database,
    identity: &Arc<Identity>,
    actor: &Actor,
) -> AppResult<MfaStatus> {
    let user = actor.user_id.to_db();
    let identity = identity.clone();
    db.run(move |conn| {
        let row = db::users::find(conn, &user)?.ok_or(AppError::NotFound)?;
        let enabled = db::mfa::factor(conn, &user)?.is_some_and(|f| f.confirmed_at.is_some());
        Ok(MfaStatus {
            enabled,
            required: required_for(conn, &identity, &row)?,
            recovery_codes_left: if enabled {
                db::mfa::recovery_codes_left(conn, &user)?
            } else {
                0
            },
        })
    })
    .await
}

/// Starts setting up a factor for a signed-in person who has none.
pub async fn start(db: &Database, keys: &Arc<Keyring>, actor: &Actor) -> AppResult<Enrolment> {
    let (user, keys) = (actor.user_id.to_db(), keys.clone());
    db.write(move |conn| {
        if db::mfa::factor(conn, &user)?.is_some_and(|f| f.confirmed_at.is_some()) {
            return Err(AppError::conflict(
                "Two-step verification is already on. Turn it off first to use another app.",
            ));
        }
        let row = db::users::find(conn, &user)?.ok_or(AppError::NotFound)?;
        let (factor, enrolment) = new_factor(&keys, &user, &row.email)?;
        db::mfa::put_factor(conn, &factor)?;
        Ok(enrolment)
    })
    .await
}

/// Checks a code of the caller's own factor and takes its step; 422 naming `code` if wrong.
fn own_code(
    conn: &mut DbConn,
    keys: &Keyring,
    user: &str,
    code: &str,
    pending: bool,
) -> AppResult<()> {
    let wrong = || AppError::invalid("code", "is not the code your app shows now");
    let factor = db::mfa::factor(conn, user)?
        .filter(|f| f.confirmed_at.is_some() != pending)
        .ok_or_else(|| {
            AppError::conflict(if pending {
                "Start setting up two-step verification first."
            } else {
                "Two-step verification is not on."
            })
        })?;
    let secret = secret_of(keys, &factor)?;
    let step =
        totp::matching_step(&secret, code, now_step(), factor.last_used_step).ok_or_else(wrong)?;
    if pending {
        db::mfa::confirm(conn, user, step, db::now())?;
    } else if !db::mfa::take_step(conn, user, step)? {
        return Err(wrong());
    }
    Ok(())
}

/// Confirms the factor being set up with its first code; answers the recovery codes.
pub async fn confirm(
    db: &Database,
    identity: &Arc<Identity>,
    keys: &Arc<Keyring>,
    actor: &Actor,
    code: String,
) -> AppResult<RecoveryCodes> {
    new_codes_after_own_code(db, identity, keys, actor, code, true).await
}

/// New recovery codes in place of the old, with a code from the app.
pub async fn renew_recovery_codes(
    db: &Database,
    identity: &Arc<Identity>,
    keys: &Arc<Keyring>,
    actor: &Actor,
    code: String,
) -> AppResult<RecoveryCodes> {
    new_codes_after_own_code(db, identity, keys, actor, code, false).await
}

/// A code of the caller's own factor (the one being set up when `pending`), then a new set
/// of recovery codes, audited.
async fn new_codes_after_own_code(
    db: &Database,
    identity: &Arc<Identity>,
    keys: &Arc<Keyring>,
    actor: &Actor,
    code: String,
    pending: bool,
) -> AppResult<RecoveryCodes> {
    let (user, keys, identity) = (actor.user_id.to_db(), keys.clone(), identity.clone());
    let actor = actor.clone();
    let action = if pending {
        "auth.mfa_enrolled"
    } else {
        "auth.mfa_recovery_codes_renewed"
    };
    db.write(move |conn| {
        own_code(conn, &keys, &user, &code, pending)?;
        let recovery_codes = make_recovery_codes(conn, &identity.pepper, &user)?;
        audit::record(
            conn,
            Event::by(&actor, action, "user")
                .on(&user)
                .in_org(actor.organisation_id),
        )?;
        Ok(RecoveryCodes { recovery_codes })
    })
    .await
}

/// Turns two-step verification off, with a code from the app; refused where it is required.
pub async fn turn_off(
    db: &Database,
    identity: &Arc<Identity>,
    keys: &Arc<Keyring>,
    actor: &Actor,
    code: String,
) -> AppResult<()> {
    let (user, keys, identity) = (actor.user_id.to_db(), keys.clone(), identity.clone());
    let actor = actor.clone();
    db.write(move |conn| {
        let row = db::users::find(conn, &user)?.ok_or(AppError::NotFound)?;
        if required_for(conn, &identity, &row)? {
            return Err(AppError::Forbidden(
                "Your role must sign in with two-step verification; it cannot be turned off.",
            ));
        }
        own_code(conn, &keys, &user, &code, false)?;
        db::mfa::remove_all(conn, &user)?;
        audit::record(
            conn,
            Event::by(&actor, "auth.mfa_turned_off", "user")
                .on(&user)
                .in_org(actor.organisation_id),
        )
    })
    .await
}

#[derive(Serialize)]
struct ResetValues {
    when: String,
    link: String,
}

/// An admin removes a person's lost factor: their sessions end, the next sign-in sets up a
/// new one, the owner is told by email, and the audit trail keeps who did it.
pub async fn reset(
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    target: UserId,
) -> AppResult<()> {
    authz::can_reset_second_factor(actor, target)?;
    let (actor, mailer) = (actor.clone(), mailer.clone());
    db.write(move |conn| {
        let user = db::users::find(conn, &target.to_db())?.ok_or(AppError::NotFound)?;
        if db::mfa::remove_all(conn, &user.id)? == 0 {
            return Err(AppError::conflict(
                "This person has no two-step verification to reset.",
            ));
        }
        db::sessions::revoke_all_of_user(conn, &user.id, None, "mfa_reset", db::now())?;
        let organisation = user
            .organisation_id
            .as_deref()
            .map(OrganisationId::from_db)
            .transpose()?;
        audit::record(
            conn,
            Event::by(&actor, "user.mfa_reset", "user")
                .on(&user.id)
                .in_org(organisation),
        )?;
        let recipient = notifications::recipient_for_user(conn, &user.id)?;
        mailer.enqueue(
            conn,
            notifications::Email {
                kind: Kind::SecondFactorReset,
                recipient,
                dedupe_key: format!("second_factor_reset:{}:{}", user.id, uuid::Uuid::now_v7()),
                values: ResetValues {
                    when: super::account_tokens::human_time(db::now()),
                    link: mailer.link("/sign-in"),
                },
            },
        )?;
        Ok(())
    })
    .await
}

/// Re-seals every secret not under the current key (`peerpath rotate-key`).
pub fn rotate(conn: &mut DbConn, keys: &Keyring) -> AppResult<usize> {
    let mut done = 0;
    loop {
        let batch = db::mfa::sealed_under_other_keys(conn, keys.current_key_id(), 100)?;
        if batch.is_empty() {
            return Ok(done);
        }
        for row in batch {
            let hex: String = secret_of(keys, &row)?
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let sealed = keys.seal(&hex, &context(&row.user_id))?;
            db::mfa::reseal(conn, &row.user_id, &sealed.key_id, &sealed.bytes)?;
            done += 1;
        }
    }
}

/// Spent and expired challenges go (the daily purge).
pub fn purge(conn: &mut DbConn) -> AppResult<usize> {
    Ok(db::mfa::purge_challenges(conn, db::now())?)
}
