//! [`ObsLayer`]: request metrics, request ids, a server span and an access
//! log line for every request of a tower service (axum, hyper, tonic).

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, ready};

use bytes::Buf as _;
use http::{HeaderValue, Request, Response, header};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::request_id::{self, RequestId, X_REQUEST_ID};
use crate::LabelSet;
use crate::leaves::schema;
use crate::metric_core::metrics::cell::UpDownCell;
use crate::metric_core::metrics::{Histogram, HistogramHandle, UpDownGauge};

/// The `http_route` of a request no route matched: one fixed value, so
/// scanners probing random paths can't grow the families.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Paths that get no metrics, span or log line by default: the scrape
/// and the probes ([`PROBE_PATHS`](crate::health::PROBE_PATHS), and below
/// them), which would otherwise drown the service's own traffic.
pub const METRICS_PATH: &str = "/metrics";

/// The route template of a request, for services that don't route with
/// axum: put it in the request's extensions before [`ObsLayer`] sees it
/// (axum's `MatchedPath` is read directly with the `axum` feature).
///
/// ```
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(obs_runtime::http::RouteTemplate("/orders/{id}"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteTemplate(pub &'static str);

/// Labels of the request histograms, spelled as OpenTelemetry's HTTP
/// attributes are in Prometheus. Open: routes and status codes are known
/// at run time, so the families are capped maps, filled by `with_values`.
#[derive(LabelSet)]
#[label(crate = "crate")]
struct RequestLabels {
    http_request_method: &'static str,
    http_route: &'static str,
    http_response_status_code: &'static str,
    error_type: &'static str,
}

/// Labels of the active-requests gauge.
#[derive(LabelSet)]
#[label(crate = "crate")]
struct ActiveLabels {
    http_request_method: &'static str,
    http_route: &'static str,
}

/// The HTTP server metrics, registered once for the program.
struct HttpMetrics {
    duration: &'static Histogram<RequestLabels>,
    request_size: &'static Histogram<RequestLabels>,
    response_size: &'static Histogram<RequestLabels>,
    active: &'static UpDownGauge<ActiveLabels>,
}

/// Registers `metric`; if a user took the name already, keeps counting in
/// an unexposed copy and says so once, rather than failing requests.
fn register<T: crate::metric_core::encode::Collect + 'static>(
    make: impl Fn() -> T,
    register: impl FnOnce(T) -> Result<&'static T, crate::metric_core::registry::RegistryError>,
) -> &'static T {
    register(make()).unwrap_or_else(|e| {
        tracing::warn!(target: "obs::http", "HTTP metric not exposed: {e}");
        Box::leak(Box::new(make()))
    })
}

fn metrics() -> &'static HttpMetrics {
    static METRICS: OnceLock<HttpMetrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let histogram = |name: &'static str, help: &'static str, buckets: &'static [f64]| {
            register(
                || Histogram::<RequestLabels>::unchecked(name.into(), help.into(), buckets),
                Histogram::register,
            )
        };
        HttpMetrics {
            duration: histogram(
                "http_server_request_duration_seconds",
                "Duration of HTTP server requests, until the response head is ready.",
                schema::HTTP,
            ),
            request_size: histogram(
                "http_server_request_size_bytes",
                "Size of HTTP server request bodies, from Content-Length or the body's exact size.",
                schema::BYTES,
            ),
            response_size: histogram(
                "http_server_response_size_bytes",
                "Size of HTTP server response bodies, from Content-Length or the bytes sent.",
                schema::BYTES,
            ),
            active: register(
                || {
                    UpDownGauge::<ActiveLabels>::unchecked(
                        "http_server_active_requests".into(),
                        "HTTP server requests being handled now.".into(),
                    )
                },
                UpDownGauge::register,
            ),
        }
    })
}

/// Makes sure the HTTP families exist (empty) before the first request.
pub(crate) fn register_metrics() {
    metrics();
}

/// The standard methods, in the order of their cache slots; anything
/// else is `_OTHER`, as the OpenTelemetry conventions say (methods are
/// unbounded).
const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER",
];

/// The method's label and its index in [`METHODS`].
pub(crate) fn method_label(method: &http::Method) -> (usize, &'static str) {
    use http::Method;
    // Standard methods compare as enum tags, not as text.
    let i = match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::PUT => 3,
        Method::DELETE => 4,
        Method::CONNECT => 5,
        Method::OPTIONS => 6,
        Method::TRACE => 7,
        Method::PATCH => 8,
        _ => 9,
    };
    (i, METHODS[i])
}

/// How many status codes per method a service keeps handles for; further
/// ones are looked up in the families each time.
const STATUS_SLOTS: usize = 4;

/// The series handles a finished request records into.
#[derive(Clone, Copy)]
struct Finished {
    duration: HistogramHandle<'static>,
    request_size: HistogramHandle<'static>,
    response_size: HistogramHandle<'static>,
}

impl Finished {
    fn lookup(labels: &[&str; 4]) -> Self {
        let m = metrics();
        Self {
            duration: m.duration.with_values(labels),
            request_size: m.request_size.with_values(labels),
            response_size: m.response_size.with_values(labels),
        }
    }
}

/// Series handles resolved once per service. Axum wraps every route in its
/// own service, so one service nearly always sees one route: its
/// (method, status) series are then found without hashing label values on
/// each request. A service that sees another route (a fallback, a plain
/// tower stack) looks up as usual.
struct SeriesCache {
    route: OnceLock<Box<str>>,
    active: [OnceLock<&'static UpDownCell>; METHODS.len()],
    finished: [[OnceLock<(u16, Finished)>; STATUS_SLOTS]; METHODS.len()],
}

impl SeriesCache {
    const fn new() -> Self {
        Self {
            route: OnceLock::new(),
            active: [const { OnceLock::new() }; METHODS.len()],
            finished: [const { [const { OnceLock::new() }; STATUS_SLOTS] }; METHODS.len()],
        }
    }

    /// A cache for a new service. They live in one static table, so a
    /// request in flight refers to its cache without a reference count (a
    /// shared count would be two contended atomic operations per
    /// request); services past the table's size share slots, and a slot
    /// another route claimed first only means plain lookups.
    fn next() -> &'static Self {
        const SLOTS: usize = 64;
        static CACHES: [SeriesCache; SLOTS] = [const { SeriesCache::new() }; SLOTS];
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        &CACHES[NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % SLOTS]
    }
}

impl std::fmt::Debug for SeriesCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesCache")
            .field("route", &self.route.get())
            .finish_non_exhaustive()
    }
}

impl SeriesCache {
    /// This cache's copy of `route` if the cache serves it (the first
    /// route seen claims it).
    fn serves(&'static self, route: &str) -> Option<&'static str> {
        let own: &'static str = self.route.get_or_init(|| route.into());
        (own == route).then_some(own)
    }

    fn active(&self, method: usize, route: &Route) -> &'static UpDownCell {
        let lookup = || {
            metrics()
                .active
                .with_values(&[METHODS[method], route.as_str()])
        };
        if let Route::Cached(_) = route {
            self.active[method].get_or_init(lookup)
        } else {
            lookup()
        }
    }

    fn finished(&self, method: usize, route: &Route, status: u16, labels: &[&str; 4]) -> Finished {
        if let Route::Cached(_) = route {
            for slot in &self.finished[method] {
                let (code, handles) = slot.get_or_init(|| (status, Finished::lookup(labels)));
                if *code == status {
                    return *handles;
                }
            }
        }
        Finished::lookup(labels)
    }
}

/// A request's route template, kept without copying it.
#[derive(Clone)]
enum Route {
    /// The route of the service's [`SeriesCache`], in the cache's copy:
    /// its series are found in the cache.
    Cached(&'static str),
    Static(&'static str),
    #[cfg(feature = "axum")]
    Matched(axum::extract::MatchedPath),
}

impl Route {
    fn as_str(&self) -> &str {
        match self {
            Self::Cached(s) | Self::Static(s) => s,
            #[cfg(feature = "axum")]
            Self::Matched(m) => m.as_str(),
        }
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The request's route; the cache's own copy when `cache` serves it, so
/// the request neither touches the router's shared reference count nor
/// compares the route again when it ends.
fn route_of<B>(req: &Request<B>, cache: &'static SeriesCache) -> Route {
    #[cfg(feature = "axum")]
    if let Some(path) = req.extensions().get::<axum::extract::MatchedPath>() {
        return match cache.serves(path.as_str()) {
            Some(own) => Route::Cached(own),
            // An `Arc` inside: cloning it copies no text.
            None => Route::Matched(path.clone()),
        };
    }
    let route = req
        .extensions()
        .get::<RouteTemplate>()
        .map_or(UNMATCHED_ROUTE, |r| r.0);
    cache
        .serves(route)
        .map_or(Route::Static(route), Route::Cached)
}

/// Which paths get no instrumentation.
#[derive(Debug, Clone)]
struct Exclusions {
    exact: Vec<String>,
}

impl Exclusions {
    fn contains(&self, path: &str) -> bool {
        self.exact.iter().any(|e| {
            // `/readyz` also covers the single-check paths `/readyz/<name>`.
            path == e
                || path
                    .strip_prefix(e.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

/// The tower layer: for each request, `http_server_request_duration_seconds`
/// (its `_count` counts requests), `http_server_active_requests`, the
/// request and response body size histograms, a request id, a server span
/// named `METHOD route` that continues an incoming `traceparent`, and one
/// access-log event (target `obs::access`) with sanitized headers.
///
/// Labels are OpenTelemetry's HTTP attributes as Prometheus spells them:
/// `http_request_method` (`_OTHER` outside the standard set), `http_route`
/// (the router's template, never the raw path; [`UNMATCHED_ROUTE`] when no
/// route matched), `http_response_status_code` and `error_type` (the status
/// code on 5xx, `cancelled` when the caller went away first, empty
/// otherwise). The families are bounded by the cardinality guard.
///
/// With axum, add the layer with `Router::layer` after the routes and the
/// `fallback` (axum applies a layer to what the router holds at that point,
/// and it is inside the router that `MatchedPath` is known); routes merged
/// afterwards, such as [`routes`](crate::http::routes), stay uninstrumented.
///
/// ```
/// use axum::{Router, routing::get};
///
/// let app: Router = Router::new()
///     .route("/users/{id}", get(|| async { "ada" }))
///     .layer(obs_runtime::http::ObsLayer::new());
/// ```
#[derive(Debug, Clone)]
pub struct ObsLayer {
    /// Shared by every service the layer makes, by plain reference: axum
    /// clones a route's service for each request, and a reference-counted
    /// list would cost two contended atomic operations per request.
    exclusions: &'static Exclusions,
}

impl Default for ObsLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl ObsLayer {
    /// The layer with the default exclusions: [`METRICS_PATH`] and the
    /// health probes.
    ///
    /// ```
    /// let _layer = obs_runtime::http::ObsLayer::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        static DEFAULT: OnceLock<Exclusions> = OnceLock::new();
        register_metrics();
        Self {
            exclusions: DEFAULT.get_or_init(|| Exclusions {
                exact: std::iter::once(METRICS_PATH)
                    .chain(crate::subsystems::health::PROBE_PATHS.iter().copied())
                    .map(str::to_owned)
                    .collect(),
            }),
        }
    }

    /// Also leaves `path` (and the paths below it) uninstrumented.
    ///
    /// The list is kept for the life of the program, as layers are built
    /// once at start-up: each call holds on to a copy of a few paths.
    ///
    /// ```
    /// let _layer = obs_runtime::http::ObsLayer::new().exclude("/internal/ping");
    /// ```
    #[must_use]
    pub fn exclude(self, path: impl Into<String>) -> Self {
        let mut exclusions = self.exclusions.clone();
        exclusions.exact.push(path.into());
        Self {
            exclusions: Box::leak(Box::new(exclusions)),
        }
    }
}

impl<S> tower_layer::Layer<S> for ObsLayer {
    type Service = ObsService<S>;

    fn layer(&self, inner: S) -> ObsService<S> {
        ObsService {
            inner,
            exclusions: self.exclusions,
            cache: SeriesCache::next(),
        }
    }
}

/// The service [`ObsLayer`] wraps around yours.
#[derive(Debug, Clone)]
pub struct ObsService<S> {
    inner: S,
    exclusions: &'static Exclusions,
    cache: &'static SeriesCache,
}

/// What a request in flight must record when it ends, however it ends.
/// Kept small (112 bytes): it lives in the response future, which the
/// router moves and boxes, and what tracing needs is behind a pointer that
/// stays empty while no subscriber wants spans or access lines.
struct InFlight {
    /// A raw reading of the TSC clock `#[instrumented]` uses.
    start: u64,
    cache: &'static SeriesCache,
    active: &'static UpDownCell,
    route: Route,
    /// Taken for the response header when the response is ready.
    request_id: Option<HeaderValue>,
    /// [`UNKNOWN_SIZE`] when neither `Content-Length` nor the body said.
    request_size: u64,
    traced: Option<Box<Traced>>,
    /// Index in [`METHODS`].
    method: u8,
    finished: bool,
}

/// A request's size that no header or body told.
const UNKNOWN_SIZE: u64 = u64::MAX;

/// The tracing side of a request in flight.
struct Traced {
    span: tracing::Span,
    /// The request's headers for the access line, sanitized.
    headers: Option<String>,
}

impl InFlight {
    /// Records the request's duration and sizes; returns the response
    /// body's size recorder when the size isn't known yet.
    /// `status_code` is 0 when no response was sent.
    fn finish(
        &mut self,
        status_code: u16,
        status: &str,
        error_type: &str,
        response_size: Option<u64>,
    ) -> HistogramHandle<'static> {
        self.finished = true;
        let method = METHODS[usize::from(self.method)];
        let request_size = (self.request_size != UNKNOWN_SIZE).then_some(self.request_size);
        let labels = [method, self.route.as_str(), status, error_type];
        let clock = crate::leaves::clock::clock();
        let elapsed_ns = clock.delta_as_nanos(self.start, clock.raw());
        // With a status, the error type follows from it: (method, status)
        // names the series.
        let series = if status_code == 0 {
            Finished::lookup(&labels)
        } else {
            self.cache
                .finished(usize::from(self.method), &self.route, status_code, &labels)
        };
        series.duration.observe_ns(elapsed_ns);
        if let Some(size) = request_size {
            #[allow(clippy::cast_precision_loss)]
            series.request_size.observe(size as f64);
        }
        let response = series.response_size;
        let traced = self.traced.as_deref();
        if let Some(span) = traced.map(|t| &t.span).filter(|s| !s.is_disabled()) {
            if !status.is_empty() {
                span.record("http.response.status_code", status);
            }
            if !error_type.is_empty() {
                span.record("error.type", error_type);
                span.record("otel.status_code", "ERROR");
            }
        }
        let _entered = traced.map(|t| t.span.enter());
        tracing::event!(
            target: "obs::access",
            tracing::Level::INFO,
            "http.request.method" = method,
            "http.route" = self.route.as_str(),
            "http.response.status_code" = status,
            "error.type" = (!error_type.is_empty()).then_some(error_type),
            duration_ms = {
                #[allow(clippy::cast_precision_loss)]
                let ms = elapsed_ns as f64 / 1e6;
                ms
            },
            request_body_size = request_size,
            response_body_size = response_size,
            headers = traced.and_then(|t| t.headers.as_deref()),
            "{} {} {}",
            method,
            self.route,
            if status.is_empty() { error_type } else { status },
        );
        response
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.finished {
            // The caller went away before the response was ready.
            self.finish(0, "", "cancelled", None);
        }
        self.active.dec();
    }
}

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for ObsService<S>
where
    S: tower_service::Service<Request<ReqB>, Response = Response<ResB>>,
    ReqB: Body,
    ResB: Body,
{
    type Response = Response<ResponseBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        if self.exclusions.contains(req.uri().path()) {
            return ResponseFuture {
                inner: self.inner.call(req),
                state: None,
            };
        }
        let start = crate::leaves::clock::clock().raw();
        let (method_index, method) = method_label(req.method());
        let route = route_of(&req, self.cache);
        // A valid incoming id is kept (and set under `X-Request-ID` when it
        // came as `X-Correlation-ID`); otherwise a fresh one replaces it.
        // Clones share the id's bytes.
        let incoming = request_id::incoming(req.headers()).map(|(id, ours)| (id.clone(), ours));
        let (header_id, extension) = match incoming {
            Some((id, true)) => {
                let extension = RequestId::from_header(id.clone());
                (id, extension)
            }
            found => {
                let (id, extension) = found.map_or_else(request_id::generate, |(id, _)| {
                    let extension = RequestId::from_header(id.clone());
                    (id, extension)
                });
                req.headers_mut().insert(X_REQUEST_ID, id.clone());
                (id, extension)
            }
        };
        let id = header_id.to_str().unwrap_or_default();
        let request_size = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .or_else(|| req.body().size_hint().exact())
            .map_or(UNKNOWN_SIZE, |n| n.min(UNKNOWN_SIZE - 1));
        let span = server_span(&req, method, route.as_str(), id);
        // Only when the access line will be written: sanitizing allocates.
        let headers = tracing::enabled!(target: "obs::access", tracing::Level::INFO)
            .then(|| access_log_headers(req.headers()));
        let traced =
            (!span.is_disabled() || headers.is_some()).then(|| Box::new(Traced { span, headers }));
        req.extensions_mut().insert(extension);
        let active = self.cache.active(method_index, &route);
        active.inc();
        let state = InFlight {
            start,
            cache: self.cache,
            active,
            route,
            request_id: Some(header_id),
            request_size,
            traced,
            #[allow(clippy::cast_possible_truncation)]
            method: method_index as u8,
            finished: false,
        };
        let inner = {
            let _entered = state.traced.as_ref().map(|t| t.span.enter());
            self.inner.call(req)
        };
        ResponseFuture {
            inner,
            state: Some(state),
        }
    }
}

/// `name: value; name: value`, with secrets redacted by
/// [`crate::redact::sanitize_headers`]; the request id is on the line
/// already.
fn access_log_headers(headers: &http::HeaderMap) -> String {
    let mut out = String::new();
    for (name, value) in crate::redact::sanitize_headers(headers) {
        if name == "x-request-id" {
            continue;
        }
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(&name);
        out.push_str(": ");
        out.push_str(&value);
    }
    out
}

fn server_span<B>(
    req: &Request<B>,
    method: &'static str,
    route: &str,
    request_id: &str,
) -> tracing::Span {
    // Field values are only worked out when the span is enabled.
    let user_agent = || {
        req.headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let span = tracing::info_span!(
        target: "obs::http",
        "HTTP request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = method,
        http.route = route,
        url.path = %crate::redact::redact(req.uri().path()),
        url.scheme = req.uri().scheme_str().unwrap_or("http"),
        network.protocol.version = ?req.version(),
        user_agent.original = %crate::redact::redact(user_agent()),
        http.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
        request_id = request_id,
    );
    #[cfg(feature = "otlp")]
    if !span.is_disabled() {
        crate::subsystems::trace::propagation::continue_from(&span, req.headers());
    }
    span
}

pin_project! {
    /// The response future of [`ObsService`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        state: Option<InFlight>,
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    ResB: Body,
{
    type Output = Result<Response<ResponseBody<ResB>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _entered = this
                .state
                .as_ref()
                .and_then(|s| s.traced.as_ref())
                .map(|t| t.span.enter());
            ready!(this.inner.poll(cx))
        };
        let Some(mut state) = this.state.take() else {
            return Poll::Ready(result.map(|r| r.map(|inner| ResponseBody { inner, size: None })));
        };
        Poll::Ready(match result {
            Ok(mut response) => {
                let status = response.status();
                let error_type = if status.is_server_error() {
                    status.as_str()
                } else {
                    ""
                };
                let length = response
                    .headers()
                    .get(header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                    .or_else(|| response.body().size_hint().exact());
                let sizes = state.finish(status.as_u16(), status.as_str(), error_type, length);
                if let Some(id) = state.request_id.take() {
                    response.headers_mut().insert(X_REQUEST_ID, id);
                }
                let size = match length {
                    #[allow(clippy::cast_precision_loss)]
                    Some(n) => {
                        sizes.observe(n as f64);
                        None
                    }
                    None => Some(BodySize {
                        histogram: sizes,
                        bytes: 0,
                    }),
                };
                Ok(response.map(|inner| ResponseBody { inner, size }))
            }
            Err(e) => {
                // The service failed without a response: no status code.
                state.finish(0, "", "_OTHER", None);
                Err(e)
            }
        })
    }
}

/// Counts the bytes of a response body of unknown length; records them
/// when the body ends or is dropped (the caller hung up).
struct BodySize {
    histogram: HistogramHandle<'static>,
    bytes: u64,
}

impl Drop for BodySize {
    fn drop(&mut self) {
        #[allow(clippy::cast_precision_loss)]
        self.histogram.observe(self.bytes as f64);
    }
}

pin_project! {
    /// The response body of [`ObsService`]: the service's body, counted
    /// when its length was not known up front.
    pub struct ResponseBody<B> {
        #[pin]
        inner: B,
        size: Option<BodySize>,
    }
}

impl<B: Body> Body for ResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(f)) => {
                if let (Some(size), Some(data)) = (this.size.as_mut(), f.data_ref()) {
                    size.bytes += data.remaining() as u64;
                }
            }
            // The end, or an error: what was sent is the size.
            _ => drop(this.size.take()),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_are_other() {
        for (i, name) in METHODS[..9].iter().enumerate() {
            let method = http::Method::from_bytes(name.as_bytes()).unwrap();
            assert_eq!(method_label(&method), (i, *name));
        }
        for other in [&b"PURGE"[..], b"get", b"_OTHER"] {
            let method = http::Method::from_bytes(other).unwrap();
            assert_eq!(method_label(&method), (9, "_OTHER"), "{method}");
        }
    }

    #[test]
    fn a_service_caches_only_its_own_route() {
        let cache: &'static SeriesCache = Box::leak(Box::new(SeriesCache::new()));
        let request = |route: &'static str| {
            let mut r = Request::new(());
            r.extensions_mut().insert(RouteTemplate(route));
            route_of(&r, cache)
        };
        // The first route claims the cache; later requests get its copy.
        let route = request("/cache/{id}");
        assert!(matches!(route, Route::Cached("/cache/{id}")));
        let labels = |status| ["GET", "/cache/{id}", status, ""];
        let first = cache.finished(0, &route, 200, &labels("200"));
        first.duration.observe(0.1);
        // The same series again, from the cache.
        let again = request("/cache/{id}");
        assert_eq!(
            cache
                .finished(0, &again, 200, &labels("200"))
                .duration
                .count(),
            1
        );
        // Other statuses take other slots; beyond the slots, plain lookups.
        for status in [201_u16, 202, 203, 204, 205] {
            let text = status.to_string();
            let s = cache.finished(
                0,
                &again,
                status,
                &["GET", "/cache/{id}", text.as_str(), ""],
            );
            assert_eq!(s.duration.count(), 0, "{status} is its own series");
        }
        // Another route is never served from this cache.
        let other = request("/other");
        assert!(matches!(other, Route::Static("/other")));
        let labels = ["GET", "/other", "200", ""];
        assert_eq!(cache.finished(0, &other, 200, &labels).duration.count(), 0);
        // Requests in flight are counted per route, whichever way found.
        let (mine, theirs) = (cache.active(0, &again), cache.active(0, &other));
        mine.inc();
        assert_eq!((mine.get(), theirs.get()), (1, 0));
        assert!(std::ptr::eq(mine, cache.active(0, &request("/cache/{id}"))));
        mine.dec();
    }

    #[test]
    fn a_request_in_flight_stays_small() {
        // Moved and boxed with every response future: tracing state sits
        // behind one pointer, the request size needs no `Option` tag.
        assert!(
            std::mem::size_of::<InFlight>() <= 112,
            "{} bytes",
            std::mem::size_of::<InFlight>()
        );
    }

    #[test]
    fn exclusions_cover_exact_paths_and_below() {
        let ex = ObsLayer::new().exclude("/internal").exclusions;
        assert!(ex.contains("/metrics"));
        assert!(ex.contains("/readyz/database"));
        assert!(ex.contains("/internal/ping"));
        assert!(!ex.contains("/metricsx"));
        assert!(!ex.contains("/users/1"));
    }
}
