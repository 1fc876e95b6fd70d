//! Web sessions: a session row plus the cookie that carries it and the forms' CSRF token.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{sessions, users, web_sessions};

/// What a page request needs to know about its caller, read in one query.
#[derive(Clone, Debug, Queryable)]
pub struct LiveWebSession {
    pub session_id: String,
    pub user_id: String,
    pub role: String,
    pub organisation_id: Option<String>,
    pub display_name: String,
    pub csrf_token: String,
    pub last_seen_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConn,
    cookie_hash: &str,
    session_id: &str,
    csrf_token: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(web_sessions::table)
        .values((
            web_sessions::cookie_hash.eq(cookie_hash),
            web_sessions::session_id.eq(session_id),
            web_sessions::csrf_token.eq(csrf_token),
            web_sessions::last_seen_at.eq(now),
        ))
        .execute(conn)
}

/// The session a cookie carries, when it is live (not revoked, not past its absolute end,
/// seen since `idle_since`) and its user active.
pub fn find_live(
    conn: &mut DbConn,
    cookie_hash: &str,
    now: NaiveDateTime,
    idle_since: NaiveDateTime,
) -> QueryResult<Option<LiveWebSession>> {
    web_sessions::table
        .inner_join(sessions::table.inner_join(users::table))
        .filter(web_sessions::cookie_hash.eq(cookie_hash))
        .filter(web_sessions::last_seen_at.gt(idle_since))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::active.eq(true))
        .select((
            sessions::id,
            users::id,
            users::role,
            users::organisation_id,
            users::display_name,
            web_sessions::csrf_token,
            web_sessions::last_seen_at,
        ))
        .first(conn)
        .optional()
}

pub fn touch(conn: &mut DbConn, cookie_hash: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(web_sessions::table.find(cookie_hash))
        .set(web_sessions::last_seen_at.eq(now))
        .execute(conn)
}
