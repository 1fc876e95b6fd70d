//! The ceilings, built into the bench and not the product: a bare actix-web + diesel server
//! doing one primary-key select or one single-row insert through peerpath's own pool, and
//! the pathway summary's and the organisation report's code called directly, without HTTP.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::dataset::{ORG, USER, id};
use crate::load::Outcome;
use peerpath::access::{Actor, Role};
use peerpath::config::Settings;
use peerpath::db::Database;
use peerpath::db::schema::{training_records, users};
use peerpath::ids::{OrganisationId, SessionId, UserId};

diesel::table! {
    bench_inserts (id) {
        id -> Text,
        created_at -> Timestamp,
    }
}

/// The scratch table of C-insert.
pub async fn prepare(db: &Database) -> Result<(), String> {
    db.run(|conn| {
        conn.batch_execute(
            "CREATE TABLE IF NOT EXISTS bench_inserts (id TEXT PRIMARY KEY NOT NULL, created_at TIMESTAMP NOT NULL)",
        )?;
        Ok(())
    })
    .await
    .map_err(|e| e.to_string())
}

/// Starts the next measurement from a checkpointed, empty SQLite write-ahead log, so one
/// scenario's writes (C-insert's tens of thousands of rows) are not read through by the next.
pub async fn settle(db: &Database) -> Result<(), String> {
    if db.backend != peerpath::db::Backend::Sqlite {
        return Ok(());
    }
    db.run(|conn| {
        conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")?;
        Ok(())
    })
    .await
    .map_err(|e| e.to_string())
}

pub async fn count_records(db: &Database) -> Result<i64, String> {
    db.run(|conn| Ok(training_records::table.count().get_result(conn)?))
        .await
        .map_err(|e| e.to_string())
}

async fn select(db: web::Data<Database>, path: web::Path<String>) -> HttpResponse {
    let user = path.into_inner();
    let found = db
        .run(move |conn| {
            Ok(users::table
                .find(user)
                .select((users::id, users::email))
                .first::<(String, String)>(conn)
                .optional()?)
        })
        .await;
    match found {
        Ok(Some((id, email))) => {
            HttpResponse::Ok().json(serde_json::json!({"id": id, "email": email}))
        }
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// Reads the request body as the product's handlers do: actix closes a keep-alive connection
/// whose body was left unread, which cost a reconnection on every other insert.
async fn insert(db: web::Data<Database>, _body: web::Bytes) -> HttpResponse {
    let done = db
        .write(|conn| {
            diesel::insert_into(bench_inserts::table)
                .values((
                    bench_inserts::id.eq(uuid::Uuid::now_v7().to_string()),
                    bench_inserts::created_at.eq(peerpath::db::now()),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await;
    match done {
        Ok(()) => HttpResponse::Created().json(serde_json::json!({})),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// The bare server, configured from the same environment as the product.
pub async fn serve() -> Result<(), String> {
    let settings = Settings::load().map_err(|e| e.0)?;
    let db = Database::connect(&settings.database)?;
    let workers = match settings.server.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let data = web::Data::new(db);
    HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/health/ready", web::get().to(HttpResponse::Ok))
            .route("/select/{id}", web::get().to(select))
            .route("/insert", web::post().to(insert))
    })
    .workers(workers)
    .bind(("127.0.0.1", settings.server.port))
    .map_err(|e| e.to_string())?
    .run()
    .await
    .map_err(|e| e.to_string())
}

pub enum Direct {
    Pathway { per_org: usize, supervisors: usize },
    Report,
}

fn manager() -> Result<Actor, String> {
    Ok(Actor {
        user_id: UserId::from_db(&id(USER, 0, 0)).map_err(|e| e.to_string())?,
        role: Role::ProgrammeManager,
        organisation_id: Some(OrganisationId::from_db(&id(ORG, 0, 0)).map_err(|e| e.to_string())?),
        session_id: SessionId::generate(),
        request_id: None,
    })
}

/// The product's own code for the read, called from `connections` tasks for `duration`.
pub async fn direct(
    db: &Database,
    connections: usize,
    duration: Duration,
    what: Direct,
) -> Outcome {
    let Ok(actor) = manager() else {
        return Outcome::default();
    };
    let what = Arc::new(what);
    let started = Instant::now();
    let deadline = started + duration;
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = vec![];
    for _ in 0..connections {
        let (db, actor, what, counter) = (db.clone(), actor.clone(), what.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut micros = vec![];
            let mut errors = crate::load::Errors::new();
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let t = Instant::now();
                let ok = match what.as_ref() {
                    Direct::Pathway {
                        per_org,
                        supervisors,
                    } => {
                        let w = (n.wrapping_mul(2_654_435_761) % *per_org as u64) as usize;
                        match UserId::from_db(&id(USER, 0, 1 + supervisors + w)) {
                            Ok(worker) => peerpath::pathway::summary::summary(&db, &actor, worker)
                                .await
                                .is_ok(),
                            Err(_) => false,
                        }
                    }
                    Direct::Report => peerpath::reports::progression(&db, &actor).await.is_ok(),
                };
                if ok {
                    micros.push(t.elapsed().as_micros() as u64);
                } else {
                    *errors.entry("failed".into()).or_default() += 1;
                }
            }
            (micros, errors)
        }));
    }
    let (all, errors) = crate::load::gather(tasks).await;
    crate::load::summarise(all, errors, started.elapsed().as_secs_f64())
}
