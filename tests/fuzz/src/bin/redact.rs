//! `redact` on arbitrary text: never panics, is idempotent (a placeholder
//! is never redacted again, and nothing it writes forms a new secret), and
//! its output stays within `bound(len)`, three times the input plus 16.

use obs_runtime::redact::{redact, redact_field};

/// The longest output `redact` may make of `len` bytes, as
/// `tests/properties.rs` documents it: a sensitive pair with a one-byte
/// value grows most (`ssn=x`, 5 bytes, becomes `ssn=[REDACTED]`, 14).
fn bound(len: usize) -> usize {
    len.saturating_mul(3).saturating_add(16)
}

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let text = String::from_utf8_lossy(data);
        let once = redact(&text);
        assert!(
            once.len() <= bound(text.len()),
            "{} bytes became {}",
            text.len(),
            once.len()
        );
        let twice = redact(&once);
        assert_eq!(twice, once, "redact is not idempotent on {text:?}");
        // The field form takes the same path for a harmless name.
        assert_eq!(redact_field("note", &text), once);
        assert_eq!(redact_field("password", &text), "[REDACTED]");
    });
}
