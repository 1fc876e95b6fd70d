use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{audit_events, users};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: String,
    pub occurred_at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub organisation_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub organisation_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &AuditRow) -> QueryResult<usize> {
    diesel::insert_into(audit_events::table)
        .values(row)
        .execute(conn)
}

pub fn list(
    conn: &mut DbConn,
    filter: &AuditFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_events::table
        .select(AuditRow::as_select())
        .into_boxed();
    if let Some(v) = &filter.organisation_id {
        query = query.filter(audit_events::organisation_id.eq(v.clone()));
    }
    if let Some(v) = &filter.actor_id {
        query = query.filter(audit_events::actor_id.eq(v.clone()));
    }
    if let Some(v) = &filter.action {
        query = query.filter(audit_events::action.eq(v.clone()));
    }
    if let Some(v) = &filter.entity {
        query = query.filter(audit_events::entity.eq(v.clone()));
    }
    if let Some(v) = &filter.entity_id {
        query = query.filter(audit_events::entity_id.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(audit_events::id.gt(after.to_string()));
    }
    query.order(audit_events::id.asc()).limit(limit).load(conn)
}

/// An event's id, time and action with its actor's name and role.
pub type EventWithActor = (String, NaiveDateTime, String, String, String);

/// Events of some actions on one entity, newest first, with the actor's name and role.
pub fn about_entity_with_actors(
    conn: &mut DbConn,
    entity: &str,
    entity_id: &str,
    actions: &[&str],
) -> QueryResult<Vec<EventWithActor>> {
    audit_events::table
        .inner_join(users::table.on(audit_events::actor_id.eq(users::id.nullable())))
        .filter(audit_events::entity.eq(entity))
        .filter(audit_events::entity_id.eq(entity_id))
        .filter(audit_events::action.eq_any(actions))
        .order(audit_events::occurred_at.desc())
        .select((
            audit_events::id,
            audit_events::occurred_at,
            audit_events::action,
            users::display_name,
            users::role,
        ))
        .load(conn)
}
