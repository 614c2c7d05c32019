//! The response future: records the request when the response head is
//! ready.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{Response, header};
use http_body::Body;
use pin_project_lite::pin_project;

use super::body::{BodySize, ResponseBody};
use super::compat::Compat;
use super::in_flight::InFlight;
use super::request_id::{X_CORRELATION_ID, X_REQUEST_ID};

pin_project! {
    /// The response future of [`ObsService`].
    pub struct ResponseFuture<F> {
        #[pin]
        pub(super) inner: F,
        pub(super) state: Option<InFlight>,
        // The instrumentator's families, when the layer asked for them.
        pub(super) compat: Option<Compat>,
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
        // An excluded path (probes, `/metrics`) is no business of error
        // tracking.
        #[cfg(feature = "sentry")]
        let _probe = this
            .state
            .is_none()
            .then(crate::subsystems::log::probe::ProbeScope::enter);
        let traced = this.state.as_mut().and_then(|s| s.traced.as_deref_mut());
        let result = match traced {
            Some(traced) => {
                let entered = traced.span.enter();
                let result = ready!(this.inner.poll(cx));
                // In the span, so the sampled context is the request's.
                if !traced.span.is_disabled() {
                    let exemplar = crate::metric_core::metrics::exemplar::sampled();
                    drop(entered);
                    traced.exemplar = exemplar;
                }
                result
            }
            None => ready!(this.inner.poll(cx)),
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
                if let Some(compat) = this.compat.take() {
                    let clock = crate::leaves::clock::clock();
                    #[allow(clippy::cast_precision_loss)]
                    let seconds = clock.delta_as_nanos(state.start, clock.raw()) as f64 / 1e9;
                    compat.finish(
                        super::metrics::method_at(usize::from(state.method)),
                        state.route.as_str(),
                        status,
                        seconds,
                        length.unwrap_or(0),
                    );
                }
                let sizes = state.finish(status.as_u16(), status.as_str(), error_type, length);
                #[cfg(feature = "sentry")]
                if status.is_server_error() {
                    let _entered = state.traced.as_ref().map(|t| t.span.enter());
                    crate::subsystems::errors::server_error(
                        status.as_u16(),
                        super::metrics::method_at(usize::from(state.method)),
                        state.route.as_str(),
                    );
                }
                if let Some(id) = state.request_id.take() {
                    if state.correlation {
                        response.headers_mut().insert(X_CORRELATION_ID, id.clone());
                    }
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
