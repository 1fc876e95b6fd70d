use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{network_memberships, networks};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = networks)]
pub struct NetworkRow {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub scope: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &NetworkRow) -> QueryResult<NetworkRow> {
    diesel::insert_into(networks::table)
        .values(row)
        .returning(networks::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<NetworkRow>> {
    networks::table
        .find(id)
        .select(NetworkRow::as_select())
        .first(conn)
        .optional()
}

/// All networks, or only those `member` belongs to when given.
pub fn list(
    conn: &mut DbConn,
    member: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<NetworkRow>> {
    let mut query = networks::table.select(NetworkRow::as_select()).into_boxed();
    if let Some(org) = member {
        query = query.filter(
            networks::id.eq_any(
                network_memberships::table
                    .filter(network_memberships::organisation_id.eq(org.to_string()))
                    .select(network_memberships::network_id),
            ),
        );
    }
    if let Some(after) = after {
        query = query.filter(networks::id.gt(after.to_string()));
    }
    query.order(networks::id.asc()).limit(limit).load(conn)
}

pub fn update(
    conn: &mut DbConn,
    id: &str,
    expected: i32,
    name: &str,
    name_key: &str,
    scope: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        networks::table
            .filter(networks::id.eq(id))
            .filter(networks::version.eq(expected)),
    )
    .set((
        networks::name.eq(name),
        networks::name_key.eq(name_key),
        networks::scope.eq(scope),
        networks::version.eq(expected + 1),
        networks::updated_at.eq(now),
    ))
    .execute(conn)
}

pub fn members(conn: &mut DbConn, network_id: &str) -> QueryResult<Vec<String>> {
    network_memberships::table
        .filter(network_memberships::network_id.eq(network_id))
        .select(network_memberships::organisation_id)
        .order(network_memberships::organisation_id.asc())
        .load(conn)
}

pub fn is_member(conn: &mut DbConn, network_id: &str, organisation_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        network_memberships::table
            .filter(network_memberships::network_id.eq(network_id))
            .filter(network_memberships::organisation_id.eq(organisation_id)),
    ))
    .get_result(conn)
}

pub fn add_member(
    conn: &mut DbConn,
    network_id: &str,
    organisation_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(network_memberships::table)
        .values((
            network_memberships::network_id.eq(network_id),
            network_memberships::organisation_id.eq(organisation_id),
            network_memberships::created_at.eq(now),
        ))
        .execute(conn)
}

pub fn remove_member(
    conn: &mut DbConn,
    network_id: &str,
    organisation_id: &str,
) -> QueryResult<usize> {
    diesel::delete(
        network_memberships::table
            .filter(network_memberships::network_id.eq(network_id))
            .filter(network_memberships::organisation_id.eq(organisation_id)),
    )
    .execute(conn)
}
