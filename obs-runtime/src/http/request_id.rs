//! Request ids: keep a caller's well-formed `X-Request-ID` (or
//! `X-Correlation-ID`), otherwise make one.

use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The longest request id we keep.
pub(crate) const MAX_LEN: usize = 128;

/// A request's id, in the request's extensions for handlers to read.
///
/// ```
/// let id = obs_runtime::http::RequestId::new("req-1f3a");
/// assert_eq!(id.as_str(), "req-1f3a");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// Wraps an id (as the layer does; handlers normally read it from the
    /// request's extensions).
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id.
    ///
    /// ```
    /// assert_eq!(obs_runtime::http::RequestId::new("a.b-c_d").as_str(), "a.b-c_d");
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An id we pass on unchanged: 1 to 128 characters of `[A-Za-z0-9._-]`,
/// nothing that could break a log line or a header.
pub(crate) fn is_valid(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The incoming id, if well formed, from `X-Request-ID` then
/// `X-Correlation-ID`.
pub(crate) fn incoming(headers: &http::HeaderMap) -> Option<&str> {
    ["x-request-id", "x-correlation-id"]
        .into_iter()
        .filter_map(|name| headers.get(name)?.to_str().ok())
        .find(|id| is_valid(id))
}

/// A fresh id: 32 lower-case hex digits, unpredictable (a per-process
/// random key from the standard library's hasher seeds, mixed with a
/// counter by `SplitMix64`) and unique within the process.
pub(crate) fn generate() -> String {
    use std::sync::OnceLock;
    static KEY: OnceLock<u64> = OnceLock::new();
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let key = *KEY.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(u64::from(std::process::id()));
        h.finish()
    });
    let n = SEQUENCE.fetch_add(1, Relaxed);
    let (a, b) = (
        splitmix(key ^ n),
        splitmix(key.rotate_left(32) ^ n ^ 0x9e37_79b9_7f4a_7c15),
    );
    let mut out = String::with_capacity(32);
    for word in [a, b] {
        for shift in (0..16).rev() {
            let digit = ((word >> (shift * 4)) & 0xf) as u8;
            out.push(char::from(if digit < 10 {
                b'0' + digit
            } else {
                b'a' + digit - 10
            }));
        }
    }
    out
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
        assert_eq!(incoming(&h), Some("corr-7"));
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let ids: std::collections::HashSet<String> = (0..1_000).map(|_| generate()).collect();
        assert_eq!(ids.len(), 1_000);
        assert!(ids.iter().all(|id| id.len() == 32 && is_valid(id)));
    }
}
