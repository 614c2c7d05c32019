//! [`TraceCarrier`]: what a job takes from the code that enqueued it — the
//! W3C trace context, the baggage, the request id and the enqueue time —
//! as plain text for any queue message.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// The longest carrier text (or header value) [`TraceCarrier::parse`]
/// reads; longer input is refused before any work on it.
pub const MAX_CARRIER_LEN: usize = 16 * 1024;

/// The longest `tracestate` or `baggage` value kept: W3C Baggage allows
/// 8,192 bytes, `tracestate` 32 members of at most 256 bytes.
const MAX_FIELD_LEN: usize = 8 * 1024;

/// The longest request id kept, as the HTTP layer's.
const MAX_REQUEST_ID_LEN: usize = 128;

/// The trace context of the code that enqueued a job, carried to the
/// worker that runs it.
///
/// Capture it where the job is enqueued ([`TraceCarrier::capture`], or
/// [`Queue::enqueue_carrier`](super::Queue::enqueue_carrier)), put it in
/// the queue message as text ([`Display`](fmt::Display) /
/// [`parse`](Self::parse)) or as header pairs ([`to_headers`](Self::to_headers)
/// / [`from_headers`](Self::from_headers)), and hand it to the run
/// ([`Job::carrier`](super::Job::carrier)): the job's span continues the
/// trace, its log lines carry the request id, and the time it waited is
/// `job_queue_wait_seconds`.
///
/// With the `otlp` feature it holds `traceparent`, `tracestate` and
/// `baggage` as W3C Trace Context and Baggage spell them; without it, or
/// outside any span, only the request id and the enqueue time.
///
/// ```
/// use obs_runtime::jobs::TraceCarrier;
///
/// let sent = TraceCarrier::capture();
/// let text = sent.to_string(); // into the queue message
/// let received: TraceCarrier = text.parse().unwrap();
/// assert_eq!(received, sent);
/// assert!(received.enqueued_at_micros.is_some());
///
/// let err = "traceparent=00-zz".parse::<TraceCarrier>().unwrap_err();
/// assert!(err.to_string().contains("traceparent"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraceCarrier {
    /// The W3C `traceparent` of the enqueuing span.
    pub traceparent: Option<String>,
    /// The W3C `tracestate` that came with it.
    pub tracestate: Option<String>,
    /// The W3C `baggage`.
    pub baggage: Option<String>,
    /// The request id of the request the job was enqueued in.
    pub request_id: Option<String>,
    /// When the job was enqueued, in microseconds since the Unix epoch.
    pub enqueued_at_micros: Option<u64>,
}

/// Why a carrier text or header set was refused. Nothing is partially
/// applied: a refused carrier is no carrier.
///
/// ```
/// use obs_runtime::jobs::{CarrierError, TraceCarrier};
///
/// let err = TraceCarrier::parse("request_id=a&request_id=b").unwrap_err();
/// assert_eq!(err, CarrierError::Duplicate("request_id"));
/// assert_eq!(err.to_string(), "trace carrier has `request_id` twice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CarrierError {
    /// The text is longer than [`MAX_CARRIER_LEN`].
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A part is not `key=value`.
    NotAPair {
        /// The part's index, from 0.
        index: usize,
    },
    /// A key appears twice.
    Duplicate(&'static str),
    /// A `%` not followed by two hex digits, or an escape that does not
    /// decode to UTF-8.
    BadEscape(&'static str),
    /// A value breaks the rule of its field.
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl fmt::Display for CarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len } => write!(
                f,
                "trace carrier of {len} bytes refused: at most {MAX_CARRIER_LEN} bytes"
            ),
            Self::NotAPair { index } => write!(
                f,
                "trace carrier part {index} is not `key=value`: expected `traceparent=…&request_id=…`"
            ),
            Self::Duplicate(key) => write!(f, "trace carrier has `{key}` twice"),
            Self::BadEscape(key) => write!(
                f,
                "trace carrier field `{key}` has a bad escape: `%` must be followed by two hex digits of UTF-8"
            ),
            Self::Invalid { field, reason } => {
                write!(f, "trace carrier field `{field}` refused: {reason}")
            }
        }
    }
}

impl std::error::Error for CarrierError {}

/// The keys of the text form, in the order it writes them.
const KEYS: [&str; 5] = [
    "traceparent",
    "tracestate",
    "baggage",
    "request_id",
    "enqueued_at_micros",
];

/// The header names of [`TraceCarrier::to_headers`], in the same order.
const HEADERS: [&str; 5] = [
    "traceparent",
    "tracestate",
    "baggage",
    "x-request-id",
    "x-enqueued-at-micros",
];

impl TraceCarrier {
    /// The context of the current span: its trace context and baggage
    /// (feature `otlp`), the request id a span in scope recorded (the HTTP
    /// layer's, or any span with a `request_id` field, as log lines find
    /// it), and the time now as the enqueue time.
    ///
    /// ```
    /// let span = tracing::info_span!("handler", request_id = "req-7");
    /// let carrier = span.in_scope(obs_runtime::jobs::TraceCarrier::capture);
    /// assert!(carrier.enqueued_at_micros.is_some());
    /// ```
    #[must_use]
    pub fn capture() -> Self {
        #[cfg_attr(not(feature = "otlp"), allow(unused_mut))]
        let mut carrier = Self {
            request_id: crate::subsystems::log::current_request_id()
                .filter(|id| check_request_id(id).is_ok()),
            enqueued_at_micros: Some(now_micros()),
            ..Self::default()
        };
        #[cfg(feature = "otlp")]
        {
            let mut headers = http::HeaderMap::new();
            crate::subsystems::trace::propagation::inject_current(&mut headers);
            let get = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            carrier.traceparent = get("traceparent");
            carrier.tracestate = get("tracestate");
            carrier.baggage = get("baggage");
        }
        carrier
    }

    /// Reads the text form written by [`Display`](fmt::Display):
    /// `key=value` pairs joined by `&`, values percent-encoded. Keys it
    /// does not know are skipped (a newer writer may add some); an empty
    /// text is an empty carrier.
    ///
    /// # Errors
    /// A text longer than [`MAX_CARRIER_LEN`], a part that is not a pair,
    /// a key given twice, a bad escape, or a value its field refuses (a
    /// `traceparent` that is not W3C Trace Context, a request id that is
    /// not printable ASCII, a time that is not a number).
    ///
    /// ```
    /// use obs_runtime::jobs::{CarrierError, TraceCarrier};
    ///
    /// let c = TraceCarrier::parse("request_id=req-1&enqueued_at_micros=5").unwrap();
    /// assert_eq!(c.request_id.as_deref(), Some("req-1"));
    /// assert_eq!(c.enqueued_at_micros, Some(5));
    /// assert!(matches!(TraceCarrier::parse("request_id"), Err(CarrierError::NotAPair { index: 0 })));
    /// ```
    pub fn parse(text: &str) -> Result<Self, CarrierError> {
        if text.len() > MAX_CARRIER_LEN {
            return Err(CarrierError::TooLong { len: text.len() });
        }
        let mut carrier = Self::default();
        let mut seen = [false; KEYS.len()];
        for (index, part) in text.split('&').enumerate() {
            if part.is_empty() {
                continue;
            }
            let (key, value) = part
                .split_once('=')
                .ok_or(CarrierError::NotAPair { index })?;
            let Some(slot) = KEYS.iter().position(|k| *k == key) else {
                continue;
            };
            let Some(field) = KEYS.get(slot).copied() else {
                continue;
            };
            if seen.get(slot).copied().unwrap_or(true) {
                return Err(CarrierError::Duplicate(field));
            }
            if let Some(s) = seen.get_mut(slot) {
                *s = true;
            }
            let value = percent_decode(value).ok_or(CarrierError::BadEscape(field))?;
            carrier.set(slot, value)?;
        }
        Ok(carrier)
    }

    /// The carrier as header pairs, for queues whose messages have headers
    /// (AMQP, Kafka, NATS): `traceparent`, `tracestate`, `baggage`,
    /// `x-request-id` and `x-enqueued-at-micros`, only those present.
    ///
    /// ```
    /// let carrier = obs_runtime::jobs::TraceCarrier::parse("request_id=req-1").unwrap();
    /// assert_eq!(carrier.to_headers(), vec![("x-request-id", "req-1".to_owned())]);
    /// ```
    #[must_use]
    pub fn to_headers(&self) -> Vec<(&'static str, String)> {
        self.values()
            .into_iter()
            .zip(HEADERS)
            .filter_map(|(value, name)| value.map(|v| (name, v)))
            .collect()
    }

    /// Reads the pairs of [`to_headers`](Self::to_headers); names compare
    /// without case, other headers are skipped.
    ///
    /// # Errors
    /// As [`parse`](Self::parse): a value longer than [`MAX_CARRIER_LEN`],
    /// a header given twice, or a value its field refuses.
    ///
    /// ```
    /// use obs_runtime::jobs::TraceCarrier;
    ///
    /// let c = TraceCarrier::from_headers([("X-Request-ID", "req-1"), ("content-type", "json")]).unwrap();
    /// assert_eq!(c.request_id.as_deref(), Some("req-1"));
    /// assert!(TraceCarrier::from_headers([("traceparent", "nonsense")]).is_err());
    /// ```
    pub fn from_headers<I, K, V>(headers: I) -> Result<Self, CarrierError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut carrier = Self::default();
        let mut seen = [false; HEADERS.len()];
        for (name, value) in headers {
            let Some(slot) = HEADERS
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name.as_ref()))
            else {
                continue;
            };
            let value = value.as_ref();
            if value.len() > MAX_CARRIER_LEN {
                return Err(CarrierError::TooLong { len: value.len() });
            }
            if seen.get(slot).copied().unwrap_or(true) {
                return Err(CarrierError::Duplicate(
                    KEYS.get(slot).copied().unwrap_or("?"),
                ));
            }
            if let Some(s) = seen.get_mut(slot) {
                *s = true;
            }
            carrier.set(slot, value.to_owned())?;
        }
        Ok(carrier)
    }

    /// Microseconds from the enqueue time to `now`; `None` without an
    /// enqueue time, 0 when the enqueuing host's clock was ahead.
    pub(crate) fn waited_micros(&self, now: u64) -> Option<u64> {
        self.enqueued_at_micros.map(|at| now.saturating_sub(at))
    }

    fn values(&self) -> [Option<String>; 5] {
        [
            self.traceparent.clone(),
            self.tracestate.clone(),
            self.baggage.clone(),
            self.request_id.clone(),
            self.enqueued_at_micros.map(|t| t.to_string()),
        ]
    }

    /// Checks `value` against the rule of field `slot` (an index of
    /// [`KEYS`]) and stores it.
    fn set(&mut self, slot: usize, value: String) -> Result<(), CarrierError> {
        let invalid = |field, reason| CarrierError::Invalid { field, reason };
        match slot {
            0 => {
                check_traceparent(&value).map_err(|r| invalid("traceparent", r))?;
                self.traceparent = Some(value);
            }
            1 | 2 => {
                let field = if slot == 1 { "tracestate" } else { "baggage" };
                check_list(&value).map_err(|r| invalid(field, r))?;
                if slot == 1 {
                    self.tracestate = Some(value);
                } else {
                    self.baggage = Some(value);
                }
            }
            3 => {
                check_request_id(&value).map_err(|r| invalid("request_id", r))?;
                self.request_id = Some(value);
            }
            _ => {
                let at = value.parse::<u64>().map_err(|_| {
                    invalid("enqueued_at_micros", "not a whole number of microseconds")
                })?;
                self.enqueued_at_micros = Some(at);
            }
        }
        Ok(())
    }
}

impl fmt::Display for TraceCarrier {
    /// The text form [`parse`](TraceCarrier::parse) reads:
    /// `traceparent=…&tracestate=…&baggage=…&request_id=…&enqueued_at_micros=…`,
    /// fields absent left out, values percent-encoded.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (value, key) in self.values().into_iter().zip(KEYS) {
            let Some(value) = value else { continue };
            if !first {
                f.write_str("&")?;
            }
            first = false;
            f.write_str(key)?;
            f.write_str("=")?;
            percent_encode(f, &value)?;
        }
        Ok(())
    }
}

impl FromStr for TraceCarrier {
    type Err = CarrierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

pub(crate) fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Bytes written as they are; every other byte is `%XX`.
fn plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b',' | b';' | b':' | b'/')
}

fn percent_encode(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if plain(b) {
            fmt::Write::write_char(f, char::from(b))?;
        } else {
            let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
            fmt::Write::write_char(f, '%')?;
            fmt::Write::write_char(f, char::from(hi))?;
            fmt::Write::write_char(f, char::from(lo))?;
        }
    }
    Ok(())
}

fn percent_decode(value: &str) -> Option<String> {
    fn digit(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let mut out = Vec::with_capacity(value.len());
    let mut bytes = value.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = digit(bytes.next()?)?;
            let lo = digit(bytes.next()?)?;
            out.push(hi << 4 | lo);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// W3C Trace Context level 1: `version-trace_id-parent_id-flags` in
/// lower-case hex, version not `ff`, ids not all zero; version `00` has
/// exactly those four fields, a later one may add more.
fn check_traceparent(value: &str) -> Result<(), &'static str> {
    fn hex(s: &str, len: usize) -> bool {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
    let mut parts = value.split('-');
    let (Some(version), Some(trace), Some(parent), Some(flags)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not `version-trace_id-parent_id-flags`");
    };
    if !hex(version, 2) || version == "ff" {
        return Err("the version is not two lower-case hex digits other than `ff`");
    }
    if version == "00" && parts.next().is_some() {
        return Err("version 00 has exactly four fields");
    }
    if !hex(trace, 32) || trace.bytes().all(|b| b == b'0') {
        return Err("the trace id is not 32 lower-case hex digits, not all zero");
    }
    if !hex(parent, 16) || parent.bytes().all(|b| b == b'0') {
        return Err("the parent id is not 16 lower-case hex digits, not all zero");
    }
    if !hex(flags, 2) {
        return Err("the flags are not two lower-case hex digits");
    }
    Ok(())
}

/// `tracestate` and `baggage`: printable ASCII (their percent-encoding
/// keeps them so), bounded.
fn check_list(value: &str) -> Result<(), &'static str> {
    if value.len() > MAX_FIELD_LEN {
        return Err("longer than 8192 bytes");
    }
    if !value
        .bytes()
        .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
    {
        return Err("not printable ASCII");
    }
    Ok(())
}

fn check_request_id(value: &str) -> Result<(), &'static str> {
    if value.is_empty() || value.len() > MAX_REQUEST_ID_LEN {
        return Err("not 1 to 128 bytes");
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("not printable ASCII without spaces");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn full() -> TraceCarrier {
        TraceCarrier {
            traceparent: Some(TP.to_owned()),
            tracestate: Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE".to_owned()),
            baggage: Some("userId=al%20ice, tier=gold;prop=1".to_owned()),
            request_id: Some("req-&=%/ok".to_owned()),
            enqueued_at_micros: Some(1_733_300_000_123_456),
        }
    }

    #[test]
    fn text_and_headers_round_trip_every_field() {
        let c = full();
        let text = c.to_string();
        assert!(!text.contains(' '), "{text}");
        assert_eq!(text.matches('&').count(), 4, "{text}");
        assert_eq!(TraceCarrier::parse(&text), Ok(c.clone()));
        assert_eq!(TraceCarrier::from_headers(c.to_headers()), Ok(c.clone()));
        let empty = TraceCarrier::default();
        assert_eq!(empty.to_string(), "");
        assert_eq!(TraceCarrier::parse(""), Ok(empty));
        // Unknown keys are skipped: a newer writer may add fields.
        let newer = format!("{text}&priority=high");
        assert_eq!(TraceCarrier::parse(&newer), Ok(c));
    }

    #[test]
    fn malformed_input_gets_an_error_naming_the_problem() {
        let cases: &[(&str, &str)] = &[
            ("traceparent", "not `key=value`"),
            ("request_id=a&request_id=b", "twice"),
            ("request_id=%zz", "bad escape"),
            ("request_id=%4", "bad escape"),
            ("request_id=%FF%FE", "bad escape"),
            ("traceparent=00-zz", "traceparent"),
            (
                "traceparent=00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "trace id",
            ),
            (
                "traceparent=ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "version",
            ),
            (
                "traceparent=00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                "trace id",
            ),
            ("request_id=a%20b", "request_id"),
            ("request_id=", "request_id"),
            ("enqueued_at_micros=-1", "microseconds"),
            ("enqueued_at_micros=99999999999999999999999", "microseconds"),
            ("baggage=a%0Ab", "printable"),
        ];
        for (input, expect) in cases {
            let err = TraceCarrier::parse(input).expect_err(input);
            assert!(err.to_string().contains(expect), "{input}: {err}");
        }
        let long = "x".repeat(MAX_CARRIER_LEN + 1);
        assert_eq!(
            TraceCarrier::parse(&long),
            Err(CarrierError::TooLong { len: long.len() })
        );
        let later_version = TP.replacen("00", "01", 1) + "-more";
        assert!(TraceCarrier::parse(&format!("traceparent={later_version}")).is_ok());
        assert!(TraceCarrier::parse(&format!("traceparent={TP}-more")).is_err());
        // Multi-byte text anywhere: an error, never a panic.
        for bad in ["é=1", "traceparent=0é", "request_id=%C3%A9", "&&=&"] {
            let _ = TraceCarrier::parse(bad);
        }
        assert!(TraceCarrier::from_headers([("traceparent", TP), ("TRACEPARENT", TP)]).is_err());
    }

    #[test]
    fn waiting_time_is_never_negative() {
        let c = TraceCarrier {
            enqueued_at_micros: Some(100),
            ..TraceCarrier::default()
        };
        assert_eq!(c.waited_micros(250), Some(150));
        assert_eq!(c.waited_micros(50), Some(0));
        assert_eq!(TraceCarrier::default().waited_micros(50), None);
    }
}
