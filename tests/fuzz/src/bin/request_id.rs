//! Request ids through `obs_runtime::http::ObsLayer`, the only public way
//! in: arbitrary `X-Request-ID` and `X-Correlation-ID` values (and path).
//! Checked: an id is kept exactly when it is 1 to 128 characters of
//! `[A-Za-z0-9._-]` (`X-Request-ID` first), otherwise a fresh 32-digit
//! lower-case hex id replaces it; the handler's `RequestId`, the request
//! header it sees and the response header all agree.
//!
//! Input: fields split at `0x00`: `X-Request-ID`, `X-Correlation-ID`, path.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{Request, Response};
use obs_runtime::http::{ObsLayer, RequestId};
use tower_layer::Layer as _;
use tower_service::Service;

/// A body with nothing in it.
struct Empty;

impl http_body::Body for Empty {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        Poll::Ready(None)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(0)
    }
}

/// What the handler saw: the `RequestId` extension and the header.
type Seen = Arc<Mutex<Option<(Option<String>, Option<String>)>>>;

#[derive(Clone)]
struct Handler(Seen);

// Generic over the request body: `ObsLayer` hands the handler its body
// wrapped in the `RequestBody` that counts what the client delivers.
impl<B> Service<Request<B>> for Handler {
    type Response = Response<Empty>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Empty>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let id = req
            .extensions()
            .get::<RequestId>()
            .map(|id| id.as_str().to_owned());
        let header = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        *self.0.lock().expect("not poisoned") = Some((id, header));
        ready(Ok(Response::new(Empty)))
    }
}

/// The rule, as documented, written apart from the runtime's check.
fn keepable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

fn generated(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn main() {
    let seen = Seen::default();
    let mut service = ObsLayer::new().layer(Handler(seen.clone()));
    afl::fuzz!(|data: &[u8]| {
        let fields = obs_fuzz::fields(data);
        let field = |i: usize| fields.get(i).map_or("", String::as_str);
        let mut req = Request::builder();
        let path = format!("/{}", field(2));
        let path_sent = if http::Uri::try_from(path.as_str()).is_ok() {
            req = req.uri(path.as_str());
            path
        } else {
            "/".to_owned()
        };
        let mut req = req.body(Empty).expect("a valid request");
        let mut sent = [None, None];
        for (i, name) in ["x-request-id", "x-correlation-id"].into_iter().enumerate() {
            if let Ok(value) = http::HeaderValue::from_bytes(field(i).as_bytes()) {
                sent[i] = value.to_str().ok().map(str::to_owned);
                req.headers_mut().insert(name, value);
            }
        }
        let mut cx = Context::from_waker(Waker::noop());
        let mut future = std::pin::pin!(service.call(req));
        let Poll::Ready(Ok(response)) = future.as_mut().poll(&mut cx) else {
            panic!("a ready handler gave a pending or failed response");
        };
        let (extension, request_header) =
            seen.lock().expect("not poisoned").take().expect("called");
        let excluded = |p: &str| {
            let p = p.split(['?', '#']).next().unwrap_or(p);
            obs_runtime::health::PROBE_PATHS
                .iter()
                .chain([&obs_runtime::http::METRICS_PATH])
                .any(|e| p == *e || p.strip_prefix(e).is_some_and(|r| r.starts_with('/')))
        };
        let Some(extension) = extension else {
            // Only the probes and `/metrics` go untouched.
            assert!(excluded(&path_sent), "no request id on {path_sent:?}");
            return;
        };
        let response_header = response.headers()["x-request-id"].to_str().expect("ASCII");
        let expected = sent.iter().flatten().find(|id| keepable(id));
        match expected {
            Some(id) => assert_eq!(&extension, id),
            None => assert!(generated(&extension), "{extension:?} for {sent:?}"),
        }
        assert_eq!(request_header.as_deref(), Some(extension.as_str()));
        assert_eq!(response_header, extension);
    });
}
