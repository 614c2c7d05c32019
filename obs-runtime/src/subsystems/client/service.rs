//! [`ObsClientService`], what [`ObsClientLayer`](super::ObsClientLayer)
//! wraps around a client.

use std::task::{Context, Poll};

use http::{Request, Response};

use super::call::{Call, Target};
use super::future::ResponseFuture;

/// A boxed error, as tower's middleware return: the wrapped client's
/// error, after [`error_type`](super::error_type) classified it.
///
/// ```
/// let e: obs_runtime::client::BoxError = "refused".into();
/// assert_eq!(obs_runtime::client::error_type(&*e), "_OTHER");
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The client [`ObsClientLayer`](super::ObsClientLayer) wraps: each call
/// is recorded, traced and carries the trace context and request id.
///
/// ```
/// use tower::ServiceExt as _;
/// use tower_layer::Layer as _;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let inner = tower::service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::io::Error>(http::Response::new("pong".to_owned()))
/// });
/// let client = obs_runtime::client::ObsClientLayer::new().layer(inner);
/// let response = client
///     .oneshot(http::Request::get("http://ping.internal/").body(String::new()).unwrap())
///     .await
///     .unwrap();
/// assert_eq!(response.body(), "pong");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ObsClientService<S> {
    pub(super) inner: S,
    pub(super) origin: Option<http::Uri>,
}

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for ObsClientService<S>
where
    S: tower_service::Service<Request<ReqB>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
{
    type Response = Response<ResB>;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let target = match (&self.origin, req.uri().authority()) {
            (Some(origin), None) => Target::of_origin(origin, req.uri()),
            _ => Target::of_uri(req.uri(), req.headers()),
        };
        let call = Call::start(req.method(), &target);
        call.write_headers(req.headers_mut());
        let inner = {
            let _entered = call.span.enter();
            self.inner.call(req)
        };
        ResponseFuture {
            inner,
            call: Some(call),
        }
    }
}
