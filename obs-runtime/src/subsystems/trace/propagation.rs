//! W3C Trace Context and Baggage on HTTP headers: `traceparent`,
//! `tracestate` and `baggage`.
//!
//! ```
//! use obs_runtime::trace::propagation::{extract, inject};
//!
//! let mut incoming = http::HeaderMap::new();
//! incoming.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
//! incoming.insert("tracestate", "vendor=value".parse().unwrap());
//! let cx = extract(&incoming);
//!
//! let mut outgoing = http::HeaderMap::new();
//! inject(&cx, &mut outgoing);
//! assert_eq!(outgoing["traceparent"], incoming["traceparent"]);
//! assert_eq!(outgoing["tracestate"], "vendor=value");
//! ```

use opentelemetry::Context;
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

/// Built once: a composite propagator allocates its parts.
fn propagator() -> &'static TextMapCompositePropagator {
    static PROPAGATOR: std::sync::OnceLock<TextMapCompositePropagator> = std::sync::OnceLock::new();
    PROPAGATOR.get_or_init(|| {
        TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
        ])
    })
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        // A value the propagator produced is always a valid header; skip
        // rather than panic if that ever changes.
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let value = self.0.get(key).and_then(|v| v.to_str().ok())?;
        // The SDK's parser is lenient (it takes short or upper-case ids); a
        // malformed parent must start a new trace, as the W3C spec says.
        if key.eq_ignore_ascii_case("traceparent") && !valid_traceparent(value) {
            return None;
        }
        Some(value)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Checks a `traceparent` against W3C Trace Context level 1: `version-
/// trace_id-parent_id-flags` in lower-case hex, version not `ff`, ids not all
/// zero; version `00` has exactly those four fields, a later version may add
/// more after a `-`.
fn valid_traceparent(value: &str) -> bool {
    fn hex(s: &str, len: usize) -> bool {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    // `get`, not slicing: `None` when too short (or, for a caller other
    // than a header's ASCII, inside a character), never a panic.
    let (Some(version), Some(fields)) = (value.get(..2), value.get(2..55)) else {
        return false;
    };
    if !hex(version, 2) || version == "ff" || (version == "00" && value.len() != 55) {
        return false;
    }
    if value.as_bytes().get(55).is_some_and(|&c| c != b'-') {
        return false;
    }
    let mut parts = fields.split('-');
    let (Some(""), Some(trace), Some(parent), Some(flags), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|c| c != b'0')
        && parent.bytes().any(|c| c != b'0')
}

/// Writes `cx`'s span context and baggage into `headers`.
pub fn inject(cx: &Context, headers: &mut http::HeaderMap) {
    propagator().inject_context(cx, &mut HeaderInjector(headers));
}

/// Reads a remote span context and baggage from `headers`. Malformed values
/// (wrong length, version `ff`, all-zero ids, non-hex) are ignored: the
/// context then has no remote parent.
#[must_use]
pub fn extract(headers: &http::HeaderMap) -> Context {
    propagator().extract(&HeaderExtractor(headers))
}

/// Writes the current `tracing` span's context into `headers`, for an
/// outgoing request.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// obs_runtime::trace::propagation::inject_current(&mut headers);
/// ```
pub fn inject_current(headers: &mut http::HeaderMap) {
    inject(&super::context_of(&tracing::Span::current()), headers);
}

/// Makes `span` a child of the remote context in `headers`, for an incoming
/// request.
///
/// ```
/// let span = tracing::info_span!("GET /users/{id}");
/// obs_runtime::trace::propagation::continue_from(&span, &http::HeaderMap::new());
/// ```
pub fn continue_from(span: &tracing::Span, headers: &http::HeaderMap) {
    continue_from_read(span, headers, carries_context(headers));
}

/// [`continue_from`], for a caller that knows already whether `headers`
/// [`carries_context`].
pub(crate) fn continue_from_read(span: &tracing::Span, headers: &http::HeaderMap, carries: bool) {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    // Without a header to read, extracting gives the current context: it
    // is taken as it is, without looking each header up by its name.
    let parent = if carries {
        extract(headers)
    } else {
        Context::current()
    };
    // An error only means the span is disabled or already started.
    let _ = span.set_parent(parent);
}

/// Whether `headers` hold anything [`extract`] reads: a `traceparent` or
/// a `baggage` header.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// assert!(!obs_runtime::trace::propagation::carries_context(&headers));
/// headers.insert("baggage", http::HeaderValue::from_static("tenant=acme"));
/// assert!(obs_runtime::trace::propagation::carries_context(&headers));
/// ```
#[must_use]
pub fn carries_context(headers: &http::HeaderMap) -> bool {
    const TRACEPARENT: http::HeaderName = http::HeaderName::from_static("traceparent");
    const BAGGAGE: http::HeaderName = http::HeaderName::from_static("baggage");
    headers.contains_key(TRACEPARENT) || headers.contains_key(BAGGAGE)
}

#[cfg(test)]
mod tests {
    use super::valid_traceparent;

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn traceparent_versions_and_lengths() {
        assert!(valid_traceparent(GOOD));
        assert!(valid_traceparent(&format!(" {GOOD}\t")));
        let later = GOOD.replacen("00", "01", 1);
        assert!(valid_traceparent(&later));
        assert!(valid_traceparent(&format!("{later}-more")));
        assert!(!valid_traceparent(&format!("{later}x")));
        assert!(!valid_traceparent(&format!("{GOOD}-more")));
        assert!(!valid_traceparent(&GOOD[..54]));
    }

    #[test]
    fn text_that_no_header_holds_is_refused_without_a_panic() {
        // Multi-byte characters across the version's end and the fields'.
        assert!(!valid_traceparent(&format!("0é{}", &GOOD[3..])));
        assert!(!valid_traceparent(&format!("{}é-01", &GOOD[..54])));
        assert!(!valid_traceparent(&format!("{GOOD}é")));
    }
}
