//! Second factors: sealed TOTP secrets, recovery codes (hashes) and sign-in challenges.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{mfa_challenges, mfa_factors, mfa_recovery_codes};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = mfa_factors)]
pub struct FactorRow {
    pub user_id: String,
    pub key_id: String,
    pub secret: Vec<u8>,
    pub confirmed_at: Option<NaiveDateTime>,
    pub last_used_step: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = mfa_challenges)]
pub struct ChallengeRow {
    pub token_hash: String,
    pub user_id: String,
    pub enrolment: bool,
    pub attempts: i32,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub fn factor(conn: &mut DbConn, user: &str) -> QueryResult<Option<FactorRow>> {
    mfa_factors::table
        .find(user)
        .select(FactorRow::as_select())
        .first(conn)
        .optional()
}

/// A new secret in place of any the person had (an enrolment started again starts afresh).
pub fn put_factor(conn: &mut DbConn, row: &FactorRow) -> QueryResult<()> {
    diesel::delete(mfa_factors::table.find(&row.user_id)).execute(conn)?;
    diesel::insert_into(mfa_factors::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn confirm(conn: &mut DbConn, user: &str, step: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(mfa_factors::table.find(user))
        .set((
            mfa_factors::confirmed_at.eq(now),
            mfa_factors::last_used_step.eq(step),
        ))
        .execute(conn)
        .map(drop)
}

/// Records the step of a code taken, only if it is later than the last: of two requests
/// racing with one code, one changes the row and the other changes nothing.
pub fn take_step(conn: &mut DbConn, user: &str, step: i64) -> QueryResult<bool> {
    diesel::update(
        mfa_factors::table
            .find(user)
            .filter(mfa_factors::last_used_step.lt(step)),
    )
    .set(mfa_factors::last_used_step.eq(step))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn reseal(conn: &mut DbConn, user: &str, key_id: &str, secret: &[u8]) -> QueryResult<()> {
    diesel::update(mfa_factors::table.find(user))
        .set((
            mfa_factors::key_id.eq(key_id),
            mfa_factors::secret.eq(secret),
        ))
        .execute(conn)
        .map(drop)
}

/// Factors not sealed under `key_id`, a batch at a time (key rotation).
pub fn sealed_under_other_keys(
    conn: &mut DbConn,
    key_id: &str,
    limit: i64,
) -> QueryResult<Vec<FactorRow>> {
    mfa_factors::table
        .filter(mfa_factors::key_id.ne(key_id))
        .select(FactorRow::as_select())
        .limit(limit)
        .load(conn)
}

/// Removes a person's factor, recovery codes and open challenges.
pub fn remove_all(conn: &mut DbConn, user: &str) -> QueryResult<usize> {
    diesel::delete(mfa_challenges::table.filter(mfa_challenges::user_id.eq(user))).execute(conn)?;
    diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user)))
        .execute(conn)?;
    diesel::delete(mfa_factors::table.find(user)).execute(conn)
}

/// A new set of recovery codes in place of the old.
pub fn replace_recovery_codes(
    conn: &mut DbConn,
    user: &str,
    hashes: &[String],
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user)))
        .execute(conn)?;
    for hash in hashes {
        diesel::insert_into(mfa_recovery_codes::table)
            .values((
                mfa_recovery_codes::code_hash.eq(hash),
                mfa_recovery_codes::user_id.eq(user),
                mfa_recovery_codes::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Uses a recovery code once: true when it was the person's and unused.
pub fn use_recovery_code(
    conn: &mut DbConn,
    user: &str,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        mfa_recovery_codes::table
            .find(hash)
            .filter(mfa_recovery_codes::user_id.eq(user))
            .filter(mfa_recovery_codes::used_at.is_null()),
    )
    .set(mfa_recovery_codes::used_at.eq(now))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn recovery_codes_left(conn: &mut DbConn, user: &str) -> QueryResult<i64> {
    mfa_recovery_codes::table
        .filter(mfa_recovery_codes::user_id.eq(user))
        .filter(mfa_recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)
}

pub fn insert_challenge(conn: &mut DbConn, row: &ChallengeRow) -> QueryResult<()> {
    diesel::insert_into(mfa_challenges::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn challenge(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<ChallengeRow>> {
    mfa_challenges::table
        .find(token_hash)
        .select(ChallengeRow::as_select())
        .first(conn)
        .optional()
}

pub fn count_attempt(conn: &mut DbConn, token_hash: &str) -> QueryResult<()> {
    diesel::update(mfa_challenges::table.find(token_hash))
        .set(mfa_challenges::attempts.eq(mfa_challenges::attempts + 1))
        .execute(conn)
        .map(drop)
}

pub fn delete_challenge(conn: &mut DbConn, token_hash: &str) -> QueryResult<()> {
    diesel::delete(mfa_challenges::table.find(token_hash))
        .execute(conn)
        .map(drop)
}

/// Challenges past their time (the daily purge).
pub fn purge_challenges(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(mfa_challenges::table.filter(mfa_challenges::expires_at.lt(now))).execute(conn)
}
