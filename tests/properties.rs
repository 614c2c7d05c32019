//! Properties that hold for every input, checked on generated ones: what
//! the fuzz targets in `tests/fuzz` check for hours, checked here for a few
//! hundred cases on every test run.

mod exposition_support;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use obs_runtime::metrics::{Counter, Histogram};
use obs_runtime::redact::redact;
use obs_runtime::schema::{MAX_LABEL_VALUE_LEN, truncate_label_value};
use obs_runtime::trace::propagation::{extract, inject};
use obs_runtime::{LabelSet, encode_text};
use opentelemetry::trace::TraceContextExt as _;
use proptest::prelude::*;

/// The most `redact` may make of `len` bytes: three times as many, plus 16.
/// The largest growth is a sensitive pair with a one-byte or empty value:
/// `ssn=x` (5 bytes) becomes `ssn=[REDACTED]` (14), and `"ssn":1` (7)
/// becomes `"ssn":"[REDACTED]"` (18); every other detector replaces more
/// bytes than its placeholder has.
fn redaction_bound(len: usize) -> usize {
    3 * len + 16
}

/// Pieces of what the detectors look for, so that generated text reaches
/// them (arbitrary strings rarely hold an e-mail address).
fn detector_fragments() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("ada@example.com".to_owned()),
        Just("@".to_owned()),
        Just("bearer ".to_owned()),
        Just("Basic dXNlcjpwYXNz".to_owned()),
        Just("token=".to_owned()),
        Just("ssn=".to_owned()),
        Just("\"password\": ".to_owned()),
        Just("eyJ".to_owned()),
        Just("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.".to_owned()),
        Just(":".to_owned()),
        Just("\"".to_owned()),
        Just("://u:p@".to_owned()),
        Just("AKIA".to_owned()),
        Just("-----BEGIN ".to_owned()),
        Just("PRIVATE KEY-----".to_owned()),
        Just("+1 (415) ".to_owned()),
        Just("[EMAIL]".to_owned()),
        Just("[REDACTED]".to_owned()),
        Just("[IBAN]".to_owned()),
        Just("[TOKEN]".to_owned()),
        Just("\n  password: ".to_owned()),
        Just("'token': '".to_owned()),
        Just("\"secret\" : ".to_owned()),
        Just("X-Api-Key: ".to_owned()),
        Just(" = ".to_owned()),
        Just("--token ".to_owned()),
        Just("--client-secret=".to_owned()),
        Just("Authorization: Digest ".to_owned()),
        Just("Authorization: Token ".to_owned()),
        Just("a=\"b\", ".to_owned()),
        Just("DE89370400440532013000".to_owned()),
        Just("DE89 3704 ".to_owned()),
        Just("GB82 WEST 1234 5698 7654 32".to_owned()),
        "[A-Z]{2}[0-9]{2}[A-Z0-9]{0,30}",
        "[0-9]{1,19}",
        "[ .\\-&;=()\\n]",
        "[a-zA-Z_]{1,8}",
        "\\PC{1,3}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

fn check_redaction(text: &str) -> Result<(), TestCaseError> {
    let once = redact(text);
    prop_assert!(
        once.len() <= redaction_bound(text.len()),
        "{} bytes became {}: {:?}",
        text.len(),
        once.len(),
        once
    );
    let twice = redact(&once);
    prop_assert_eq!(&twice, &once, "not idempotent on {:?}", text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn redaction_is_idempotent_and_bounded(text in any::<String>()) {
        check_redaction(&text)?;
    }

    #[test]
    fn redaction_is_idempotent_and_bounded_near_secrets(text in detector_fragments()) {
        check_redaction(&text)?;
    }
}

#[derive(LabelSet, Clone, Copy)]
struct Labels {
    route: &'static str,
    tier: &'static str,
}

/// Label values: arbitrary text, text made of what must be escaped, and
/// text longer than the limit (cut on a character boundary).
fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(
            prop_oneof![
                Just("\\"),
                Just("\""),
                Just("\n"),
                Just("\\n"),
                Just("é"),
                Just("€"),
                Just("😀"),
                Just("a"),
                Just("}"),
                Just(","),
                Just("="),
            ],
            0..12
        )
        .prop_map(|v| v.concat()),
        ("[a-z\"\\\\]{0,3}", "\\PC", 1_020usize..1_030).prop_map(|(head, c, len)| {
            let mut s = head;
            while s.len() < len {
                s.push_str(&c);
            }
            s
        }),
    ]
}

proptest! {
    // Each case registers two metrics for good and reads the whole scrape.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_exposition_always_parses_and_label_values_round_trip(
        help in any::<String>(),
        pairs in prop::collection::vec((label_value(), label_value()), 1..6),
    ) {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Relaxed);
        let counter_name = format!("prop_{n}_total");
        let histogram_name = format!("prop_{n}_seconds");
        let counter = Counter::<Labels>::new(counter_name.clone(), help.clone())
            .unwrap()
            .register()
            .unwrap();
        let histogram = Histogram::<Labels>::new(histogram_name.clone(), help.clone(), &[0.5])
            .unwrap()
            .register()
            .unwrap();
        for (route, tier) in &pairs {
            counter.with_values(&[route, tier]).inc();
            histogram.with_values(&[route, tier]).observe(1.0);
        }

        let text = encode_text();
        let scrape = exposition_support::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(scrape.help_of(&counter_name), Some(help.as_str()));
        prop_assert_eq!(scrape.help_of(&histogram_name), Some(help.as_str()));
        for (route, tier) in &pairs {
            let want = [truncate_label_value(route), truncate_label_value(tier)];
            prop_assert!(want.iter().all(|v| v.len() <= MAX_LABEL_VALUE_LEN));
            let count = scrape
                .samples_of(&counter_name)
                .find(|s| s.labels == [
                    ("route".to_owned(), want[0].to_owned()),
                    ("tier".to_owned(), want[1].to_owned()),
                ])
                .map(|s| s.value);
            // Values equal once cut share a series, so count at least one.
            prop_assert!(count.is_some_and(|c| c >= 1.0), "no series {:?}", want);
        }
        let series = scrape.samples_of(&counter_name).count();
        prop_assert!(series <= pairs.len());
    }
}

/// Lower-case hex of `len` digits, not all zero.
fn hex_id(len: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9a-f]{{{len}}}"))
        .unwrap()
        .prop_filter("an all-zero id is invalid", |s| {
            s.bytes().any(|b| b != b'0')
        })
}

/// A `tracestate` of up to four members with distinct simple keys.
fn tracestate() -> impl Strategy<Value = String> {
    prop::collection::btree_map("[a-z][a-z0-9_\\-*/]{0,10}", "[!-+\\--<>-~]{1,10}", 0..4).prop_map(
        |members| {
            members
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn traceparent_and_tracestate_round_trip(
        trace in hex_id(32),
        span in hex_id(16),
        sampled in any::<bool>(),
        state in tracestate(),
    ) {
        let parent = format!("00-{trace}-{span}-{}", if sampled { "01" } else { "00" });
        let mut incoming = http::HeaderMap::new();
        incoming.insert("traceparent", parent.parse().unwrap());
        if !state.is_empty() {
            incoming.insert("tracestate", state.parse().unwrap());
        }
        let cx = extract(&incoming);
        prop_assert!(cx.span().span_context().is_remote());
        let mut outgoing = http::HeaderMap::new();
        inject(&cx, &mut outgoing);
        prop_assert_eq!(outgoing["traceparent"].to_str().unwrap(), parent.as_str());
        let state_out = outgoing.get("tracestate").map(|v| v.to_str().unwrap().to_owned());
        prop_assert_eq!(state_out.unwrap_or_default(), state);
    }

    #[test]
    fn a_malformed_traceparent_never_becomes_a_parent(value in "[0-9a-fA-F\\- ]{0,60}") {
        let well_formed = {
            let v = value.trim_matches(' ');
            let f: Vec<&str> = v.split('-').collect();
            let hex = |s: &str, n: usize| {
                s.len() == n && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            };
            f.len() == 4
                && f[0] == "00"
                && hex(f[1], 32)
                && hex(f[2], 16)
                && hex(f[3], 2)
                && f[1].bytes().any(|b| b != b'0')
                && f[2].bytes().any(|b| b != b'0')
        };
        let mut headers = http::HeaderMap::new();
        if let Ok(v) = value.parse() {
            headers.insert("traceparent", v);
        }
        let accepted = extract(&headers).span().span_context().is_valid();
        prop_assert!(!accepted || well_formed, "accepted {:?}", value);
    }
}
