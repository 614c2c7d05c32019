//! Service level objectives written in the source:
//! `slo(success = "99.9%", latency = "250ms", percentile = "99%", period = "30d")`.
//! Parsed at compile time, kept exact (parts per million and whole
//! milliseconds), so the generated rules print `0.001`, never
//! `0.0009999999999999432`.
//!
//! Definitions: a call whose result is `error` or `panic` is a bad event,
//! `ok` a good one, and `cancelled` (the caller went away) is not an event.
//! The latency SLI counts the calls that took at most `latency` among all
//! calls that were not cancelled; `percentile` of them must.
//!
//! For an HTTP route (`slo!(..)` given to `ObsLayer::slo`), a request
//! answered with a 5xx status or failed without an answer is a bad event,
//! any other status a good one, and a request whose caller went away first
//! is not an event; the latency SLI counts the requests answered at or
//! under `latency`, which must be a bound of the HTTP server's buckets
//! ([`check_http_latency_bound`]).

/// One million: objectives are kept in parts per million.
pub const PPM: u32 = 1_000_000;

/// The objective periods `period = ".."` may name, in days.
pub const OBJECTIVE_PERIODS: &[u32] = &[7, 28, 30];

/// The default objective period, in days.
pub const DEFAULT_OBJECTIVE_PERIOD_DAYS: u32 = 30;

/// The keys of `slo(..)`, for the message about an unknown one.
pub const SLO_KEYS: &[&str] = &["success", "latency", "percentile", "period"];

/// An objective of one function or route, exact.
///
/// ```
/// use obs_runtime::schema::Objective;
/// let checkout = Objective::new().success(999_000).latency(250, 990_000);
/// assert_eq!(checkout.success_ppm, Some(999_000));
/// assert_eq!(checkout.period_days, 30);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Objective {
    /// The share of non-cancelled calls that must succeed, in parts per
    /// million (`99.9%` → `999_000`).
    pub success_ppm: Option<u32>,
    /// The latency bound, in milliseconds; a bucket bound of the histogram.
    pub latency_ms: Option<u64>,
    /// The share of non-cancelled calls that must finish within
    /// `latency_ms`, in parts per million.
    pub percentile_ppm: Option<u32>,
    /// The period the error budget is counted over, in days.
    pub period_days: u32,
}

impl Default for Objective {
    fn default() -> Self {
        Self::new()
    }
}

impl Objective {
    /// No objective yet, over the default period.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            success_ppm: None,
            latency_ms: None,
            percentile_ppm: None,
            period_days: DEFAULT_OBJECTIVE_PERIOD_DAYS,
        }
    }

    /// With a success objective, in parts per million.
    #[must_use]
    pub const fn success(mut self, ppm: u32) -> Self {
        self.success_ppm = Some(ppm);
        self
    }

    /// With a latency objective: `percentile_ppm` of calls within `ms`.
    #[must_use]
    pub const fn latency(mut self, ms: u64, percentile_ppm: u32) -> Self {
        self.latency_ms = Some(ms);
        self.percentile_ppm = Some(percentile_ppm);
        self
    }

    /// Over `days` (7, 28 or 30).
    #[must_use]
    pub const fn period(mut self, days: u32) -> Self {
        self.period_days = days;
        self
    }
}

const PERCENT_SHAPE: &str = "an objective is a percentage between 0 and 100, exclusive, with at most four decimals and a `%`: `success = \"99.9%\"`, `percentile = \"99%\"`";

/// Parses `"99.9%"` into parts per million (`999_000`). The value must be
/// above 0 and below 100 (100 % leaves no error budget), with at most four
/// decimals.
///
/// ```
/// use obs_runtime::schema::parse_percentage;
/// assert_eq!(parse_percentage("99.9%"), Ok(999_000));
/// assert_eq!(parse_percentage("95%"), Ok(950_000));
/// assert_eq!(parse_percentage("99.9999%"), Ok(999_999));
/// assert!(parse_percentage("100%").is_err());
/// assert!(parse_percentage("0.999").is_err());
/// assert!(parse_percentage("99.99999%").is_err());
/// ```
///
/// # Errors
/// The rule the text breaks, with the fix.
pub const fn parse_percentage(text: &str) -> Result<u32, &'static str> {
    let mut rest = text.as_bytes();
    let mut whole: u32 = 0;
    let mut digits = 0;
    while let [c @ b'0'..=b'9', tail @ ..] = rest {
        if whole > 100 {
            return Err(PERCENT_SHAPE);
        }
        whole = whole * 10 + (*c - b'0') as u32;
        digits += 1;
        rest = tail;
    }
    if digits == 0 {
        return Err(PERCENT_SHAPE);
    }
    let mut fraction: u32 = 0;
    let mut decimals = 0;
    if let [b'.', tail @ ..] = rest {
        rest = tail;
        while let [c @ b'0'..=b'9', tail @ ..] = rest {
            if decimals == 4 {
                return Err(PERCENT_SHAPE);
            }
            fraction = fraction * 10 + (*c - b'0') as u32;
            decimals += 1;
            rest = tail;
        }
        if decimals == 0 {
            return Err(PERCENT_SHAPE);
        }
    }
    let [b'%'] = rest else {
        return Err(PERCENT_SHAPE);
    };
    while decimals < 4 {
        fraction *= 10;
        decimals += 1;
    }
    if whole > 100 {
        return Err(PERCENT_SHAPE);
    }
    // Percent with four decimals is parts per million.
    let ppm = whole * 10_000 + fraction;
    if ppm == 0 || ppm >= PPM {
        return Err(
            "an objective must be above 0% and below 100%: 100% leaves no error budget, so every failure would page; `success = \"99.9%\"`",
        );
    }
    Ok(ppm)
}

const LATENCY_SHAPE: &str = "a latency objective is a whole number followed by `ms` or `s`, with no space: `latency = \"250ms\"` or `latency = \"2s\"`";

/// Parses a latency objective, `"250ms"` or `"2s"`, into milliseconds.
///
/// ```
/// use obs_runtime::schema::parse_latency;
/// assert_eq!(parse_latency("250ms"), Ok(250));
/// assert_eq!(parse_latency("2s"), Ok(2_000));
/// assert!(parse_latency("0ms").is_err());
/// assert!(parse_latency("2 s").is_err());
/// ```
///
/// # Errors
/// The rule the text breaks, with the fix.
pub const fn parse_latency(text: &str) -> Result<u64, &'static str> {
    let mut rest = text.as_bytes();
    let mut digits = 0;
    let mut value: u64 = 0;
    while let [c @ b'0'..=b'9', tail @ ..] = rest {
        if value > 1_000_000_000 {
            return Err(LATENCY_SHAPE);
        }
        value = value * 10 + (*c - b'0') as u64;
        digits += 1;
        rest = tail;
    }
    if digits == 0 {
        return Err(LATENCY_SHAPE);
    }
    let ms = match rest {
        b"ms" => value,
        b"s" => value * 1_000,
        _ => return Err(LATENCY_SHAPE),
    };
    if ms == 0 {
        return Err("a latency objective must be more than zero: `latency = \"250ms\"`");
    }
    Ok(ms)
}

/// Parses an objective period, `"7d"`, `"28d"` or `"30d"`, into days.
///
/// ```
/// use obs_runtime::schema::parse_period;
/// assert_eq!(parse_period("28d"), Ok(28));
/// assert!(parse_period("14d").is_err());
/// ```
///
/// # Errors
/// The rule the text breaks, with the fix.
pub const fn parse_period(text: &str) -> Result<u32, &'static str> {
    const SHAPE: &str = "an objective's period is \"7d\", \"28d\" or \"30d\" (the default): the windows of the burn-rate alerts are tuned for these";
    let [digits @ .., b'd'] = text.as_bytes() else {
        return Err(SHAPE);
    };
    if digits.is_empty() {
        return Err(SHAPE);
    }
    let mut days: u32 = 0;
    let mut rest = digits;
    while let [c, tail @ ..] = rest {
        if !c.is_ascii_digit() || days > 1_000 {
            return Err(SHAPE);
        }
        days = days * 10 + (*c - b'0') as u32;
        rest = tail;
    }
    let mut periods = OBJECTIVE_PERIODS;
    while let [period, tail @ ..] = periods {
        if *period == days {
            return Ok(days);
        }
        periods = tail;
    }
    Err(SHAPE)
}

/// Which parts an objective needs together: `latency` and `percentile`
/// come as a pair, and an `slo(..)` names at least `success` or that pair.
///
/// ```
/// use obs_runtime::schema::check_objective_parts;
/// assert!(check_objective_parts(true, false, false).is_none());
/// assert!(check_objective_parts(false, true, true).is_none());
/// assert!(check_objective_parts(false, true, false).is_some());
/// assert!(check_objective_parts(false, false, false).is_some());
/// ```
#[must_use]
pub const fn check_objective_parts(
    success: bool,
    latency: bool,
    percentile: bool,
) -> Option<&'static str> {
    if latency && !percentile {
        return Some(
            "a latency objective needs `percentile`: the share of calls that must finish within it, `slo(latency = \"250ms\", percentile = \"99%\")`",
        );
    }
    if percentile && !latency {
        return Some(
            "`percentile` needs `latency`: the bound the calls must finish within, `slo(latency = \"250ms\", percentile = \"99%\")`",
        );
    }
    if !success && !latency {
        return Some(
            "an `slo(..)` names `success = \"99.9%\"`, or `latency = \"250ms\"` with `percentile = \"99%\"`, or both",
        );
    }
    None
}

/// A message built at compile time, for rules whose message names values
/// (the nearest bucket bounds). `None` from [`as_str`](Self::as_str) when
/// the rule holds.
#[derive(Debug, Clone, Copy)]
pub struct Message {
    buf: [u8; 384],
    len: usize,
}

impl Message {
    const fn empty() -> Self {
        Self {
            buf: [0; 384],
            len: 0,
        }
    }

    /// Appends `c`; past the buffer's end the message is cut.
    const fn push_byte(mut self, c: u8) -> Self {
        if let Some((_, [slot, ..])) = self.buf.split_at_mut_checked(self.len) {
            *slot = c;
            self.len += 1;
        }
        self
    }

    const fn push(mut self, s: &str) -> Self {
        let mut rest = s.as_bytes();
        while let [c, tail @ ..] = rest {
            self = self.push_byte(*c);
            rest = tail;
        }
        self
    }

    /// `ms` as it would be written: `250ms`, `2s`, `2500ms`.
    const fn push_ms(self, ms: u64) -> Self {
        let (value, unit) = if ms >= 1_000 && ms.is_multiple_of(1_000) {
            (ms / 1_000, "s")
        } else {
            (ms, "ms")
        };
        // The largest power of ten in `value`, then its digits from the top.
        let mut divisor: u64 = 1;
        while divisor <= value / 10 {
            divisor *= 10;
        }
        let mut out = self;
        loop {
            out = out.push_byte(b'0' + (value / divisor % 10) as u8);
            if divisor == 1 {
                break;
            }
            divisor /= 10;
        }
        out.push(unit)
    }

    /// The message, or `None` when the rule holds.
    #[must_use]
    pub const fn as_str(&self) -> Option<&str> {
        if self.len == 0 {
            return None;
        }
        let (text, _) = self.buf.split_at(self.len);
        match core::str::from_utf8(text) {
            Ok(s) => Some(s),
            Err(_) => Some("a latency objective must equal a bound of its histogram"),
        }
    }
}

/// A bucket bound in whole milliseconds, when it is one (`0.25` → 250).
const fn bound_ms(bound: f64) -> Option<u64> {
    if bound.is_nan() || bound <= 0.0 || bound > 1.0e9 {
        return None;
    }
    let ms = bound * 1_000.0;
    // In range (checked above), and kept only when the round trip is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = ms as u64;
    #[allow(clippy::cast_precision_loss, clippy::float_cmp)]
    let exact = (whole as f64) == ms;
    if exact { Some(whole) } else { None }
}

/// Checks that a latency objective of `latency_ms` is one of `bounds` (in
/// seconds): a histogram can only say how many calls finished within one of
/// its bounds. The message names the two nearest bounds. `latency_ms = 0`
/// (an objective that didn't parse, reported on its own) passes.
///
/// ```
/// use obs_runtime::schema::{check_latency_bound, LATENCY};
/// assert!(check_latency_bound(250, LATENCY).as_str().is_none());
/// let why = check_latency_bound(300, LATENCY);
/// let why = why.as_str().unwrap();
/// assert!(why.contains("250ms") && why.contains("500ms"), "{why}");
/// ```
#[must_use]
pub const fn check_latency_bound(latency_ms: u64, bounds: &[f64]) -> Message {
    nearest_bounds(
        latency_ms,
        bounds,
        "\" is not a bound of this function's buckets, and a histogram can only count the calls within one of its bounds; ",
        ": use one of them, or add the bound to `buckets = [..]`",
    )
}

/// Checks that a route objective's latency of `latency_ms` is a bound of
/// `http_server_request_duration_seconds` ([`HTTP`](super::HTTP), the
/// OpenTelemetry boundaries the HTTP layer records with): the same rule as
/// [`check_latency_bound`], with a message about the HTTP buckets, which
/// the program can't change.
///
/// ```
/// use obs_runtime::schema::check_http_latency_bound;
/// assert!(check_http_latency_bound(250).as_str().is_none());
/// assert!(check_http_latency_bound(75).as_str().is_none());
/// let why = check_http_latency_bound(300);
/// let why = why.as_str().unwrap();
/// assert!(why.contains("nearest are 250ms and 500ms"), "{why}");
/// ```
#[must_use]
pub const fn check_http_latency_bound(latency_ms: u64) -> Message {
    nearest_bounds(
        latency_ms,
        super::HTTP,
        "\" is not a bound of http_server_request_duration_seconds, and a histogram can only count the requests within one of its bounds; ",
        ": use one of them",
    )
}

/// The rule of both latency checks: `latency_ms` must be one of `bounds`,
/// else a message `latency = "<ms>` + `why` + the nearest bounds + `fix`.
const fn nearest_bounds(latency_ms: u64, bounds: &[f64], why: &str, fix: &str) -> Message {
    if latency_ms == 0 {
        return Message::empty();
    }
    let mut below: Option<u64> = None;
    let mut above: Option<u64> = None;
    let mut rest = bounds;
    while let [bound, tail @ ..] = rest {
        let bound = *bound;
        rest = tail;
        // Exact on purpose: `250 / 1000` is the same double as the literal
        // `0.25` (division is correctly rounded), and a bound a hair off is
        // not the bound the histogram counts at. Latencies fit in 52 bits.
        #[allow(clippy::cast_precision_loss)]
        let target = latency_ms as f64 / 1_000.0;
        #[allow(clippy::float_cmp)]
        let equal = bound == target;
        if equal {
            return Message::empty();
        }
        if let Some(ms) = bound_ms(bound) {
            if ms < latency_ms {
                below = Some(ms);
            } else if above.is_none() {
                above = Some(ms);
            }
        }
    }
    let mut m = Message::empty()
        .push("latency = \"")
        .push_ms(latency_ms)
        .push(why);
    m = match (below, above) {
        (Some(b), Some(a)) => m
            .push("the nearest are ")
            .push_ms(b)
            .push(" and ")
            .push_ms(a),
        (Some(b), None) => m.push("the largest is ").push_ms(b),
        (None, Some(a)) => m.push("the smallest is ").push_ms(a),
        (None, None) => m.push("the buckets have no bound in whole milliseconds"),
    };
    m.push(fix)
}

/// Checks an objective built at run time (by hand, not by `slo!`) for an
/// HTTP route: the rules `slo!` checks at compile time — its parts, each
/// percentage above 0 and below 100 %, a known period, and a latency that
/// is a bound of the HTTP server's buckets.
///
/// ```
/// use obs_runtime::schema::{check_http_objective, Objective};
/// assert!(check_http_objective(&Objective::new().success(995_000)).is_ok());
/// assert!(check_http_objective(&Objective::new()).is_err());
/// let why = check_http_objective(&Objective::new().latency(300, 990_000)).unwrap_err();
/// assert!(why.contains("nearest are 250ms and 500ms"), "{why}");
/// ```
///
/// # Errors
/// The rule the objective breaks, with the fix.
pub fn check_http_objective(objective: &Objective) -> Result<(), String> {
    if let Some(why) = check_objective_parts(
        objective.success_ppm.is_some(),
        objective.latency_ms.is_some(),
        objective.percentile_ppm.is_some(),
    ) {
        return Err(why.to_owned());
    }
    let percentages = [objective.success_ppm, objective.percentile_ppm];
    if percentages
        .into_iter()
        .flatten()
        .any(|ppm| ppm == 0 || ppm >= PPM)
    {
        return Err(
            "an objective must be above 0% and below 100% (parts per million between 1 and 999999)"
                .to_owned(),
        );
    }
    if !OBJECTIVE_PERIODS.contains(&objective.period_days) {
        return Err("an objective's period is 7, 28 or 30 days".to_owned());
    }
    if let Some(ms) = objective.latency_ms {
        if ms == 0 {
            return Err("a latency objective must be more than zero".to_owned());
        }
        if let Some(why) = check_http_latency_bound(ms).as_str() {
            return Err(why.to_owned());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaves::schema::LATENCY;

    #[test]
    fn percentages_are_exact() {
        assert_eq!(parse_percentage("99.95%"), Ok(999_500));
        assert_eq!(parse_percentage("0.0001%"), Ok(1));
        for bad in [
            "", "%", "99.%", "99.9", "101%", "1000%", "-1%", "99,9%", "0%", "0.0000%", " 99%",
        ] {
            assert!(parse_percentage(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn latencies_and_periods() {
        assert_eq!(parse_latency("1s"), Ok(1_000));
        for bad in ["", "ms", "1m", "1.5s", "1 s", "0s"] {
            assert!(parse_latency(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_period("7d"), Ok(7));
        assert_eq!(parse_period("30d"), Ok(30));
        for bad in ["", "d", "30", "1d", "30days", "x0d"] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn latency_must_be_a_bound_and_the_message_names_the_nearest() {
        for ms in [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000] {
            assert!(check_latency_bound(ms, LATENCY).as_str().is_none(), "{ms}");
        }
        let m = check_latency_bound(300, LATENCY);
        assert!(m.as_str().unwrap().contains("nearest are 250ms and 500ms"));
        let m = check_latency_bound(90_000, LATENCY);
        assert!(
            m.as_str().unwrap().contains("the largest is 10s"),
            "{:?}",
            m.as_str()
        );
        let m = check_latency_bound(1, LATENCY);
        assert!(
            m.as_str().unwrap().contains("the smallest is 10ms"),
            "{:?}",
            m.as_str()
        );
        assert!(check_latency_bound(0, LATENCY).as_str().is_none());
    }

    #[test]
    fn messages_write_numbers_and_stop_at_their_capacity() {
        let text = |m: Message| m.as_str().map(str::to_owned);
        assert_eq!(text(Message::empty().push_ms(0)).as_deref(), Some("0ms"));
        assert_eq!(text(Message::empty().push_ms(9)).as_deref(), Some("9ms"));
        assert_eq!(
            text(Message::empty().push_ms(10_000)).as_deref(),
            Some("10s")
        );
        assert_eq!(
            text(Message::empty().push_ms(u64::MAX)).as_deref(),
            Some("18446744073709551615ms")
        );
        let long = Message::empty().push(&"x".repeat(500)).push_ms(5);
        assert_eq!(long.as_str().map(str::len), Some(384));
    }

    #[test]
    fn http_latency_must_be_an_http_bucket_bound() {
        for ms in [5, 10, 25, 50, 75, 100, 250, 500, 750, 1_000, 2_500, 7_500] {
            assert!(check_http_latency_bound(ms).as_str().is_none(), "{ms}");
        }
        let m = check_http_latency_bound(200);
        let why = m.as_str().unwrap();
        assert!(why.contains("nearest are 100ms and 250ms"), "{why}");
        assert!(
            why.contains("http_server_request_duration_seconds"),
            "{why}"
        );
        assert!(!why.contains("buckets = ["), "{why}");
    }
}
