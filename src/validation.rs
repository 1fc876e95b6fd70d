//! Small checks shared by the domain modules, collecting per-field messages.

use chrono::{NaiveDate, Utc};

use crate::error::FieldErrors;

/// Checks text: trimmed, within `max` characters, required or not.
pub fn text(
    value: &str,
    field: &str,
    max: usize,
    required: bool,
    errors: &mut FieldErrors,
) -> String {
    let value = value.trim();
    if required && value.is_empty() {
        errors
            .entry(field.into())
            .or_default()
            .push("is required".into());
    }
    if value.chars().count() > max {
        errors
            .entry(field.into())
            .or_default()
            .push(format!("is longer than {max} characters"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        errors
            .entry(field.into())
            .or_default()
            .push("must not contain control characters".into());
    }
    value.to_string()
}

/// A catalogue code: 1 to 20 letters, digits, '-', '_' or '.'.
pub fn code(value: &str, errors: &mut FieldErrors) -> String {
    let code = text(value, "code", 20, true, errors);
    if !code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        errors
            .entry("code".into())
            .or_default()
            .push("may hold only letters, digits, '-', '_' and '.'".into());
    }
    code
}

/// The first day a date of past practice may name; earlier ones are taken as typing errors.
pub const EARLIEST_DAY: (i32, u32, u32) = (2000, 1, 1);

/// A day something happened: not after today (UTC), not before 2000.
pub fn past_day(day: NaiveDate, field: &str, errors: &mut FieldErrors) {
    let earliest = NaiveDate::from_ymd_opt(EARLIEST_DAY.0, EARLIEST_DAY.1, EARLIEST_DAY.2)
        .unwrap_or(NaiveDate::MIN);
    let message = if day > Utc::now().date_naive() {
        "must not be in the future"
    } else if day < earliest {
        "must be in 2000 or later"
    } else {
        return;
    };
    errors.entry(field.into()).or_default().push(message.into());
}
