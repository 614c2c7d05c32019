//! Request ids: keep a caller's well-formed `X-Request-ID` (or
//! `X-Correlation-ID`, echoed back under that name too), otherwise make
//! one.

use std::cell::Cell;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use http::{HeaderName, HeaderValue};

/// The request-id header, read, set and echoed.
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The id header some proxies and meshes use instead; an id that came
/// under it is echoed under it as well as under `X-Request-ID`.
pub(crate) const X_CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");

/// The longest request id we keep.
pub(crate) const MAX_LEN: usize = 128;

/// A request's id, in the request's extensions for handlers to read.
///
/// ```
/// let id = obs_runtime::http::RequestId::new("req-1f3a");
/// assert_eq!(id.as_str(), "req-1f3a");
/// ```
#[derive(Debug, Clone)]
pub struct RequestId(Repr);

/// Incoming ids share the bytes of the request header they came in; ids
/// the layer made are kept inline (no reference count to touch); ids made
/// by hand own their text.
#[derive(Debug, Clone)]
enum Repr {
    Header(HeaderValue),
    Generated([u8; 32]),
    Text(Box<str>),
}

impl RequestId {
    /// Wraps an id (as the layer does; handlers normally read it from the
    /// request's extensions).
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self(Repr::Text(id.into().into_boxed_str()))
    }

    /// An id the layer checked or made: its characters are all visible
    /// ASCII, so it reads back as text.
    pub(crate) fn from_header(value: HeaderValue) -> Self {
        Self(Repr::Header(value))
    }

    /// The id.
    ///
    /// ```
    /// assert_eq!(obs_runtime::http::RequestId::new("a.b-c_d").as_str(), "a.b-c_d");
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Header(v) => v.to_str().unwrap_or_default(),
            Repr::Generated(digits) => std::str::from_utf8(digits).unwrap_or_default(),
            Repr::Text(s) => s,
        }
    }
}

impl PartialEq for RequestId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RequestId {}

/// An id we pass on unchanged: 1 to 128 characters of `[A-Za-z0-9._-]`,
/// nothing that could break a log line or a header.
pub(crate) fn is_valid(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// What the layer reads of a request's headers, found in one pass over
/// them rather than a hashed lookup each (a request carries a few headers;
/// each lookup hashes the name): the first value of each.
#[derive(Debug, Default)]
pub(crate) struct Read<'a> {
    request_id: Option<&'a HeaderValue>,
    correlation_id: Option<&'a HeaderValue>,
    /// `User-Agent`, for the server span.
    pub(crate) user_agent: Option<&'a HeaderValue>,
    /// Whether a `traceparent` or `baggage` header is there, which
    /// [`extract`](crate::subsystems::trace::propagation::extract) reads.
    pub(crate) trace_context: bool,
}

impl<'a> Read<'a> {
    pub(crate) fn of(headers: &'a http::HeaderMap) -> Self {
        let mut read = Self::default();
        for (name, value) in headers {
            let first = match name.as_str() {
                "x-request-id" => &mut read.request_id,
                "x-correlation-id" => &mut read.correlation_id,
                "user-agent" => &mut read.user_agent,
                "traceparent" | "baggage" => {
                    read.trace_context = true;
                    continue;
                }
                _ => continue,
            };
            if first.is_none() {
                *first = Some(value);
            }
        }
        read
    }

    /// The incoming id, if well formed, from `X-Request-ID` then
    /// `X-Correlation-ID`, and whether it came from `X-Request-ID` (then
    /// the request carries it under our header already).
    pub(crate) fn id(&self) -> Option<(&'a HeaderValue, bool)> {
        [(self.request_id, true), (self.correlation_id, false)]
            .into_iter()
            .find_map(|(value, ours)| {
                value
                    .filter(|v| v.to_str().is_ok_and(is_valid))
                    .map(|v| (v, ours))
            })
    }
}

/// A fresh id: 32 lower-case hex digits, unpredictable (a per-process
/// random key from the standard library's hasher seeds, mixed with a
/// counter by `SplitMix64`) and unique within the process.
///
/// Returned twice: as a header value whose bytes the request and response
/// headers share (one allocation, a clone is a reference count), and as
/// the extension handlers read, which keeps its own copy of the digits.
pub(crate) fn generate() -> (HeaderValue, RequestId) {
    use std::sync::OnceLock;
    static KEY: OnceLock<u64> = OnceLock::new();
    let key = *KEY.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(u64::from(std::process::id()));
        h.finish()
    });
    let n = next_sequence();
    let words = [
        splitmix(key ^ n),
        splitmix(key.rotate_left(32) ^ n ^ 0x9e37_79b9_7f4a_7c15),
    ];
    let digits = hex(words);
    // Hex digits are always a valid header value.
    let header = HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(digits))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    (header, RequestId(Repr::Generated(digits)))
}

/// The two words in lower-case hex, most significant digit first.
fn hex(words: [u64; 2]) -> [u8; 32] {
    const fn digit(nibble: u8) -> u8 {
        if nibble < 10 {
            b'0' + nibble
        } else {
            b'a' + nibble - 10
        }
    }
    // Two digits per byte from a table: 16 lookups, not 32 shifts and
    // branches.
    static PAIRS: [[u8; 2]; 256] = {
        let mut t = [[0u8; 2]; 256];
        let mut rest: &mut [[u8; 2]] = &mut t;
        let mut byte: u8 = 0;
        while let [pair, tail @ ..] = rest {
            *pair = [digit(byte >> 4), digit(byte & 0xf)];
            byte = byte.wrapping_add(1);
            rest = tail;
        }
        t
    };
    let mut digits = [0u8; 32];
    let bytes = [words[0].to_be_bytes(), words[1].to_be_bytes()];
    let (pairs, _) = digits.as_chunks_mut::<2>();
    for (pair, byte) in pairs.iter_mut().zip(bytes.as_flattened()) {
        // A byte always indexes the 256 pairs (the check is elided).
        if let Some(hex) = PAIRS.get(usize::from(*byte)) {
            *pair = *hex;
        }
    }
    digits
}

/// Numbers never handed out twice in the process. Each thread takes a
/// block of them from the shared counter and counts through it on its own,
/// so two threads serving requests don't fight over one counter's line.
fn next_sequence() -> u64 {
    const BLOCK: u64 = 1 << 16;
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        /// The thread's next number and the end of its block.
        static LOCAL: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    }
    LOCAL.with(|local| {
        let (mut next, mut end) = local.get();
        if next == end {
            next = SEQUENCE.fetch_add(BLOCK, Relaxed);
            end = next + BLOCK;
        }
        local.set((next + 1, end));
        next
    })
}

/// `SplitMix64`'s finalizer: a bijection that spreads every input bit.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_ids_are_kept() {
        assert!(is_valid("0f9c2b7e-4a1d-4c55-9a8e-3b2f1c0d9e8a"));
        assert!(is_valid("req_42.retry-1"));
        for bad in ["", "a b", "a\nb", "x\"y", "é", &"a".repeat(MAX_LEN + 1)] {
            assert!(!is_valid(bad), "{bad:?}");
        }
        let mut h = http::HeaderMap::new();
        h.insert("x-request-id", "bad id".parse().unwrap());
        h.insert("x-correlation-id", "corr-7".parse().unwrap());
        let (id, under_ours) = Read::of(&h).id().unwrap();
        assert_eq!((id.to_str().unwrap(), under_ours), ("corr-7", false));
        h.insert("x-request-id", "req-9".parse().unwrap());
        let (id, under_ours) = Read::of(&h).id().unwrap();
        assert_eq!((id.to_str().unwrap(), under_ours), ("req-9", true));
        // The first value of a repeated header, as `HeaderMap::get` gives.
        h.append("x-request-id", "req-10".parse().unwrap());
        let (id, _) = Read::of(&h).id().unwrap();
        assert_eq!(id.to_str().unwrap(), "req-9");
    }

    #[test]
    fn one_pass_finds_what_the_layer_reads() {
        let mut h = http::HeaderMap::new();
        h.insert("host", "example.com".parse().unwrap());
        h.insert("user-agent", "curl/8.5.0".parse().unwrap());
        let read = Read::of(&h);
        assert_eq!(read.user_agent.unwrap(), "curl/8.5.0");
        assert!(!read.trace_context);
        assert!(read.id().is_none());
        h.insert("baggage", "tenant=acme".parse().unwrap());
        assert!(Read::of(&h).trace_context);
        h.remove("baggage");
        h.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        assert!(Read::of(&h).trace_context);
    }

    #[test]
    fn hex_digits_come_most_significant_first() {
        let digits = hex([0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210]);
        assert_eq!(&digits, b"0123456789abcdeffedcba9876543210");
        assert_eq!(&hex([0, u64::MAX]), b"0000000000000000ffffffffffffffff");
    }

    #[test]
    fn sequence_numbers_are_unique_across_threads_and_blocks() {
        let numbers: Vec<u64> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..3)
                .map(|_| s.spawn(|| (0..70_000).map(|_| next_sequence()).collect::<Vec<_>>()))
                .collect();
            threads
                .into_iter()
                .flat_map(|t| t.join().unwrap())
                .collect()
        });
        // 70,000 per thread runs past a block of 65,536: each thread took
        // two blocks, and no number came out twice.
        let distinct: std::collections::HashSet<u64> = numbers.iter().copied().collect();
        assert_eq!(distinct.len(), 210_000);
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let ids: std::collections::HashSet<String> = (0..1_000)
            .map(|_| {
                let (header, extension) = generate();
                assert_eq!(header.to_str().unwrap(), extension.as_str());
                extension.as_str().to_owned()
            })
            .collect();
        assert_eq!(ids.len(), 1_000);
        assert!(ids.iter().all(|id| id.len() == 32 && is_valid(id)));
        // Both words are used: the digits are not a repeated half.
        assert!(ids.iter().any(|id| id[..16] != id[16..]));
    }
}
