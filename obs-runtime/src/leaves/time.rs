//! RFC 3339 timestamps in UTC, for log lines and health reports, without a
//! date-time dependency.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// How many fractional digits a timestamp carries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Precision {
    /// `2026-11-23T16:40:47.123Z`, as health reports show it.
    Millis,
    /// `2026-11-23T16:40:47.123456Z`, as log lines carry it.
    Micros,
}

/// Appends `t` as RFC 3339 in UTC.
pub(crate) fn rfc3339(out: &mut String, t: SystemTime, precision: Precision) {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
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
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    );
    let _ = match precision {
        Precision::Millis => write!(out, ".{:03}Z", since.subsec_millis()),
        Precision::Micros => write!(out, ".{:06}Z", since.subsec_micros()),
    };
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
}
