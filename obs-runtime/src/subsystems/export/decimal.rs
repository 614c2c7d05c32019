//! Exact decimals for the generated files: objectives are whole parts per
//! million, so every threshold is an integer over a power of ten, printed
//! digit by digit — `0.001`, never `0.0009999999999999432`.

/// `numerator / 10^scale`, shortest exact form: `decimal(144_000, 7)` is
/// `"0.0144"`, `decimal(5, 0)` is `"5"`.
pub(crate) fn decimal(numerator: u64, scale: u32) -> String {
    let divisor = 10u64.pow(scale);
    let whole = numerator / divisor;
    let mut fraction = numerator % divisor;
    if fraction == 0 {
        return whole.to_string();
    }
    let mut digits = scale;
    while fraction.is_multiple_of(10) {
        fraction /= 10;
        digits -= 1;
    }
    format!("{whole}.{fraction:0width$}", width = digits as usize)
}

/// A bucket bound as our exposition writes it (`0.25`, `1`, `2.5`).
pub(crate) fn bound(seconds: f64) -> String {
    let mut out = String::new();
    crate::metric_core::encode::write_float(&mut out, seconds);
    out
}

/// A regex that matches a bound however it is spelled: Prometheus 3
/// writes whole bounds of classic histograms as `1.0` where Prometheus 2
/// and our exposition write `1`, and a rule matching one spelling never
/// fires on the other.
pub(crate) fn le_regex(seconds: f64) -> String {
    let text = bound(seconds);
    let escaped = text.replace('.', "\\\\.");
    if text.contains('.') || text.contains('e') || text.contains("Inf") {
        escaped
    } else {
        format!("{escaped}|{escaped}\\\\.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal(144_000, 7), "0.0144");
        assert_eq!(decimal(1_000, 6), "0.001");
        assert_eq!(decimal(6_000, 6), "0.006");
        assert_eq!(decimal(50, 3), "0.05");
        assert_eq!(decimal(5, 0), "5");
        assert_eq!(decimal(15, 1), "1.5");
        assert_eq!(decimal(1, 6), "0.000001");
    }

    #[test]
    fn bounds_match_both_spellings() {
        assert_eq!(le_regex(1.0), "1|1\\\\.0");
        assert_eq!(le_regex(0.25), "0\\\\.25");
        assert_eq!(le_regex(10.0), "10|10\\\\.0");
    }
}
