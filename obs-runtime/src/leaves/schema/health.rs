//! Health checks: the shape of a check's name and the probe (`kind`) that
//! runs it.

use super::text::bytes_eq;

/// Longest health check name, in bytes.
pub const MAX_HEALTH_CHECK_NAME_LEN: usize = 64;

/// Checks a health check's name, which appears in URLs (`/readyz/<name>`),
/// in `?exclude=<name>` and as the `check` label value: 1 to 64 bytes of
/// lower-case ASCII letters, digits, `_` and `-`, starting with a letter.
///
/// ```
/// use obs_runtime::schema::check_health_check_name;
/// assert!(check_health_check_name("database").is_none());
/// assert!(check_health_check_name("redis-cache").is_none());
/// assert!(check_health_check_name("Database").is_some());
/// assert!(check_health_check_name("").is_some());
/// ```
#[must_use]
pub const fn check_health_check_name(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    if b.is_empty() {
        return Some(
            "a health check's name can't be empty: name the dependency it checks, such as `#[health_check(\"database\")]`",
        );
    }
    if b.len() > MAX_HEALTH_CHECK_NAME_LEN {
        return Some("a health check's name may be at most 64 bytes long: shorten it");
    }
    if let [first, ..] = b
        && !first.is_ascii_lowercase()
    {
        return Some(
            "a health check's name starts with a lower-case letter: write `\"database\"` or `\"redis-cache\"`",
        );
    }
    let mut rest = b;
    while let [c, tail @ ..] = rest {
        if !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-') {
            return Some(
                "a health check's name is made of lower-case letters, digits, `_` and `-`, because it appears in URLs (`/readyz/<name>`) and as a metric label: write `\"redis-cache\"` rather than `\"Redis Cache\"`",
            );
        }
        rest = tail;
    }
    None
}

/// A Kubernetes probe; also the `kind` of a check, which says which probe
/// runs it.
///
/// ```
/// use obs_runtime::health::Probe;
/// assert_eq!(Probe::Readiness.as_str(), "readiness");
/// assert_eq!(Probe::default(), Probe::Readiness);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Probe {
    /// Can the service take traffic? Dependencies are checked here.
    #[default]
    Readiness,
    /// Is the process alive, or stuck for good and due for a restart?
    Liveness,
    /// Has start-up work (migrations, warm-up) finished?
    Startup,
}

impl Probe {
    /// `readiness`, `liveness` or `startup`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Readiness => "readiness",
            Self::Liveness => "liveness",
            Self::Startup => "startup",
        }
    }
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Message for an unknown health check `kind`; it lists the valid ones.
pub const UNKNOWN_HEALTH_KIND: &str = "unknown health check kind: use \"readiness\" (the default: a dependency the service needs to serve traffic), \"liveness\" (the process itself is stuck and must be restarted) or \"startup\" (start-up work such as migrations is done)";

/// The probe a health check's `kind` names: `readiness`, `liveness` or
/// `startup`.
///
/// ```
/// use obs_runtime::{health::Probe, schema::health_check_kind};
/// assert_eq!(health_check_kind("liveness"), Some(Probe::Liveness));
/// assert_eq!(health_check_kind("ready"), None);
/// ```
#[must_use]
pub const fn health_check_kind(kind: &str) -> Option<Probe> {
    let b = kind.as_bytes();
    if bytes_eq(b, b"readiness") {
        Some(Probe::Readiness)
    } else if bytes_eq(b, b"liveness") {
        Some(Probe::Liveness)
    } else if bytes_eq(b, b"startup") {
        Some(Probe::Startup)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_check_names() {
        for good in ["db", "redis-cache", "disk_space", "s3"] {
            assert!(check_health_check_name(good).is_none(), "{good} refused");
        }
        for bad in ["", "Db", "1db", "-db", "a b", "a/b", "a.b"] {
            assert!(check_health_check_name(bad).is_some(), "{bad:?} passed");
        }
        assert!(check_health_check_name(&"a".repeat(65)).is_some());
    }
}
