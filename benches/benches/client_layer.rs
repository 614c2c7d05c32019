//! One outbound call over loopback to the hello-world axum server of the
//! HTTP benchmarks: hyper-util's legacy client alone, and under
//! `client::ObsClientLayer` with no subscriber (the duration histogram, the
//! active gauge, the target parsed; no span, so nothing to propagate) and
//! with a subscriber that keeps spans (the client span, `url.full`, and
//! `traceparent` written into the request). Each iteration sends the
//! request over a pooled keep-alive connection, waits for the head and
//! drains the body; the difference between the rows is the layer's cost
//! per call next to a real round trip. The round trip is noisy on a shared
//! machine, so `http_client_in_process` also times the layer around a
//! service that answers at once (no socket): the layer's own cost alone.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use obs_runtime::client::ObsClientLayer;
use tower::{Layer as _, ServiceExt as _};
use tracing_subscriber::layer::SubscriberExt as _;

type Bytes = axum::body::Bytes;
type HyperClient = Client<HttpConnector, Empty<Bytes>>;

fn request(uri: &http::Uri) -> http::Request<Empty<Bytes>> {
    let mut req = http::Request::new(Empty::new());
    *req.uri_mut() = uri.clone();
    req
}

async fn drain<B: http_body::Body>(response: http::Response<B>) -> usize
where
    B::Error: std::fmt::Debug,
{
    let body = response.into_body().collect().await.expect("body");
    body.to_bytes().len()
}

fn client_call(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    rt.spawn(async move { axum::serve(listener, benches::http::router()).await });
    let uri: http::Uri = format!("http://{addr}/").parse().expect("uri");

    let bare: HyperClient = Client::builder(TokioExecutor::new()).build_http();
    let layered = ObsClientLayer::new().layer(bare.clone());

    let mut g = c.benchmark_group("http_client_call");
    g.bench_function("hyper_util_bare", |b| {
        b.iter(|| {
            rt.block_on(async {
                let response = bare.request(request(&uri)).await.expect("response");
                black_box(drain(response).await)
            })
        });
    });
    g.bench_function("hyper_util_obs_layer", |b| {
        b.iter(|| {
            rt.block_on(async {
                let response = layered
                    .clone()
                    .oneshot(request(&uri))
                    .await
                    .expect("response");
                black_box(drain(response).await)
            })
        });
    });
    // Spans on: the OpenTelemetry layer (no exporter) beside a registry,
    // so the client span gets a context that goes out as `traceparent`.
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let tracer = opentelemetry::trace::TracerProvider::tracer(&provider, "bench");
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
    tracing::subscriber::with_default(subscriber, || {
        g.bench_function("hyper_util_obs_layer_with_spans", |b| {
            b.iter(|| {
                rt.block_on(async {
                    let response = layered
                        .clone()
                        .oneshot(request(&uri))
                        .await
                        .expect("response");
                    black_box(drain(response).await)
                })
            });
        });
    });
    g.finish();
}

/// Polls a future that is ready at once.
fn now<F: std::future::Future>(future: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(future).poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => unreachable!("the service answers at once"),
    }
}

fn in_process(c: &mut Criterion) {
    let answer = tower::service_fn(|_req: http::Request<Empty<Bytes>>| {
        std::future::ready(Ok::<_, std::convert::Infallible>(http::Response::new(
            Empty::<Bytes>::new(),
        )))
    });
    let layered = ObsClientLayer::new().layer(answer);
    let uri: http::Uri = "http://api.internal:8080/v1/items?page=2"
        .parse()
        .expect("uri");
    let mut g = c.benchmark_group("http_client_in_process");
    g.bench_function("service_bare", |b| {
        b.iter(|| black_box(now(answer.oneshot(request(&uri))).is_ok()));
    });
    g.bench_function("service_obs_layer", |b| {
        b.iter(|| black_box(now(layered.clone().oneshot(request(&uri))).is_ok()));
    });
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let tracer = opentelemetry::trace::TracerProvider::tracer(&provider, "bench");
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
    tracing::subscriber::with_default(subscriber, || {
        g.bench_function("service_obs_layer_with_spans", |b| {
            b.iter(|| black_box(now(layered.clone().oneshot(request(&uri))).is_ok()));
        });
    });
    g.finish();
}

criterion_group!(benches, client_call, in_process);
criterion_main!(benches);
