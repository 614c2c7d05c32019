//! The operational endpoints as an axum `Router` (feature `axum`): `/metrics`
//! behind an IP allowlist, and the health probes.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::leaves::access::Allowlist;

/// The content type of the Prometheus text format 0.0.4.
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Who may scrape `/metrics`, and how to find the caller behind a proxy.
///
/// ```
/// use obs_runtime::http::MetricsConfig;
///
/// let config = MetricsConfig::default()
///     .allowlist("10.0.0.0/8, 127.0.0.1".parse().unwrap())
///     .trusted_proxies(1);
/// # drop(config);
/// ```
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    allowlist: Allowlist,
    trusted_proxies: usize,
}

impl Default for MetricsConfig {
    /// Loopback and the private ranges (`10/8`, `172.16/12`, `192.168/16`,
    /// `fc00::/7`), where a Prometheus in the same cluster scrapes from; no
    /// `X-Forwarded-For` trusted, and a request that came through a proxy
    /// (it carries `Forwarded`, `X-Forwarded-For` or `X-Real-IP`) refused.
    ///
    /// The threat: behind an ingress or load balancer in the cluster
    /// network, every internet client reaches the service from a private
    /// address, so the private ranges alone would admit them all. A
    /// Prometheus scrapes the pod directly and sends no forwarding header;
    /// a proxy adds one. Serving `/metrics` on an internal port
    /// ([`serve_internal`]) that the ingress never routes to is better
    /// still.
    fn default() -> Self {
        Self {
            allowlist: Allowlist::loopback_and_private(),
            trusted_proxies: 0,
        }
    }
}

impl MetricsConfig {
    /// Replaces the allowlist.
    ///
    /// ```
    /// let only_loopback = obs_runtime::http::MetricsConfig::default()
    ///     .allowlist(obs_runtime::access::Allowlist::loopback());
    /// # drop(only_loopback);
    /// ```
    #[must_use]
    pub fn allowlist(mut self, allowlist: Allowlist) -> Self {
        self.allowlist = allowlist;
        self
    }

    /// Trusts the last `depth` entries of `X-Forwarded-For`, added by that
    /// many proxies of yours in front of the service: the caller is the
    /// entry `depth` places from the right. 0 (the default) ignores the
    /// header, which any client can forge.
    ///
    /// ```
    /// let behind_one_proxy = obs_runtime::http::MetricsConfig::default().trusted_proxies(1);
    /// # drop(behind_one_proxy);
    /// ```
    #[must_use]
    pub fn trusted_proxies(mut self, depth: usize) -> Self {
        self.trusted_proxies = depth;
        self
    }

    /// The caller's address: the peer, or with trusted proxies the
    /// `X-Forwarded-For` entry they vouch for. Without trusted proxies, a
    /// request that says it was forwarded has no caller we can trust.
    fn caller(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        if self.trusted_proxies == 0 {
            return if was_forwarded(headers) { None } else { peer };
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        // Fewer entries than proxies: the chain is not what we were told,
        // so nothing in it is trusted.
        let entry = hops
            .len()
            .checked_sub(self.trusted_proxies)
            .map(|i| hops[i])?;
        entry.parse().ok()
    }
}

/// The headers a proxy adds; a Prometheus scraping the pod directly sends
/// none of them.
const FORWARDING_HEADERS: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

fn was_forwarded(headers: &HeaderMap) -> bool {
    FORWARDING_HEADERS.iter().any(|h| headers.contains_key(*h))
}

fn peer_of(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// Whether the caller accepts gzip (`Accept-Encoding`, with `q=0` meaning
/// no).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f64>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

async fn metrics_handler(State(config): State<Arc<MetricsConfig>>, request: Request) -> Response {
    let caller = config.caller(peer_of(&request), request.headers());
    if !caller.is_some_and(|ip| config.allowlist.contains(ip)) {
        let body = match caller {
            Some(ip) => format!("forbidden: {ip} is not in the metrics allowlist\n"),
            None if config.trusted_proxies == 0 && was_forwarded(request.headers()) => {
                "forbidden: the request came through a proxy (it carries a forwarding header) and no proxy is trusted; scrape the service directly, serve /metrics on an internal port, or set MetricsConfig::trusted_proxies\n".to_owned()
            }
            None => "forbidden: the caller's address is unknown\n".to_owned(),
        };
        return (StatusCode::FORBIDDEN, body).into_response();
    }
    let text = crate::metric_core::registry::global().encode_text();
    let mut response = if accepts_gzip(request.headers()) {
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(text.len() / 8),
            flate2::Compression::fast(),
        );
        match gz.write_all(text.as_bytes()).and_then(|()| gz.finish()) {
            Ok(body) => {
                let mut r = body.into_response();
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                r
            }
            // Compression into memory does not fail; if it ever did, the
            // plain text still answers the scrape.
            Err(_) => text.into_response(),
        }
    } else {
        text.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT_FORMAT));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// `/metrics` alone, with `config`.
///
/// ```
/// let app: axum::Router = obs_runtime::http::metrics_router(obs_runtime::http::MetricsConfig::default());
/// # drop(app);
/// ```
pub fn metrics_router(config: MetricsConfig) -> Router {
    Router::new()
        .route(super::METRICS_PATH, get(metrics_handler))
        .with_state(Arc::new(config))
}

/// `/metrics` (default [`MetricsConfig`]) and every health endpoint
/// (`/livez`, `/readyz`, `/startupz`, `/healthz` and their aliases): merge
/// it into your router, and serve with
/// `into_make_service_with_connect_info::<SocketAddr>()` so the allowlists
/// see the caller.
///
/// ```
/// use axum::{Router, routing::get};
///
/// let app: Router = Router::new()
///     .route("/users/{id}", get(|| async { "ada" }))
///     .layer(obs_runtime::http::ObsLayer::new())
///     .merge(obs_runtime::http::routes());
/// ```
pub fn routes() -> Router {
    routes_with(MetricsConfig::default())
}

/// [`routes`] with a given metrics configuration.
///
/// ```
/// let app: axum::Router = obs_runtime::http::routes_with(obs_runtime::http::MetricsConfig::default());
/// # drop(app);
/// ```
pub fn routes_with(config: MetricsConfig) -> Router {
    super::metrics::register_metrics();
    metrics_router(config).merge(crate::subsystems::health::axum::router())
}

/// Serves [`routes`] on a separate listener, such as an internal port that
/// only the cluster reaches (`127.0.0.1:9464`, `0.0.0.0:9464`), in a task
/// of the current tokio runtime. Returns the bound address.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let addr = obs_runtime::http::serve_internal("127.0.0.1:9464").await?;
/// println!("metrics and probes on http://{addr}");
/// # Ok(()) }
/// ```
///
/// # Errors
/// When the address can't be bound.
pub async fn serve_internal(addr: impl tokio::net::ToSocketAddrs) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = routes().into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(target: "obs::http", "internal listener on {local} stopped: {e}");
        }
    });
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_negotiation() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, v.parse().unwrap());
            m
        };
        assert!(accepts_gzip(&h("gzip")));
        assert!(accepts_gzip(&h("br, gzip;q=0.8")));
        assert!(accepts_gzip(&h("*")));
        assert!(!accepts_gzip(&h("gzip;q=0")));
        assert!(!accepts_gzip(&h("identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn forwarded_for_is_trusted_only_to_the_configured_depth() {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "203.0.113.9, 10.0.0.5".parse().unwrap());
        h.append("x-forwarded-for", "10.0.0.7".parse().unwrap());
        let peer = Some("10.0.0.1".parse().unwrap());
        let c = |depth| {
            MetricsConfig::default()
                .trusted_proxies(depth)
                .caller(peer, &h)
        };
        assert_eq!(c(0), None, "forwarded, and no proxy trusted: refused");
        assert_eq!(c(1), Some("10.0.0.7".parse().unwrap()));
        assert_eq!(c(3), Some("203.0.113.9".parse().unwrap()));
        assert_eq!(c(4), None, "a shorter chain than promised is not trusted");
    }

    #[test]
    fn a_forwarded_request_is_refused_unless_proxies_are_trusted() {
        let peer: Option<IpAddr> = Some("10.0.0.1".parse().unwrap());
        let direct = MetricsConfig::default();
        assert_eq!(
            direct.caller(peer, &HeaderMap::new()),
            peer,
            "a direct scrape"
        );
        for name in FORWARDING_HEADERS {
            let mut h = HeaderMap::new();
            h.insert(name, "for=203.0.113.9".parse().unwrap());
            assert_eq!(
                direct.caller(peer, &h),
                None,
                "{name} without trusted proxies"
            );
        }
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "10.0.0.9".parse().unwrap());
        assert_eq!(
            MetricsConfig::default().trusted_proxies(1).caller(peer, &h),
            Some("10.0.0.9".parse().unwrap()),
            "a trusted proxy vouches for the caller"
        );
    }
}
