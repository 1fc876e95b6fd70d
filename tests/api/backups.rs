//! Backups of an SQLite database taken while it is being written, and restores.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::{Connection, QueryDsl, RunQueryDsl, SqliteConnection};
use peerpath::db::Backend;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, TestDb, cli};

fn names_in(file: &Path) -> Vec<String> {
    use peerpath::db::schema::organisations;
    let mut conn = SqliteConnection::establish(&file.to_string_lossy()).unwrap();
    organisations::table
        .select(organisations::name)
        .load(&mut conn)
        .unwrap()
}

fn integrity(file: &Path) -> String {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut conn = SqliteConnection::establish(&file.to_string_lossy()).unwrap();
    let rows: Vec<Row> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .unwrap();
    rows.into_iter()
        .map(|r| r.integrity_check)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `peerpath <args>` on the SQLite database in `dir`, run off the test's thread so that the
/// app in this process keeps serving meanwhile.
async fn peerpath_on(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut command = cli("test");
    command.args(args).env("PEERPATH__DATA__DIR", dir).env(
        "PEERPATH__DATABASE__URL",
        format!("sqlite://{}", dir.join("peerpath.db").display()),
    );
    actix_web::web::block(move || command.output())
        .await
        .unwrap()
        .unwrap()
}

fn said(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[actix_web::test]
async fn a_backup_taken_under_concurrent_writes_restores_every_acknowledged_row() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.email.run_worker = false).await;
    let admin = app.admin().await;
    let dir = app.db.data_dir();
    let backup_file = dir.join("nightly.db");
    let backup_arg = backup_file.to_string_lossy().into_owned();

    // Two writers go on posting while the backup is taken; each name is noted once its
    // 201 (the commit) is read.
    let acked = RefCell::new(Vec::<String>::new());
    let done = Cell::new(false);
    let writer = |w: usize| {
        let (acked, done, app, admin) = (&acked, &done, &app, &admin);
        async move {
            for n in 0..3000 {
                if done.get() {
                    break;
                }
                let name = format!("Writer {w} organisation {n}");
                let r = app
                    .post("/api/v1/organisations")
                    .token(&admin.access)
                    .json(json!({ "name": name }))
                    .send()
                    .await;
                assert_eq!(r.status, 201, "{}", r.text);
                acked.borrow_mut().push(name);
            }
        }
    };
    let taker = async {
        while acked.borrow().len() < 20 {
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
        let before = acked.borrow().clone();
        let output = peerpath_on(&dir, &["backup", "--to", &backup_arg]).await;
        let during = acked.borrow().len() - before.len();
        done.set(true);
        (before, output, during)
    };
    let ((before, output, during), (), ()) = tokio::join!(taker, writer(1), writer(2));
    assert!(output.status.success(), "{}", said(&output));
    assert!(
        said(&output).contains("integrity check ok"),
        "{}",
        said(&output)
    );
    assert!(during > 0, "the writers went on while the backup was taken");

    assert_eq!(integrity(&backup_file), "ok");
    let kept = names_in(&backup_file);
    let lost: Vec<_> = before.iter().filter(|n| !kept.contains(n)).collect();
    assert!(
        lost.is_empty(),
        "acknowledged before the backup, missing: {lost:?}"
    );

    // A backup never overwrites a file.
    let again = peerpath_on(&dir, &["backup", "--to", &backup_arg]).await;
    assert!(!again.status.success());
    assert!(said(&again).contains("exists already"), "{}", said(&again));

    // Not while the service has the database open: nothing is swapped under it.
    let refused = peerpath_on(&dir, &["restore", &backup_arg]).await;
    assert!(!refused.status.success());
    assert!(
        said(&refused).contains("stop peerpath serve"),
        "{}",
        said(&refused)
    );
    assert_eq!(
        names_in(&dir.join("peerpath.db")).len(),
        acked.borrow().len()
    );

    // Onto a new machine: an empty folder.
    let fresh: PathBuf =
        std::env::temp_dir().join(format!("peerpath-test-restore-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&fresh).unwrap();
    let garbage = fresh.join("not-a-backup.db");
    std::fs::write(&garbage, "this is not a database").unwrap();
    let bad = peerpath_on(&fresh, &["restore", &garbage.to_string_lossy()]).await;
    assert!(!bad.status.success());
    assert!(
        said(&bad).contains("is not a usable backup"),
        "{}",
        said(&bad)
    );
    assert!(
        !fresh.join("peerpath.db").exists(),
        "a refused restore changes nothing"
    );

    let restored = peerpath_on(&fresh, &["restore", &backup_arg]).await;
    assert!(restored.status.success(), "{}", said(&restored));
    // Restoring over a database keeps the one it replaces.
    let over = peerpath_on(&fresh, &["restore", &backup_arg]).await;
    assert!(over.status.success(), "{}", said(&over));
    assert!(said(&over).contains(".before-restore-"), "{}", said(&over));
    let aside = std::fs::read_dir(&fresh)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".before-restore-"))
        .count();
    assert_eq!(aside, 1);

    assert_eq!(integrity(&fresh.join("peerpath.db")), "ok");
    assert_eq!(names_in(&fresh.join("peerpath.db")), kept);
    let back = TestApp::spawn_on(std::sync::Arc::new(TestDb::Sqlite(fresh)), |s| {
        s.email.run_worker = false;
    })
    .await;
    let session = back.session(&admin.email, PASSWORD).await;
    let listed = back
        .get("/api/v1/organisations?limit=5")
        .token(&session.access)
        .send()
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 5);
}

#[actix_web::test]
async fn backup_and_restore_of_postgresql_point_to_its_own_tools() {
    if !crate::helpers::postgres_available() {
        return;
    }
    let db = TestDb::new(Backend::Postgres);
    for args in [
        &["backup", "--to", "/tmp/never.db"][..],
        &["restore", "/tmp/never.db"],
    ] {
        let output = cli("test")
            .args(args)
            .env("PEERPATH__DATABASE__URL", db.url())
            .env("PEERPATH__DATA__DIR", db.data_dir())
            .output()
            .unwrap();
        assert!(!output.status.success());
        assert!(said(&output).contains("pg_dump"), "{}", said(&output));
    }
    assert!(!Path::new("/tmp/never.db").exists());
}
