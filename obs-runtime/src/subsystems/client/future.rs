//! The response future: records the call when the response head arrives
//! or the call fails.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use pin_project_lite::pin_project;

use super::call::Call;
use super::service::BoxError;

pin_project! {
    /// The response future of [`ObsClientService`](super::ObsClientService).
    pub struct ResponseFuture<F> {
        #[pin]
        pub(super) inner: F,
        pub(super) call: Option<Call>,
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Response<ResB>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _entered = this.call.as_ref().map(|c| c.span.enter());
            ready!(this.inner.poll(cx))
        };
        let mut call = this.call.take();
        Poll::Ready(match result {
            Ok(response) => {
                if let Some(call) = &mut call {
                    call.answered(response.status());
                }
                Ok(response)
            }
            Err(e) => {
                let e: BoxError = e.into();
                if let Some(call) = &mut call {
                    call.failed(&*e);
                }
                Err(e)
            }
        })
    }
}
