//! Durations written in the source (health check timeouts): a whole number
//! and a unit, parsed at compile time.

/// Longest timeout a health check may have, in milliseconds (60 s). A check
/// that takes longer answers a probe that Kubernetes gave up on long ago.
pub const MAX_HEALTH_CHECK_TIMEOUT_MS: u64 = 60_000;

/// The timeout of a health check that names none, in milliseconds.
pub const DEFAULT_HEALTH_CHECK_TIMEOUT_MS: u64 = 1_000;

/// Parses a health check's timeout: a whole number followed, with no space,
/// by `ms`, `s` or `m`; more than zero and at most 60 s. Returns the
/// milliseconds, or the rule the text breaks.
///
/// ```
/// use obs_runtime::schema::parse_health_timeout;
/// assert_eq!(parse_health_timeout("250ms"), Ok(250));
/// assert_eq!(parse_health_timeout("2s"), Ok(2_000));
/// assert_eq!(parse_health_timeout("1m"), Ok(60_000));
/// assert!(parse_health_timeout("2 s").is_err());
/// assert!(parse_health_timeout("2x").is_err());
/// assert!(parse_health_timeout("90s").is_err());
/// ```
///
/// # Errors
/// The message of the rule the text breaks, with the fix.
pub const fn parse_health_timeout(text: &str) -> Result<u64, &'static str> {
    const SHAPE: &str = "a health check's timeout is a whole number followed by `ms`, `s` or `m`, with no space: `timeout = \"250ms\"`, `\"2s\"` or `\"1m\"`";
    let mut rest = text.as_bytes();
    let mut digits = 0;
    let mut value: u64 = 0;
    while let [c @ b'0'..=b'9', tail @ ..] = rest {
        value = match value.checked_mul(10) {
            Some(v) => match v.checked_add((*c - b'0') as u64) {
                Some(v) => v,
                None => return Err(TIMEOUT_TOO_LONG),
            },
            None => return Err(TIMEOUT_TOO_LONG),
        };
        digits += 1;
        rest = tail;
    }
    if digits == 0 {
        return Err(SHAPE);
    }
    let unit_ms: u64 = match rest {
        b"ms" => 1,
        b"s" => 1_000,
        b"m" => 60_000,
        _ => return Err(SHAPE),
    };
    let Some(ms) = value.checked_mul(unit_ms) else {
        return Err(TIMEOUT_TOO_LONG);
    };
    if ms == 0 {
        return Err(
            "a health check's timeout must be more than zero: a check needs time to answer, such as `timeout = \"500ms\"`",
        );
    }
    if ms > MAX_HEALTH_CHECK_TIMEOUT_MS {
        return Err(TIMEOUT_TOO_LONG);
    }
    Ok(ms)
}

const TIMEOUT_TOO_LONG: &str = "a health check's timeout may be at most 60s: a probe that waits longer has already been given up on by Kubernetes (its `timeoutSeconds`), so fail fast and let the next probe try again, for example `timeout = \"2s\"`";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_timeouts() {
        assert_eq!(parse_health_timeout("60s"), Ok(60_000));
        assert_eq!(parse_health_timeout("60000ms"), Ok(60_000));
        for bad in [
            "",
            "s",
            "2",
            "2 s",
            " 2s",
            "2x",
            "2S",
            "1.5s",
            "61s",
            "2m",
            "0ms",
            "99999999999999999999s",
        ] {
            assert!(parse_health_timeout(bad).is_err(), "{bad:?} passed");
        }
    }
}
