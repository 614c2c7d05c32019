//! Redaction (stub, being replaced).
use std::borrow::Cow;

/// Applies the value detectors to free text.
#[must_use]
pub fn redact(text: &str) -> Cow<'_, str> {
    Cow::Borrowed(text)
}

/// Redacts a field's value by its name, then by its content.
#[must_use]
pub fn redact_field<'a>(name: &str, value: &'a str) -> Cow<'a, str> {
    if crate::schema::check_recorded_field(name).is_some() {
        Cow::Borrowed("[REDACTED]")
    } else {
        redact(value)
    }
}

/// Escapes control characters for console output.
#[must_use]
pub fn escape_console(text: &str) -> Cow<'_, str> {
    Cow::Borrowed(text)
}
