//! What a request in flight records when it ends, however it ends.

use std::sync::Arc;

use http::HeaderValue;

use super::body::RequestSize;
use super::metrics::method_at;
use super::route::{Finished, Route, SeriesCache};
use crate::leaves::text::{give_back, take_spare};
use crate::metric_core::metrics::HistogramHandle;
use crate::metric_core::metrics::cell::UpDownCell;
use crate::metric_core::metrics::exemplar::TraceIds;

/// What a request in flight must record when it ends, however it ends.
/// Kept small (112 bytes): it lives in the response future, which the
/// router moves and boxes, and what tracing needs is behind a pointer that
/// stays empty while no subscriber wants spans or access lines.
pub(super) struct InFlight {
    /// A raw reading of the TSC clock `#[instrumented]` uses.
    pub(super) start: u64,
    pub(super) cache: &'static SeriesCache,
    pub(super) active: &'static UpDownCell,
    pub(super) route: Route,
    /// Taken for the response header when the response is ready.
    pub(super) request_id: Option<HeaderValue>,
    /// What the request body delivers; `None` when it was empty from the
    /// start (most requests: nothing to count, nothing allocated).
    pub(super) request_size: Option<Arc<RequestSize>>,
    pub(super) traced: Option<Box<Traced>>,
    /// Index in [`METHODS`](super::metrics::METHODS).
    pub(super) method: u8,
    pub(super) finished: bool,
    /// The id came as `X-Correlation-ID`: the response echoes it under
    /// that name too.
    pub(super) correlation: bool,
}

/// The tracing side of a request in flight.
pub(super) struct Traced {
    pub(super) span: tracing::Span,
    /// The request's headers for the access line, sanitized.
    pub(super) headers: Option<String>,
    /// The span's ids when it is sampled, taken when the response is
    /// ready: the exemplar of the request's duration.
    pub(super) exemplar: Option<TraceIds>,
}

impl InFlight {
    /// Records the request's duration and sizes; returns the response
    /// body's size recorder when the size isn't known yet.
    /// `status_code` is 0 when no response was sent.
    pub(super) fn finish(
        &mut self,
        status_code: u16,
        status: &str,
        error_type: &str,
        response_size: Option<u64>,
    ) -> HistogramHandle<'static> {
        self.finished = true;
        let method = method_at(usize::from(self.method));
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
        series
            .duration
            .observe_ns(elapsed_ns, self.traced.as_ref().and_then(|t| t.exemplar));
        // Known now if the body was empty or is done; else the body records
        // it when it is (and the access line goes without it).
        let request_size = match &self.request_size {
            None => {
                series.request_size.observe(0.0);
                Some(0)
            }
            Some(size) => size.series_known(series.request_size),
        };
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
        // Nothing listens at `INFO` (no subscriber, and no `log` logger
        // that `tracing`'s `log` feature would hand the event to): the
        // message is not even built.
        if tracing::level_enabled!(tracing::Level::INFO)
            || tracing_log::log::max_level() >= tracing_log::log::LevelFilter::Info
        {
            // The message as text: `format_args!` would be formatted again by
            // every layer that reads it, through the formatting machinery.
            let outcome = if status.is_empty() {
                error_type
            } else {
                status
            };
            let mut message = take_spare(&MESSAGE);
            for (i, part) in [method, self.route.as_str(), outcome]
                .into_iter()
                .enumerate()
            {
                if i > 0 {
                    message.push(' ');
                }
                message.push_str(part);
            }
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
                message = message.as_str(),
            );
            give_back(&MESSAGE, message);
        }
        response
    }
}

thread_local! {
    /// The thread's spare buffer for access lines' messages.
    static MESSAGE: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
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
