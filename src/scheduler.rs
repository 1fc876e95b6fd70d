//! Periodic jobs, run once per period across every instance: each (job, period) is claimed
//! in the `scheduled_runs` ledger before it runs. A daily job's period is the UTC day once
//! the configured hour has passed, else the day before, so an instance that was down at the
//! hour catches up when it starts.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta, Timelike};
use serde::Serialize;
use tokio::sync::watch;

use crate::config::SchedulerSettings;
use crate::db::{self, Database};
use crate::error::AppResult;
use crate::notifications::{self, Email, Kind, Notifications};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Gathers each digest reader's held routine emails into one.
    DailyDigest,
    /// Deletes invitation and reset tokens a week after they expired.
    PurgeExpiredTokens,
    /// Tells workers which verified training runs out soon.
    TrainingExpiryReminders,
    /// Tells supervisors how many sign-off requests have waited too long.
    WaitingSignoffReminders,
    /// Tells workers and programme managers of pay steps due within 30 days, not yet met.
    PayStepWarnings,
    /// Reminds workers of a check-in due, and their supervisor after the grace period.
    CheckinReminders,
    /// Forgets `Idempotency-Key` answers a day old: a retry comes within minutes.
    PurgeIdempotencyKeys,
}

/// In this order: reminders first, so that a digest reader's reminders join today's digest.
pub const JOBS: &[Job] = &[
    Job::TrainingExpiryReminders,
    Job::WaitingSignoffReminders,
    Job::PayStepWarnings,
    Job::CheckinReminders,
    Job::DailyDigest,
    Job::PurgeExpiredTokens,
    Job::PurgeIdempotencyKeys,
];

impl Job {
    pub fn name(self) -> &'static str {
        match self {
            Self::DailyDigest => "notifications.daily_digest",
            Self::PurgeExpiredTokens => "identity.purge_expired_tokens",
            Self::TrainingExpiryReminders => "training.expiry_reminders",
            Self::WaitingSignoffReminders => "competencies.waiting_signoff_reminders",
            Self::PayStepWarnings => "salary.pay_step_warnings",
            Self::CheckinReminders => "recovery.checkin_reminders",
            Self::PurgeIdempotencyKeys => "idempotency.purge_old_keys",
        }
    }
}

/// The period a daily job is due for at `now`.
pub fn daily_period(now: NaiveDateTime, hour: u32) -> String {
    let day = if now.hour() >= hour {
        now.date()
    } else {
        now.date() - TimeDelta::days(1)
    };
    day.format("%Y-%m-%d").to_string()
}

/// Runs every job due at `now` that no instance has run for its period; answers what ran.
pub async fn tick(
    db: &Database,
    notifications: &Arc<Notifications>,
    settings: &SchedulerSettings,
    now: NaiveDateTime,
) -> AppResult<Vec<(Job, String)>> {
    let mut ran = vec![];
    for job in JOBS {
        let period = daily_period(now, settings.daily_hour_utc);
        let claim = uuid::Uuid::new_v4().to_string();
        let lease = TimeDelta::seconds(settings.lease_secs);
        let (name, p, c) = (job.name(), period.clone(), claim.clone());
        let mine = db
            .write(move |conn| {
                let at = db::now();
                Ok(db::scheduled_runs::claim(
                    conn,
                    name,
                    &p,
                    &c,
                    at,
                    at + lease,
                )?)
            })
            .await?;
        if !mine {
            continue;
        }
        tracing::info!(job = job.name(), period = %period, "running scheduled job");
        match job {
            Job::DailyDigest => send_digests(db, notifications, &period).await?,
            Job::TrainingExpiryReminders => {
                remind_expiring_training(db, notifications, settings, now, &period).await?
            }
            Job::WaitingSignoffReminders => {
                remind_waiting_signoffs(db, notifications, settings, now, &period).await?
            }
            Job::PayStepWarnings => {
                crate::salary::steps::warn_unmet(db, notifications, now.date()).await?
            }
            Job::CheckinReminders => {
                crate::recovery::reminders::remind(
                    db,
                    notifications,
                    now.date(),
                    settings.checkin_grace_days,
                )
                .await?
            }
            Job::PurgeIdempotencyKeys => {
                db.write(move |conn| {
                    Ok(db::idempotency::delete_before(
                        conn,
                        now - TimeDelta::days(1),
                    )?)
                })
                .await?;
            }
            Job::PurgeExpiredTokens => {
                db.write(move |conn| {
                    crate::identity::mfa::purge(conn)?;
                    Ok(db::account_tokens::delete_expired(
                        conn,
                        now - TimeDelta::days(7),
                    )?)
                })
                .await?;
            }
        }
        let (p, c) = (period.clone(), claim);
        db.write(move |conn| {
            db::scheduled_runs::finish(conn, name, &p, &c, db::now())?;
            Ok(())
        })
        .await?;
        ran.push((*job, period));
    }
    Ok(ran)
}

#[derive(Serialize)]
struct DigestValues {
    items: Vec<String>,
    link: String,
}

async fn send_digests(
    db: &Database,
    notifications: &Arc<Notifications>,
    period: &str,
) -> AppResult<()> {
    let recipients = db
        .run(|conn| Ok(db::notifications::held_recipients(conn)?))
        .await?;
    for user in recipients {
        let period = period.to_string();
        let mailer = notifications.clone();
        // One transaction per reader: their digest, and the marking of what it gathered.
        db.write(move |conn| {
            let held = db::notifications::held_for(conn, &user)?;
            if held.is_empty() {
                return Ok(());
            }
            let recipient = notifications::recipient_for_user(conn, &user)?;
            mailer.enqueue(
                conn,
                Email {
                    kind: Kind::Digest,
                    recipient,
                    dedupe_key: format!("digest:{user}:{period}"),
                    values: DigestValues {
                        items: held.iter().map(|r| r.subject.clone()).collect(),
                        link: mailer.link("/"),
                    },
                },
            )?;
            let ids: Vec<String> = held.into_iter().map(|r| r.id).collect();
            db::notifications::mark_digested(conn, &ids, db::now())?;
            Ok(())
        })
        .await?;
    }
    notifications.wake();
    Ok(())
}

async fn remind_expiring_training(
    db: &Database,
    notifications: &Arc<Notifications>,
    settings: &SchedulerSettings,
    now: NaiveDateTime,
    period: &str,
) -> AppResult<()> {
    let from = now.date();
    let to = from + chrono::Days::new(u64::from(settings.training_expiry_window_days));
    let mailer = notifications.clone();
    let period = period.to_string();
    db.write(move |conn| {
        let due = db::reminders::expiring_training(conn, from, to)?;
        let mut by_worker: std::collections::BTreeMap<String, Vec<serde_json::Value>> =
            std::collections::BTreeMap::new();
        for (worker, _, title, expires) in due {
            by_worker
                .entry(worker)
                .or_default()
                .push(serde_json::json!({
                    "title": title,
                    "expires": expires.format("%-d %B %Y").to_string(),
                }));
        }
        for (worker, items) in by_worker {
            let recipient = notifications::recipient_for_user(conn, &worker)?;
            mailer.enqueue(
                conn,
                Email {
                    kind: Kind::TrainingExpiring,
                    recipient,
                    dedupe_key: format!("training_expiring:{worker}:{period}"),
                    values: serde_json::json!({
                        "items": items,
                        "link": mailer.link(&crate::notifications::links::training()),
                    }),
                },
            )?;
        }
        Ok(())
    })
    .await?;
    notifications.wake();
    Ok(())
}

async fn remind_waiting_signoffs(
    db: &Database,
    notifications: &Arc<Notifications>,
    settings: &SchedulerSettings,
    now: NaiveDateTime,
    period: &str,
) -> AppResult<()> {
    let days = settings.signoff_waiting_days;
    let cutoff = now - TimeDelta::days(days);
    let mailer = notifications.clone();
    let period = period.to_string();
    db.write(move |conn| {
        for (supervisor, count) in db::reminders::waiting_signoffs(conn, cutoff)? {
            let recipient = notifications::recipient_for_user(conn, &supervisor)?;
            mailer.enqueue(
                conn,
                Email {
                    kind: Kind::SignoffsWaiting,
                    recipient,
                    dedupe_key: format!("signoffs_waiting:{supervisor}:{period}"),
                    values: serde_json::json!({
                        "count": count,
                        "days": days,
                        "link": mailer.link(&crate::notifications::links::queue()),
                    }),
                },
            )?;
        }
        Ok(())
    })
    .await?;
    notifications.wake();
    Ok(())
}

/// Runs the scheduler until `stop` turns true.
pub async fn run(
    db: Database,
    notifications: Arc<Notifications>,
    settings: SchedulerSettings,
    mut stop: watch::Receiver<bool>,
) {
    let every = Duration::from_secs(settings.tick_secs.max(1));
    while !*stop.borrow() {
        if let Err(e) = tick(&db, &notifications, &settings, db::now()).await {
            tracing::warn!(error = %e, "scheduled jobs failed; they will be tried again");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}
