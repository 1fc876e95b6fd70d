use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::idempotency_keys;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub user_id: String,
    pub idempotency_key: String,
    pub request_hash: String,
    pub status_code: i32,
    pub response_body: String,
    pub created_at: NaiveDateTime,
    pub response_headers: String,
}

pub fn find(conn: &mut DbConn, user_id: &str, key: &str) -> QueryResult<Option<IdempotencyRow>> {
    idempotency_keys::table
        .find((user_id, key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConn, row: &IdempotencyRow) -> QueryResult<usize> {
    diesel::insert_into(idempotency_keys::table)
        .values(row)
        .execute(conn)
}

/// Completes a reservation with its answer.
pub fn complete(
    conn: &mut DbConn,
    user_id: &str,
    key: &str,
    status_code: i32,
    body: &str,
    headers: &str,
) -> QueryResult<usize> {
    diesel::update(idempotency_keys::table.find((user_id, key)))
        .set((
            idempotency_keys::status_code.eq(status_code),
            idempotency_keys::response_body.eq(body),
            idempotency_keys::response_headers.eq(headers),
        ))
        .execute(conn)
}

/// Gives a key back: its request was refused, so a retry may try again.
pub fn release(conn: &mut DbConn, user_id: &str, key: &str) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.find((user_id, key))).execute(conn)
}

/// Forgets the keys kept since before `before`.
pub fn delete_before(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
        .execute(conn)
}
