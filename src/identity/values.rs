//! Parsed values: once constructed, they are valid.

use crate::error::{AppError, AppResult};

/// An email address as typed (trimmed), with a lower-case key for uniqueness and look-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    value: String,
}

impl Email {
    pub fn parse(raw: &str) -> AppResult<Self> {
        let value = raw.trim();
        let invalid = |why: &str| AppError::invalid("email", why.to_string());
        if value.is_empty() {
            return Err(invalid("is required"));
        }
        if value.len() > 254 || raw.chars().count() > 254 {
            return Err(invalid("is longer than 254 characters"));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces"));
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return Err(invalid("must look like name@example.org"));
        };
        if local.is_empty()
            || local.contains('@')
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(invalid("must look like name@example.org"));
        }
        Ok(Self {
            value: value.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The key that makes `Ana@Example.org` and `ana@example.org` the same account.
    pub fn key(&self) -> String {
        self.value.to_lowercase()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> AppResult<Self> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(AppError::invalid("display_name", "is required"));
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(AppError::invalid(
                "display_name",
                format!("is longer than {} characters", Self::MAX_CHARS),
            ));
        }
        if value.chars().any(crate::validation::unfit_for_a_name) {
            return Err(AppError::invalid(
                "display_name",
                crate::validation::UNFIT_NAME,
            ));
        }
        Ok(Self(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A name of an organisation or network: 1 to 200 characters, compared ignoring case.
pub fn parse_name(raw: &str) -> AppResult<(String, String)> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(AppError::invalid("name", "is required"));
    }
    if raw.chars().count() > 200 {
        return Err(AppError::invalid("name", "is longer than 200 characters"));
    }
    if value.chars().any(crate::validation::unfit_for_a_name) {
        return Err(AppError::invalid("name", crate::validation::UNFIT_NAME));
    }
    Ok((value.to_string(), value.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_keyed_ignoring_case() {
        let e = Email::parse("  Ana.Lopez@Example.org ").expect("valid");
        assert_eq!(e.as_str(), "Ana.Lopez@Example.org");
        assert_eq!(e.key(), "ana.lopez@example.org");
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.org",
            "a b@example.org",
            "ana@example",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
