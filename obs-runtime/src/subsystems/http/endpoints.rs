//! The operational endpoints as an axum `Router` (feature `axum`): `/metrics`
//! behind an IP allowlist (the text format 0.0.4, or `OpenMetrics` 1.0.0 when
//! the scraper's `Accept` prefers it; gzip for either), and the health probes; and the internal port
//! that serves them, with a deadline for request heads and a connection
//! limit.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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
            .and_then(|i| hops.get(i))?;
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

/// The exposition formats `/metrics` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// The Prometheus text format 0.0.4: the default.
    Text,
    /// `OpenMetrics` 1.0.0 text.
    OpenMetrics,
}

/// Picks the format from `Accept`: `OpenMetrics` when a media range names
/// `application/openmetrics-text` (version 1.0.0, or no version) with a
/// quality above 0 and at least that of `text/plain` (or of `*/*` and
/// `text/*` when `text/plain` is not named); the text format otherwise,
/// including when there is no `Accept` at all. A Prometheus asks for
/// `application/openmetrics-text;version=1.0.0,…,text/plain;version=0.0.4;q=0.5,…`.
fn negotiate(headers: &HeaderMap) -> Format {
    let mut openmetrics: f64 = 0.0;
    let mut text: Option<f64> = None;
    let mut wildcard: f64 = 0.0;
    let ranges = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    for range in ranges {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let mut q = 1.0;
        let mut version = None;
        for param in parts {
            let Some((k, v)) = param.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                // An unreadable quality counts as 0: not asked for.
                "q" => {
                    q = v
                        .parse::<f64>()
                        .ok()
                        .filter(|q| q.is_finite())
                        .unwrap_or(0.0);
                }
                "version" => version = Some(v.to_owned()),
                _ => {}
            }
        }
        match media.as_str() {
            "application/openmetrics-text" if version.as_deref().is_none_or(|v| v == "1.0.0") => {
                openmetrics = openmetrics.max(q);
            }
            "text/plain" if version.as_deref().is_none_or(|v| v == "0.0.4") => {
                text = Some(text.unwrap_or(0.0).max(q));
            }
            "*/*" | "text/*" => wildcard = wildcard.max(q),
            _ => {}
        }
    }
    if openmetrics > 0.0 && openmetrics >= text.unwrap_or(wildcard) {
        Format::OpenMetrics
    } else {
        Format::Text
    }
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
    let format = negotiate(request.headers());
    let registry = crate::metric_core::registry::global();
    let (text, content_type) = match format {
        Format::Text => (registry.encode_text(), TEXT_FORMAT),
        Format::OpenMetrics => (
            registry.encode_openmetrics(),
            crate::metric_core::encode::OPENMETRICS_CONTENT_TYPE,
        ),
    };
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
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::VARY,
        HeaderValue::from_static("accept, accept-encoding"),
    );
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

/// How [`serve_internal_with`] treats its connections: slow or idle clients
/// are closed, and only so many are served at once, so a few hundred
/// half-open connections can't keep the probes and the scrape from
/// answering.
///
/// ```
/// use std::time::Duration;
/// use obs_runtime::http::{InternalConfig, MetricsConfig};
///
/// let config = InternalConfig::default()
///     .header_read_timeout(Duration::from_secs(5))
///     .max_connections(64)
///     .metrics(MetricsConfig::default());
/// # drop(config);
/// ```
#[derive(Debug, Clone)]
pub struct InternalConfig {
    header_read_timeout: Duration,
    max_connections: usize,
    metrics: MetricsConfig,
}

impl Default for InternalConfig {
    /// A request head must arrive within 10 s; at most 256 connections at
    /// once; the default [`MetricsConfig`].
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 256,
            metrics: MetricsConfig::default(),
        }
    }
}

impl InternalConfig {
    /// How long a connection may take to send a complete request head,
    /// counted from when it opens and from each response (so it also
    /// bounds how long a kept-alive connection may sit idle). A connection
    /// past it is closed.
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How many connections are served at once (at least 1). Further
    /// connections wait in the listen backlog until one closes.
    #[must_use]
    pub fn max_connections(mut self, limit: usize) -> Self {
        self.max_connections = limit.max(1);
        self
    }

    /// Who may scrape `/metrics`.
    #[must_use]
    pub fn metrics(mut self, config: MetricsConfig) -> Self {
        self.metrics = config;
        self
    }
}

/// Serves [`routes`] on a separate listener, such as an internal port that
/// only the cluster reaches (`127.0.0.1:9464`, `0.0.0.0:9464`), in a task
/// of the current tokio runtime, with the default [`InternalConfig`].
/// Returns the bound address.
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
    serve_internal_with(addr, InternalConfig::default()).await
}

/// [`serve_internal`] with a given configuration: a connection that has
/// not sent a complete request head within
/// [`header_read_timeout`](InternalConfig::header_read_timeout) is closed,
/// and at most [`max_connections`](InternalConfig::max_connections) are
/// served at once.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use std::time::Duration;
/// use obs_runtime::http::{InternalConfig, serve_internal_with};
///
/// let config = InternalConfig::default().header_read_timeout(Duration::from_secs(5));
/// let addr = serve_internal_with("127.0.0.1:9464", config).await?;
/// # drop(addr);
/// # Ok(()) }
/// ```
///
/// # Errors
/// When the address can't be bound.
pub async fn serve_internal_with(
    addr: impl tokio::net::ToSocketAddrs,
    config: InternalConfig,
) -> std::io::Result<SocketAddr> {
    use axum::serve::ListenerExt as _;

    let tcp = tokio::net::TcpListener::bind(addr).await?;
    let local = tcp.local_addr()?;
    let listener = InternalListener {
        tcp,
        slots: Arc::new(Semaphore::new(config.max_connections)),
        header_read_timeout: config.header_read_timeout,
    }
    // `tap_io` gives the listener axum's `ConnectInfo<SocketAddr>`, which
    // the allowlists read.
    .tap_io(|_| {});
    let app = routes_with(config.metrics).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(target: "obs::http", "internal listener on {local} stopped: {e}");
        }
    });
    Ok(local)
}

/// The internal port's listener: takes a connection only when a slot is
/// free, and gives each a deadline for its request heads.
///
/// `axum::serve` can't set hyper's own `header_read_timeout`, so the
/// deadline is kept by the connection's stream ([`HeadDeadline`]).
struct InternalListener {
    tcp: tokio::net::TcpListener,
    slots: Arc<Semaphore>,
    header_read_timeout: Duration,
}

impl axum::serve::Listener for InternalListener {
    type Io = HeadDeadline<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // A slot first: at the limit, new connections wait in the kernel's
        // backlog, and a client behind the slow ones is served as soon as
        // the deadline closes one.
        let Ok(slot) = Arc::clone(&self.slots).acquire_owned().await else {
            // The semaphore is never closed.
            return std::future::pending().await;
        };
        loop {
            match self.tcp.accept().await {
                Ok((io, peer)) => {
                    return (HeadDeadline::new(io, self.header_read_timeout, slot), peer);
                }
                // The client went away before we took its connection.
                Err(e) if is_connection_error(&e) => {}
                // Out of file descriptors, mostly: wait rather than spin.
                Err(e) => {
                    tracing::warn!(target: "obs::http", "internal listener: accept failed: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Where the scan for the end of a request head is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    /// Nothing but line ends yet (a parser skips empty lines before a
    /// request, so they don't end a head).
    Empty,
    /// Within a line.
    Line,
    /// Right after a line's `\n`.
    LineEnd,
    /// After `\n\r`.
    LineEndCr,
}

impl Head {
    /// The state after `byte`, or `None` when the head is complete: an
    /// empty line (`\n\n` or `\n\r\n`, as hyper reads them).
    fn next(self, byte: u8) -> Option<Self> {
        Some(match (self, byte) {
            (Self::LineEnd | Self::LineEndCr, b'\n') => return None,
            (Self::Empty, b'\r' | b'\n') => Self::Empty,
            (Self::Line, b'\n') => Self::LineEnd,
            (Self::LineEnd, b'\r') => Self::LineEndCr,
            _ => Self::Line,
        })
    }
}

/// A connection's stream that fails its reads once a request head is
/// overdue. Armed when the connection opens and again with each response
/// the server writes; disarmed when the head's empty line has been read.
/// hyper then closes the connection, which frees its slot.
struct HeadDeadline<T> {
    io: T,
    /// Boxed: axum wants an `Unpin` stream, and `Sleep` is not.
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
    /// `Some` while a head is awaited.
    head: Option<Head>,
    /// Held for the life of the connection.
    _slot: OwnedSemaphorePermit,
}

impl<T> HeadDeadline<T> {
    fn new(io: T, timeout: Duration, slot: OwnedSemaphorePermit) -> Self {
        Self {
            io,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            timeout,
            head: Some(Head::Empty),
            _slot: slot,
        }
    }
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for HeadDeadline<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.head.is_some() && this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no complete request head within the header read timeout",
            )));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        if let Some(state) = this.head {
            // `None` once the empty line is read; bytes after it belong to
            // the body or a pipelined request.
            this.head = buf
                .filled()
                .iter()
                .skip(before)
                .try_fold(state, |s, &byte| s.next(byte));
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for HeadDeadline<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.io).poll_write(cx, data))?;
        if written > 0 {
            // A response: the next request head is due within the timeout.
            this.head = Some(Head::Empty);
            this.deadline
                .as_mut()
                .reset(tokio::time::Instant::now() + this.timeout);
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_ends_at_its_first_empty_line() {
        let ends = |text: &[u8]| {
            text.iter()
                .try_fold(Head::Empty, |s, &b| s.next(b))
                .is_none()
        };
        assert!(ends(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(ends(b"GET /livez HTTP/1.0\n\n"));
        assert!(ends(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n"));
        // Empty lines before a request are skipped, not a head.
        assert!(!ends(b"\r\n\r\n\n\n"));
        assert!(!ends(b"GET /livez HTTP/1.1\r\nHost: x\r\n"));
        assert!(!ends(b"GET / HTTP/1.1\r\n\r\r\n"));
    }

    #[test]
    fn format_negotiation() {
        let h = |values: &[&str]| {
            let mut m = HeaderMap::new();
            for v in values {
                m.append(header::ACCEPT, v.parse().unwrap());
            }
            m
        };
        let om = Format::OpenMetrics;
        let text = Format::Text;
        // What Prometheus 2.x sends by default.
        assert_eq!(
            negotiate(&h(&[
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
            ])),
            om
        );
        assert_eq!(
            negotiate(&h(&[
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            ])),
            om
        );
        assert_eq!(negotiate(&h(&["application/openmetrics-text"])), om);
        assert_eq!(
            negotiate(&h(&["text/plain", "Application/OpenMetrics-Text"])),
            om,
            "equal quality: OpenMetrics"
        );
        assert_eq!(
            negotiate(&h(&[
                "text/plain;q=0.5, application/openmetrics-text;q=0.6"
            ])),
            om
        );
        assert_eq!(
            negotiate(&h(&["*/*;q=0.2, application/openmetrics-text;q=0.3"])),
            om
        );
        // The text format: the default, and whenever it is preferred.
        assert_eq!(negotiate(&HeaderMap::new()), text);
        assert_eq!(negotiate(&h(&["*/*"])), text);
        assert_eq!(negotiate(&h(&["text/plain;version=0.0.4"])), text);
        assert_eq!(negotiate(&h(&["application/openmetrics-text;q=0"])), text);
        assert_eq!(
            negotiate(&h(&[
                "application/openmetrics-text;q=0.4, text/plain;q=0.5"
            ])),
            text
        );
        assert_eq!(
            negotiate(&h(&["application/openmetrics-text;q=0.4, */*"])),
            text
        );
        assert_eq!(
            negotiate(&h(&["application/openmetrics-text;version=0.0.1"])),
            text,
            "a version we don't write"
        );
        assert_eq!(
            negotiate(&h(&["application/openmetrics-text;q=nonsense"])),
            text
        );
        assert_eq!(negotiate(&h(&["application/json"])), text);
    }

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
