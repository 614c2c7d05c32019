//! W3C `traceparent`, `tracestate` and `baggage` from arbitrary header
//! values (`obs_runtime::trace::propagation`). Checked: no panic; a remote
//! parent is accepted only when the `traceparent` is well formed (checked
//! here against the spec, apart from the runtime's own check); what
//! `inject` writes back is a well-formed, version-00 `traceparent` with the
//! same ids, and extracting it again gives the same context.
//!
//! Input: fields split at `0x00`: `traceparent`, `tracestate`, `baggage`.

use obs_runtime::trace::propagation::{extract, inject};
use opentelemetry::trace::TraceContextExt as _;

fn lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Trace Context level 1, section 3.2, read independently of the runtime.
fn well_formed(value: &str) -> bool {
    let value = value.trim_matches([' ', '\t']);
    let fields: Vec<&str> = value.split('-').collect();
    let [version, trace, parent, flags, ..] = fields[..] else {
        return false;
    };
    let future_ok = if version == "00" {
        fields.len() == 4
    } else {
        // A later version may append fields, after a `-`.
        true
    };
    lower_hex(version, 2)
        && version != "ff"
        && future_ok
        && lower_hex(trace, 32)
        && lower_hex(parent, 16)
        && lower_hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && parent.bytes().any(|b| b != b'0')
}

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let fields = obs_fuzz::fields(data);
        let mut headers = http::HeaderMap::new();
        let mut traceparent = None;
        for (name, value) in ["traceparent", "tracestate", "baggage"].iter().zip(&fields) {
            // Only what a header can carry reaches a service.
            if let Ok(value) = http::HeaderValue::from_str(value) {
                if *name == "traceparent" {
                    traceparent = Some(value.clone());
                }
                headers.insert(*name, value);
            }
        }
        let cx = extract(&headers);
        let span = cx.span().span_context().clone();
        let parent_ok = traceparent
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .is_some_and(well_formed);
        if span.is_valid() {
            assert!(parent_ok, "accepted {traceparent:?}");
            assert!(span.is_remote());
        }

        let mut out = http::HeaderMap::new();
        inject(&cx, &mut out);
        if span.is_valid() {
            let written = out["traceparent"].to_str().expect("ASCII");
            assert!(
                well_formed(written) && written.starts_with("00-"),
                "{written}"
            );
            assert_eq!(&written[3..35], span.trace_id().to_string());
            assert_eq!(&written[36..52], span.span_id().to_string());
            let again = extract(&out);
            assert_eq!(again.span().span_context(), &span);
            let state = out.get("tracestate").map(|v| v.to_str().expect("ASCII"));
            assert_eq!(state.unwrap_or(""), span.trace_state().header());
        } else {
            assert!(!out.contains_key("traceparent"), "{out:?}");
        }
        // Baggage written back reads back the same members (in any
        // order: the SDK keeps them in a hash map). Not for values with a
        // `%`: the SDK (opentelemetry_sdk 0.33) decodes `%25` on extract
        // but writes `%` back unencoded, so such a value changes at each
        // hop; an upstream bug, reported in tests/fuzz/README.md.
        if let Some(baggage) = out.get("baggage").filter(|b| !b.as_bytes().contains(&b'%')) {
            let again = extract(&out);
            let mut again_out = http::HeaderMap::new();
            inject(&again, &mut again_out);
            let members = |v: Option<&http::HeaderValue>| {
                let mut m: Vec<String> = v
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .split(',')
                    .map(str::to_owned)
                    .collect();
                m.sort();
                m
            };
            assert_eq!(members(again_out.get("baggage")), members(Some(baggage)));
        }
    });
}
