//! Single-use account tokens (invitations, password resets), stored as their SHA-256.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::account_tokens;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = account_tokens)]
pub struct AccountTokenRow {
    pub token_hash: String,
    pub user_id: String,
    pub purpose: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, row: &AccountTokenRow) -> QueryResult<usize> {
    diesel::insert_into(account_tokens::table)
        .values(row)
        .execute(conn)
}

pub fn find(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<AccountTokenRow>> {
    account_tokens::table
        .find(token_hash)
        .select(AccountTokenRow::as_select())
        .first(conn)
        .optional()
}

/// Marks a token used; 0 rows means it was used already.
pub fn consume(conn: &mut DbConn, token_hash: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        account_tokens::table
            .filter(account_tokens::token_hash.eq(token_hash))
            .filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(now))
    .execute(conn)
}

/// Ends every unused token of a user for a purpose (a new one supersedes them).
pub fn retire_all(
    conn: &mut DbConn,
    user_id: &str,
    purpose: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        account_tokens::table
            .filter(account_tokens::user_id.eq(user_id))
            .filter(account_tokens::purpose.eq(purpose))
            .filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(now))
    .execute(conn)
}

/// When the newest token of this purpose was issued to the user, if any.
pub fn latest_issued(
    conn: &mut DbConn,
    user_id: &str,
    purpose: &str,
) -> QueryResult<Option<NaiveDateTime>> {
    use diesel::dsl::max;
    account_tokens::table
        .filter(account_tokens::user_id.eq(user_id))
        .filter(account_tokens::purpose.eq(purpose))
        .select(max(account_tokens::created_at))
        .first(conn)
}

/// Deletes tokens that expired before `before`.
pub fn delete_expired(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(account_tokens::table.filter(account_tokens::expires_at.lt(before)))
        .execute(conn)
}
