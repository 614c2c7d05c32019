//! The body wrappers: the request body counts what the client delivered,
//! the response body counts bodies sent without a length.

use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};

use bytes::Buf as _;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::metric_core::metrics::HistogramHandle;

/// Counts the bytes of a response body of unknown length; records them
/// when the body ends or is dropped (the caller hung up).
pub(super) struct BodySize {
    pub(super) histogram: HistogramHandle<'static>,
    pub(super) bytes: u64,
}

impl Drop for BodySize {
    fn drop(&mut self) {
        #[allow(clippy::cast_precision_loss)]
        self.histogram.observe(self.bytes as f64);
    }
}

pin_project! {
    /// The response body of [`ObsService`](super::ObsService): the
    /// service's body, counted when its length was not known up front.
    pub struct ResponseBody<B> {
        #[pin]
        pub(super) inner: B,
        pub(super) size: Option<BodySize>,
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

/// The body is done: it ended, failed, or was dropped.
const BODY_DONE: u8 = 1;
/// The request in flight knows its series.
const SERIES_KNOWN: u8 = 2;

/// What a request body delivered, shared by the body, which counts, and the
/// request in flight, which learns the series when the response is ready.
/// Whichever of the two comes second records the size, once.
///
/// `Content-Length` is a claim: a client that declares 9 PB and sends 3
/// bytes must not put 9 PB in the histogram. What is recorded is what the
/// service read of the body: all of it when the body was read to its end
/// (for HTTP/1 hyper holds a body to its declared length), what was read
/// when the service dropped it before the end, 0 when it never read it.
#[derive(Default)]
pub(super) struct RequestSize {
    bytes: AtomicU64,
    state: AtomicU8,
    series: OnceLock<HistogramHandle<'static>>,
}

impl RequestSize {
    fn add(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }

    fn body_done(&self) {
        let before = self.state.fetch_or(BODY_DONE, Ordering::AcqRel);
        if before == SERIES_KNOWN {
            self.record();
        }
    }

    /// Gives the series; the size if the body is done (and is recorded
    /// now), else `None` (the body records it when it is done).
    pub(super) fn series_known(&self, series: HistogramHandle<'static>) -> Option<u64> {
        // Only the first call sets it: a request finishes once.
        let _ = self.series.set(series);
        let before = self.state.fetch_or(SERIES_KNOWN, Ordering::AcqRel);
        (before == BODY_DONE).then(|| self.record())
    }

    fn record(&self) -> u64 {
        let bytes = self.bytes.load(Ordering::Acquire);
        if let Some(series) = self.series.get() {
            #[allow(clippy::cast_precision_loss)]
            series.observe(bytes as f64);
        }
        bytes
    }
}

/// The body's share of a [`RequestSize`]: done when dropped.
pub(super) struct Counting(pub(super) Arc<RequestSize>);

impl Drop for Counting {
    fn drop(&mut self) {
        self.0.body_done();
    }
}

pin_project! {
    /// The request body [`ObsService`](super::ObsService) hands the service
    /// it wraps: the client's body, with the bytes it delivers counted for
    /// `http_server_request_size_bytes` (a declared `Content-Length`
    /// is never taken on trust). Frames, ends and size hints are the
    /// client body's own.
    pub struct RequestBody<B> {
        #[pin]
        inner: B,
        size: Option<Counting>,
    }
}

impl<B> RequestBody<B> {
    /// `body`, counted into `size` when there is one.
    pub(super) fn new(inner: B, size: Option<Arc<RequestSize>>) -> Self {
        Self {
            inner,
            size: size.map(Counting),
        }
    }
}

impl<B: Body> Body for RequestBody<B> {
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
                if let (Some(size), Some(data)) = (this.size.as_ref(), f.data_ref()) {
                    size.0.add(data.remaining() as u64);
                }
            }
            // The end, or an error: nothing more will be read.
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
