//! The hot path alone, for counting instructions under callgrind:
//! `valgrind --tool=callgrind --toggle-collect='hot_path::run_*' \
//!  target/release/examples/hot_path <case> <calls>` (see BENCHMARKS.md).
//! Cases: `floor`, `obs_span_false`, `obs_noop_layer`, `tracing_noop_layer`,
//! `obs_full_pipeline`, `obs_unsampled` (the same, every root dropped),
//! `dynamic_hit` (a labelled counter of open
//! cardinality, series found), `encode` (one scrape of 10,000 counters and 1,000
//! histograms per call), and one request through the hello-world axum
//! router of the HTTP benchmarks: `http_plain`, `http_noop_layer`,
//! `http_obs_layer` (no subscriber installed), and what a team builds for
//! the same work by hand: `http_peer_request_id` (`tower-http`'s request-id
//! layers) and `http_peer_metrics` (`axum-prometheus`'s layer). The
//! production pipelines:
//! `peer_instrument` (`#[tracing::instrument]` under the peer stack's
//! subscriber, `benches::peer`), `http_obs_production` (`ObsLayer` under
//! `init()`: JSON access line, spans at `parentbased_traceidratio` 0.1 to a
//! closed port) and `http_peer_stack` (the peer's layers and subscriber).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use obs_runtime::instrumented;
use tracing_subscriber::layer::SubscriberExt as _;

struct Noop;
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Noop {}

#[inline(never)]
#[instrumented(metric = "hot_empty_nospan", span = false)]
fn empty_obs_no_span() {
    black_box(());
}

#[inline(never)]
#[instrumented(metric = "hot_empty")]
fn empty_obs() {
    black_box(());
}

#[inline(never)]
#[tracing::instrument(skip_all)]
fn empty_tracing() {
    black_box(());
}

const BOUNDS_NS: [u64; 11] = [
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

#[inline(never)]
fn run_floor(clock: &quanta::Clock, calls: u64) {
    let buckets: [AtomicU64; 12] = Default::default();
    let sum = AtomicU64::new(0);
    for _ in 0..calls {
        let start = clock.raw();
        black_box(());
        let ns = clock.delta_as_nanos(start, clock.raw());
        let i = black_box(&BOUNDS_NS).partition_point(|b| *b < ns);
        buckets[i].fetch_add(1, Relaxed);
        sum.fetch_add(ns, Relaxed);
    }
    black_box(&buckets);
}

#[derive(obs_runtime::LabelSet)]
struct Pair {
    shard: &'static str,
    route: &'static str,
}

/// 10,000 counter series and 1,000 histograms, as in the encoding bench.
fn fill_registry() {
    use obs_runtime::metrics::{Counter, Histogram};
    let c = Counter::<Pair>::new("hot_requests_total", "Requests.")
        .unwrap()
        .register()
        .unwrap();
    let h = Histogram::<Pair>::new(
        "hot_latency_seconds",
        "Latency.",
        obs_runtime::schema::LATENCY,
    )
    .unwrap()
    .register()
    .unwrap();
    for i in 0..10_000 {
        let (s, r) = (
            format!("shard-{}", i / 100),
            format!("/api/v1/route/{}", i % 100),
        );
        c.with_values(&[&s, &r]).inc_by(i);
        if i < 1_000 {
            h.with_values(&[&s, &r]).observe(0.07);
        }
    }
}

#[inline(never)]
fn run_encode(calls: u64) {
    for _ in 0..calls {
        black_box(obs_runtime::encode_text());
    }
}

#[inline(never)]
fn run_dynamic_hit(calls: u64) {
    let c = obs_runtime::metrics::Counter::<Pair>::new("hot_dynamic_total", "Dynamic.").unwrap();
    c.with(Pair {
        shard: "profile",
        route: "miss",
    })
    .inc();
    for _ in 0..calls {
        c.with(black_box(Pair {
            shard: "profile",
            route: "miss",
        }))
        .inc();
    }
}

#[inline(never)]
fn run_requests(app: &mut axum::Router, calls: u64) {
    for _ in 0..calls {
        black_box(benches::http::serve(app));
    }
}

/// A loopback URL where nothing listens: exports fail fast.
fn closed_endpoint() -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(9, |a| a.port());
    format!("http://127.0.0.1:{closed}")
}

/// `init()`'s production configuration: JSON lines into a sink, spans at
/// `parentbased_traceidratio` 0.1 exported over OTLP/HTTP to a closed port.
fn production_init() -> obs_runtime::ObsGuard {
    production_builder().init()
}

fn production_builder() -> obs_runtime::Builder {
    obs_runtime::Builder::from_env()
        .log_format(obs_runtime::log::LogFormat::Json)
        .span_export(obs_runtime::trace::SpanExport::OtlpHttp {
            endpoint: closed_endpoint(),
        })
        .sampler(obs_runtime::trace::SamplerChoice::ParentBasedTraceIdRatio(
            benches::peer::SAMPLE_RATIO,
        ))
        .log_writer(std::io::sink)
}

#[inline(never)]
fn run_calls(f: fn(), calls: u64) {
    for _ in 0..calls {
        f();
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "obs_span_false".to_owned());
    let calls: u64 = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let clock = quanta::Clock::new();
    // Warm up: first calls allocate cells and calibrate the clock.
    empty_obs_no_span();
    match case.as_str() {
        "floor" => run_floor(&clock, calls),
        "obs_span_false" => run_calls(empty_obs_no_span, calls),
        "obs_noop_layer" | "tracing_noop_layer" => {
            let f: fn() = if case == "obs_noop_layer" {
                empty_obs
            } else {
                empty_tracing
            };
            tracing::subscriber::with_default(tracing_subscriber::registry().with(Noop), || {
                f();
                run_calls(f, calls);
            });
        }
        "dynamic_hit" => run_dynamic_hit(calls),
        "encode" => {
            fill_registry();
            run_encode(calls);
        }
        "obs_full_pipeline" | "obs_unsampled" => {
            // `obs_unsampled`: the same pipeline with every root dropped
            // (`parentbased_always_off`), the call a sampler at 0.1 makes
            // nine times in ten.
            let _guard = if case == "obs_unsampled" {
                production_builder()
                    .sampler(obs_runtime::trace::SamplerChoice::ParentBasedAlwaysOff)
                    .init()
            } else {
                production_init()
            };
            empty_obs();
            run_calls(empty_obs, calls);
            std::process::exit(0);
        }
        "peer_instrument" => {
            let provider = benches::peer::tracer_provider(&closed_endpoint());
            let subscriber = benches::peer::subscriber(&provider, std::io::sink);
            tracing::subscriber::with_default(subscriber, || {
                empty_tracing();
                run_calls(empty_tracing, calls);
            });
            std::process::exit(0);
        }
        "http_obs_production" | "http_peer_stack" => {
            use benches::http::{router, serve};
            if case == "http_peer_stack" {
                let provider = benches::peer::tracer_provider(&closed_endpoint());
                let subscriber = benches::peer::subscriber(&provider, std::io::sink);
                let _ = tracing::subscriber::set_global_default(subscriber);
                let mut app = benches::peer::layered(router());
                serve(&mut app);
                run_requests(&mut app, calls);
            } else {
                let _guard = production_init();
                let mut app = router().layer(obs_runtime::http::ObsLayer::new());
                serve(&mut app);
                run_requests(&mut app, calls);
            }
            std::process::exit(0);
        }
        "http_plain"
        | "http_noop_layer"
        | "http_obs_layer"
        | "http_peer_request_id"
        | "http_peer_metrics" => {
            use benches::http::{router, serve, with_noop_layer};
            let mut app = match case.as_str() {
                "http_plain" => router(),
                "http_noop_layer" => with_noop_layer(router()),
                "http_peer_request_id" => benches::peer::with_request_ids(router()),
                "http_peer_metrics" => benches::peer::with_metrics(router()),
                _ => router().layer(obs_runtime::http::ObsLayer::new()),
            };
            // The first request fills the route's caches.
            serve(&mut app);
            run_requests(&mut app, calls);
        }
        other => eprintln!("unknown case {other}"),
    }
}
