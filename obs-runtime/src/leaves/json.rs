//! JSON text written by hand: the log formatter and the health report
//! need only strings, and a hand-written writer keeps them valid whatever
//! the input.

use std::fmt::Write as _;

/// Unicode's bidirectional controls (U+061C, U+200E/F, U+202A–E,
/// U+2066–9): valid in JSON, but a log viewer that renders them can make a
/// line read differently from what it holds ("Trojan Source"), so they are
/// written as `\u` escapes.
pub(crate) const fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Appends `s` as a JSON string (with quotes); any input gives valid JSON.
pub(crate) fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' || is_bidi_control(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_always_valid() {
        let mut s = String::new();
        json_string(&mut s, "a\"b\\c\nd\u{1}\u{2028}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001\\u2028é\"");
    }

    #[test]
    fn bidi_controls_are_escaped() {
        let mut s = String::new();
        json_string(&mut s, "user\u{202E}nimda\u{2066}x\u{200F}");
        assert_eq!(s, "\"user\\u202enimda\\u2066x\\u200f\"");
        assert!(!is_bidi_control('a') && !is_bidi_control('\u{2028}'));
    }
}
