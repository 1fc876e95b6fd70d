//! Reading what people type: dates as they write them, numbers with a decimal point, ids
//! from a list. What does not parse becomes a message beside the field, in plain words.

use chrono::NaiveDate;

use super::render::FormErrors;

/// A day typed as `2026-03-27` (what a date picker sends) or `27/3/2026` (what people type
/// where there is no picker).
pub fn day(value: &str, field: &str, what: &str, errors: &mut FormErrors) -> Option<NaiveDate> {
    let value = value.trim();
    if value.is_empty() {
        errors.add(field, format!("Enter {what}"));
        return None;
    }
    let parsed = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%d/%m/%Y"))
        .or_else(|_| NaiveDate::parse_from_str(value, "%d-%m-%Y"))
        .or_else(|_| NaiveDate::parse_from_str(value, "%d.%m.%Y"))
        .ok();
    if parsed.is_none() {
        errors.add(
            field,
            format!("Enter {what} as a real date, for example 27/3/2026"),
        );
    }
    parsed
}

/// A number of hours: "2", "1.5", "1,5".
pub fn hours(value: &str, field: &str, errors: &mut FormErrors) -> Option<f64> {
    let value = value.trim().replace(',', ".");
    if value.is_empty() {
        errors.add(field, "Enter how many hours it took");
        return None;
    }
    match value.parse::<f64>() {
        Ok(h) if h.is_finite() => Some(h),
        _ => {
            errors.add(field, "Enter the hours as a number, for example 2 or 1.5");
            None
        }
    }
}

/// An id chosen from a list the page offered.
pub fn chosen(value: &str, field: &str, what: &str, errors: &mut FormErrors) -> Option<uuid::Uuid> {
    match uuid::Uuid::parse_str(value.trim()) {
        Ok(id) => Some(id),
        Err(_) => {
            errors.add(field, format!("Choose {what}"));
            None
        }
    }
}

/// Text that must not be empty.
pub fn required(value: &str, field: &str, message: &str, errors: &mut FormErrors) {
    if value.trim().is_empty() {
        errors.add(field, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_read_as_people_write_them() {
        let mut errors = FormErrors::default();
        let want = NaiveDate::from_ymd_opt(2026, 3, 27);
        assert_eq!(day("2026-03-27", "d", "the date", &mut errors), want);
        assert_eq!(day("27/3/2026", "d", "the date", &mut errors), want);
        assert!(errors.is_empty());
        assert_eq!(day("31/2/2026", "d", "the date", &mut errors), None);
        assert_eq!(
            errors.0[0].message,
            "Enter the date as a real date, for example 27/3/2026"
        );
        let mut errors = FormErrors::default();
        assert_eq!(hours("1,5", "h", &mut errors), Some(1.5));
        assert_eq!(hours("lots", "h", &mut errors), None);
        assert_eq!(errors.0.len(), 1);
    }
}
