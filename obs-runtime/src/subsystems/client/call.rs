//! One outbound call in flight: what it records when it ends, however it
//! ends. Shared by the tower layer and the reqwest middleware.

use std::fmt::Write as _;

use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::metrics::metrics;
use crate::leaves::redact::redact;
use crate::metric_core::metrics::cell::UpDownCell;
use crate::subsystems::http::{X_REQUEST_ID, is_valid_request_id, method_label};

/// Where a call goes, borrowed from an `http::Uri` or a `url::Url`.
pub(super) struct Target<'a> {
    pub(super) scheme: &'a str,
    pub(super) host: &'a str,
    /// The explicit port, else the scheme's default.
    pub(super) port: Option<u16>,
    /// The URL carries a user name or password.
    pub(super) userinfo: bool,
    pub(super) path: &'a str,
    pub(super) query: Option<&'a str>,
}

impl<'a> Target<'a> {
    /// From a request's URI, falling back on its `Host` header for a URI
    /// without an authority.
    pub(super) fn of_uri(uri: &'a http::Uri, headers: &'a HeaderMap) -> Self {
        let scheme = uri.scheme_str().unwrap_or("http");
        let (host, port, userinfo) = if let Some(authority) = uri.authority() {
            (
                authority.host(),
                authority.port_u16(),
                authority.as_str().contains('@'),
            )
        } else {
            let host = headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            // `host:port` as a `Host` header spells it; anything else
            // (user info, garbage) names no server.
            if !host.contains('@') && host.parse::<http::uri::Authority>().is_ok() {
                let (name, port) = split_host_port(host);
                (name, port, false)
            } else {
                ("", None, false)
            }
        };
        Self {
            scheme,
            host,
            port: port.or_else(|| default_port(scheme)),
            userinfo,
            path: uri.path(),
            query: uri.query(),
        }
    }

    /// A path-only `uri` sent through a client bound to `origin`.
    pub(super) fn of_origin(origin: &'a http::Uri, uri: &'a http::Uri) -> Self {
        let scheme = origin.scheme_str().unwrap_or("http");
        let authority = origin.authority();
        Self {
            scheme,
            host: authority.map_or("", http::uri::Authority::host),
            port: authority
                .and_then(http::uri::Authority::port_u16)
                .or_else(|| default_port(scheme)),
            userinfo: authority.is_some_and(|a| a.as_str().contains('@')),
            path: uri.path(),
            query: uri.query(),
        }
    }
}

fn split_host_port(host: &str) -> (&str, Option<u16>) {
    match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') => match port.parse() {
            Ok(port) => (name, Some(port)),
            Err(_) => (host, None),
        },
        _ => (host, None),
    }
}

pub(super) fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// `url.full` as it may leave the process: user name and password
/// replaced by `[CREDENTIALS]`, every query value by `[REDACTED]` (keys
/// kept), then the whole through [`redact`] (tokens, emails, … in the
/// path). The placeholders are the redaction boundary's own, so the
/// exporter's second pass leaves them as they are.
pub(super) fn full_url(target: &Target<'_>) -> String {
    let mut url = String::with_capacity(64);
    url.push_str(target.scheme);
    url.push_str("://");
    if target.userinfo {
        url.push_str("[CREDENTIALS]@");
    }
    if target.host.contains(':') && !target.host.starts_with('[') {
        let _ = write!(url, "[{}]", target.host);
    } else {
        url.push_str(target.host);
    }
    if let Some(port) = target
        .port
        .filter(|&p| Some(p) != default_port(target.scheme))
    {
        let _ = write!(url, ":{port}");
    }
    url.push_str(target.path);
    if let Some(query) = target.query {
        url.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                url.push('&');
            }
            match pair.split_once('=') {
                Some((key, _)) => {
                    url.push_str(key);
                    url.push_str("=[REDACTED]");
                }
                None => url.push_str(pair),
            }
        }
    }
    match redact(&url) {
        std::borrow::Cow::Borrowed(_) => url,
        std::borrow::Cow::Owned(redacted) => redacted,
    }
}

/// The server port as a label value, without allocating: up to five
/// digits kept inline.
#[derive(Clone, Copy)]
pub(super) struct PortText {
    digits: [u8; 5],
    len: u8,
}

impl PortText {
    pub(super) fn new(port: Option<u16>) -> Self {
        let mut digits = [0u8; 5];
        let mut len = 0;
        if let Some(mut n) = port {
            let mut reversed = [0u8; 5];
            loop {
                if let Some(d) = reversed.get_mut(len) {
                    #[allow(clippy::cast_possible_truncation)]
                    let digit = (n % 10) as u8;
                    *d = b'0' + digit;
                }
                len += 1;
                n /= 10;
                if n == 0 || len == 5 {
                    break;
                }
            }
            for (out, d) in digits.iter_mut().zip(reversed.iter().take(len).rev()) {
                *out = *d;
            }
        }
        #[allow(clippy::cast_possible_truncation)]
        Self {
            digits,
            len: len as u8,
        }
    }

    pub(super) fn as_str(&self) -> &str {
        self.digits
            .get(..usize::from(self.len))
            .and_then(|d| std::str::from_utf8(d).ok())
            .unwrap_or_default()
    }
}

/// One outbound call in flight. Dropped unfinished (the caller stopped
/// waiting), it records the call as `cancelled`.
pub(super) struct Call {
    /// A raw reading of the TSC clock requests are timed with.
    start: u64,
    method: &'static str,
    address: Box<str>,
    port: PortText,
    active: &'static UpDownCell,
    pub(super) span: tracing::Span,
    finished: bool,
}

impl Call {
    /// Starts a call: bumps the active gauge and opens the client span (a
    /// child of the current one). Then [`write_headers`](Self::write_headers).
    pub(super) fn start(method: &Method, target: &Target<'_>) -> Self {
        let start = crate::leaves::clock::clock().raw();
        let (_, method) = method_label(method);
        let host = target.host.trim_start_matches('[').trim_end_matches(']');
        // Host names compare without case; most are lower case already.
        let address = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            host.to_ascii_lowercase().into_boxed_str()
        } else {
            Box::from(host)
        };
        let port = PortText::new(target.port);
        let active = metrics()
            .active
            .with_values(&[method, &address, port.as_str()]);
        active.inc();
        let span = tracing::info_span!(
            target: "obs::client",
            "HTTP client request",
            otel.name = method,
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            otel.status_description = tracing::field::Empty,
            http.request.method = method,
            server.address = &*address,
            server.port = target.port.map(i64::from),
            url.full = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        if !span.is_disabled() {
            span.record("url.full", full_url(target));
        }
        Self {
            start,
            method,
            address,
            port,
            active,
            span,
            finished: false,
        }
    }

    /// Writes the trace context of the client span and the current
    /// request's id (unless the caller set `X-Request-ID`) into the
    /// outgoing request's `headers`.
    pub(super) fn write_headers(&self, headers: &mut HeaderMap) {
        inject_context(&self.span, headers);
        if !headers.contains_key(X_REQUEST_ID) {
            let id = {
                let _entered = self.span.enter();
                crate::subsystems::log::current_request_id()
            };
            let id = id
                .filter(|id| is_valid_request_id(id))
                .and_then(|id| HeaderValue::from_str(&id).ok());
            if let Some(id) = id {
                headers.insert(X_REQUEST_ID, id);
            }
        }
    }

    /// Records a call answered with `status`: `error_type` is the status
    /// for 5xx (as the server side counts), empty otherwise; the span is
    /// an error from 4xx on, as OpenTelemetry says for client spans.
    pub(super) fn answered(&mut self, status: StatusCode) {
        let error_type = if status.is_server_error() {
            status.as_str()
        } else {
            ""
        };
        self.finish(status.as_str(), error_type);
        if !self.span.is_disabled() {
            self.span
                .record("http.response.status_code", i64::from(status.as_u16()));
            if status.is_client_error() || status.is_server_error() {
                self.span.record("otel.status_code", "ERROR");
                if !error_type.is_empty() {
                    self.span.record("error.type", error_type);
                }
            }
        }
    }

    /// Records a call that failed without a response.
    pub(super) fn failed(&mut self, error: &(dyn std::error::Error + 'static)) {
        let error_type = super::error::error_type(error);
        self.finish("", error_type);
        if !self.span.is_disabled() {
            self.span.record("error.type", error_type);
            self.span.record("otel.status_code", "ERROR");
            self.span
                .record("otel.status_description", &*redact(&error.to_string()));
        }
    }

    fn finish(&mut self, status: &str, error_type: &str) {
        self.finished = true;
        let clock = crate::leaves::clock::clock();
        let elapsed_ns = clock.delta_as_nanos(self.start, clock.raw());
        metrics()
            .duration
            .with_values(&[
                self.method,
                &self.address,
                self.port.as_str(),
                status,
                error_type,
            ])
            .observe_ns(elapsed_ns, crate::metric_core::metrics::exemplar::sampled());
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if !self.finished {
            self.finish("", "cancelled");
            if !self.span.is_disabled() {
                self.span.record("error.type", "cancelled");
            }
        }
        self.active.dec();
    }
}

/// Writes `traceparent`/`tracestate`/`baggage` of the client span (or,
/// when that span is filtered out, of the current one) into `headers`.
#[cfg(feature = "otlp")]
fn inject_context(span: &tracing::Span, headers: &mut HeaderMap) {
    // An unsampled span still passes its W3C ids on (flags 00).
    let cx = if span.is_disabled() {
        let current = tracing::Span::current();
        if current.is_none() {
            // No span anywhere: no context to pass on.
            return;
        }
        crate::subsystems::trace::context_of(&current)
    } else {
        crate::subsystems::trace::context_of(span)
    };
    crate::subsystems::trace::propagation::inject(&cx, headers);
    // The SDK writes `tracestate` even when the state is empty; W3C Trace
    // Context says to avoid sending an empty one.
    if headers.get("tracestate").is_some_and(HeaderValue::is_empty) {
        headers.remove("tracestate");
    }
}

#[cfg(not(feature = "otlp"))]
fn inject_context(_: &tracing::Span, _: &mut HeaderMap) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(uri: &str) -> String {
        let uri: http::Uri = uri.parse().unwrap();
        full_url(&Target::of_uri(&uri, &HeaderMap::new()))
    }

    #[test]
    fn urls_lose_credentials_and_query_values() {
        assert_eq!(
            target("https://ada:hunter2@api.example.com/v1/users?id=7&token=abc&flag"),
            "https://[CREDENTIALS]@api.example.com/v1/users?id=[REDACTED]&token=[REDACTED]&flag"
        );
        assert_eq!(target("http://127.0.0.1:8080/x"), "http://127.0.0.1:8080/x");
        assert_eq!(target("http://[::1]:80/"), "http://[::1]/");
    }

    #[test]
    fn targets_fall_back_on_the_host_header_and_default_ports() {
        let uri: http::Uri = "/only/a/path".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::HOST,
            HeaderValue::from_static("svc.local:9000"),
        );
        let t = Target::of_uri(&uri, &headers);
        assert_eq!((t.host, t.port), ("svc.local", Some(9000)));
        let uri: http::Uri = "https://example.com/".parse().unwrap();
        assert_eq!(Target::of_uri(&uri, &headers).port, Some(443));
    }

    #[test]
    fn ports_print_without_allocating() {
        for (port, text) in [
            (Some(0), "0"),
            (Some(80), "80"),
            (Some(65535), "65535"),
            (None, ""),
        ] {
            assert_eq!(PortText::new(port).as_str(), text);
        }
    }
}
