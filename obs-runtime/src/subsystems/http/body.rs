//! The response body wrapper that counts bytes of bodies without a length.

use std::pin::Pin;
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
    /// The response body of [`ObsService`]: the service's body, counted
    /// when its length was not known up front.
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
