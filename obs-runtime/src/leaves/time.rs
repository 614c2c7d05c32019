//! RFC 3339 timestamps in UTC, for log lines and health reports, without a
//! date-time dependency.

use crate::leaves::text::write_padded;
use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// How many fractional digits a timestamp carries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Precision {
    /// `2026-11-23T16:40:47.123Z`, as health reports show it.
    Millis,
    /// `2026-11-23T16:40:47.123456Z`, as log lines carry it.
    Micros,
}

/// The length of `2026-11-23T16:40:47.`, the part a second shares.
const SECOND_LEN: usize = 20;

thread_local! {
    /// The last second this thread wrote, and its text up to the
    /// fraction: log lines come many to a second.
    static LAST_SECOND: Cell<(u64, [u8; SECOND_LEN])> =
        const { Cell::new((u64::MAX, [0; SECOND_LEN])) };
}

/// Appends `t` as RFC 3339 in UTC.
pub(crate) fn rfc3339(out: &mut String, t: SystemTime, precision: Precision) {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    out.reserve(SECOND_LEN + 7);
    let (last, text) = LAST_SECOND.with(Cell::get);
    match std::str::from_utf8(&text) {
        Ok(text) if last == secs => out.push_str(text),
        _ => {
            let start = out.len();
            second(out, secs);
            if let Some(Ok(text)) = out
                .as_bytes()
                .get(start..)
                .map(<[u8; SECOND_LEN]>::try_from)
            {
                LAST_SECOND.with(|last| last.set((secs, text)));
            }
        }
    }
    match precision {
        Precision::Millis => write_padded(out, u64::from(since.subsec_millis()), 3),
        Precision::Micros => write_padded(out, u64::from(since.subsec_micros()), 6),
    }
    out.push('Z');
}

/// Appends the second `secs` after the epoch, up to its fraction:
/// `2026-11-23T16:40:47.`.
fn second(out: &mut String, secs: u64) {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = i64::try_from(secs % 86_400).unwrap_or(0);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let push = |out: &mut String, v: i64, width: usize, after: char| {
        write_padded(out, u64::try_from(v).unwrap_or(0), width);
        out.push(after);
    };
    push(out, year, 4, '-');
    push(out, month, 2, '-');
    push(out, day, 2, 'T');
    push(out, rem / 3_600, 2, ':');
    push(out, rem % 3_600 / 60, 2, ':');
    push(out, rem % 60, 2, '.');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(t: SystemTime, p: Precision) -> String {
        let mut s = String::new();
        rfc3339(&mut s, t, p);
        s
    }

    #[test]
    fn civil_dates_in_utc() {
        assert_eq!(
            at(UNIX_EPOCH, Precision::Millis),
            "1970-01-01T00:00:00.000Z"
        );
        let t = UNIX_EPOCH + Duration::new(1_795_448_492, 123_456_000);
        assert_eq!(at(t, Precision::Micros), "2026-11-23T15:41:32.123456Z");
        let leap = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789); // 29 Feb 2024
        assert_eq!(at(leap, Precision::Millis), "2024-02-29T12:34:56.789Z");
        let day = 86_400;
        let t = UNIX_EPOCH + Duration::from_secs(11_016 * day); // 29 Feb 2000
        assert_eq!(at(t, Precision::Micros), "2000-02-29T00:00:00.000000Z");
        let t = UNIX_EPOCH + Duration::from_secs(11_017 * day);
        assert_eq!(at(t, Precision::Millis), "2000-03-01T00:00:00.000Z");
    }

    #[test]
    fn a_remembered_second_is_the_second() {
        let base = UNIX_EPOCH + Duration::new(1_795_448_492, 0);
        let times = [
            (
                base + Duration::from_micros(1),
                "2026-11-23T15:41:32.000001Z",
            ),
            (
                base + Duration::from_micros(999_999),
                "2026-11-23T15:41:32.999999Z",
            ),
            (base + Duration::from_secs(1), "2026-11-23T15:41:33.000000Z"),
            (base, "2026-11-23T15:41:32.000000Z"),
            (
                UNIX_EPOCH + Duration::from_hours(70_389_528),
                "10000-01-01T00:00:00.000000Z",
            ),
            (
                UNIX_EPOCH + Duration::from_hours(70_389_528),
                "10000-01-01T00:00:00.000000Z",
            ),
            (base, "2026-11-23T15:41:32.000000Z"),
        ];
        for (t, shown) in times {
            assert_eq!(at(t, Precision::Micros), shown);
        }
    }
}
