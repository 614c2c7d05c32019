//! [`ObsService`], the service [`ObsLayer`](super::ObsLayer) wraps around
//! yours: it settles the route and the request id, opens the server span and
//! starts the in-flight record.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, header};
use http_body::Body;

use super::body::{RequestBody, RequestSize, ResponseBody};
use super::compat::Compat;
use super::future::ResponseFuture;
use super::in_flight::{InFlight, Traced};
use super::layer::Exclusions;
use super::metrics::method_label;
use super::request_id::{self, RequestId, X_REQUEST_ID};
use super::route::{SeriesCache, route_of};

/// The service [`ObsLayer`](super::ObsLayer) wraps around yours. Yours gets the request
/// with its body in a [`RequestBody`], which counts the bytes the client
/// delivers; an axum `Router`, or any service generic over its request
/// body, takes it as it is.
#[derive(Debug, Clone)]
pub struct ObsService<S> {
    pub(super) inner: S,
    pub(super) exclusions: &'static Exclusions,
    pub(super) cache: &'static SeriesCache,
    /// Also write the instrumentator's families ([`HttpMetricNames`](super::HttpMetricNames)), so labelled.
    pub(super) instrumentator: Option<super::compat::InstrumentatorOptions>,
}

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for ObsService<S>
where
    S: tower_service::Service<Request<RequestBody<ReqB>>, Response = Response<ResB>>,
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
            #[cfg(feature = "sentry")]
            let _probe = crate::subsystems::log::probe::ProbeScope::enter();
            return ResponseFuture {
                inner: self
                    .inner
                    .call(req.map(|body| RequestBody::new(body, None))),
                state: None,
                compat: None,
            };
        }
        let start = crate::leaves::clock::clock().raw();
        let (method_index, method) = method_label(req.method());
        let route = route_of(&req, self.cache);
        // The headers the layer reads, in one pass over them.
        let read = request_id::Read::of(req.headers());
        // A valid incoming id is kept (and set under `X-Request-ID` when it
        // came as `X-Correlation-ID`, the response echoing it under both);
        // otherwise a fresh one replaces it. Clones share the id's bytes.
        let incoming = read.id().map(|(id, ours)| (id.clone(), ours));
        let correlation = matches!(incoming, Some((_, false)));
        let (header_id, extension, set_header) = match incoming {
            Some((id, true)) => {
                let extension = RequestId::from_header(id.clone());
                (id, extension, false)
            }
            found => {
                let (id, extension) = found.map_or_else(request_id::generate, |(id, _)| {
                    let extension = RequestId::from_header(id.clone());
                    (id, extension)
                });
                (id, extension, true)
            }
        };
        let span = server_span(&req, &read, method, route.as_str(), &header_id);
        if set_header {
            req.headers_mut().insert(X_REQUEST_ID, header_id.clone());
        }
        // `Content-Length` is the client's claim: count what the body
        // delivers instead, unless it is empty already.
        let body = req.body();
        let request_size = (!body.is_end_stream() && body.size_hint().exact() != Some(0))
            .then(|| Arc::new(RequestSize::default()));
        // Only when the access line will be written: sanitizing allocates.
        let headers = tracing::enabled!(target: "obs::access", tracing::Level::INFO)
            .then(|| access_log_headers(req.headers()));
        let traced = (!span.is_disabled() || headers.is_some()).then(|| {
            Box::new(Traced {
                span,
                headers,
                exemplar: None,
            })
        });
        req.extensions_mut().insert(extension);
        // As the instrumentator measures it: the `Content-Length` header.
        let compat = self.instrumentator.map(|options| {
            let length = req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                .unwrap_or(0);
            Compat::start(options, method, route.as_str(), length)
        });
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
            correlation,
        };
        let req = req.map(|body| RequestBody::new(body, state.request_size.clone()));
        let inner = {
            let _entered = state.traced.as_ref().map(|t| t.span.enter());
            self.inner.call(req)
        };
        ResponseFuture {
            inner,
            state: Some(state),
            compat,
        }
    }
}

/// `name: value; name: value`, with secrets redacted by
/// [`crate::redact::sanitize_headers`]; the request id is on the line
/// already.
pub(super) fn access_log_headers(headers: &http::HeaderMap) -> String {
    // Written straight into one string: a header whose value is clean (the
    // common case) is copied as it is, with no pair of strings per header.
    let mut out = String::with_capacity(128);
    for (name, value) in headers {
        let name = name.as_str();
        if name == "x-request-id" {
            continue;
        }
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&crate::leaves::redact::header_value_shown(name, value));
    }
    out
}

pub(super) fn server_span<B>(
    req: &Request<B>,
    read: &request_id::Read<'_>,
    method: &'static str,
    route: &str,
    request_id: &http::HeaderValue,
) -> tracing::Span {
    // Nothing listens at `INFO` (no subscriber, or one filtering this level
    // out): the span would be disabled, and with `tracing`'s `log` feature
    // (axum's default `tower-log` turns it on) and no subscriber, its
    // fields would still be worked out and offered to the `log` crate.
    if !tracing::level_enabled!(tracing::Level::INFO) {
        return tracing::Span::none();
    }
    // Field values are only worked out when the span is enabled.
    let user_agent = || {
        read.user_agent
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    // The incoming trace context is current while the span is created, so
    // the span is sampled (or not) as a child of it from the start.
    #[cfg(feature = "otlp")]
    let _remote = read
        .trace_context
        .then(|| crate::subsystems::trace::propagation::extract(req.headers()).attach());
    // The log layer takes the id from here rather than from the fields.
    let _handed = crate::subsystems::log::context::hand_request_id(request_id);
    let span = tracing::info_span!(
        target: "obs::http",
        "HTTP request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = method,
        http.route = route,
        url.path = %crate::leaves::redact::memo::redact(req.uri().path()),
        url.query = tracing::field::Empty,
        url.scheme = req.uri().scheme_str().unwrap_or("http"),
        network.protocol.version = ?req.version(),
        user_agent.original = %crate::leaves::redact::memo::redact(user_agent()),
        http.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
        request_id = request_id.to_str().unwrap_or_default(),
    );
    if let Some(query) = req.uri().query().filter(|_| !span.is_disabled()) {
        span.record("url.query", crate::leaves::redact::redact(query).as_ref());
    }
    // An unsampled span is not the OpenTelemetry layer's: it would ignore
    // the parent, after a walk down the layers to find itself.
    #[cfg(feature = "otlp")]
    if !span.is_disabled()
        && span
            .id()
            .and_then(|id| crate::subsystems::trace::unsampled_id(&id))
            .is_none()
    {
        crate::subsystems::trace::propagation::continue_from_read(
            &span,
            req.headers(),
            read.trace_context,
        );
    }
    span
}
