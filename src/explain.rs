//! Explained answers: each requirement met or not, with the reason in plain words.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequirementKind {
    TimeInStage,
    Module,
    Competency,
    SupervisionHours,
    MandatoryTraining,
    Appraisal,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Requirement {
    pub kind: RequirementKind,
    pub met: bool,
    /// What is done or missing, in plain words.
    pub reason: String,
    /// The day the reason names (an expiry, the day the time is served), where one applies.
    pub date: Option<NaiveDate>,
    /// The module or competency concerned.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub subject_id: Option<String>,
}

impl Requirement {
    pub fn new(kind: RequirementKind, met: bool, reason: String) -> Self {
        Self {
            kind,
            met,
            reason,
            date: None,
            subject_id: None,
        }
    }
    pub fn on(mut self, date: Option<NaiveDate>) -> Self {
        self.date = date;
        self
    }
    pub fn about(mut self, id: &str) -> Self {
        self.subject_id = Some(id.to_string());
        self
    }
}

/// The reasons of the requirements not met.
pub fn missing(requirements: &[Requirement]) -> Vec<String> {
    requirements
        .iter()
        .filter(|r| !r.met)
        .map(|r| r.reason.clone())
        .collect()
}

/// A day as people write it: "3 March 2026".
pub fn day(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// Minutes as hours with at most one decimal, without floating point: "6.5", "20".
pub fn hours(minutes: i64) -> String {
    let tenths = (minutes * 10 + 30) / 60;
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// "1 month", "4 months".
pub fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Money as people write it: "£25,674", "£25,674.50", "EUR 1,200".
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    let (units, cents) = (minor / 100, minor % 100);
    let digits = units.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let symbol = match currency {
        "GBP" => "£".to_string(),
        "EUR" => "€".to_string(),
        other => format!("{other} "),
    };
    if cents == 0 {
        format!("{sign}{symbol}{grouped}")
    } else {
        format!("{sign}{symbol}{grouped}.{cents:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_and_days_read_as_people_write_them() {
        assert_eq!(hours(390), "6.5");
        assert_eq!(hours(1200), "20");
        assert_eq!(hours(20), "0.3");
        assert_eq!(hours(0), "0");
        let d = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap_or_default();
        assert_eq!(day(d), "3 March 2026");
        assert_eq!(plural(1, "month", "months"), "1 month");
        assert_eq!(money(2_567_400, "GBP"), "£25,674");
        assert_eq!(money(2_567_450, "GBP"), "£25,674.50");
        assert_eq!(money(99, "EUR"), "€0.99");
        assert_eq!(money(100_000_000, "USD"), "USD 1,000,000");
    }
}
