//! JSON text written by hand: the log formatter and the health report
//! need only strings, and a hand-written writer keeps them valid whatever
//! the input.

use std::fmt::Write as _;

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
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
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
}
