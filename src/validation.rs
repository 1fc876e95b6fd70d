//! Small checks shared by the domain modules, collecting per-field messages.

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
