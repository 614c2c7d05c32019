//! The schema's parsers of source text: health check timeouts (the one
//! duration parser), health check kinds and bucket preset names, the
//! name rules and route templates. Checked: no panic, every accepted timeout is within the
//! rule's range and reads back from its canonical spelling, and the name
//! rules accept only what the exposition format can carry; an accepted
//! route template starts with `/` and is a label value.

use obs_runtime::schema::{
    MAX_HEALTH_CHECK_TIMEOUT_MS, bucket_preset, check_base_name, check_counter_name,
    check_gauge_name, check_health_check_name, check_histogram_name, check_label_name,
    check_label_value, check_metric_name, check_name_syntax, check_recorded_field,
    check_route_template, default_buckets, health_check_kind, parse_health_timeout,
};

/// What the exposition format allows as a metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
fn exposable(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let text = String::from_utf8_lossy(data);
        if let Ok(ms) = parse_health_timeout(&text) {
            assert!(
                (1..=MAX_HEALTH_CHECK_TIMEOUT_MS).contains(&ms),
                "{text:?} gave {ms}"
            );
            assert_eq!(parse_health_timeout(&format!("{ms}ms")), Ok(ms));
            // Accepted text is digits and a unit, nothing else.
            let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            assert!(!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
        }
        let _ = health_check_kind(&text);
        let _ = check_health_check_name(&text);
        let _ = check_label_value(&text);
        let _ = check_recorded_field(&text);
        if check_route_template(&text).is_none() {
            assert!(text.starts_with('/'), "route rule let {text:?} through");
            assert!(check_label_value(&text).is_none(), "route {text:?}");
        }
        if let Some(bounds) = bucket_preset(&text) {
            assert!(bounds.windows(2).all(|w| w[0] < w[1]), "preset {text:?}");
        }
        assert!(!default_buckets(&text).is_empty());
        for (rule, verdict) in [
            ("syntax", check_name_syntax(&text)),
            ("base", check_base_name(&text)),
            ("metric", check_metric_name(&text)),
            ("counter", check_counter_name(&text)),
            ("gauge", check_gauge_name(&text)),
            ("histogram", check_histogram_name(&text, "seconds")),
        ] {
            if verdict.is_none() {
                assert!(exposable(&text), "{rule} rule let {text:?} through");
            }
        }
        if check_label_name(&text).is_none() {
            assert!(
                exposable(&text) && !text.contains(':') && !text.starts_with("__"),
                "label rule let {text:?} through"
            );
        }
    });
}
