//! How probes run and answer: the cache TTL, who sees failure reasons, the
//! version shown.

use std::time::Duration;

use crate::leaves::access::Allowlist;

/// Who sees why a check failed. Reasons can name internal hosts and
/// ports, so by default only allowlisted callers (loopback) see them, as
/// kube-apiserver does; the others read `"output": "reason withheld"`.
///
/// ```
/// assert_eq!(obs_runtime::health::ShowReasons::default(), obs_runtime::health::ShowReasons::Allowlisted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShowReasons {
    /// Nobody.
    Never,
    /// Callers whose address the allowlist admits.
    #[default]
    Allowlisted,
    /// Everybody.
    Always,
}

/// How probes run and answer.
///
/// ```
/// use std::time::Duration;
/// use obs_runtime::health::{HealthConfig, ShowReasons};
///
/// let config = HealthConfig::default()
///     .ttl(Duration::from_millis(500))
///     .show_reasons(ShowReasons::Always)
///     .version("1.4.2");
/// assert_eq!(config.cache_ttl(), Duration::from_millis(500));
/// ```
#[derive(Debug, Clone)]
pub struct HealthConfig {
    pub(super) ttl: Duration,
    pub(super) reasons: ShowReasons,
    pub(super) allowlist: Allowlist,
    pub(super) version: Option<String>,
}

impl Default for HealthConfig {
    /// TTL 1 s, reasons shown to loopback callers, no version.
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(1),
            reasons: ShowReasons::Allowlisted,
            allowlist: Allowlist::loopback(),
            version: None,
        }
    }
}

impl HealthConfig {
    /// How long a check's result is reused before the next probe runs it
    /// again. Also the responses' `Cache-Control: max-age`.
    ///
    /// ```
    /// let config = obs_runtime::health::HealthConfig::default().ttl(std::time::Duration::from_secs(5));
    /// assert_eq!(config.cache_ttl().as_secs(), 5);
    /// ```
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Who sees failure reasons.
    ///
    /// ```
    /// use obs_runtime::health::{HealthConfig, ShowReasons};
    /// let config = HealthConfig::default().show_reasons(ShowReasons::Never);
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn show_reasons(mut self, reasons: ShowReasons) -> Self {
        self.reasons = reasons;
        self
    }

    /// The callers admitted by [`ShowReasons::Allowlisted`] (default:
    /// loopback).
    ///
    /// ```
    /// use obs_runtime::{access::Allowlist, health::HealthConfig};
    /// let config = HealthConfig::default().allowlist(Allowlist::loopback_and_private());
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn allowlist(mut self, allowlist: Allowlist) -> Self {
        self.allowlist = allowlist;
        self
    }

    /// The service's version, shown as `version` in every report
    /// (typically `env!("CARGO_PKG_VERSION")`).
    ///
    /// ```
    /// let config = obs_runtime::health::HealthConfig::default().version("1.2.3");
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The TTL of cached results.
    ///
    /// ```
    /// assert_eq!(obs_runtime::health::HealthConfig::default().cache_ttl().as_secs(), 1);
    /// ```
    #[must_use]
    pub fn cache_ttl(&self) -> Duration {
        self.ttl
    }
}
