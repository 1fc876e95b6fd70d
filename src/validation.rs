//! Small checks shared by the domain modules, collecting per-field messages.

use chrono::{NaiveDate, Utc};

use crate::error::FieldErrors;

/// Checks text: within `max` characters as sent (so that the length the OpenAPI document
/// publishes is the one enforced), then trimmed; required or not.
pub fn text(
    value: &str,
    field: &str,
    max: usize,
    required: bool,
    errors: &mut FieldErrors,
) -> String {
    let sent = value.chars().count();
    let value = value.trim();
    if required && value.is_empty() {
        errors
            .entry(field.into())
            .or_default()
            .push("is required".into());
    }
    if sent > max {
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

/// Whether a character may not stand in a name: control characters, and the invisible ones
/// that change how text around them reads (bidirectional embeddings, overrides, isolates and
/// marks; zero-width spaces and joiners that are not the ZWJ/ZWNJ some scripts need; the
/// byte-order mark), which let one name pass for another.
pub fn unfit_for_a_name(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// The refusal of a name holding such a character.
pub const UNFIT_NAME: &str =
    "must not contain control characters or invisible formatting (such as right-to-left overrides)";
