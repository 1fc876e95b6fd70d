//! The pathway clock: time in a stage counts only days the worker was not paused.

use chrono::{Days, Months, NaiveDate};

use crate::db::pauses::PauseRow;
pub use crate::workers::pauses::{is_paused, paused_days};

/// The day `months` of unpaused time in the stage are served, counting pauses up to today.
/// While a pause lasts the day moves on with it.
pub fn served_on(
    since: NaiveDate,
    months: u32,
    pauses: &[PauseRow],
    today: NaiveDate,
) -> NaiveDate {
    let base = since
        .checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX);
    let paused = paused_days(pauses, since, today.max(since));
    base.checked_add_days(Days::new(paused))
        .unwrap_or(NaiveDate::MAX)
}

/// Whole months of unpaused time in the stage by `today`.
pub fn months_served(since: NaiveDate, pauses: &[PauseRow], today: NaiveDate) -> u32 {
    if today <= since {
        return 0;
    }
    let paused = paused_days(pauses, since, today);
    let effective = today.checked_sub_days(Days::new(paused)).unwrap_or(since);
    let mut months = 0;
    while since
        .checked_add_months(Months::new(months + 1))
        .is_some_and(|d| d <= effective)
    {
        months += 1;
    }
    months
}

/// Whole months from `today` until `later`, rounded up.
pub fn months_until(today: NaiveDate, later: NaiveDate) -> u32 {
    let mut months = 0;
    while today
        .checked_add_months(Months::new(months))
        .is_some_and(|d| d < later)
    {
        months += 1;
    }
    months
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn pause(start: NaiveDate, end: Option<NaiveDate>) -> PauseRow {
        PauseRow {
            id: String::new(),
            worker_id: String::new(),
            organisation_id: String::new(),
            starts_on: start,
            planned_return_on: None,
            ended_on: end,
            category: "leave".into(),
            recorded_by: String::new(),
            ended_by: None,
            created_at: chrono::NaiveDateTime::default(),
        }
    }

    #[test]
    fn pauses_move_the_day_time_is_served() {
        let since = d(2026, 1, 1);
        assert_eq!(served_on(since, 6, &[], d(2026, 3, 1)), d(2026, 7, 1));
        let ten_days = [pause(d(2026, 2, 1), Some(d(2026, 2, 11)))];
        assert_eq!(
            served_on(since, 6, &ten_days, d(2026, 3, 1)),
            d(2026, 7, 11)
        );
        let open = [pause(d(2026, 2, 1), None)];
        assert_eq!(served_on(since, 6, &open, d(2026, 2, 21)), d(2026, 7, 21));
        assert!(is_paused(&open, d(2026, 2, 21)));
        assert!(!is_paused(&ten_days, d(2026, 2, 11)));
        assert_eq!(months_served(since, &ten_days, d(2026, 7, 10)), 5);
        assert_eq!(months_served(since, &ten_days, d(2026, 7, 11)), 6);
        assert_eq!(months_until(d(2026, 3, 1), d(2027, 7, 1)), 16);
        assert_eq!(months_until(d(2026, 3, 1), d(2026, 3, 2)), 1);
    }
}
