//! The stack a Rust team assembles by hand today, for the same hello-world
//! route and the same functions as obs: `tower-http`'s `TraceLayer` (a
//! span and one access line per request at INFO), `tracing-subscriber`'s
//! JSON formatter, `tracing-opentelemetry` with the OpenTelemetry SDK's
//! batch processor and OTLP/HTTP exporter (the sampler obs is given in the
//! same benchmark, `parentbased_traceidratio` 0.1), and `axum-prometheus`
//! (`metrics-exporter-prometheus` behind it) for the request metrics.
//!
//! Shared by the criterion benches `http_layer` and `call_overhead`, the
//! `hello_server` of `scripts/bench-http` and the instruction counts of
//! `examples/hot_path.rs`.

use axum::Router;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::layer::SubscriberExt as _;

/// The sampling ratio of root spans, for obs and the peer alike.
pub const SAMPLE_RATIO: f64 = 0.1;

/// The OTLP exporter, given the tokio runtime the SDK's batch thread does
/// not have (the HTTP client is hyper's, as in obs): each export runs to
/// completion on that runtime.
#[derive(Debug)]
struct OnRuntime {
    runtime: tokio::runtime::Runtime,
    inner: opentelemetry_otlp::SpanExporter,
}

impl SpanExporter for OnRuntime {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let result = self.runtime.block_on(self.inner.export(batch));
        std::future::ready(result)
    }

    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

/// A tracer provider as the OpenTelemetry documentation sets one up: the
/// SDK's batch processor, OTLP/HTTP protobuf to `endpoint` (`/v1/traces`),
/// `parentbased_traceidratio` at [`SAMPLE_RATIO`].
///
/// # Panics
/// When the exporter or its runtime can't be built.
#[must_use]
pub fn tracer_provider(endpoint: &str) -> SdkTracerProvider {
    let inner = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{endpoint}/v1/traces"))
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .build()
        .expect("OTLP exporter");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    SdkTracerProvider::builder()
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            SAMPLE_RATIO,
        ))))
        .with_batch_exporter(OnRuntime { runtime, inner })
        .build()
}

/// The peer's subscriber: `INFO` and above, the OpenTelemetry layer on
/// `provider`'s tracer, and `tracing-subscriber`'s JSON formatter (its
/// defaults: current span and span list included) writing to `writer`.
///
/// ```no_run
/// let provider = benches::peer::tracer_provider("http://127.0.0.1:4318");
/// let subscriber = benches::peer::subscriber(&provider, std::io::sink);
/// tracing::subscriber::with_default(subscriber, || tracing::info!("hello"));
/// ```
pub fn subscriber<W>(
    provider: &SdkTracerProvider,
    writer: W,
) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::INFO)
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("peer")))
        .with(tracing_subscriber::fmt::layer().json().with_writer(writer))
}

/// `router` under the peer's HTTP layers: `axum-prometheus`'s metric layer
/// (request count, duration and in-flight gauge, by method, endpoint and
/// status) and `tower-http`'s `TraceLayer` with its span and its response
/// line raised to `INFO`, so a production filter keeps them.
///
/// `axum-prometheus` installs the global `metrics` recorder and spawns its
/// upkeep task on the current tokio runtime (or, outside one, on a
/// one-worker runtime kept for the process), the first time a layer of it
/// is made in the process.
///
/// ```no_run
/// let mut app = benches::peer::layered(benches::http::router());
/// assert_eq!(benches::http::serve(&mut app), 13);
/// ```
pub fn layered(router: Router) -> Router {
    use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
    router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(metric_layer())
}

/// `router` under `axum-prometheus`'s metric layer alone: the part of the
/// peer stack that does what `ObsLayer`'s metrics do. Its recorder is
/// shared with [`layered`]'s.
///
/// ```no_run
/// let mut app = benches::peer::with_metrics(benches::http::router());
/// assert_eq!(benches::http::serve(&mut app), 13);
/// ```
pub fn with_metrics(router: Router) -> Router {
    router.layer(metric_layer())
}

/// `router` under `tower-http`'s request-id layers: a UUID v4 set as
/// `X-Request-ID` (and as the request's `RequestId` extension) when the
/// request has none, and copied to the response. What a team writes for
/// the request ids `ObsLayer` gives.
///
/// ```
/// let mut app = benches::peer::with_request_ids(benches::http::router());
/// assert_eq!(benches::http::serve(&mut app), 13);
/// ```
pub fn with_request_ids(router: Router) -> Router {
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
    // The layer added last is the outer one: the id is set, then the
    // inner layer copies it to the response.
    router
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// `axum-prometheus`'s layer, its recorder installed on the first call
/// (a process has one `metrics` recorder).
fn metric_layer() -> axum_prometheus::PrometheusMetricLayer<'static> {
    static LAYER: std::sync::OnceLock<axum_prometheus::PrometheusMetricLayer<'static>> =
        std::sync::OnceLock::new();
    LAYER.get_or_init(install_metric_layer).clone()
}

fn install_metric_layer() -> axum_prometheus::PrometheusMetricLayer<'static> {
    let (metrics, _handle) = if tokio::runtime::Handle::try_current().is_ok() {
        axum_prometheus::PrometheusMetricLayer::pair()
    } else {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let pair = {
            let _entered = runtime.enter();
            axum_prometheus::PrometheusMetricLayer::pair()
        };
        // Runs the recorder's upkeep for the life of the process.
        std::mem::forget(runtime);
        pair
    };
    metrics
}
