//! The result of a probe and its `application/health+json` form.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use super::{Observed, Probe, Status};

/// What `output` reads for callers who may not see failure reasons.
///
/// ```
/// assert_eq!(obs_runtime::health::REASON_WITHHELD, "reason withheld");
/// ```
pub const REASON_WITHHELD: &str = "reason withheld";

/// Longest failure reason kept, in bytes.
const MAX_OUTPUT_LEN: usize = 1_024;

/// The result of one check in a report.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use obs_runtime::health::{self, Probe, Status};
///
/// #[obs_runtime::health_check("doc_check_report", kind = "startup")]
/// async fn doc_check_report() -> Result<(), std::io::Error> { Ok(()) }
///
/// let report = health::report(Probe::Startup).await;
/// let check = report.check("doc_check_report").unwrap();
/// assert_eq!(check.status(), Status::Pass);
/// assert_eq!(check.kind(), Probe::Startup);
/// assert!(check.output().is_none());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub(crate) name: &'static str,
    pub(crate) kind: Probe,
    pub(crate) critical: bool,
    pub(crate) status: Status,
    pub(crate) duration: Duration,
    pub(crate) timeout: Duration,
    pub(crate) output: Option<String>,
    pub(crate) observed: Option<Observed>,
    pub(crate) time: SystemTime,
}

impl CheckReport {
    /// The check's name.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Readiness).await;
    /// assert!(report.checks().iter().all(|c| !c.name().is_empty()));
    /// # }
    /// ```
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The probe the check belongs to.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Liveness).await;
    /// assert!(report.checks().iter().all(|c| c.kind() == Probe::Liveness));
    /// # }
    /// ```
    #[must_use]
    pub fn kind(&self) -> Probe {
        self.kind
    }

    /// Whether a failure of this check fails the probe.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Readiness).await;
    /// let optional = report.checks().iter().filter(|c| !c.critical()).count();
    /// # let _ = optional;
    /// # }
    /// ```
    #[must_use]
    pub fn critical(&self) -> bool {
        self.critical
    }

    /// `pass`, `warn` (a non-critical check failed) or `fail`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Readiness).await;
    /// assert!(report.checks().iter().all(|c| c.status() <= report.status()));
    /// # }
    /// ```
    #[must_use]
    pub fn status(&self) -> Status {
        self.status
    }

    /// How long the run took.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Readiness).await;
    /// assert!(report.checks().iter().all(|c| c.response_time().as_secs() <= 60));
    /// # }
    /// ```
    #[must_use]
    pub fn response_time(&self) -> Duration {
        self.duration
    }

    /// How long a run may take before it counts as failed (the check's
    /// `timeout`), shown as `timeout_ms` in the JSON body.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Readiness).await;
    /// assert!(report.checks().iter().all(|c| c.response_time() <= c.timeout() + std::time::Duration::from_secs(1)));
    /// # }
    /// ```
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Why the check failed, redacted of secrets; `None` when it passed.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Readiness).await;
    /// for check in report.checks() {
    ///     assert_eq!(check.output().is_none(), check.status() == health::Status::Pass);
    /// }
    /// # }
    /// ```
    #[must_use]
    pub fn output(&self) -> Option<&str> {
        self.output.as_deref()
    }

    /// The value the check measured, if it reports one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Readiness).await;
    /// for check in report.checks() {
    ///     if let Some(observed) = check.observed() {
    ///         assert!(!observed.unit().is_empty());
    ///     }
    /// }
    /// # }
    /// ```
    #[must_use]
    pub fn observed(&self) -> Option<&Observed> {
        self.observed.as_ref()
    }
}

/// The result of a probe: an overall status and one entry per check.
///
/// The overall status is the worst of the checks': `fail` when a critical
/// check failed, `warn` when only non-critical ones did, `pass` otherwise
/// (also when there is no check at all).
///
/// ```standalone_crate
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use obs_runtime::health::{self, Probe, Status};
///
/// #[obs_runtime::health_check("doc_report_cache", critical = false)]
/// async fn doc_report_cache() -> Result<(), String> {
///     Err("cache cold".to_owned())
/// }
///
/// let report = health::report(Probe::Readiness).await;
/// assert_eq!(report.status(), Status::Warn);
/// assert_eq!(report.http_status(), 200);
/// assert!(report.to_json().contains(r#""doc_report_cache":{"status":"warn""#));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct HealthReport {
    pub(crate) status: Status,
    pub(crate) version: Option<String>,
    pub(crate) timestamp: SystemTime,
    pub(crate) checks: Vec<CheckReport>,
    pub(crate) notes: Vec<String>,
}

impl HealthReport {
    pub(crate) fn new(
        checks: Vec<CheckReport>,
        notes: Vec<String>,
        version: Option<String>,
    ) -> Self {
        let status = checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(Status::Pass);
        Self {
            status,
            version,
            timestamp: SystemTime::now(),
            checks,
            notes,
        }
    }

    /// The overall status.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Liveness).await;
    /// assert!(report.checks().iter().all(|c| c.status() <= report.status()));
    /// # }
    /// ```
    #[must_use]
    pub fn status(&self) -> Status {
        self.status
    }

    /// 200 for `pass` and `warn`, 503 for `fail`: what Kubernetes reads.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Startup).await;
    /// let expected = if report.status() == health::Status::Fail { 503 } else { 200 };
    /// assert_eq!(report.http_status(), expected);
    /// # }
    /// ```
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self.status {
            Status::Pass | Status::Warn => 200,
            Status::Fail => 503,
        }
    }

    /// Every check of the probe, by name.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Readiness).await;
    /// let names: Vec<&str> = report.checks().iter().map(|c| c.name()).collect();
    /// assert!(names.windows(2).all(|w| w[0] < w[1]));
    /// # }
    /// ```
    #[must_use]
    pub fn checks(&self) -> &[CheckReport] {
        &self.checks
    }

    /// One check by name.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Readiness).await;
    /// assert!(report.check("no_such_check").is_none());
    /// # }
    /// ```
    #[must_use]
    pub fn check(&self, name: &str) -> Option<&CheckReport> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// Remarks about the request, such as an `exclude` that named no check.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Readiness).await;
    /// assert!(report.notes().is_empty());
    /// # }
    /// ```
    #[must_use]
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The `application/health+json` body, failure reasons included
    /// (redacted of secrets).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let json = health::report(Probe::Liveness).await.to_json();
    /// assert!(json.starts_with(r#"{"status":""#));
    /// # }
    /// ```
    #[must_use]
    pub fn to_json(&self) -> String {
        self.render(true)
    }

    /// The body with every failure reason replaced by `"reason withheld"`,
    /// for callers outside the allowlist.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use obs_runtime::health::{self, Probe};
    /// let report = health::report(Probe::Readiness).await;
    /// let json = report.to_json_withholding_reasons();
    /// for check in report.checks().iter().filter_map(|c| c.output()) {
    ///     assert!(!json.contains(check));
    /// }
    /// # }
    /// ```
    #[must_use]
    pub fn to_json_withholding_reasons(&self) -> String {
        self.render(false)
    }

    fn render(&self, reasons: bool) -> String {
        let mut out = String::with_capacity(128 + 96 * self.checks.len());
        out.push_str("{\"status\":");
        crate::leaves::json::json_string(&mut out, self.status.as_str());
        if let Some(version) = &self.version {
            out.push_str(",\"version\":");
            crate::leaves::json::json_string(&mut out, version);
        }
        out.push_str(",\"timestamp\":");
        crate::leaves::json::json_string(&mut out, &rfc3339_utc(self.timestamp));
        out.push_str(",\"checks\":{");
        for (i, check) in self.checks.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            crate::leaves::json::json_string(&mut out, check.name);
            out.push_str(":{\"status\":");
            crate::leaves::json::json_string(&mut out, check.status.as_str());
            out.push_str(",\"kind\":");
            crate::leaves::json::json_string(&mut out, check.kind.as_str());
            if !check.critical {
                out.push_str(",\"critical\":false");
            }
            let _ = write!(
                out,
                ",\"response_ms\":{},\"timeout_ms\":{}",
                check.duration.as_millis(),
                check.timeout.as_millis()
            );
            if let Some(observed) = &check.observed {
                out.push_str(",\"observed_value\":");
                json_number(&mut out, observed.value());
                out.push_str(",\"observed_unit\":");
                crate::leaves::json::json_string(&mut out, observed.unit());
            }
            if let Some(output) = &check.output {
                out.push_str(",\"output\":");
                crate::leaves::json::json_string(
                    &mut out,
                    if reasons { output } else { REASON_WITHHELD },
                );
            }
            out.push_str(",\"time\":");
            crate::leaves::json::json_string(&mut out, &rfc3339_utc(check.time));
            out.push('}');
        }
        out.push('}');
        if !self.notes.is_empty() {
            out.push_str(",\"notes\":[");
            for (i, note) in self.notes.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                crate::leaves::json::json_string(&mut out, note);
            }
            out.push(']');
        }
        out.push('}');
        out
    }
}

/// A failure reason as it may be shown: secrets redacted, credentials in
/// connection strings removed, and cut to a bounded length.
pub(crate) fn clean_reason(reason: &str) -> String {
    let redacted = crate::leaves::redact::redact(reason);
    let stripped = strip_credentials(&redacted);
    let mut text = stripped.into_owned();
    if text.len() > MAX_OUTPUT_LEN {
        let mut end = MAX_OUTPUT_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// Removes passwords from connection strings: the `user:password@` of a
/// URL (`postgres://app:s3cret@db:5432`) and `password=` pairs of libpq
/// and ADO-style strings (`host=db password=s3cret`, `Password=s3cret;`).
fn strip_credentials(text: &str) -> Cow<'_, str> {
    let mut masks: Vec<(usize, usize)> = Vec::new();
    // `scheme://user:password@`: what lies between the first `:` after
    // `://` and the last `@` before the next `/`, space or quote.
    let mut search = 0;
    while let Some(found) = text[search..].find("://") {
        let start = search + found + 3;
        let end = text[start..]
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
            .map_or(text.len(), |e| start + e);
        let authority = &text[start..end];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
        {
            masks.push((start + colon + 1, start + at));
        }
        search = end;
    }
    // `password=...`, `passwd=...`, `pwd=...`, up to a separator.
    let lower = text.to_ascii_lowercase();
    for key in ["password=", "passwd=", "pwd="] {
        let mut from = 0;
        while let Some(found) = lower[from..].find(key) {
            let key_at = from + found;
            let value = key_at + key.len();
            let at_word_start = key_at
                .checked_sub(1)
                .and_then(|before| lower.as_bytes().get(before))
                .is_none_or(|b| !b.is_ascii_alphanumeric());
            let end = text[value..]
                .find(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == ',')
                .map_or(text.len(), |e| value + e);
            if at_word_start && end > value {
                masks.push((value, end));
            }
            from = value;
        }
    }
    if masks.is_empty() {
        return Cow::Borrowed(text);
    }
    masks.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (from, to) in masks {
        if from < copied || from == to {
            continue;
        }
        out.push_str(&text[copied..from]);
        out.push_str("***");
        copied = to;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// A JSON number: integers without a fraction, non-finite values as
/// `null` (JSON has no NaN).
fn json_number(out: &mut String, v: f64) {
    if !v.is_finite() {
        out.push_str("null");
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(out, "{v:.0}");
    } else {
        let _ = write!(out, "{v}");
    }
}

/// An RFC 3339 UTC timestamp with milliseconds (`2026-11-23T16:40:47.123Z`).
fn rfc3339_utc(time: SystemTime) -> String {
    let mut out = String::with_capacity(24);
    crate::leaves::time::rfc3339(&mut out, time, crate::leaves::time::Precision::Millis);
    out
}

#[cfg(test)]
// `Duration::from_hours` is newer than the crate's minimum Rust (1.88).
#[allow(clippy::duration_suboptimal_units)]
mod tests {
    use super::*;

    #[test]
    fn connection_string_passwords_are_removed() {
        let cases = [
            (
                "error connecting to postgres://app:s3cret@db.internal:5432/orders",
                "error connecting to postgres://app:***@db.internal:5432/orders",
            ),
            (
                "redis://:hunter2@cache:6379/0 refused",
                "redis://:***@cache:6379/0 refused",
            ),
            (
                "host=db user=app password=s3cret dbname=x",
                "host=db user=app password=*** dbname=x",
            ),
            (
                "Server=db;User Id=app;Password=s3cret;",
                "Server=db;User Id=app;Password=***;",
            ),
            (
                "postgres://app@db/x has no password",
                "postgres://app@db/x has no password",
            ),
            ("http://db:5432/x", "http://db:5432/x"),
            ("nothing secret here", "nothing secret here"),
        ];
        for (input, expected) in cases {
            assert_eq!(strip_credentials(input), expected, "{input}");
        }
    }

    #[test]
    fn json_numbers() {
        let mut n = String::new();
        json_number(&mut n, 45.0);
        n.push(' ');
        json_number(&mut n, 45.5);
        n.push(' ');
        json_number(&mut n, f64::NAN);
        assert_eq!(n, "45 45.5 null");
    }

    #[test]
    fn long_reasons_are_cut() {
        let long = "x".repeat(5_000);
        assert!(clean_reason(&long).len() <= MAX_OUTPUT_LEN + '…'.len_utf8());
    }
}
