//! The recovery side of some demo workers' stories: a plan and fortnightly check-ins,
//! written as the worker writes them, sharing some parts with their supervisor. Kept apart
//! from the rest of the demo because recovery data is named only where it is kept.

use std::sync::Arc;

use chrono::NaiveDate;

use crate::access::Actor;
use crate::db::Database;
use crate::error::AppResult;
use crate::notifications::Notifications;
use crate::recovery::Keyring;
use crate::recovery::checkins::{self, CheckinInput, Risk};
use crate::recovery::plan::{self, PlanSection, Section};

/// A plan sharing what helps and whom to call, keeping triggers and the crisis plan
/// private, and a check-in every fortnight sharing what was agreed but not the notes.
pub async fn tell(
    db: &Database,
    keys: &Arc<Keyring>,
    mailer: &Arc<Notifications>,
    me: &Actor,
    name: &str,
    today: NaiveDate,
) -> AppResult<()> {
    let first = name.split(' ').next().unwrap_or(name);
    let part = |section, text: &str, shared| PlanSection {
        section,
        text: text.to_string(),
        shared,
    };
    plan::write(
        db,
        keys,
        me,
        me.user_id,
        0,
        vec![
            part(
                Section::WellnessToolbox,
                "A walk before work; the Thursday peer group; music on the bus",
                true,
            ),
            part(
                Section::Triggers,
                "Anniversaries; being owed money; nights without sleep",
                false,
            ),
            part(
                Section::EarlyWarningSigns,
                "Skipping meals and cancelling plans",
                true,
            ),
            part(
                Section::CrisisPlan,
                "Ring my sponsor first, then the crisis line",
                false,
            ),
            part(
                Section::SupportContacts,
                &format!("{first}'s sister; the peer line; my GP practice"),
                true,
            ),
        ],
    )
    .await?;
    let moods = [4, 3, 4, 4, 3];
    for (i, wellbeing) in moods.iter().enumerate() {
        let held_on = today
            .checked_sub_days(chrono::Days::new(3 + 14 * i as u64))
            .unwrap_or(today);
        checkins::record(
            db,
            keys,
            mailer,
            me,
            me.user_id,
            CheckinInput {
                held_on,
                with_supervisor: false,
                wellbeing: *wellbeing,
                risk: if *wellbeing < 4 {
                    Risk::Low
                } else {
                    Risk::None
                },
                call_requested: false,
                agreed_actions: Some("Go to the Thursday peer group".into()),
                notes: Some("A long week at the clinic; slept better by Sunday".into()),
                actions_shared: true,
                notes_shared: false,
            },
        )
        .await?;
    }
    Ok(())
}
