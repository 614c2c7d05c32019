//! The probe endpoints, independent of any HTTP framework: a path, a query
//! and the caller's address in; a status, headers and a body out.

use std::net::IpAddr;

use super::{Health, Probe, Selection};

/// The media type of every health response (IETF draft "Health Check
/// Response Format for HTTP APIs").
///
/// ```
/// assert_eq!(obs_runtime::health::CONTENT_TYPE, "application/health+json");
/// ```
pub const CONTENT_TYPE: &str = "application/health+json";

/// An answer to a probe request, for any HTTP framework to send.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use obs_runtime::health::Health;
///
/// let health = Health::global();
/// let response = health.respond("/livez", None, Some("127.0.0.1".parse().unwrap())).await.unwrap();
/// assert_eq!(response.status, 200);
/// assert_eq!(response.content_type, "application/health+json");
/// assert_eq!(response.cache_control, "max-age=1");
/// assert!(health.respond("/metrics", None, None).await.is_none());
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthResponse {
    /// 200, 503, or 404 for an unknown check.
    pub status: u16,
    /// `Content-Type`: always [`CONTENT_TYPE`].
    pub content_type: &'static str,
    /// `Cache-Control`: `max-age=<TTL in whole seconds>`.
    pub cache_control: String,
    /// The JSON body.
    pub body: String,
}

/// What a path asks for: a probe (or all), and maybe one check.
fn route(path: &str) -> Option<(Option<Probe>, Option<&str>)> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let (base, name) = match path.match_indices('/').nth(1) {
        // `/readyz/<name>`; `/health/ready` is a base of its own.
        Some((at, _)) if !path.starts_with("/health/") => (&path[..at], Some(&path[at + 1..])),
        _ => (path, None),
    };
    let probe = match base {
        "/livez" | "/health/live" => Some(Probe::Liveness),
        "/readyz" | "/health/ready" => Some(Probe::Readiness),
        "/startupz" | "/health/startup" => Some(Probe::Startup),
        "/healthz" | "/health" => None,
        _ => return None,
    };
    match name {
        Some(n) if n.is_empty() || n.contains('/') => None,
        _ => Some((probe, name)),
    }
}

/// The note of a report whose `exclude` was ignored.
const EXCLUDE_REFUSED: &str =
    "exclude ignored: only callers on the health allowlist may leave checks out";

/// The names given as `exclude=<name>`, repeatable.
fn excluded(query: Option<&str>) -> Vec<&str> {
    query
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.strip_prefix("exclude="))
        .filter(|name| !name.is_empty())
        .collect()
}

impl Health {
    /// Answers a request for one of the probe paths: `/livez`, `/readyz`,
    /// `/startupz`, `/healthz`, the aliases `/health/live`,
    /// `/health/ready`, `/health/startup` and `/health`, and a single check
    /// at `/<probe>/<name>` (404 when the probe has no check of that name).
    /// `query` may repeat `exclude=<name>`, honoured only for a `peer` on
    /// the allowlist (an unknown name is noted in the body; so is an
    /// `exclude` ignored for another caller). Failure reasons are shown only when
    /// [`reveals_reasons_to`](Self::reveals_reasons_to) the `peer`.
    /// `None` for any other path.
    pub async fn respond(
        &self,
        path: &str,
        query: Option<&str>,
        peer: Option<IpAddr>,
    ) -> Option<HealthResponse> {
        let (probe, name) = route(path)?;
        let exclude = excluded(query);
        let selection = match (probe, name) {
            (probe, Some(name)) => Selection::One(probe, name),
            (Some(probe), None) => Selection::Probe(probe),
            (None, None) => Selection::All,
        };
        let cache_control = format!("max-age={}", self.config.ttl.as_secs());
        if let Selection::One(probe, name) = selection
            && Self::select(selection).is_none()
        {
            return Some(not_found(probe, name, cache_control));
        }
        // Excluding a critical check turns a failing probe into a passing
        // one, so only callers on the allowlist may; for the rest the
        // parameter is ignored, and the body says so.
        let may_exclude = peer.is_some_and(|ip| self.config.allowlist.contains(ip));
        let ignored = !may_exclude && !exclude.is_empty();
        let exclude = if may_exclude { exclude } else { Vec::new() };
        let mut report = self.run(selection, &exclude).await;
        if ignored {
            report.notes.push(EXCLUDE_REFUSED.to_owned());
        }
        let body = if self.reveals_reasons_to(peer) {
            report.to_json()
        } else {
            report.to_json_withholding_reasons()
        };
        Some(HealthResponse {
            status: report.http_status(),
            content_type: CONTENT_TYPE,
            cache_control,
            body,
        })
    }
}

/// The 404 of a single-check path whose probe has no check of that name.
fn not_found(probe: Option<Probe>, name: &str, cache_control: String) -> HealthResponse {
    let what = probe.map_or("health check".to_owned(), |p| format!("{p} check"));
    // Echo the name only when it could be a check's name, so a crafted URL
    // can't write into the body.
    let output = if crate::leaves::schema::check_health_check_name(name).is_none() {
        format!("no {what} is named \\\"{name}\\\"")
    } else {
        format!("no {what} has that name")
    };
    HealthResponse {
        status: 404,
        content_type: CONTENT_TYPE,
        cache_control,
        body: format!("{{\"status\":\"fail\",\"output\":\"{output}\"}}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("/readyz"), Some((Some(Probe::Readiness), None)));
        assert_eq!(route("/readyz/"), Some((Some(Probe::Readiness), None)));
        assert_eq!(route("/health/ready"), Some((Some(Probe::Readiness), None)));
        assert_eq!(route("/health/live"), Some((Some(Probe::Liveness), None)));
        assert_eq!(route("/health"), Some((None, None)));
        assert_eq!(route("/healthz"), Some((None, None)));
        assert_eq!(route("/startupz"), Some((Some(Probe::Startup), None)));
        assert_eq!(
            route("/readyz/db"),
            Some((Some(Probe::Readiness), Some("db")))
        );
        assert_eq!(route("/healthz/db"), Some((None, Some("db"))));
        assert_eq!(route("/readyz/a/b"), None);
        assert_eq!(route("/health/ready/db"), None);
        assert_eq!(route("/metrics"), None);
        assert_eq!(route("/"), None);
    }

    #[test]
    fn unknown_names_are_echoed_only_when_harmless() {
        let plain = not_found(Some(Probe::Readiness), "nope", String::new());
        assert_eq!(plain.status, 404);
        assert_eq!(
            plain.body,
            r#"{"status":"fail","output":"no readiness check is named \"nope\""}"#
        );
        let crafted = not_found(None, "x\",\"status\":\"pass", String::new());
        assert_eq!(
            crafted.body,
            r#"{"status":"fail","output":"no health check has that name"}"#
        );
    }

    #[test]
    fn exclusions() {
        assert_eq!(
            excluded(Some("exclude=a&verbose&exclude=b")),
            vec!["a", "b"]
        );
        assert!(excluded(None).is_empty());
        assert!(excluded(Some("exclude=")).is_empty());
    }
}
