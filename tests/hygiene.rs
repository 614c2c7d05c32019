//! The expansion compiles cleanly under the strictest lints a user might
//! set: `cargo clippy --all-targets -- -D warnings` checks this file.
#![deny(warnings, clippy::pedantic, unused_qualifications)]

use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::{LabelSet, LabelValue, MetricSet, instrumented};

/// A cache.
#[derive(LabelValue, Clone, Copy)]
enum Cache {
    /// Sessions.
    Session,
    /// Profiles.
    #[label(rename = "user_profile")]
    Profile,
}

/// The labels of the cache metrics.
#[derive(LabelSet, Clone, Copy)]
struct CacheLabels {
    cache: Cache,
    hit: bool,
}

/// Metrics of the cache; private, so nothing derived may be `pub`.
#[derive(MetricSet)]
#[metrics(prefix = "h_cache")]
struct CacheMetrics {
    /// Lookups by cache and outcome.
    lookups_total: Counter<CacheLabels>,
    /// Entries held.
    entries: Gauge,
    /// Time to load a missing entry.
    #[metric(buckets = "db")]
    load_seconds: Histogram,
}

/// A documented, `#[must_use]` function keeps both.
#[must_use]
#[instrumented(metric = "h_add", buckets = [1, 2.5, 10], labels(kind = "sum"), in_flight = true)]
pub fn add(a: u32, b: u32) -> u32 {
    a + b
}

#[instrumented(metric = "h_parse", fields(input), level = "debug")]
fn parse(input: &str) -> Result<u32, std::num::ParseIntError> {
    input.trim().parse()
}

#[instrumented(metric = "h_flag", labels(cached = cached), span = "h.flag")]
fn flagged(cached: bool) -> Option<u8> {
    cached.then_some(1)
}

struct Repo;

impl Repo {
    #[instrumented(metric = "h_repo")]
    async fn load(&self, id: u32) -> Result<u32, std::io::Error> {
        Ok(id)
    }
}

#[instrumented]
fn empty() {}

#[instrumented(
    metric = "h_pay",
    slo(
        success = "99.9%",
        latency = "250ms",
        percentile = "99%",
        period = "28d"
    )
)]
fn pay() -> Result<(), std::io::Error> {
    Ok(())
}

/// A route objective, in a `const` and in an expression.
const USERS: obs_runtime::schema::Objective =
    obs_runtime::slo!(success = "99.9%", latency = "250ms", percentile = "99%");

/// A private health check: nothing generated beside it may be `pub`.
#[obs_runtime::health_check("h_queue", timeout = "250ms", kind = "startup", critical = false)]
async fn queue() -> Result<(), std::io::Error> {
    Ok(())
}

#[test]
fn annotated_code_runs_under_strict_lints() {
    empty();
    assert!(pay().is_ok());
    assert_eq!(USERS.latency_ms, Some(250));
    assert_eq!(
        obs_runtime::slo!(success = "99.5%", period = "7d").period_days,
        7
    );
    assert_eq!(add(1, 2), 3);
    assert_eq!(parse(" 42 ").unwrap(), 42);
    assert!(parse("x").is_err());
    assert_eq!(flagged(true), Some(1));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(Repo.load(9)).unwrap(), 9);
    assert!(rt.block_on(queue()).is_ok());
    assert!(
        obs_runtime::health::registered()
            .iter()
            .any(|c| c.name() == "h_queue")
    );
    let cache = CacheMetrics::global();
    cache
        .lookups_total
        .with(CacheLabels {
            cache: Cache::Profile,
            hit: true,
        })
        .inc();
    cache
        .lookups_total
        .with(CacheLabels {
            cache: Cache::Session,
            hit: true,
        })
        .inc_by(2);
    cache.entries.set(3.0);
    cache.load_seconds.observe(0.004);
    let text = obs_runtime::encode_text();
    assert!(text.contains("h_parse_calls_total"));
    assert!(
        text.contains(r#"h_cache_lookups_total{cache="user_profile",hit="true"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"h_cache_lookups_total{cache="session",hit="false"} 0"#),
        "{text}"
    );
}
