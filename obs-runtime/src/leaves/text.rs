//! Bounds on text that leaves the process.

use std::borrow::Cow;

/// The longest value, in bytes, a log field (or the message) keeps; longer
/// ones are cut at a character boundary and end in
/// `…[truncated N bytes]`. One request can then never write a line of
/// hundreds of kilobytes (a 300 KB header, a 1 MB path).
pub const MAX_VALUE_LEN: usize = 4 * 1024;

/// `value` cut to at most [`MAX_VALUE_LEN`] bytes, with the count of what
/// was cut.
pub(crate) fn cap(value: &str) -> Cow<'_, str> {
    cap_at(value, MAX_VALUE_LEN)
}

pub(crate) fn cap_at(value: &str, max: usize) -> Cow<'_, str> {
    if value.len() <= max {
        return Cow::Borrowed(value);
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!(
        "{}…[truncated {} bytes]",
        &value[..end],
        value.len() - end
    ))
}

/// Writes an unsigned integer in decimal, without the formatting machinery.
#[allow(
    clippy::indexing_slicing,
    reason = "`i` counts down from 20 once per digit, and a `u64` has at most 20 digits: always in bounds. The checks bound the loop, which LLVM then unrolls fully; the same loop over `iter_mut().rev()` or `get` ran a quarter more instructions per value under callgrind"
)]
pub(crate) fn write_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        // `v % 10` is below 10, so the cast can't truncate.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (v % 10) as u8;
        buf[i] = b'0' + digit;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // Pushed one by one: shorter than checking 1 to 20 bytes are UTF-8.
    out.reserve(buf.len() - i);
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// Writes a signed integer in decimal, as `Display` does.
pub(crate) fn write_i64(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    write_u64(out, v.unsigned_abs());
}

/// Writes `v` in decimal with at least `width` digits, zeros in front (the
/// fields of a timestamp).
pub(crate) fn write_padded(out: &mut String, v: u64, width: usize) {
    let mut digits = 1;
    let mut rest = v / 10;
    while rest > 0 {
        digits += 1;
        rest /= 10;
    }
    for _ in digits..width {
        out.push('0');
    }
    write_u64(out, v);
}

/// Writes a finite float exactly as its `Display` does (the shortest
/// decimal that reads back to it, never an exponent), without the
/// formatting machinery when the value is a whole number of millionths
/// below 10^9 (a duration in milliseconds from a count of nanoseconds,
/// a ratio, a size): such a decimal has at most 15 significant digits, so
/// it is the only one of that length or shorter that reads back to the
/// value, which makes it the shortest. Anything else goes through
/// `Display`.
pub(crate) fn write_f64(out: &mut String, v: f64) {
    use std::fmt::Write as _;
    const SCALE: f64 = 1e6;
    let magnitude = v.abs();
    if magnitude > 0.0 && magnitude < 1e9 {
        let millionths = (magnitude * SCALE).round();
        // Exactly the same value, not a nearby one.
        if (millionths / SCALE).to_bits() == magnitude.to_bits() {
            // Below 10^15 and whole: exact in a `u64`.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = millionths as u64;
            if v < 0.0 {
                out.push('-');
            }
            write_u64(out, n / 1_000_000);
            let mut fraction = n % 1_000_000;
            if fraction != 0 {
                let mut width = 6;
                while fraction.is_multiple_of(10) {
                    fraction /= 10;
                    width -= 1;
                }
                out.push('.');
                write_padded(out, fraction, width);
            }
            return;
        }
    }
    let _ = write!(out, "{v}");
}

/// A thread's spare string, kept between uses so a hot path (a log line,
/// its message) reuses one buffer instead of allocating each time.
pub(crate) type Spare = std::thread::LocalKey<std::cell::Cell<String>>;

/// The largest buffer kept as a spare: one huge line doesn't hold its
/// memory for the life of the thread.
const MAX_SPARE: usize = 16 * 1024;

/// The thread's spare string from `spare`, empty (a new one when it is in
/// use already, as when formatting a line logs another).
pub(crate) fn take_spare(spare: &'static Spare) -> String {
    let mut s = spare.try_with(std::cell::Cell::take).unwrap_or_default();
    s.clear();
    s
}

/// Gives `s` back to be the thread's spare string.
pub(crate) fn give_back(spare: &'static Spare, s: String) {
    if s.capacity() <= MAX_SPARE {
        let _ = spare.try_with(|cell| cell.set(s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_on_a_boundary_and_say_by_how_much() {
        assert_eq!(cap_at("short", 8), "short");
        assert_eq!(cap_at("abcdefghij", 4), "abcd…[truncated 6 bytes]");
        // 'é' is two bytes: the cut moves back to the boundary before it.
        assert_eq!(cap_at("abcé", 4), "abc…[truncated 2 bytes]");
        let huge = "x".repeat(1 << 20);
        assert!(cap(&huge).len() < MAX_VALUE_LEN + 40);
    }

    #[test]
    fn numbers_are_written_as_display_writes_them() {
        let mut out = String::new();
        for v in [0_i64, 7, -7, 10, 99, 100, i64::MAX, i64::MIN] {
            out.clear();
            write_i64(&mut out, v);
            assert_eq!(out, v.to_string());
        }
        for (v, width, shown) in [
            (7, 2, "07"),
            (12, 2, "12"),
            (5, 6, "000005"),
            (123, 2, "123"),
        ] {
            out.clear();
            write_padded(&mut out, v, width);
            assert_eq!(out, shown);
        }
        let mut floats = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            0.1,
            0.123_456,
            1.234_567,
            999_999_999.999_999,
            1e9,
            1e-7,
            1e300,
            0.3,
            2.5e-6,
            0.000_001,
            123.456,
            f64::MIN_POSITIVE,
            1e15,
            4_503_599_627_370_497.0,
        ];
        // Durations in milliseconds from nanoseconds, as the access line has them.
        let mut ns: u64 = 1;
        while ns < 1 << 52 {
            #[allow(clippy::cast_precision_loss)]
            floats.push(ns as f64 / 1e6);
            #[allow(clippy::cast_precision_loss)]
            floats.push((ns + 1) as f64 / 1e6);
            ns = ns * 3 + 7;
        }
        // And values that are no whole number of millionths.
        let mut x = 0.000_123_456_789_f64;
        while x < 1e12 {
            floats.push(x);
            floats.push(-x);
            x *= 1.7;
        }
        for v in floats {
            out.clear();
            write_f64(&mut out, v);
            assert_eq!(out, v.to_string(), "{v:e}");
        }
    }

    #[test]
    fn a_spare_is_reused_empty_and_a_huge_one_is_not_kept() {
        thread_local! {
            static SPARE: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
        }
        let mut s = take_spare(&SPARE);
        s.push_str("first line");
        let capacity = s.capacity();
        let address = s.as_ptr();
        give_back(&SPARE, s);
        let again = take_spare(&SPARE);
        assert!(again.is_empty());
        assert_eq!((again.capacity(), again.as_ptr()), (capacity, address));
        // Taken while in use: a new, empty one.
        assert_eq!(take_spare(&SPARE).capacity(), 0);
        give_back(&SPARE, "x".repeat(MAX_SPARE + 1));
        assert_eq!(take_spare(&SPARE).capacity(), 0);
        drop(again);
    }
}
