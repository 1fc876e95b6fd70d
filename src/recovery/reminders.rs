//! The daily check-in reminders: the worker when a check-in is due, the supervisor gently
//! after the grace period; once per due date each, never while paused.

use std::sync::Arc;

use chrono::{Days, NaiveDate};

use super::checkins::{Cadence, due_on};
use crate::db::{self, Database};
use crate::error::AppResult;
use crate::explain::day;
use crate::notifications::{self, Email, Kind, Notifications};

pub async fn remind(
    db: &Database,
    mailer: &Arc<Notifications>,
    today: NaiveDate,
    grace_days: u32,
) -> AppResult<()> {
    let mailer_in = mailer.clone();
    db.write(move |conn| {
        for current in db::recovery::cadences_with_latest(conn, None)? {
            let cadence = Cadence::of(current.agreed.as_ref(), current.start_date);
            let pauses = db::pauses::of_worker(conn, &current.worker_id)?;
            let Some(due) = due_on(&cadence, current.latest, &pauses, today) else {
                continue;
            };
            if due > today {
                continue;
            }
            let Some(worker) = db::workers::find(conn, &current.worker_id)? else {
                continue;
            };
            let link = mailer_in.link(&notifications::links::new_checkin());
            let recipient = notifications::recipient_for_user(conn, &worker.user_id)?;
            let name = recipient.name.clone();
            mailer_in.enqueue(
                conn,
                Email {
                    kind: Kind::CheckinDue,
                    recipient,
                    dedupe_key: format!("checkin_due:{}:{due}", worker.user_id),
                    values: serde_json::json!({"due_on": day(due), "link": link}),
                },
            )?;
            let late = due.checked_add_days(Days::new(u64::from(grace_days))).unwrap_or(due);
            if today > late
                && let Some(supervisor) = &worker.supervisor_id
            {
                let recipient = notifications::recipient_for_user(conn, supervisor)?;
                mailer_in.enqueue(
                    conn,
                    Email {
                        kind: Kind::CheckinMissed,
                        recipient,
                        dedupe_key: format!("checkin_missed:{}:{due}", worker.user_id),
                        values: serde_json::json!({"worker_name": name, "due_on": day(due), "link": mailer_in.link(&notifications::links::supervisee_recovery(&worker.user_id))}),
                    },
                )?;
            }
        }
        Ok(())
    })
    .await?;
    mailer.wake();
    Ok(())
}
