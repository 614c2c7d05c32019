//! How much of anything one metric may hold: series, labels, name and
//! value lengths, bucket bounds.

/// Most series one metric may hold before the cardinality guard folds new
/// label combinations into an overflow series.
pub const MAX_SERIES_PER_METRIC: usize = 10_000;

/// Longest label or metric name, in bytes.
pub const MAX_NAME_LEN: usize = 128;

/// Most labels one metric may carry.
pub const MAX_LABELS: usize = 16;

/// The value every dynamic label takes in the series that collects the
/// label combinations past a metric's series limit.
pub const OVERFLOW_VALUE: &str = "__overflow__";

/// Longest label value, in bytes; longer values are cut at a UTF-8 boundary.
pub const MAX_LABEL_VALUE_LEN: usize = 1_024;

/// Most bounds an explicit bucket list may have (`+Inf` not counted).
pub const MAX_BUCKETS: usize = 32;

/// Checks how many labels a label set or a call site declares: at most
/// [`MAX_LABELS`].
///
/// ```
/// use obs_runtime::schema::check_label_count;
/// assert!(check_label_count(3).is_none());
/// assert!(check_label_count(17).is_some());
/// ```
#[must_use]
pub const fn check_label_count(labels: usize) -> Option<&'static str> {
    if labels > MAX_LABELS {
        Some("a label set may have at most 16 labels: every label multiplies the series")
    } else {
        None
    }
}

/// Cuts a label value to at most [`MAX_LABEL_VALUE_LEN`] bytes, on a UTF-8
/// character boundary.
///
/// ```
/// let long = "é".repeat(600); // 1,200 bytes
/// let cut = obs_runtime::schema::truncate_label_value(&long);
/// assert_eq!(cut.len(), 1_024);
/// assert!(cut.chars().all(|c| c == 'é'));
/// ```
#[must_use]
pub fn truncate_label_value(value: &str) -> &str {
    if value.len() <= MAX_LABEL_VALUE_LEN {
        return value;
    }
    let mut end = MAX_LABEL_VALUE_LEN;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_short_values_and_char_boundaries() {
        assert_eq!(truncate_label_value("abc"), "abc");
        let s = format!("{}€", "a".repeat(1_023)); // the euro sign straddles 1,024
        assert_eq!(truncate_label_value(&s).len(), 1_023);
    }
}
