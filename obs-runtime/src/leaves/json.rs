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
///
/// Runs of plain ASCII (most of a log line) are copied whole; only the
/// characters that need a look go one by one.
pub(crate) fn json_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    // Most strings (every field name) are plain throughout.
    if all_plain(s.as_bytes()) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut rest = s;
    loop {
        // Bytes written as they are; the first other one is ASCII or starts
        // a character, so the run ends on a character boundary.
        let plain = plain_len(rest.as_bytes());
        let Some((run, tail)) = rest.split_at_checked(plain) else {
            break;
        };
        out.push_str(run);
        let mut chars = tail.chars();
        let Some(c) = chars.next() else {
            break;
        };
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
        rest = chars.as_str();
    }
    out.push('"');
}

/// Whether a byte is written as it is in a JSON string.
const fn is_plain(b: u8) -> bool {
    b >= 0x20 && b != b'"' && b != b'\\' && b < 0x80
}

/// Whether any of the eight bytes of `x` can need a look in a JSON string
/// (a control, a quote, a backslash, a byte of a multi-byte character).
const fn has_special(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Non-zero when a byte of `x` is below `n` (exact as to whether one
    // is, for `n` up to 0x80).
    const fn below(x: u64, n: u64) -> u64 {
        x.wrapping_sub(ONES * n) & !x & HIGH
    }
    let quote = below(x ^ (ONES * b'"' as u64), 1);
    let backslash = below(x ^ (ONES * b'\\' as u64), 1);
    (x & HIGH) | below(x, 0x20) | quote | backslash != 0
}

/// Whether every byte of `bytes` is plain, a word at a time; the last
/// word overlaps the one before it, or is padded with spaces when the
/// whole text is shorter than a word.
fn all_plain(bytes: &[u8]) -> bool {
    let (words, rest) = bytes.as_chunks::<8>();
    if words.iter().any(|w| has_special(u64::from_le_bytes(*w))) {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let mut last = [b' '; 8];
    match bytes.last_chunk::<8>() {
        Some(tail) => last = *tail,
        None => {
            for (to, from) in last.iter_mut().zip(rest) {
                *to = *from;
            }
        }
    }
    !has_special(u64::from_le_bytes(last))
}

/// How many bytes from the start of `bytes` are plain: eight at a time
/// while no byte of the word can need a look, then one by one.
fn plain_len(bytes: &[u8]) -> usize {
    let (words, _) = bytes.as_chunks::<8>();
    let mut plain = 0;
    for word in words {
        if has_special(u64::from_le_bytes(*word)) {
            break;
        }
        plain += 8;
    }
    let tail = bytes.get(plain..).unwrap_or_default();
    plain
        + tail
            .iter()
            .position(|&b| !is_plain(b))
            .unwrap_or(tail.len())
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
    fn runs_between_escapes_are_copied_whole() {
        let mut s = String::new();
        json_string(
            &mut s,
            "plain ascii, then é and \"quotes\" at the end\u{7f}",
        );
        assert_eq!(
            s,
            "\"plain ascii, then é and \\\"quotes\\\" at the end\u{7f}\""
        );
        let mut empty = String::new();
        json_string(&mut empty, "");
        assert_eq!(empty, "\"\"");
        let text = "ü\u{0}x\u{2029}";
        let mut t = String::new();
        json_string(&mut t, text);
        assert_eq!(t, "\"ü\\u0000x\\u2029\"");
    }

    #[test]
    fn bidi_controls_are_escaped() {
        let mut s = String::new();
        json_string(&mut s, "user\u{202E}nimda\u{2066}x\u{200F}");
        assert_eq!(s, "\"user\\u202enimda\\u2066x\\u200f\"");
        assert!(!is_bidi_control('a') && !is_bidi_control('\u{2028}'));
    }

    #[test]
    fn the_word_scan_stops_where_the_byte_scan_does() {
        let specials = [
            b'"', b'\\', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xc3, 0xff, b'a', 0x21, 0x5b, 0x5d,
        ];
        assert!(all_plain(b"") && all_plain(b"x") && !all_plain(b"\""));
        for len in 0..24 {
            for at in 0..len {
                for &special in &specials {
                    let mut bytes = vec![b'x'; len];
                    if let Some(b) = bytes.get_mut(at) {
                        *b = special;
                    }
                    let expected = bytes.iter().position(|&b| !is_plain(b)).unwrap_or(len);
                    assert_eq!(plain_len(&bytes), expected, "{bytes:?}");
                    assert_eq!(all_plain(&bytes), expected == len, "{bytes:?}");
                }
            }
        }
    }
}
