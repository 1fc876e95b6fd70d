use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::organisations;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = organisations)]
pub struct OrganisationRow {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub supervisors_see_pay: bool,
    pub wellbeing_contact_email: Option<String>,
    /// Decides the proposals of an organisation's only programme manager.
    pub second_approver_id: Option<String>,
    /// Supervisors must sign in with a second factor too.
    pub mfa_for_supervisors: bool,
}

pub fn insert(conn: &mut DbConn, row: &OrganisationRow) -> QueryResult<OrganisationRow> {
    diesel::insert_into(organisations::table)
        .values(row)
        .returning(organisations::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<OrganisationRow>> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()
}

/// All organisations, or only `only` when given.
pub fn list(
    conn: &mut DbConn,
    only: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<OrganisationRow>> {
    let mut query = organisations::table
        .select(OrganisationRow::as_select())
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(organisations::id.eq(id.to_string()));
    }
    if let Some(after) = after {
        query = query.filter(organisations::id.gt(after.to_string()));
    }
    query.order(organisations::id.asc()).limit(limit).load(conn)
}

pub fn rename(
    conn: &mut DbConn,
    id: &str,
    expected: i32,
    name: &str,
    name_key: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        organisations::table
            .filter(organisations::id.eq(id))
            .filter(organisations::version.eq(expected)),
    )
    .set((
        organisations::name.eq(name),
        organisations::name_key.eq(name_key),
        organisations::version.eq(expected + 1),
        organisations::updated_at.eq(now),
    ))
    .execute(conn)
}

pub fn set_settings(
    conn: &mut DbConn,
    id: &str,
    supervisors_see_pay: bool,
    wellbeing_contact_email: Option<&str>,
    second_approver_id: Option<&str>,
    mfa_for_supervisors: bool,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(organisations::table.find(id))
        .set((
            organisations::supervisors_see_pay.eq(supervisors_see_pay),
            organisations::wellbeing_contact_email.eq(wellbeing_contact_email),
            organisations::second_approver_id.eq(second_approver_id),
            organisations::mfa_for_supervisors.eq(mfa_for_supervisors),
            organisations::updated_at.eq(now),
        ))
        .execute(conn)
}
