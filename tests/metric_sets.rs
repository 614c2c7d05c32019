//! `#[derive(MetricSet)]` and friends: the exact exposition of a derived
//! set, zero series from registration, and exact sums under contention.

use std::thread;

use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::{LabelSet, LabelValue, MetricSet, encode_text};

#[derive(LabelValue, Clone, Copy, Debug)]
enum Cache {
    Session,
    UserProfile,
}

#[derive(LabelValue, Clone, Copy, Debug)]
enum Outcome {
    Hit,
    Miss,
}

#[derive(LabelSet, Clone, Copy, Debug)]
struct CacheLabels {
    cache: Cache,
    outcome: Outcome,
}

#[derive(LabelValue, Clone, Copy, Debug)]
enum Breaker {
    Closed,
    Open,
    #[label(rename = "half-open")]
    HalfOpen,
}

#[derive(LabelSet, Clone, Copy, Debug)]
struct BreakerLabels {
    state: Breaker,
}

/// The set whose whole exposition the first test pins down.
#[derive(MetricSet)]
#[metrics(prefix = "ms_cache")]
struct CacheMetrics {
    /// Cache lookups, by cache and outcome.
    lookups_total: Counter<CacheLabels>,
    /// Entries held.
    entries: Gauge,
    /// Time to load a missing entry,
    /// from the backing store.
    #[metric(name = "load_seconds", buckets = [0.01, 0.1])]
    load: Histogram,
    /// Size of loaded entries.
    #[metric(unit = "bytes", buckets = [100, 1000])]
    entry_size_bytes: Histogram,
}

#[test]
fn a_derived_set_exposes_exactly_this() {
    let m = CacheMetrics::global();
    let before = encode_text();
    let expected_before = "\
# HELP ms_cache_lookups_total Cache lookups, by cache and outcome.
# TYPE ms_cache_lookups_total counter
ms_cache_lookups_total{cache=\"session\",outcome=\"hit\"} 0
ms_cache_lookups_total{cache=\"session\",outcome=\"miss\"} 0
ms_cache_lookups_total{cache=\"user_profile\",outcome=\"hit\"} 0
ms_cache_lookups_total{cache=\"user_profile\",outcome=\"miss\"} 0
# HELP ms_cache_entries Entries held.
# TYPE ms_cache_entries gauge
ms_cache_entries 0
# HELP ms_cache_load_seconds Time to load a missing entry, from the backing store.
# TYPE ms_cache_load_seconds histogram
ms_cache_load_seconds_bucket{le=\"0.01\"} 0
ms_cache_load_seconds_bucket{le=\"0.1\"} 0
ms_cache_load_seconds_bucket{le=\"+Inf\"} 0
ms_cache_load_seconds_sum 0
ms_cache_load_seconds_count 0
# HELP ms_cache_entry_size_bytes Size of loaded entries.
# TYPE ms_cache_entry_size_bytes histogram
ms_cache_entry_size_bytes_bucket{le=\"100\"} 0
ms_cache_entry_size_bytes_bucket{le=\"1000\"} 0
ms_cache_entry_size_bytes_bucket{le=\"+Inf\"} 0
ms_cache_entry_size_bytes_sum 0
ms_cache_entry_size_bytes_count 0
";
    assert!(
        before.contains(expected_before),
        "expected\n{expected_before}\nin\n{before}"
    );

    let session_hit = m.lookups_total.with(CacheLabels {
        cache: Cache::Session,
        outcome: Outcome::Hit,
    });
    session_hit.inc();
    session_hit.inc_by(4);
    m.lookups_total
        .with(CacheLabels {
            cache: Cache::UserProfile,
            outcome: Outcome::Miss,
        })
        .inc();
    m.entries.set(42.0);
    m.load.observe(0.05);
    m.entry_size_bytes.observe(512.0);
    let after = encode_text();
    for line in [
        "ms_cache_lookups_total{cache=\"session\",outcome=\"hit\"} 5\n",
        "ms_cache_lookups_total{cache=\"session\",outcome=\"miss\"} 0\n",
        "ms_cache_lookups_total{cache=\"user_profile\",outcome=\"miss\"} 1\n",
        "ms_cache_entries 42\n",
        "ms_cache_load_seconds_bucket{le=\"0.01\"} 0\nms_cache_load_seconds_bucket{le=\"0.1\"} 1\n",
        "ms_cache_entry_size_bytes_bucket{le=\"1000\"} 1\n",
        "ms_cache_entry_size_bytes_sum 512\n",
    ] {
        assert!(after.contains(line), "missing {line:?} in\n{after}");
    }
    // One registration, however often `global()` is called.
    assert!(std::ptr::eq(m, CacheMetrics::global()));
    assert_eq!(after.matches("# TYPE ms_cache_entries gauge").count(), 1);
}

/// A set nobody touches still appears: link-time registration.
#[derive(MetricSet)]
#[metrics(prefix = "ms_breaker")]
struct BreakerMetrics {
    /// Circuit breaker state: 1 for the current state, 0 for the others.
    state: Gauge<BreakerLabels>,
}

#[test]
fn an_unused_set_is_in_the_first_scrape_with_every_combination() {
    let text = encode_text();
    for state in ["closed", "open", "half-open"] {
        let line = format!("ms_breaker_state{{state=\"{state}\"}} 0\n");
        assert!(text.contains(&line), "missing {line:?} in\n{text}");
    }
}

/// The same shape as `BreakerMetrics`, for a test that changes values.
#[derive(MetricSet)]
#[metrics(prefix = "ms_moving_breaker")]
struct MovingBreaker {
    /// Circuit breaker state: 1 for the current state, 0 for the others.
    state: Gauge<BreakerLabels>,
}

#[test]
fn a_state_gauge_moves_between_states() {
    let m = MovingBreaker::global();
    for (now, before) in [
        (Breaker::Open, Breaker::Closed),
        (Breaker::HalfOpen, Breaker::Open),
    ] {
        m.state.with(BreakerLabels { state: before }).set(0.0);
        m.state.with(BreakerLabels { state: now }).set(1.0);
    }
    let text = encode_text();
    assert!(
        text.contains("ms_moving_breaker_state{state=\"half-open\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("ms_moving_breaker_state{state=\"open\"} 0\n"),
        "{text}"
    );
}

#[test]
fn derived_label_types_know_their_values() {
    assert_eq!(Breaker::COUNT, 3);
    assert_eq!(Breaker::HalfOpen.label_value(), "half-open");
    assert_eq!(Cache::UserProfile.label_value(), "user_profile");
    assert_eq!(CacheLabels::KIND.cardinality(), Some(4));
    assert_eq!(CacheLabels::NAMES, &["cache", "outcome"]);
    let l = CacheLabels {
        cache: Cache::UserProfile,
        outcome: Outcome::Hit,
    };
    let ordinal = CacheLabels::KIND.ordinal(&l).unwrap();
    assert_eq!(CacheLabels::KIND.value_at(ordinal, 0), Some("user_profile"));
    assert_eq!(CacheLabels::KIND.value_at(ordinal, 1), Some("hit"));
}

#[derive(LabelSet, Clone, Copy)]
struct TenantLabels {
    tier: &'static str,
}

#[derive(MetricSet)]
#[metrics(prefix = "ms_contended")]
struct Contended {
    /// Increments on one fixed series.
    fixed_total: Counter<CacheLabels>,
    /// Increments on one series of a dynamic family.
    #[metric(max_series = 100)]
    dynamic_total: Counter<TenantLabels>,
}

#[test]
fn two_threads_sum_exactly_on_fixed_and_dynamic_series() {
    const PER_THREAD: u64 = 1_000_000;
    let m = Contended::global();
    let labels = CacheLabels {
        cache: Cache::Session,
        outcome: Outcome::Miss,
    };
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..PER_THREAD {
                    m.fixed_total.with(labels).inc();
                    m.dynamic_total.with(TenantLabels { tier: "gold" }).inc();
                }
            });
        }
    });
    assert_eq!(m.fixed_total.with(labels).get(), 2 * PER_THREAD);
    assert_eq!(
        m.dynamic_total.with(TenantLabels { tier: "gold" }).get(),
        2 * PER_THREAD
    );
    let text = encode_text();
    assert!(
        text.contains("ms_contended_dynamic_total{tier=\"gold\"} 2000000\n"),
        "{text}"
    );
    assert!(
        text.contains("obs_cardinality_overflow_total{metric=\"ms_contended_dynamic_total\"} 0\n"),
        "{text}"
    );
}
