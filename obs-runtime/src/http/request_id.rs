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

/// A fresh id: 32 lower-case hex digits, random (seeded per process by the
/// standard library's hash keys) and unique (a counter is mixed in).
pub(crate) fn generate() -> String {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let n = SEQUENCE.fetch_add(1, Relaxed);
    let keys = std::collections::hash_map::RandomState::new();
    let mut a = keys.build_hasher();
    a.write_u64(n);
    let mut b = keys.build_hasher();
    b.write_u64(!n);
    format!("{:016x}{:016x}", a.finish(), b.finish())
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
