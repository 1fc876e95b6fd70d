//! The schema checked three ways: diesel's `table!` definitions against the live database on
//! each backend (names, types, nullability); the schema after `revert-all` and `run` the same
//! as before; the OpenAPI document snapshot-tested, so a change of the contract shows as a
//! diff to review.

use std::collections::BTreeMap;

use diesel::RunQueryDsl;
use diesel::sql_types::{Bool, Text};
use peerpath::db::{self, Backend, DbConn};

use crate::both_backends;
use crate::helpers::TestApp;

/// Table → column → (diesel type without `Nullable`, nullable), read from `src/db/schema.rs`.
type Columns = BTreeMap<String, BTreeMap<String, (String, bool)>>;

fn declared() -> Columns {
    let text = include_str!("../../src/db/schema.rs");
    let mut tables = Columns::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.ends_with('{') && line.contains('(') && !line.starts_with("diesel::") {
            let name = line.split_whitespace().next().unwrap().to_string();
            tables.entry(name.clone()).or_default();
            current = Some(name);
        } else if line == "}" {
            current = None;
        } else if let (Some(table), Some((column, kind))) = (&current, line.split_once(" -> ")) {
            let kind = kind.trim_end_matches(',');
            let (kind, nullable) = match kind.strip_prefix("Nullable<") {
                Some(inner) => (inner.trim_end_matches('>'), true),
                None => (kind, false),
            };
            tables
                .get_mut(table)
                .unwrap()
                .insert(column.to_string(), (kind.to_string(), nullable));
        }
    }
    tables
}

/// The diesel type a live column's declared type stands for.
fn diesel_type(backend: Backend, live: &str) -> String {
    let live = live.to_lowercase();
    match (backend, live.as_str()) {
        (_, "text") => "Text",
        (_, "integer") => "Integer",
        (_, "bigint") => "BigInt",
        (_, "boolean") => "Bool",
        (_, "date") => "Date",
        (Backend::Sqlite, "timestamp") | (Backend::Postgres, "timestamp without time zone") => {
            "Timestamp"
        }
        (Backend::Sqlite, "blob") | (Backend::Postgres, "bytea") => "Binary",
        _ => return format!("unknown: {live}"),
    }
    .to_string()
}

#[derive(diesel::QueryableByName)]
struct LiveColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

const SQLITE_COLUMNS: &str = "SELECT m.name AS table_name, p.name AS column_name, \
     p.type AS data_type, (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
     AND m.name <> '__diesel_schema_migrations' ORDER BY 1, 2";

const POSTGRES_COLUMNS: &str = "SELECT table_name::text, column_name::text, data_type::text, \
     (is_nullable = 'YES') AS nullable FROM information_schema.columns \
     WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' \
     ORDER BY 1, 2";

fn live(conn: &mut DbConn, backend: Backend) -> Columns {
    let rows: Vec<LiveColumn> = diesel::sql_query(match backend {
        Backend::Sqlite => SQLITE_COLUMNS,
        Backend::Postgres => POSTGRES_COLUMNS,
    })
    .load(conn)
    .unwrap();
    let mut tables = Columns::new();
    for row in rows {
        tables.entry(row.table_name).or_default().insert(
            row.column_name,
            (diesel_type(backend, &row.data_type), row.nullable),
        );
    }
    tables
}

async fn diesel_tables_match_the_live_schema(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.state.db.pool.clone();
    let live = actix_web::web::block(move || live(&mut pool.get().unwrap(), backend))
        .await
        .unwrap();
    let declared = declared();
    assert!(
        declared.len() > 30,
        "schema.rs was read ({} tables)",
        declared.len()
    );
    let mut differences = vec![];
    for (table, columns) in &declared {
        let Some(found) = live.get(table) else {
            differences.push(format!("{table}: declared, not in the database"));
            continue;
        };
        for (column, want) in columns {
            match found.get(column) {
                None => {
                    differences.push(format!("{table}.{column}: declared, not in the database"))
                }
                Some(got) if got != want => differences.push(format!(
                    "{table}.{column}: declared {want:?}, the database has {got:?}"
                )),
                Some(_) => {}
            }
        }
        for column in found.keys().filter(|c| !columns.contains_key(*c)) {
            differences.push(format!("{table}.{column}: in the database, not declared"));
        }
    }
    for table in live.keys().filter(|t| !declared.contains_key(*t)) {
        differences.push(format!("{table}: in the database, not declared"));
    }
    assert!(
        differences.is_empty(),
        "schema.rs and the {backend:?} schema differ:\n{}",
        differences.join("\n")
    );
}

#[derive(diesel::QueryableByName)]
struct Definition {
    #[diesel(sql_type = Text)]
    definition: String,
}

/// Everything that makes up the schema, as text: tables with their columns, indexes,
/// constraints and triggers.
fn dump(conn: &mut DbConn, backend: Backend) -> Vec<String> {
    let query = match backend {
        Backend::Sqlite => {
            "SELECT type || ' ' || name || ': ' || COALESCE(sql, '') AS definition FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY 1"
        }
        Backend::Postgres => {
            "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' \
                 || is_nullable || ' ' || COALESCE(column_default, '') AS definition \
                 FROM information_schema.columns WHERE table_schema = 'public' \
                 AND table_name <> '__diesel_schema_migrations' \
             UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' \
                 AND tablename <> '__diesel_schema_migrations' \
             UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' \
                 || pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE connamespace = 'public'::regnamespace \
                 AND conrelid::regclass::text <> '__diesel_schema_migrations' \
             UNION ALL SELECT 'trigger ' || tgrelid::regclass::text || ' ' || tgname FROM pg_trigger \
                 WHERE NOT tgisinternal \
             UNION ALL SELECT 'function ' || proname || ' ' || md5(prosrc) FROM pg_proc \
                 WHERE pronamespace = 'public'::regnamespace \
             ORDER BY 1"
        }
    };
    diesel::sql_query(query)
        .load::<Definition>(conn)
        .unwrap()
        .into_iter()
        .map(|d| d.definition)
        .collect()
}

async fn the_schema_after_revert_all_and_run_is_the_schema_before(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.state.db.pool.clone();
    let (before, after) = actix_web::web::block(move || {
        let mut conn = pool.get().unwrap();
        let before = dump(&mut conn, backend);
        db::migrations::revert_all(&mut conn).unwrap();
        let left = dump(&mut conn, backend);
        assert!(
            left.is_empty(),
            "revert-all leaves nothing behind: {left:#?}"
        );
        db::migrations::run_pending(&mut conn).unwrap();
        (before, dump(&mut conn, backend))
    })
    .await
    .unwrap();
    assert!(
        before.len() > 50,
        "the dump holds the schema ({} lines)",
        before.len()
    );
    let lost: Vec<_> = before.iter().filter(|d| !after.contains(d)).collect();
    let gained: Vec<_> = after.iter().filter(|d| !before.contains(d)).collect();
    assert!(
        lost.is_empty() && gained.is_empty(),
        "lost: {lost:#?}\ngained: {gained:#?}"
    );
}

/// The contract as served: a change to any operation, schema or bound is a diff in
/// `tests/api/snapshots/` to review (`cargo insta review`), never a silent change.
#[test]
fn the_openapi_document_is_what_was_reviewed() {
    let document = serde_json::to_value(peerpath::app::openapi_document()).unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&document).unwrap());
}

both_backends!(
    diesel_tables_match_the_live_schema,
    the_schema_after_revert_all_and_run_is_the_schema_before,
);
