use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::users;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub email_key: String,
    pub display_name: String,
    pub role: String,
    pub organisation_id: Option<String>,
    pub password_hash: Option<String>,
    pub active: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub email_key: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub organisation_id: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub active: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Fields an update may set; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Default)]
pub struct UserFilter {
    pub organisation_id: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
}

pub fn insert(conn: &mut DbConn, new: &NewUser<'_>) -> QueryResult<UserRow> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(users::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_email_key(conn: &mut DbConn, email_key: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email_key.eq(email_key))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(
    conn: &mut DbConn,
    filter: &UserFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    let mut query = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(org) = &filter.organisation_id {
        query = query.filter(users::organisation_id.eq(org.clone()));
    }
    if let Some(role) = &filter.role {
        query = query.filter(users::role.eq(role.clone()));
    }
    if let Some(active) = filter.active {
        query = query.filter(users::active.eq(active));
    }
    if let Some(after) = after {
        query = query.filter(users::id.gt(after.to_string()));
    }
    query.order(users::id.asc()).limit(limit).load(conn)
}

/// Applies `changes` when the stored version is `expected`; answers the rows changed (0 or 1).
pub fn update(
    conn: &mut DbConn,
    id: &str,
    expected: i32,
    changes: &UserChanges,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        users::table
            .filter(users::id.eq(id))
            .filter(users::version.eq(expected)),
    )
    .set((
        changes,
        users::version.eq(expected + 1),
        users::updated_at.eq(now),
    ))
    .execute(conn)
}

pub fn set_password_hash(
    conn: &mut DbConn,
    id: &str,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::version.eq(users::version + 1),
            users::updated_at.eq(now),
        ))
        .execute(conn)
}

/// (id, display name) of several users.
pub fn names_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load(conn)
}

/// (id, display name) of several users of one organisation; others are left out.
pub fn names_in_organisation(
    conn: &mut DbConn,
    organisation_id: &str,
    ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    users::table
        .filter(users::organisation_id.eq(organisation_id))
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load(conn)
}

/// The ids of an organisation's active users with a role.
pub fn active_with_role(
    conn: &mut DbConn,
    organisation_id: &str,
    role: &str,
) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::organisation_id.eq(organisation_id))
        .filter(users::role.eq(role))
        .filter(users::active.eq(true))
        .order(users::id.asc())
        .select(users::id)
        .load(conn)
}
