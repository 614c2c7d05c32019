//! Histogram bucket presets, the checks of explicit bucket lists, and the
//! default buckets of a histogram by its unit.

use super::limits::MAX_BUCKETS;
use super::text::bytes_eq;

/// Bucket presets by name, in seconds except `bytes`.
///
/// | preset    | bounds | meant for |
/// |-----------|--------|-----------|
/// | `latency` | 0.01 … 10 s (10 bounds) | ordinary function and RPC latency |
/// | `ai`      | 0.1 … 60 s (8 bounds) | LLM and other model calls, which take seconds |
/// | `http`    | 0.005 … 10 s (14 bounds) | the OpenTelemetry `http.server.request.duration` boundaries |
/// | `db`      | 0.0005 … 5 s (12 bounds) | database queries: sub-millisecond hits up to slow scans |
/// | `bytes`   | 64 B … 64 MiB, powers of 4 (11 bounds) | payload and message sizes |
pub const BUCKET_PRESETS: &[(&str, &[f64])] = &[
    ("latency", LATENCY),
    ("ai", AI),
    ("http", HTTP),
    ("db", DB),
    ("bytes", BYTES),
];

/// The `latency` preset.
pub const LATENCY: &[f64] = &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// The `ai` preset.
pub const AI: &[f64] = &[0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// The `http` preset: OpenTelemetry's advisory boundaries for
/// `http.server.request.duration`.
pub const HTTP: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
/// The `db` preset.
pub const DB: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
/// The `bytes` preset.
pub const BYTES: &[f64] = &[
    64.0,
    256.0,
    1_024.0,
    4_096.0,
    16_384.0,
    65_536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
];

/// The buckets of `#[instrumented]` when none are named.
pub const DEFAULT_BUCKETS: &[f64] = LATENCY;

/// Message for an unknown preset; it lists the valid ones.
pub const UNKNOWN_PRESET: &str = "unknown bucket preset: use one of \"latency\", \"ai\", \"http\", \"db\", \"bytes\", or an explicit list such as `buckets = [0.1, 0.5, 1.0]`";

/// The buckets of a histogram that names none, by its unit: `""` (seconds)
/// takes [`DEFAULT_BUCKETS`], `"bytes"` takes [`BYTES`]. Other units have
/// no sensible default, so they take [`BYTES`] too, as sizes are what
/// histograms with a unit measure in practice.
///
/// ```
/// use obs_runtime::schema::{default_buckets, BYTES, DEFAULT_BUCKETS};
/// assert_eq!(default_buckets(""), DEFAULT_BUCKETS);
/// assert_eq!(default_buckets("bytes"), BYTES);
/// ```
#[must_use]
pub const fn default_buckets(unit: &str) -> &'static [f64] {
    if unit.is_empty() {
        DEFAULT_BUCKETS
    } else {
        BYTES
    }
}

/// Looks a bucket preset up by name.
///
/// ```
/// assert_eq!(obs_runtime::schema::bucket_preset("ai").unwrap()[0], 0.1);
/// assert!(obs_runtime::schema::bucket_preset("fast").is_none());
/// ```
#[must_use]
pub const fn bucket_preset(name: &str) -> Option<&'static [f64]> {
    let mut rest = BUCKET_PRESETS;
    while let [(preset, bounds), tail @ ..] = rest {
        if bytes_eq(name.as_bytes(), preset.as_bytes()) {
            return Some(*bounds);
        }
        rest = tail;
    }
    None
}

/// Checks an explicit bucket list: non-empty, at most [`MAX_BUCKETS`] bounds,
/// finite, positive and strictly increasing.
///
/// ```
/// use obs_runtime::schema::check_buckets;
/// assert!(check_buckets(&[0.1, 0.5, 1.0]).is_none());
/// assert!(check_buckets(&[1.0, 0.5]).is_some());
/// assert!(check_buckets(&[]).is_some());
/// ```
#[must_use]
pub const fn check_buckets(bounds: &[f64]) -> Option<&'static str> {
    if bounds.is_empty() {
        return Some(
            "a bucket list can't be empty: give bounds such as `buckets = [0.1, 0.5, 1.0]` or a preset such as `buckets = \"latency\"`",
        );
    }
    if bounds.len() > MAX_BUCKETS {
        return Some(
            "a bucket list may have at most 32 bounds: every bound is one more series per label combination",
        );
    }
    let mut previous: Option<f64> = None;
    let mut rest = bounds;
    while let [b, tail @ ..] = rest {
        let b = *b;
        if b.is_nan() || b.is_infinite() {
            return Some(
                "bucket bounds must be finite: `+Inf` is always added for you, and NaN is never a bound",
            );
        }
        if b <= 0.0 {
            return Some(
                "bucket bounds must be positive: durations and sizes are never negative or zero",
            );
        }
        if let Some(previous) = previous
            && b <= previous
        {
            return Some(
                "bucket bounds must be strictly increasing, with no duplicates: sort them, for example `[0.1, 0.5, 1.0]`",
            );
        }
        previous = Some(b);
        rest = tail;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_bucket_lists() {
        for (name, bounds) in BUCKET_PRESETS {
            assert_eq!(check_buckets(bounds), None, "preset {name}");
        }
    }

    #[test]
    fn bucket_list_rules() {
        assert!(check_buckets(&[0.5, 0.5]).is_some());
        assert!(check_buckets(&[-1.0, 1.0]).is_some());
        assert!(check_buckets(&[0.0]).is_some());
        assert!(check_buckets(&[1.0, f64::INFINITY]).is_some());
        assert!(check_buckets(&[f64::NAN]).is_some());
        assert!(check_buckets(&[1.0; 33]).is_some());
        let many: Vec<f64> = (1..=32).map(f64::from).collect();
        assert!(check_buckets(&many).is_none());
    }
}
