//! The catalog's unit tests.

use super::*;
use crate::leaves::schema::MetricKind;
use crate::metric_core::metrics::{Counter, Histogram};
use crate::{LabelSet, LabelValue, MetricSet};

// The variants are read through `LabelValue` only.
#[allow(dead_code)]
#[derive(LabelValue, Clone, Copy)]
#[label(crate = "crate")]
enum Tier {
    Free,
    Paid,
}

#[derive(LabelSet, Clone, Copy)]
#[label(crate = "crate")]
struct TierLabels {
    tier: Tier,
    cached: bool,
}

/// The line of the struct below.
const SET_LINE: u32 = line!() + 4;
/// A set only this test declares.
#[derive(MetricSet)]
#[metrics(prefix = "catalog_test", crate = "crate")]
struct CatalogTestMetrics {
    /// Orders placed.
    orders_total: Counter<TierLabels>,
    /// Time to place an order.
    #[metric(buckets = [0.1, 0.5])]
    order_seconds: Histogram,
}

#[test]
fn metric_sets_describe_themselves_with_their_bounded_values() {
    let catalog = catalog();
    let orders = catalog.metric("catalog_test_orders_total").expect("listed");
    assert_eq!(orders.kind, MetricKind::Counter);
    assert_eq!(orders.help, "Orders placed.");
    assert_eq!(orders.unit, MetricUnit::Count);
    assert_eq!(orders.source, MetricSource::MetricSet("CatalogTestMetrics"));
    assert_eq!(
        orders.location,
        Some(SourceLocation::new(file!(), SET_LINE)),
        "the struct's line"
    );
    assert_eq!(
        orders.label("tier").unwrap().values.as_deref(),
        Some(&["free", "paid"][..])
    );
    assert_eq!(
        orders.label("cached").unwrap().values.as_deref(),
        Some(&["false", "true"][..])
    );
    let seconds = catalog
        .metric("catalog_test_order_seconds")
        .expect("listed");
    assert_eq!(seconds.kind, MetricKind::Histogram);
    assert_eq!(seconds.buckets, vec![0.1, 0.5]);
    assert_eq!(seconds.unit, MetricUnit::Seconds);
    let sets = catalog.metric_sets();
    let (_, members) = sets
        .iter()
        .find(|(name, _)| *name == "CatalogTestMetrics")
        .expect("the set");
    assert_eq!(members.len(), 2);
}

static OWN_FOR_TEST: std::sync::OnceLock<&'static Counter> = std::sync::OnceLock::new();

#[test]
fn run_time_process_and_own_families_are_listed() {
    let registered_at = line!() + 3;
    let gauge = crate::metrics::Gauge::<()>::new("catalog_test_queue_depth", "Jobs queued.")
        .unwrap()
        .register()
        .unwrap();
    gauge.set(1.0);
    let catalog = catalog();
    let queue = catalog.metric("catalog_test_queue_depth").expect("listed");
    assert_eq!(queue.source, MetricSource::Registered);
    assert_eq!(
        queue.location,
        Some(SourceLocation::new(file!(), registered_at)),
        "the caller of register()"
    );
    assert_eq!(queue.kind, MetricKind::Gauge);
    let cpu = catalog
        .metric("process_cpu_seconds_total")
        .expect("process");
    assert_eq!(
        (cpu.kind, cpu.unit),
        (MetricKind::Counter, MetricUnit::Seconds)
    );
    assert_eq!(
        cpu.location, None,
        "obs's own families have no program location"
    );
    assert!(catalog.metric("obs_build_info").is_some());
    assert!(catalog.metric("obs_cardinality_overflow_total").is_some());
    assert!(
        catalog
            .metric("obs_telemetry_dropped_spans_total")
            .is_some()
    );
    let status = catalog.metric("health_check_status").expect("health");
    assert_eq!(status.location, None, "{status:?}");
    // A counter obs registers for itself is not placed in the program.
    crate::metric_core::registry::own_counter(
        &OWN_FOR_TEST,
        "catalog_test_own_total",
        "An own counter.",
    )
    .inc();
    let own = super::catalog().metric("catalog_test_own_total").cloned();
    assert_eq!(own.expect("listed").location, None);
    assert_eq!(
        status.label("kind").unwrap().values.as_deref(),
        Some(&["readiness", "liveness", "startup"][..])
    );
    #[cfg(feature = "tower")]
    {
        let http = catalog
            .metric("http_server_request_duration_seconds")
            .expect("http");
        assert_eq!(http.source, MetricSource::Http);
        assert_eq!(http.buckets, crate::leaves::schema::HTTP);
    }
    let names: Vec<&str> = catalog.metrics().iter().map(|m| m.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted, "sorted, each once");
}

const WORK_LINE: u32 = line!() + 1;
#[crate::instrumented(metric = "catalog_test_fn", crate = "crate", in_flight = true)]
fn work() {}

#[test]
fn functions_give_their_families() {
    work();
    let catalog = catalog();
    let calls = catalog.metric("catalog_test_fn_calls_total").unwrap();
    assert_eq!(
        calls.label("result").unwrap().values.as_deref(),
        Some(RESULTS)
    );
    match &calls.source {
        MetricSource::Functions(f) => assert!(f.iter().any(|(_, name)| *name == "work")),
        other => panic!("{other:?}"),
    }
    let at = Some(SourceLocation::new(file!(), WORK_LINE));
    assert_eq!(calls.location, at, "the attribute's line");
    let function = catalog.functions().iter().find(|f| f.function == "work");
    assert_eq!(function.map(|f| f.location), at);
    assert!(catalog.metric("catalog_test_fn_duration_seconds").is_some());
    assert!(catalog.metric("catalog_test_fn_in_flight").is_some());
}

#[test]
fn functions_sharing_a_base_share_its_families() {
    let f = |base, function, arg_labels: Vec<&'static str>, in_flight| FunctionInfo {
        base,
        function,
        module: "m",
        labels: Vec::new(),
        arg_labels,
        buckets: crate::leaves::schema::DB,
        in_flight,
        objective: None,
        location: SourceLocation::new("src/ops.rs", 7),
    };
    // Sorted by base, as the catalog keeps them.
    let functions = [
        f("a_op", "one", vec!["table"], false),
        f("a_op", "two", vec!["shard"], true),
        f("b_op", "three", Vec::new(), false),
    ];
    let families = super::metrics::function_families(&functions);
    let names: Vec<&str> = families.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "a_op_calls_total",
            "a_op_duration_seconds",
            "a_op_in_flight",
            "b_op_calls_total",
            "b_op_duration_seconds",
        ]
    );
    let a = &families[0];
    assert_eq!(
        a.source,
        MetricSource::Functions(vec![("m", "one"), ("m", "two")])
    );
    assert!(a.label("table").is_some() && a.label("shard").is_some());
    assert_eq!(
        families[3].source,
        MetricSource::Functions(vec![("m", "three")])
    );
    assert_eq!(families[4].buckets, crate::leaves::schema::DB);
    assert_eq!(
        families[0].location,
        Some(SourceLocation::new("src/ops.rs", 7))
    );
}

#[test]
fn work_families_are_attributed_to_their_part() {
    use super::metrics::own_source;
    for (name, source) in [
        ("http_client_request_duration_seconds", MetricSource::Client),
        ("job_runs_total", MetricSource::Jobs),
        ("job_worker_last_seen_timestamp_seconds", MetricSource::Jobs),
        ("db_client_connection_count", MetricSource::Pools),
        ("redis_connected", MetricSource::Pools),
        ("last_success_timestamp_seconds", MetricSource::Push),
        ("http_server_active_requests", MetricSource::Http),
        ("job_runs", MetricSource::Registered),
        ("my_jobs_total", MetricSource::Registered),
    ] {
        assert_eq!(own_source(name), source, "{name}");
    }
}
