//! The email outbox, and notification preferences.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{notification_preferences, notifications};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    pub organisation_id: Option<String>,
    pub recipient_user_id: Option<String>,
    pub recipient_email: String,
    pub kind: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub dedupe_key: String,
    pub message_id: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub claim_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// Inserts unless a row with the same dedupe key exists; answers whether it inserted.
pub fn insert_once(conn: &mut DbConn, row: &NotificationRow) -> QueryResult<bool> {
    let inserted = match conn {
        DbConn::Postgres(c) => diesel::insert_into(notifications::table)
            .values(row)
            .on_conflict(notifications::dedupe_key)
            .do_nothing()
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(notifications::table)
            .values(row)
            .on_conflict(notifications::dedupe_key)
            .do_nothing()
            .execute(c)?,
    };
    Ok(inserted == 1)
}

/// Claims up to `limit` due rows (pending and due, or sending with an expired lease) for
/// `claim_id` until `lease_until`. PostgreSQL skips rows another worker has locked; SQLite
/// serialises claimers with an immediate transaction (the caller's `write_tx`).
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    claim: &str,
    limit: i64,
) -> QueryResult<Vec<NotificationRow>> {
    use notifications::dsl as n;
    let due = n::notifications
        .filter(
            n::status
                .eq("pending")
                .and(n::next_attempt_at.le(now))
                .or(n::status.eq("sending").and(n::lease_expires_at.lt(now))),
        )
        .order(n::next_attempt_at.asc())
        .limit(limit)
        .select(n::id);
    let ids: Vec<String> = match conn {
        DbConn::Postgres(c) => due.for_update().skip_locked().load(c)?,
        DbConn::Sqlite(c) => due.load(c)?,
    };
    if ids.is_empty() {
        return Ok(vec![]);
    }
    // The due test again: should another claimer have taken a row between our select and
    // this update, PostgreSQL re-checks the condition on the row it waited for, finds it no
    // longer due, and leaves it theirs. Exactly-once does not rest on the lock clause alone.
    diesel::update(
        n::notifications.filter(n::id.eq_any(&ids)).filter(
            n::status
                .eq("pending")
                .and(n::next_attempt_at.le(now))
                .or(n::status.eq("sending").and(n::lease_expires_at.lt(now))),
        ),
    )
    .set((
        n::status.eq("sending"),
        n::lease_expires_at.eq(lease_until),
        n::claim_id.eq(claim),
        n::attempts.eq(n::attempts + 1),
        n::updated_at.eq(now),
    ))
    .execute(conn)?;
    n::notifications
        .filter(n::claim_id.eq(claim))
        .select(NotificationRow::as_select())
        .order(n::next_attempt_at.asc())
        .load(conn)
}

/// Marks a claimed row sent; `scrub` blanks the bodies (they held a single-use link).
pub fn mark_sent(
    conn: &mut DbConn,
    id: &str,
    claim: &str,
    now: NaiveDateTime,
    scrub: bool,
) -> QueryResult<usize> {
    use notifications::dsl as n;
    let marked = diesel::update(
        n::notifications
            .filter(n::id.eq(id))
            .filter(n::claim_id.eq(claim)),
    )
    .set((
        n::status.eq("sent"),
        n::sent_at.eq(now),
        n::lease_expires_at.eq(None::<NaiveDateTime>),
        n::claim_id.eq(None::<String>),
        n::last_error.eq(None::<String>),
        n::updated_at.eq(now),
    ))
    .execute(conn)?;
    if scrub && marked == 1 {
        diesel::update(n::notifications.find(id))
            .set((
                n::body_text.eq("[removed after delivery]"),
                n::body_html.eq("[removed after delivery]"),
            ))
            .execute(conn)?;
    }
    Ok(marked)
}

/// Releases a claimed row after a failed attempt: back to pending at `next`, or dead.
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    claim: &str,
    status: &str,
    next: NaiveDateTime,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use notifications::dsl as n;
    diesel::update(
        n::notifications
            .filter(n::id.eq(id))
            .filter(n::claim_id.eq(claim)),
    )
    .set((
        n::status.eq(status),
        n::next_attempt_at.eq(next),
        n::lease_expires_at.eq(None::<NaiveDateTime>),
        n::claim_id.eq(None::<String>),
        n::last_error.eq(error),
        n::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Puts a dead row back in the queue, due now, with its attempts counted afresh.
pub fn requeue_dead(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    use notifications::dsl as n;
    diesel::update(
        n::notifications
            .filter(n::id.eq(id))
            .filter(n::status.eq("dead")),
    )
    .set((
        n::status.eq("pending"),
        n::attempts.eq(0),
        n::next_attempt_at.eq(now),
        n::updated_at.eq(now),
    ))
    .execute(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<NotificationRow>> {
    notifications::table
        .find(id)
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Default)]
pub struct NotificationFilter {
    pub organisation_id: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    filter: &NotificationFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<NotificationRow>> {
    let mut query = notifications::table
        .select(NotificationRow::as_select())
        .into_boxed();
    if let Some(v) = &filter.organisation_id {
        query = query.filter(notifications::organisation_id.eq(v.clone()));
    }
    if let Some(v) = &filter.status {
        query = query.filter(notifications::status.eq(v.clone()));
    }
    if let Some(v) = &filter.kind {
        query = query.filter(notifications::kind.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(notifications::id.gt(after.to_string()));
    }
    query.order(notifications::id.asc()).limit(limit).load(conn)
}

/// Counts of pending rows and the creation time of the oldest, for metrics.
pub fn backlog(conn: &mut DbConn) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    use diesel::dsl::{count_star, min};
    notifications::table
        .filter(notifications::status.eq_any(["pending", "sending"]))
        .select((count_star(), min(notifications::created_at)))
        .first(conn)
}

/// Recipients with held (digest) notifications.
pub fn held_recipients(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    notifications::table
        .filter(notifications::status.eq("held"))
        .filter(notifications::recipient_user_id.is_not_null())
        .select(notifications::recipient_user_id.assume_not_null())
        .distinct()
        .load(conn)
}

pub fn held_for(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<NotificationRow>> {
    notifications::table
        .filter(notifications::status.eq("held"))
        .filter(notifications::recipient_user_id.eq(user_id))
        .order(notifications::id.asc())
        .select(NotificationRow::as_select())
        .load(conn)
}

pub fn mark_digested(conn: &mut DbConn, ids: &[String], now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(notifications::table.filter(notifications::id.eq_any(ids)))
        .set((
            notifications::status.eq("digested"),
            notifications::updated_at.eq(now),
        ))
        .execute(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = notification_preferences)]
pub struct PreferencesRow {
    pub user_id: String,
    pub daily_digest: bool,
    pub muted_kinds: String,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

pub fn preferences(conn: &mut DbConn, user_id: &str) -> QueryResult<Option<PreferencesRow>> {
    notification_preferences::table
        .find(user_id)
        .select(PreferencesRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_preferences(conn: &mut DbConn, row: &PreferencesRow) -> QueryResult<usize> {
    diesel::insert_into(notification_preferences::table)
        .values(row)
        .execute(conn)
}

pub fn update_preferences(
    conn: &mut DbConn,
    user_id: &str,
    expected: i32,
    daily_digest: bool,
    muted_kinds: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        notification_preferences::table
            .filter(notification_preferences::user_id.eq(user_id))
            .filter(notification_preferences::version.eq(expected)),
    )
    .set((
        notification_preferences::daily_digest.eq(daily_digest),
        notification_preferences::muted_kinds.eq(muted_kinds),
        notification_preferences::version.eq(expected + 1),
        notification_preferences::updated_at.eq(now),
    ))
    .execute(conn)
}
