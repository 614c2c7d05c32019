use obs_runtime::metrics::{Counter, Gauge};
use obs_runtime::{LabelSet, LabelValue, MetricSet};

#[derive(LabelValue, Clone, Copy)]
enum Cache {
    Session,
    Catalog,
}

#[derive(LabelSet, Clone, Copy)]
struct CacheLabels {
    cache: Cache,
}

#[derive(MetricSet)]
#[metrics(prefix = "ui_cache")]
struct CacheMetrics {
    /// Lookups answered from the cache.
    hits_total: Counter<CacheLabels>,
    /// Lookups that went to the backing store.
    misses_total: Counter<CacheLabels>,
    /// Entries held, by cache.
    entries: Gauge<CacheLabels>,
}

fn main() {
    let m = CacheMetrics::global();
    let session = CacheLabels {
        cache: Cache::Session,
    };
    m.hits_total.with(session).inc_by(3);
    m.misses_total.with(session).inc();
    m.entries.with(session).set(12.0);

    let text = obs_runtime::encode_text();
    for line in [
        "# TYPE ui_cache_hits_total counter\n",
        "ui_cache_hits_total{cache=\"session\"} 3\n",
        "ui_cache_hits_total{cache=\"catalog\"} 0\n",
        "ui_cache_misses_total{cache=\"session\"} 1\n",
        "# TYPE ui_cache_entries gauge\n",
        "ui_cache_entries{cache=\"session\"} 12\n",
        "ui_cache_entries{cache=\"catalog\"} 0\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}
