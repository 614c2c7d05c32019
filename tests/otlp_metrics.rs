//! OTLP metrics push against the real OTLP receiver (`otlp/receiver.rs`,
//! its gRPC `MetricsService` and `POST /v1/metrics`): instrumented calls, a
//! metric set and a histogram arrive over gRPC and over HTTP/protobuf, and
//! what arrives equals the text exposition taken once traffic stopped —
//! the same family names, types, histogram bounds, per-bucket counts, sums
//! and counter and gauge values, series by series — with the headers of
//! `OTEL_EXPORTER_OTLP_[METRICS_]HEADERS`, and over TLS with the
//! `OTEL_EXPORTER_OTLP_METRICS_*CERTIFICATE`/`_KEY` files. With the collector
//! down, calls still work, drops are counted in
//! `obs_telemetry_dropped_metric_points_total`, and the guard's flush and
//! drop keep their deadline, even against a collector that never answers.
//!
//! `init` installs a global subscriber once per process, so each scenario
//! runs in a child process of this binary (the test re-runs itself with
//! `--exact`), configured from the environment like a service.

#[path = "otlp/child.rs"]
mod child;
#[path = "exposition_support/mod.rs"]
mod exposition_support;
#[path = "otlp/pki.rs"]
mod pki;
#[path = "otlp/receiver.rs"]
mod receiver;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use child::in_own_process;
use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::{LabelSet, LabelValue, MetricSet, instrumented};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::metrics::v1::{NumberDataPoint, metric::Data, number_data_point};

fn set_env(vars: &[(&str, String)]) {
    for (k, v) in vars {
        // SAFETY: the child process runs this one test, which sets the
        // environment before `init` and before any thread of ours reads it.
        unsafe { std::env::set_var(k, v) };
    }
}

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("declined")
    }
}

#[instrumented(metric = "om_checkout", buckets = [0.001, 0.1, 10.0])]
fn checkout(amount: u32) -> Result<u32, Declined> {
    if amount > 100 {
        Err(Declined)
    } else {
        Ok(amount)
    }
}

#[derive(LabelValue, Clone, Copy, Debug)]
enum Outcome {
    Hit,
    Miss,
}

#[derive(LabelSet, Clone, Copy, Debug)]
struct CacheLabels {
    outcome: Outcome,
}

#[derive(LabelSet, Clone, Copy, Debug)]
struct Shard {
    shard: &'static str,
}

#[derive(MetricSet)]
#[metrics(prefix = "om_cache")]
struct CacheMetrics {
    /// Cache lookups, by outcome.
    lookups_total: Counter<CacheLabels>,
    /// Entries held.
    entries: Gauge,
    /// Time to load a missing entry.
    #[metric(name = "load_seconds", buckets = [0.01, 0.1, 1.0])]
    load: Histogram,
}

/// Calls, a metric set and a histogram: the traffic whose metrics are
/// pushed. Stops before it returns.
fn traffic() {
    for i in 0..50 {
        let _ = checkout(i * 3);
    }
    let m = CacheMetrics::global();
    for i in 0..7 {
        let outcome = if i % 3 == 0 {
            Outcome::Miss
        } else {
            Outcome::Hit
        };
        m.lookups_total.with(CacheLabels { outcome }).inc();
    }
    m.entries.set(42.5);
    for v in [0.005, 0.05, 0.05, 0.5, 5.0] {
        m.load.observe(v);
    }
}

type Labels = Vec<(String, String)>;

/// One histogram series: finite bounds, cumulative counts (`+Inf` last),
/// sum and count.
#[derive(Debug, Clone, PartialEq)]
struct Hist {
    bounds: Vec<f64>,
    cumulative: Vec<u64>,
    sum: f64,
    count: u64,
}

/// A set of families, from either side, in one model.
#[derive(Debug, Default)]
struct Families {
    /// Family name → `counter`, `gauge` or `histogram`.
    kinds: BTreeMap<String, String>,
    /// (family, labels) → value of a counter or gauge series.
    numbers: BTreeMap<(String, Labels), f64>,
    hists: BTreeMap<(String, Labels), Hist>,
    units: BTreeMap<String, String>,
}

fn sorted(mut labels: Labels) -> Labels {
    labels.sort();
    labels
}

/// The text exposition in the model.
fn from_text(text: &str) -> Families {
    let scrape = exposition_support::parse(text).expect("a valid exposition");
    let mut f = Families::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            let kind = if kind == "untyped" { "gauge" } else { kind };
            f.kinds.insert(name.to_owned(), kind.to_owned());
        }
    }
    for (family, kind) in &f.kinds {
        if kind != "histogram" {
            for s in scrape.samples_of(family) {
                f.numbers
                    .insert((family.clone(), sorted(s.labels.clone())), s.value);
            }
            continue;
        }
        let bucket = format!("{family}_bucket");
        let mut series: BTreeMap<Labels, Vec<(f64, u64)>> = BTreeMap::new();
        for s in scrape.samples_of(&bucket) {
            let le = s.labels.iter().find(|(k, _)| k == "le").unwrap().1.clone();
            let le: f64 = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            let own = sorted(
                s.labels
                    .iter()
                    .filter(|(k, _)| k != "le")
                    .cloned()
                    .collect(),
            );
            series.entry(own).or_default().push((le, s.value as u64));
        }
        for (labels, mut buckets) in series {
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            let value_of = |suffix: &str| {
                scrape
                    .samples_of(&format!("{family}{suffix}"))
                    .find(|s| sorted(s.labels.clone()) == labels)
                    .unwrap()
                    .value
            };
            f.hists.insert(
                (family.clone(), labels.clone()),
                Hist {
                    bounds: buckets
                        .iter()
                        .map(|b| b.0)
                        .filter(|b| b.is_finite())
                        .collect(),
                    cumulative: buckets.iter().map(|b| b.1).collect(),
                    sum: value_of("_sum"),
                    count: value_of("_count") as u64,
                },
            );
        }
    }
    f
}

fn labels_of(attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue]) -> Labels {
    sorted(
        attrs
            .iter()
            .map(|kv| {
                let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(AnyValue::StringValue(s)) => s.clone(),
                    other => panic!("a label that is no string: {other:?}"),
                };
                (kv.key.clone(), v)
            })
            .collect(),
    )
}

fn number(p: &NumberDataPoint) -> f64 {
    match p.value {
        Some(number_data_point::Value::AsInt(i)) => i as f64,
        Some(number_data_point::Value::AsDouble(d)) => d,
        None => panic!("a point without value: {p:?}"),
    }
}

/// An export request in the model; checks what only OTLP says on the way
/// (temporality, monotonicity, start times).
fn from_otlp(requests: &[ExportMetricsServiceRequest]) -> Families {
    let mut f = Families::default();
    let metrics = requests.iter().flat_map(|request| {
        assert_eq!(request.resource_metrics.len(), 1);
        let rm = &request.resource_metrics[0];
        assert_eq!(rm.scope_metrics.len(), 1);
        &rm.scope_metrics[0].metrics
    });
    for m in metrics {
        f.units.insert(m.name.clone(), m.unit.clone());
        let name = m.name.clone();
        let check_times = |start: u64, time: u64| {
            assert!(
                start > 0 && start <= time,
                "{name}: start {start}, time {time}"
            );
        };
        let kind = match m.data.as_ref().expect("data") {
            Data::Sum(sum) => {
                assert!(sum.is_monotonic, "{name}");
                assert_eq!(sum.aggregation_temporality, 2, "{name}: cumulative");
                for p in &sum.data_points {
                    check_times(p.start_time_unix_nano, p.time_unix_nano);
                    let key = (name.clone(), labels_of(&p.attributes));
                    assert!(f.numbers.insert(key, number(p)).is_none(), "{name} twice");
                }
                "counter"
            }
            Data::Gauge(gauge) => {
                for p in &gauge.data_points {
                    let key = (name.clone(), labels_of(&p.attributes));
                    assert!(f.numbers.insert(key, number(p)).is_none(), "{name} twice");
                }
                "gauge"
            }
            Data::Histogram(h) => {
                assert_eq!(h.aggregation_temporality, 2, "{name}: cumulative");
                for p in &h.data_points {
                    check_times(p.start_time_unix_nano, p.time_unix_nano);
                    assert_eq!(
                        p.bucket_counts.len(),
                        p.explicit_bounds.len() + 1,
                        "{name}: one count per bucket, +Inf's last"
                    );
                    assert_eq!(p.bucket_counts.iter().sum::<u64>(), p.count, "{name}");
                    let mut running = 0;
                    let cumulative = p
                        .bucket_counts
                        .iter()
                        .map(|c| {
                            running += c;
                            running
                        })
                        .collect();
                    let twice = f.hists.insert(
                        (name.clone(), labels_of(&p.attributes)),
                        Hist {
                            bounds: p.explicit_bounds.clone(),
                            cumulative,
                            sum: p.sum.expect("a sum"),
                            count: p.count,
                        },
                    );
                    assert!(twice.is_none(), "{name} twice");
                }
                "histogram"
            }
            other => panic!("{name}: unexpected data {other:?}"),
        };
        // A family split across requests comes again with the same kind.
        if let Some(before) = f.kinds.insert(m.name.clone(), kind.to_owned()) {
            assert_eq!(before, kind, "{}", m.name);
        }
    }
    f
}

/// Families whose values move by themselves (CPU time, memory, open
/// files): compared by name, type and series, not by value.
fn volatile(family: &str) -> bool {
    family.starts_with("process_")
}

/// What arrived equals the exposition: names, types, series, and the
/// values of every family that can't move by itself.
fn assert_equal(pushed: &Families, text: &Families) {
    assert_eq!(pushed.kinds, text.kinds, "family names and types");
    let keys = |m: &BTreeMap<(String, Labels), f64>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&pushed.numbers),
        keys(&text.numbers),
        "counter and gauge series"
    );
    for (key, value) in &text.numbers {
        if !volatile(&key.0) {
            assert_eq!(pushed.numbers[key], *value, "{key:?}");
        }
    }
    assert_eq!(
        pushed.hists.keys().collect::<Vec<_>>(),
        text.hists.keys().collect::<Vec<_>>(),
        "histogram series"
    );
    for (key, hist) in &text.hists {
        if !volatile(&key.0) {
            assert_eq!(&pushed.hists[key], hist, "{key:?}");
        }
    }
}

/// The traffic's own families are there, with the values it made: the
/// comparison is not between two empty sets.
fn assert_traffic(pushed: &Families, request: &ExportMetricsServiceRequest) {
    let ok = |result: &str| {
        vec![
            ("function".to_owned(), "checkout".to_owned()),
            ("module".to_owned(), module_path!().to_owned()),
            ("result".to_owned(), result.to_owned()),
        ]
    };
    assert_eq!(pushed.kinds["om_checkout_calls_total"], "counter");
    assert_eq!(
        pushed.numbers[&("om_checkout_calls_total".to_owned(), ok("ok"))],
        34.0
    );
    assert_eq!(
        pushed.numbers[&("om_checkout_calls_total".to_owned(), ok("error"))],
        16.0
    );
    let h = &pushed.hists[&("om_checkout_duration_seconds".to_owned(), ok("ok"))];
    assert_eq!(h.bounds, vec![0.001, 0.1, 10.0]);
    assert_eq!(h.count, 34);
    assert_eq!(pushed.units["om_checkout_duration_seconds"], "s");
    let load = &pushed.hists[&("om_cache_load_seconds".to_owned(), vec![])];
    assert_eq!(load.bounds, vec![0.01, 0.1, 1.0]);
    assert_eq!(load.cumulative, vec![1, 3, 4, 5]);
    assert!((load.sum - 5.605).abs() < 1e-9, "{load:?}");
    let hit = vec![("outcome".to_owned(), "hit".to_owned())];
    assert_eq!(
        pushed.numbers[&("om_cache_lookups_total".to_owned(), hit)],
        4.0
    );
    assert_eq!(
        pushed.numbers[&("om_cache_entries".to_owned(), vec![])],
        42.5
    );
    assert!(
        pushed.kinds.contains_key("process_cpu_seconds_total"),
        "process metrics"
    );
    assert_eq!(
        pushed.numbers[&(
            "obs_telemetry_dropped_metric_points_total".to_owned(),
            vec![]
        )],
        0.0
    );
    let resource = &request.resource_metrics[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes;
    let service = resource
        .iter()
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| kv.value.as_ref()?.value.clone());
    assert_eq!(service, Some(AnyValue::StringValue("om-test".into())));
}

fn base_env(endpoint: String, protocol: &str, interval_ms: u64) -> Vec<(&'static str, String)> {
    vec![
        ("OTEL_METRICS_EXPORTER", "otlp".into()),
        ("OTEL_TRACES_EXPORTER", "none".into()),
        ("OTEL_SERVICE_NAME", "om-test".into()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.into()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_METRIC_EXPORT_INTERVAL", interval_ms.to_string()),
    ]
}

fn init() -> obs_runtime::ObsGuard {
    obs_runtime::Builder::from_env()
        .log_writer(std::io::sink)
        .try_init()
        .expect("init")
}

#[test]
fn over_grpc_the_push_equals_the_exposition() {
    in_own_process("over_grpc_the_push_equals_the_exposition", || {
        let rx = receiver::start();
        // An hour: only the flush pushes.
        set_env(&base_env(format!("http://{}", rx.grpc), "grpc", 3_600_000));
        set_env(&[
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-tenant=generic,x-team=pay".into(),
            ),
            (
                "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
                "x-tenant=acme%20corp".into(),
            ),
        ]);
        let guard = init();
        traffic();
        // A family of 5,000 series: more than one request holds (4,096
        // points), so the push is split and the family spans two requests.
        let shards = Counter::<Shard>::new("om_shard_writes_total", "Writes, by shard.")
            .unwrap()
            .register()
            .unwrap();
        for i in 0..5_000u64 {
            let shard: &'static str = Box::leak(format!("s{i}").into_boxed_str());
            shards.with_values(&[shard]).inc_by(i);
        }
        guard.flush();
        let got = rx.store.wait_for_metrics(Duration::from_secs(20), 2);
        let text = obs_runtime::encode_text();
        assert_eq!(got.len(), 2, "one push, from the flush, in two requests");
        assert!(got.iter().all(|(via, _)| *via == receiver::Via::Grpc));
        let requests: Vec<_> = got.iter().map(|(_, r)| r.clone()).collect();
        let pushed = from_otlp(&requests);
        assert_eq!(
            pushed.numbers[&(
                "om_shard_writes_total".to_owned(),
                vec![("shard".to_owned(), "s4999".to_owned())]
            )],
            4999.0
        );
        let request = &requests[0];
        let headers = &rx.store.metrics_headers()[0];
        assert_eq!(
            headers.get("x-tenant").map(String::as_str),
            Some("acme corp")
        );
        assert_eq!(headers.get("x-team").map(String::as_str), Some("pay"));
        assert_traffic(&pushed, request);
        assert_equal(&pushed, &from_text(&text));
        eprintln!(
            "gRPC: {} families, {} number series, {} histogram series",
            pushed.kinds.len(),
            pushed.numbers.len(),
            pushed.hists.len()
        );
    });
}

#[test]
fn over_http_pushes_every_interval_and_equal_the_exposition() {
    in_own_process(
        "over_http_pushes_every_interval_and_equal_the_exposition",
        || {
            let rx = receiver::start();
            // The generic endpoint: `/v1/metrics` is appended.
            set_env(&base_env(
                format!("http://{}", rx.http),
                "http/protobuf",
                200,
            ));
            set_env(&[(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20t0k".into(),
            )]);
            let guard = init();
            traffic();
            // Traffic stopped. A push whose walk began after this point (the
            // second to arrive from now on) holds what the text holds.
            let text = obs_runtime::encode_text();
            let before = rx.store.metrics().len();
            let got = rx
                .store
                .wait_for_metrics(Duration::from_secs(30), before + 2);
            assert!(
                got.len() >= before + 2,
                "pushes every 200 ms without a flush"
            );
            let (via, request) = got.last().unwrap();
            assert_eq!(*via, receiver::Via::Http);
            let headers = rx.store.metrics_headers().pop().unwrap();
            assert_eq!(
                headers.get("authorization").map(String::as_str),
                Some("Bearer t0k")
            );
            assert_eq!(
                headers.get("content-type").map(String::as_str),
                Some("application/x-protobuf")
            );
            let pushed = from_otlp(std::slice::from_ref(request));
            assert_traffic(&pushed, request);
            assert_equal(&pushed, &from_text(&text));
            drop(guard);
        },
    );
}

fn dropped_points() -> u64 {
    obs_runtime::encode_text()
        .lines()
        .find_map(|l| l.strip_prefix("obs_telemetry_dropped_metric_points_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The documented deadline of the guard, and the margin a loaded machine
/// gets on top.
const DEADLINE: Duration = Duration::from_secs(5);
const MARGIN: Duration = Duration::from_secs(3);

#[test]
fn with_the_collector_down_drops_are_counted_and_calls_go_on() {
    in_own_process(
        "with_the_collector_down_drops_are_counted_and_calls_go_on",
        || {
            // A port nobody listens on: every export is refused.
            let closed = receiver::free_port();
            set_env(&base_env(format!("http://{closed}"), "grpc", 100));
            let guard = init();
            assert_eq!(dropped_points(), 0);
            let end = Instant::now() + Duration::from_secs(30);
            let mut calls = 0u32;
            while dropped_points() == 0 && Instant::now() < end {
                assert_eq!(checkout(7).ok(), Some(7), "the app is unaffected");
                calls += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            let dropped = dropped_points();
            assert!(dropped > 0, "drops are counted");
            // Each failed push drops every point of one walk: dozens at once.
            assert!(dropped >= 10, "{dropped} points for a whole push");
            let started = Instant::now();
            guard.flush();
            assert!(
                started.elapsed() < DEADLINE + MARGIN,
                "flush {:?}",
                started.elapsed()
            );
            let started = Instant::now();
            drop(guard);
            assert!(
                started.elapsed() < DEADLINE + MARGIN,
                "drop {:?}",
                started.elapsed()
            );
            eprintln!("{calls} calls while the collector was down; {dropped} points dropped");
        },
    );
}

#[test]
fn a_collector_that_never_answers_holds_neither_flush_nor_shutdown() {
    in_own_process(
        "a_collector_that_never_answers_holds_neither_flush_nor_shutdown",
        || {
            let silent = receiver::silent_collector();
            // The default 30 s export timeout: the guard's deadline still
            // bounds the flush and the last push.
            set_env(&base_env(
                format!("http://{silent}"),
                "http/protobuf",
                3_600_000,
            ));
            let guard = init();
            traffic();
            let (flushed, dropped) = receiver::bounded_flush_and_drop(guard, DEADLINE + MARGIN);
            eprintln!("flush {flushed:?}, drop {dropped:?} against a silent collector");
        },
    );
}

#[test]
fn over_tls_with_the_metrics_certificates() {
    in_own_process("over_tls_with_the_metrics_certificates", || {
        let pki = pki::generate("tls-metrics");
        let rx = receiver::start_tls(&receiver::ServerTls {
            cert: pki.server_cert.clone(),
            key: pki.server_key.clone(),
            // The receiver refuses a client without a certificate of this CA.
            client_ca: Some(pki.ca_pem.clone()),
        });
        set_env(&base_env(
            format!("https://localhost:{}", rx.grpc.port()),
            "grpc",
            3_600_000,
        ));
        // The metrics variants win over the generic ones, which name no file.
        set_env(&[
            (
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
                "/nonexistent/ca.pem".into(),
            ),
            (
                "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
                pki.ca.display().to_string(),
            ),
            (
                "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
                pki.client_cert.display().to_string(),
            ),
            (
                "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY",
                pki.client_key.display().to_string(),
            ),
        ]);
        let guard = init();
        traffic();
        guard.flush();
        let got = rx.store.wait_for_metrics(Duration::from_secs(20), 1);
        assert_eq!(got.len(), 1, "a push over TLS, with a client certificate");
        assert_traffic(&from_otlp(std::slice::from_ref(&got[0].1)), &got[0].1);
        assert_eq!(dropped_points(), 0);
    });
}

#[test]
fn nothing_is_pushed_with_the_sdk_disabled_or_scrape_only() {
    in_own_process(
        "nothing_is_pushed_with_the_sdk_disabled_or_scrape_only",
        || {
            let rx = receiver::start();
            set_env(&base_env(format!("http://{}", rx.grpc), "grpc", 50));
            set_env(&[
                ("OTEL_SDK_DISABLED", "true".into()),
                ("OTEL_METRICS_EXPORTER", "otlp,prometheus".into()),
            ]);
            let guard = init();
            traffic();
            // A running push would have sent before the flush returned.
            guard.flush();
            assert!(rx.store.metrics().is_empty(), "OTEL_SDK_DISABLED=true");
            assert!(
                !obs_runtime::encode_text().contains("obs_telemetry_dropped_metric_points_total"),
                "no push, so no drop counter either"
            );
        },
    );
}
