//! The text format itself: escaping, metric types, and `prometheus` crate
//! metrics sharing the scrape.

use obs_runtime::metrics::{Counter, Gauge, Histogram, MetricError};
use obs_runtime::registry::{self, Bridge, RegistryError};
use obs_runtime::{
    Combinations, LabelSet, LabelSetKind, LabelValue, encode_text, instrumented, schema,
};

const MODULE: &str = module_path!();

#[instrumented(
    metric = "x_escape",
    labels(note = "back\\slash \"quoted\"\nnext line, café ☕")
)]
fn escaped() {}

#[test]
fn label_values_are_escaped_exactly() {
    escaped();
    let text = encode_text();
    let expected = format!(
        "x_escape_calls_total{{function=\"escaped\",module=\"{MODULE}\",result=\"ok\",note=\"back\\\\slash \\\"quoted\\\"\\nnext line, café ☕\"}} 1\n"
    );
    assert!(text.contains(&expected), "missing {expected:?} in\n{text}");
}

#[test]
fn help_text_is_escaped_exactly() {
    let c = Counter::<()>::new("x_help_total", "Counts C:\\temp files,\nsaid \"Zoë\" ✓")
        .unwrap()
        .register()
        .unwrap();
    c.inc_by(5);
    let text = encode_text();
    assert!(text.contains("# HELP x_help_total Counts C:\\\\temp files,\\nsaid \"Zoë\" ✓\n# TYPE x_help_total counter\nx_help_total 5\n"), "{text}");
}

/// A hand-written label set: what `#[derive(LabelSet)]` will generate.
#[derive(Clone, Copy)]
enum Tier {
    Free,
    Paid,
}

impl Tier {
    fn value_at(ordinal: usize, _: usize) -> &'static str {
        if ordinal == 0 { "free" } else { "paid" }
    }
}

impl LabelSet for Tier {
    const NAMES: &'static [&'static str] = &["tier"];
    const KIND: LabelSetKind<Self> = LabelSetKind::Bounded(Combinations {
        cardinality: 2,
        ordinal: |tier| *tier as usize,
        value_at: Self::value_at,
    });

    fn value_of(&self, index: usize) -> &'static str {
        Self::value_at(*self as usize, index)
    }
}

/// A hand-written label set whose ordinal is out of range.
#[derive(Clone, Copy)]
struct Stray;

impl LabelSet for Stray {
    const NAMES: &'static [&'static str] = &["tier"];
    const KIND: LabelSetKind<Self> = LabelSetKind::Bounded(Combinations {
        cardinality: 2,
        ordinal: |_| 7,
        value_at: Tier::value_at,
    });

    fn value_of(&self, index: usize) -> &'static str {
        Tier::value_at(1, index)
    }
}

/// A hand-written label value whose ordinal may be out of range.
#[derive(Clone, Copy)]
struct Shard(usize);

impl LabelValue for Shard {
    const CARDINALITY: usize = 2;

    fn label_value(&self) -> &'static str {
        if self.0 == 0 { "a" } else { "b" }
    }

    fn ordinal(&self) -> usize {
        self.0
    }

    fn value_at(ordinal: usize) -> Option<&'static str> {
        ["a", "b"].get(ordinal).copied()
    }
}

#[instrumented(metric = "x_shard", labels(shard = shard))]
fn on_shard(shard: Shard) {
    let _ = shard;
}

#[instrumented(metric = "x_shard_flag", labels(shard = shard, flag = flag))]
fn on_shard_flag(shard: Shard, flag: bool) {
    let _ = (shard, flag);
}

#[test]
fn an_ordinal_out_of_range_counts_on_the_last_combination() {
    let c = Counter::<Stray>::new("x_stray_total", "Strays.")
        .unwrap()
        .register()
        .unwrap();
    c.with(Stray).inc();
    on_shard(Shard(0));
    on_shard(Shard(9));
    on_shard_flag(Shard(9), true);
    let text = encode_text();
    assert!(
        text.contains("x_stray_total{tier=\"free\"} 0\nx_stray_total{tier=\"paid\"} 1\n"),
        "{text}"
    );
    let calls = |base: &str, function: &str, labels: &str| {
        format!(
            "{base}_calls_total{{function=\"{function}\",module=\"{MODULE}\",result=\"ok\",{labels}}} 1\n"
        )
    };
    for line in [
        calls("x_shard", "on_shard", "shard=\"a\""),
        calls("x_shard", "on_shard", "shard=\"b\""),
        calls("x_shard_flag", "on_shard_flag", "shard=\"b\",flag=\"true\""),
    ] {
        assert!(text.contains(&line), "missing {line:?} in\n{text}");
    }
}

#[test]
fn labelled_metrics_start_at_zero_and_index_by_ordinal() {
    let c = Counter::<Tier>::new("x_signups_total", "Sign-ups by tier.")
        .unwrap()
        .register()
        .unwrap();
    let g = Gauge::<Tier>::new("x_sessions", "Open sessions by tier.")
        .unwrap()
        .register()
        .unwrap();
    let h = Histogram::<Tier>::new("x_upload_bytes", "Upload sizes by tier.", &[100.0, 1000.0])
        .unwrap()
        .register()
        .unwrap();
    let before = encode_text();
    assert!(
        before.contains("x_signups_total{tier=\"free\"} 0\nx_signups_total{tier=\"paid\"} 0\n"),
        "{before}"
    );
    let paid = c.with(Tier::Paid);
    paid.inc();
    paid.inc_by(2);
    g.with(Tier::Free).set(4.0);
    g.with(Tier::Free).dec();
    h.with(Tier::Paid).observe(50.0);
    h.with(Tier::Paid).observe(100.0);
    h.with(Tier::Paid).observe(5000.0);
    let text = encode_text();
    assert!(
        text.contains("x_signups_total{tier=\"paid\"} 3\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "# TYPE x_sessions gauge\nx_sessions{tier=\"free\"} 3\nx_sessions{tier=\"paid\"} 0\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "x_upload_bytes_bucket{tier=\"paid\",le=\"100\"} 2\n\
         x_upload_bytes_bucket{tier=\"paid\",le=\"1000\"} 2\n\
         x_upload_bytes_bucket{tier=\"paid\",le=\"+Inf\"} 3\n\
         x_upload_bytes_sum{tier=\"paid\"} 5150\n\
         x_upload_bytes_count{tier=\"paid\"} 3\n"
        ),
        "{text}"
    );
}

#[test]
fn bad_names_and_duplicates_are_errors_not_panics() {
    assert!(matches!(
        Counter::<()>::new("x_jobs", "no _total"),
        Err(MetricError::InvalidName { .. })
    ));
    assert!(matches!(
        Gauge::<()>::new("x-dash", "dash"),
        Err(MetricError::InvalidName { .. })
    ));
    assert!(matches!(
        Histogram::<()>::new("x_h_seconds", "unsorted", &[1.0, 0.5]),
        Err(MetricError::InvalidBuckets(_))
    ));
    Counter::<()>::new("x_once_total", "Once.")
        .unwrap()
        .register()
        .unwrap();
    let again = Counter::<()>::new("x_once_total", "Twice.")
        .unwrap()
        .register();
    assert_eq!(
        again.unwrap_err(),
        RegistryError::Duplicate("x_once_total".to_owned())
    );
    // A name an instrumented function's family uses is taken too.
    let clash = Counter::<()>::new("x_escape_calls_total", "Clash.")
        .unwrap()
        .register();
    assert!(matches!(clash, Err(RegistryError::Duplicate(_))));
}

#[test]
fn prometheus_crate_metrics_share_the_scrape() {
    let legacy =
        prometheus::IntCounter::new("x_legacy_requests_total", "Requests counted the old way.")
            .unwrap();
    let vec = prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new("x_legacy_latency_seconds", "Old latency.")
            .buckets(vec![0.1, 1.0]),
        &["route"],
    )
    .unwrap();
    registry::global()
        .register_collector(Box::new(legacy.clone()))
        .unwrap();
    registry::global()
        .register_collector(Box::new(vec.clone()))
        .unwrap();
    legacy.inc_by(41);
    legacy.inc();
    vec.with_label_values(&["/users/{id}"]).observe(0.5);
    let text = encode_text();
    assert!(
        text.contains("# TYPE x_legacy_requests_total counter\nx_legacy_requests_total 42\n"),
        "{text}"
    );
    assert!(
        text.contains("x_legacy_latency_seconds_bucket{route=\"/users/{id}\",le=\"0.1\"} 0\n"),
        "{text}"
    );
    assert!(
        text.contains("x_legacy_latency_seconds_bucket{route=\"/users/{id}\",le=\"+Inf\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("x_legacy_latency_seconds_count{route=\"/users/{id}\"} 1\n"),
        "{text}"
    );
    // Registering the same name twice is refused.
    let dup = prometheus::IntCounter::new("x_legacy_requests_total", "Again.").unwrap();
    assert!(
        registry::global()
            .register_collector(Box::new(dup))
            .is_err()
    );
}

#[instrumented(metric = "x_bridge")]
fn bridged() {}

#[test]
fn obs_metrics_reach_a_prometheus_registry_through_the_bridge() {
    bridged();
    let prom = prometheus::Registry::new();
    prom.register(Box::new(Bridge)).unwrap();
    let families = prom.gather();
    let calls = families
        .iter()
        .find(|f| f.name() == "x_bridge_calls_total")
        .expect("family through the bridge");
    assert!(
        calls
            .get_metric()
            .iter()
            .any(|m| m.get_counter().get_value() >= 1.0)
    );
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&families)
        .unwrap();
    assert!(text.contains("x_bridge_duration_seconds_bucket"), "{text}");
}

#[test]
fn presets_are_the_documented_bounds() {
    assert_eq!(
        schema::bucket_preset("latency").unwrap(),
        &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]
    );
    assert_eq!(
        schema::bucket_preset("ai").unwrap(),
        &[0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]
    );
    assert_eq!(
        schema::bucket_preset("http").unwrap(),
        &[
            0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0
        ]
    );
}
