//! The delivery worker: claims due emails with a lease, sends them outside the claiming
//! transaction, marks them sent, and on failure retries with exponential backoff and jitter
//! (transient) or gives up at once (permanent). A claim whose worker died is taken again
//! once its lease expires.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use futures_util::StreamExt;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::watch;

use super::{Kind, Notifications};
use crate::config::{EmailSettings, EmailTransport, Settings, SmtpTls};
use crate::db::notifications::NotificationRow;
use crate::db::{self, Database};
use crate::error::AppResult;

/// Where emails go: an SMTP relay, or `.eml` files in the data folder.
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

/// Why a send failed, in a form safe to store and show (never the server's own text).
#[derive(Debug)]
pub struct Failure {
    pub permanent: bool,
    pub class: String,
}

impl Transport {
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let email = &settings.email;
        match email.transport {
            EmailTransport::File => {
                let dir = settings.data.dir.join("mail");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                Ok(Self::File(AsyncFileTransport::new(dir)))
            }
            EmailTransport::Smtp => {
                let host = email.smtp_host.as_str();
                let builder = match email.smtp_tls {
                    SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                    SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                        .map_err(|e| format!("email.smtp_host: {e}"))?,
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                        .map_err(|e| format!("email.smtp_host: {e}"))?,
                };
                let mut builder = builder
                    .port(email.smtp_port)
                    .timeout(Some(Duration::from_secs(email.timeout_secs)));
                if !email.smtp_username.is_empty() {
                    builder = builder.credentials(Credentials::new(
                        email.smtp_username.clone(),
                        email.smtp_password.expose().to_string(),
                    ));
                }
                Ok(Self::Smtp(builder.build()))
            }
        }
    }

    /// Sends one message; the whole conversation must end within `deadline`, whatever the
    /// server does (lettre's own timeout does not cover every read).
    async fn send(&self, message: Message, deadline: Duration) -> Result<(), Failure> {
        match tokio::time::timeout(deadline, self.send_now(message)).await {
            Ok(result) => result,
            Err(_) => Err(Failure {
                permanent: false,
                class: "transient: timeout".into(),
            }),
        }
    }

    async fn send_now(&self, message: Message) -> Result<(), Failure> {
        match self {
            Self::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| {
                let code = e.status().map(|c| c.to_string());
                if e.is_permanent() {
                    Failure {
                        permanent: true,
                        class: format!("permanent: {}", code.unwrap_or_default()),
                    }
                } else if e.is_timeout() {
                    Failure {
                        permanent: false,
                        class: "transient: timeout".into(),
                    }
                } else if let Some(code) = code {
                    Failure {
                        permanent: false,
                        class: format!("transient: {code}"),
                    }
                } else {
                    Failure {
                        permanent: false,
                        class: "transient: connection".into(),
                    }
                }
            }),
            Self::File(file) => file.send(message).await.map(|_| ()).map_err(|_| Failure {
                permanent: false,
                class: "transient: file".into(),
            }),
        }
    }
}

fn build_message(settings: &EmailSettings, row: &NotificationRow) -> Result<Message, Failure> {
    let invalid = |what: &str| Failure {
        permanent: true,
        class: format!("permanent: invalid {what}"),
    };
    let from: Mailbox = settings.from.parse().map_err(|_| invalid("sender"))?;
    let to = Mailbox::new(
        None,
        row.recipient_email
            .parse()
            .map_err(|_| invalid("recipient address"))?,
    );
    Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(row.message_id.clone()))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(row.body_text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(row.body_html.clone()),
                ),
        )
        .map_err(|_| invalid("message"))
}

/// Exponential backoff with ±20 % jitter, so retries from many rows do not arrive together.
fn next_attempt(settings: &EmailSettings, attempts: i32, now: NaiveDateTime) -> NaiveDateTime {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    let base = settings
        .backoff_base_secs
        .saturating_mul(1_i64 << exponent)
        .min(settings.backoff_max_secs) as f64;
    let mut random = [0u8; 2];
    let _ = getrandom::fill(&mut random);
    let jitter = 0.8 + 0.4 * f64::from(u16::from_le_bytes(random)) / f64::from(u16::MAX);
    now + TimeDelta::milliseconds((base * jitter * 1000.0) as i64)
}

/// One round: claim a batch and send it, up to `email.concurrency` conversations at once
/// (each SMTP conversation spends most of its time waiting on the network). Answers how many
/// were claimed.
pub async fn deliver_batch(
    db: &Database,
    notifications: &Notifications,
    transport: &Transport,
    stop: &watch::Receiver<bool>,
) -> AppResult<usize> {
    let settings = &notifications.settings;
    let claim = uuid::Uuid::new_v4().to_string();
    let (lease, batch) = (TimeDelta::seconds(settings.lease_secs), settings.batch_size);
    let claim_for_query = claim.clone();
    let rows = db
        .write(move |conn| {
            let now = db::now();
            Ok(db::notifications::claim_due(
                conn,
                now,
                now + lease,
                &claim_for_query,
                batch,
            )?)
        })
        .await?;
    let claimed = rows.len();
    let results: Vec<AppResult<()>> = futures_util::stream::iter(rows)
        .map(|row| deliver_one(db, settings, transport, &claim, row, stop))
        .buffer_unordered(settings.concurrency.max(1))
        .collect()
        .await;
    results.into_iter().collect::<AppResult<Vec<()>>>()?;
    Ok(claimed)
}

/// Sends one claimed row and records the outcome.
async fn deliver_one(
    db: &Database,
    settings: &EmailSettings,
    transport: &Transport,
    claim: &str,
    row: NotificationRow,
    stop: &watch::Receiver<bool>,
) -> AppResult<()> {
    let (claim, id, attempts) = (claim.to_string(), row.id.clone(), row.attempts);
    if *stop.borrow() {
        // Shutting down: hand it back at once rather than after the lease.
        return db
            .write(move |conn| {
                let now = db::now();
                db::notifications::mark_failed(
                    conn,
                    &id,
                    &claim,
                    "pending",
                    now,
                    "released at shutdown",
                    now,
                )?;
                Ok(())
            })
            .await;
    }
    let outcome = match build_message(settings, &row) {
        Ok(message) => {
            transport
                .send(message, Duration::from_secs(settings.timeout_secs))
                .await
        }
        Err(failure) => Err(failure),
    };
    let label = row.kind.clone();
    match outcome {
        Ok(()) => {
            let scrub = Kind::parse(&row.kind).is_some_and(Kind::carries_secret);
            db.write(move |conn| {
                db::notifications::mark_sent(conn, &id, &claim, db::now(), scrub)?;
                Ok(())
            })
            .await?;
            metrics::counter!("notifications_sent_total", "kind" => label).increment(1);
        }
        Err(failure) => {
            let dead = failure.permanent || attempts >= settings.max_attempts;
            tracing::warn!(
                notification = %row.id,
                kind = %row.kind,
                attempts,
                failure = %failure.class,
                dead,
                "email not delivered"
            );
            let status = if dead { "dead" } else { "pending" };
            let next = next_attempt(settings, attempts, db::now());
            db.write(move |conn| {
                db::notifications::mark_failed(
                    conn,
                    &id,
                    &claim,
                    status,
                    next,
                    &failure.class,
                    db::now(),
                )?;
                Ok(())
            })
            .await?;
            let counter = if dead {
                "notifications_dead_total"
            } else {
                "notifications_retried_total"
            };
            metrics::counter!(counter, "kind" => label).increment(1);
        }
    }
    Ok(())
}

async fn record_backlog(db: &Database) {
    let backlog = db.run(|conn| Ok(db::notifications::backlog(conn)?)).await;
    if let Ok((pending, oldest)) = backlog {
        metrics::gauge!("notifications_pending").set(pending as f64);
        let age = oldest
            .map(|t| (db::now() - t).num_milliseconds() as f64 / 1000.0)
            .unwrap_or(0.0);
        metrics::gauge!("notifications_oldest_pending_age_seconds").set(age);
    }
}

/// Runs until `stop` turns true: delivers what is due, then waits for a wake-up (an email
/// queued by this process), the poll interval (one queued by another), or the stop.
pub async fn run(
    db: Database,
    notifications: Arc<Notifications>,
    transport: Arc<Transport>,
    mut stop: watch::Receiver<bool>,
) {
    let poll = Duration::from_millis(notifications.settings.poll_interval_ms);
    tracing::info!("email delivery worker started");
    while !*stop.borrow() {
        let claimed = match deliver_batch(&db, &notifications, &transport, &stop).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "email delivery round failed");
                0
            }
        };
        record_backlog(&db).await;
        if claimed == 0 {
            tokio::select! {
                _ = notifications.woken() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            }
        }
    }
    tracing::info!("email delivery worker stopped");
}
