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

/// Whole months still to serve of `months`: what is told as "N more months", so that it and
/// the months served always add up to what the stage asks.
pub fn months_left(since: NaiveDate, months: u32, pauses: &[PauseRow], today: NaiveDate) -> u32 {
    months.saturating_sub(months_served(since, pauses, today))
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
    }

    /// The months a worker is told they have served agree with the day the eligibility
    /// text gives: m months served means the day of m has come and the day of m + 1 has not.
    #[test]
    fn months_served_agree_with_the_day_they_are_served() {
        let starts = [
            d(2025, 1, 31),
            d(2025, 3, 15),
            d(2025, 8, 31),
            d(2025, 11, 30),
        ];
        for since in starts {
            for pause_len in [0u64, 10, 45] {
                let from = since + Days::new(20);
                let pauses = [pause(from, Some(from + Days::new(pause_len)))];
                let mut today = since;
                while today < since + Days::new(500) {
                    let m = months_served(since, &pauses, today);
                    assert!(
                        served_on(since, m, &pauses, today) <= today,
                        "{since} {pause_len} {today}: {m} months not yet served"
                    );
                    assert!(
                        served_on(since, m + 1, &pauses, today) > today,
                        "{since} {pause_len} {today}: {} months already served",
                        m + 1
                    );
                    let due = served_on(since, 6, &pauses, today);
                    if due > today {
                        let left = months_left(since, 6, &pauses, today);
                        assert_eq!(left + m, 6, "{since} {pause_len} {today}: {m} and {left}");
                    }
                    today = today + Days::new(1);
                }
            }
        }
    }

    /// Month ends and leap days: a month from 31 January is served on the last day of
    /// February, in a leap year on the 29th; a pause ending the day it starts stops nothing.
    #[test]
    fn month_ends_and_leap_days() {
        let cases = [
            (d(2026, 1, 31), 1, d(2026, 2, 28)),
            (d(2028, 1, 31), 1, d(2028, 2, 29)),
            (d(2028, 2, 29), 12, d(2029, 2, 28)),
            (d(2026, 8, 31), 6, d(2027, 2, 28)),
            (d(2026, 3, 15), 0, d(2026, 3, 15)),
        ];
        for (since, months, on) in cases {
            assert_eq!(
                served_on(since, months, &[], since),
                on,
                "{since} + {months}"
            );
            assert_eq!(
                months_served(since, &[], on),
                months,
                "{since} + {months} on {on}"
            );
            if let Some(before) = on.pred_opt().filter(|b| *b >= since) {
                assert_eq!(months_served(since, &[], before), months.saturating_sub(1));
            }
        }
        let none = [pause(d(2026, 2, 1), Some(d(2026, 2, 1)))];
        assert_eq!(
            served_on(d(2026, 1, 1), 6, &none, d(2026, 3, 1)),
            d(2026, 7, 1)
        );
        assert_eq!(
            months_served(d(2026, 1, 1), &[], d(2025, 12, 1)),
            0,
            "before the start"
        );
    }
}
