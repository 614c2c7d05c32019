//! The hello-world axum service of the HTTP benchmark: `GET /` answers
//! "Hello, world!". `scripts/bench-http` starts it twice, without and with
//! obs's HTTP layer, and drives each with `wrk` on loopback.
//!
//! `hello_server <port> [plain|noop_layer|obs|peer_request_id|peer_metrics|obs_logged|obs_full|peer]`
//!
//! - `plain`: the route alone;
//! - `noop_layer`: under a layer that does nothing, which is what axum
//!   charges for any layer added with `Router::layer`;
//! - `obs`: under `ObsLayer`, no subscriber installed (metrics and request
//!   ids; spans and the access-log event are disabled, as with `RUST_LOG`
//!   filtering them out);
//! - `peer_request_id`, `peer_metrics`: what a team writes by hand for the
//!   work `obs` does with no subscriber: `tower-http`'s request-id layers
//!   (a UUID v4 set and propagated as `X-Request-ID`), and
//!   `axum-prometheus`'s metric layer;
//! - `obs_logged`: under `ObsLayer` with `obs_runtime::init()`'s pipeline,
//!   one JSON access-log line per request written to a sink through the
//!   log writer thread's queue (as the default writer, stderr, is), spans created
//!   but not exported;
//! - `obs_full`: as `obs_logged`, and spans sampled at
//!   `parentbased_traceidratio` 0.1 and exported over OTLP/HTTP to
//!   `$BENCH_OTLP_ENDPOINT` (default: a closed port on loopback, where each
//!   export fails fast and its spans are counted as dropped);
//! - `peer`: the stack a team assembles by hand (`benches::peer`):
//!   `tower-http`'s `TraceLayer`, `tracing-subscriber`'s JSON lines to a
//!   sink, `tracing-opentelemetry` with the same sampler and endpoint, and
//!   `axum-prometheus`.

use axum::Router;
use benches::http::router;

/// Where spans go: `$BENCH_OTLP_ENDPOINT`, or a port nothing listens on.
fn otlp_endpoint() -> String {
    std::env::var("BENCH_OTLP_ENDPOINT").unwrap_or_else(|_| {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_or(9, |a| a.port());
        format!("http://127.0.0.1:{closed}")
    })
}

/// The router with obs's HTTP layer.
fn with_obs_layer(router: Router) -> Router {
    router.layer(obs_runtime::http::ObsLayer::new())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let mode = args.next().unwrap_or_else(|| "plain".to_owned());
    let app = match mode.as_str() {
        "plain" => router(),
        "noop_layer" => benches::http::with_noop_layer(router()),
        "obs" => with_obs_layer(router()),
        "peer_request_id" => benches::peer::with_request_ids(router()),
        "peer_metrics" => benches::peer::with_metrics(router()),
        "obs_logged" => {
            let guard = obs_runtime::Builder::from_env()
                .log_format(obs_runtime::log::LogFormat::Json)
                .log_writer(std::io::sink)
                // Behind the writer thread's queue, as init()'s default
                // writer (stderr) is.
                .log_queue(Some(8192))
                .span_export(obs_runtime::trace::SpanExport::None)
                .init();
            // Kept for the life of the process.
            std::mem::forget(guard);
            with_obs_layer(router())
        }
        "obs_full" => {
            let guard = obs_runtime::Builder::from_env()
                .log_format(obs_runtime::log::LogFormat::Json)
                .log_writer(std::io::sink)
                // Behind the writer thread's queue, as init()'s default
                // writer (stderr) is.
                .log_queue(Some(8192))
                .span_export(obs_runtime::trace::SpanExport::OtlpHttp {
                    endpoint: otlp_endpoint(),
                })
                .sampler(obs_runtime::trace::SamplerChoice::ParentBasedTraceIdRatio(
                    benches::peer::SAMPLE_RATIO,
                ))
                .init();
            std::mem::forget(guard);
            with_obs_layer(router())
        }
        "peer" => {
            let provider = benches::peer::tracer_provider(&otlp_endpoint());
            let subscriber = benches::peer::subscriber(&provider, std::io::sink);
            tracing::subscriber::set_global_default(subscriber).expect("no subscriber yet");
            // Kept for the life of the process.
            std::mem::forget(provider);
            benches::peer::layered(router())
        }
        other => {
            eprintln!(
                "unknown mode {other:?}: use `plain`, `noop_layer`, `obs`, `peer_request_id`, `peer_metrics`, `obs_logged`, `obs_full` or `peer`"
            );
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind 127.0.0.1");
        axum::serve(listener, app).await.expect("serve");
    });
}
