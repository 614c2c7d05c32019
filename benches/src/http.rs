//! The hello-world axum service of the HTTP benchmarks, and one request
//! through it in process, shared by the criterion bench `http_layer` and
//! the instruction counts of `examples/hot_path.rs`.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use http_body::Body as _;
use tower_service::Service as _;

async fn hello() -> &'static str {
    "Hello, world!"
}

/// `GET /` answers "Hello, world!", as in `scripts/bench-http`.
///
/// ```
/// let mut app = benches::http::router();
/// assert_eq!(benches::http::serve(&mut app), 13);
/// ```
pub fn router() -> Router {
    Router::new().route("/", get(hello))
}

/// `router` under a layer that does nothing: what any layer added with
/// `Router::layer` costs, as axum boxes the route's service and future once
/// more.
///
/// ```
/// let mut app = benches::http::with_noop_layer(benches::http::router());
/// assert_eq!(benches::http::serve(&mut app), 13);
/// ```
pub fn with_noop_layer(router: Router) -> Router {
    router.layer(tower_layer::layer_fn(|s| s))
}

/// One request, as hyper would hand it over: built, routed, its response
/// future polled and its body drained, then all dropped. Returns the
/// body's length.
///
/// # Panics
/// When the route does not answer at once with the whole body.
///
/// ```
/// let mut app = benches::http::router()
///     .layer(obs_runtime::http::ObsLayer::new());
/// assert_eq!(benches::http::serve(&mut app), 13);
/// ```
pub fn serve(app: &mut Router) -> usize {
    let req = Request::get("/")
        .header("host", "127.0.0.1:38080")
        .body(Body::empty())
        .expect("request");
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = std::pin::pin!(app.call(req));
    let Poll::Ready(Ok(response)) = future.as_mut().poll(&mut cx) else {
        panic!("the hello route answers at once");
    };
    let mut body = response.into_body();
    let mut len = 0;
    while let Poll::Ready(Some(Ok(frame))) = Pin::new(&mut body).poll_frame(&mut cx) {
        len += frame.data_ref().map_or(0, bytes::Bytes::len);
    }
    assert_eq!(len, 13, "the whole body was read");
    len
}
