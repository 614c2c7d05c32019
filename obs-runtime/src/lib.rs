//! # obs-runtime
//!
//! Compile-time checked Prometheus metrics, tracing spans and health probes
//! for Rust services. Annotate a function, and every call is counted, timed and
//! traced; misuse that would hurt in production (an unbounded label, a badly
//! named metric, a secret recorded into a span) is a compile error.
//!
//! ```
//! use obs_runtime::instrumented;
//!
//! #[instrumented(metric = "doc_lookup", buckets = "latency", labels(table = "users"))]
//! fn lookup(id: u64) -> Result<u64, String> {
//!     if id == 0 { Err("no such user".to_owned()) } else { Ok(id) }
//! }
//!
//! assert!(lookup(7).is_ok());
//! let text = obs_runtime::encode_text();
//! let series = |result| {
//!     format!(r#"doc_lookup_calls_total{{function="lookup",module="{}",result="{result}",table="users"}}"#, module_path!())
//! };
//! assert!(text.contains(&format!("{} 1", series("ok"))));
//! assert!(text.contains(&format!("{} 0", series("error"))));
//! ```
//!
//! The label schema, naming rules, bucket presets and limits live in
//! [`schema`]; the macros check against it and keep no copy.
// docs.rs builds with `--cfg docsrs` on nightly, where `doc(cfg(..))` marks
// each feature-gated item with its feature; stable builds never see this.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![warn(clippy::pedantic)]
// `with(labels)` takes the label set by value, as `prometheus` and `measured`
// do: sets are small `Copy`-like structs and enums, and the call reads well.
#![allow(clippy::needless_pass_by_value)]
// Bad input gets an error or a documented fallback, never a panic in the
// host: no `unwrap`, `expect`, `panic!` or unchecked indexing outside tests
// (clippy.toml lets tests use them). The few intended panics carry an
// `allow` with its reason on the smallest item.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

// The layers, lowest first; each imports only from those before it
// (ARCHITECTURE.md has the table, `tests/layers.rs` checks it).
mod leaves;
mod metric_core;
mod subsystems;

pub use leaves::{access, redact, schema};
pub use metric_core::{encode, metrics, process, registry};
pub use subsystems::catalog::{
    Catalog, CheckInfo, DEFAULT_ROUTE_SLO, FunctionInfo, LabelInfo, MetricInfo, MetricSource,
    MetricUnit, RESULTS, RouteObjective, catalog,
};
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use subsystems::client;
#[cfg(feature = "sentry")]
#[cfg_attr(docsrs, doc(cfg(feature = "sentry")))]
pub use subsystems::errors;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use subsystems::http;
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub use subsystems::trace;
pub use subsystems::{export, health, host, jobs, log, otlp_metrics, pools, push};

pub use subsystems::init::{Builder, InitError, ObsGuard, init};

pub use leaves::labels::{Combinations, LabelSet, LabelSetKind, LabelValue};

/// Derives [`LabelValue`](trait@LabelValue) for a field-less enum: each
/// variant is one value of the label.
///
/// # Container attributes
/// - `#[label(crate = "path")]`: where `obs_runtime` is, for renamed
///   dependencies (default `::obs_runtime`; the runtime's own enums use
///   `crate = "crate"`), as in `#[instrumented(crate = "..")]`.
///
/// # Variant attributes
/// - `#[label(rename = "value")]`: the rendered value (default: the
///   variant's name in `snake_case`, `HalfOpen` → `half_open`).
///
/// # Outputs
/// `impl LabelValue` with `CARDINALITY` = the number of variants, an
/// `ordinal` per variant and the rendered values, plus an inherent
/// `const COUNT: usize`. Every rendered value is checked against
/// [`schema::check_label_value`] at compile time.
///
/// # Example
/// ```
/// use obs_runtime::LabelValue;
///
/// #[derive(LabelValue, Clone, Copy)]
/// enum Breaker {
///     Closed,
///     Open,
///     #[label(rename = "half-open")]
///     HalfOpen,
/// }
///
/// assert_eq!(Breaker::COUNT, 3);
/// assert_eq!(Breaker::HalfOpen.label_value(), "half-open");
/// assert_eq!(Breaker::Open.ordinal(), 1);
/// ```
pub use obs_macros::LabelValue;

/// Derives [`LabelSet`](trait@LabelSet) for a struct whose fields are
/// [`LabelValue`](trait@LabelValue)s: each field is one label, named after
/// the field.
///
/// # Container attributes
/// - `#[label(crate = "path")]`: where `obs_runtime` is, for renamed
///   dependencies (default `::obs_runtime`; the runtime's own label sets
///   use `crate = "crate"`), as in `#[instrumented(crate = "..")]`.
///
/// # Outputs
/// `impl LabelSet`: `NAMES` (the field names, each checked against
/// [`schema::check_label_name`] at compile time, and at most
/// [`schema::MAX_LABELS`] of them) and `KIND`, decided from the fields'
/// [`LabelValue`](trait@LabelValue) impls: [`LabelSetKind::Bounded`] when
/// every field has a known cardinality and their product fits a metric
/// (the combinations numbered row-major, so `with(labels)` is an index),
/// [`LabelSetKind::Open`] when a field is a `&'static str` (a capped map
/// with an overflow series). A field whose type is not a label value
/// (`String`) is a compile error.
///
/// # Example
/// ```
/// use obs_runtime::{LabelSet, LabelSetKind, LabelValue};
///
/// #[derive(LabelValue, Clone, Copy)]
/// enum Cache { Session, Profile }
///
/// #[derive(LabelSet, Clone, Copy)]
/// struct CacheLabels { cache: Cache, hit: bool }
///
/// #[derive(LabelSet, Clone, Copy)]
/// struct TenantLabels { tenant: &'static str, hit: bool }
///
/// assert_eq!(CacheLabels::NAMES, &["cache", "hit"]);
/// assert_eq!(CacheLabels::KIND.cardinality(), Some(4));
/// assert!(matches!(TenantLabels::KIND, LabelSetKind::Open));
/// ```
pub use obs_macros::LabelSet;

/// Derives a global, registered set of metrics for a struct whose fields
/// are [`metrics::Counter`], [`metrics::Gauge`] and [`metrics::Histogram`],
/// optionally keyed by a [`LabelSet`](trait@LabelSet).
///
/// # Container attributes
/// - `#[metrics(prefix = "cache")]`: each metric is named `cache_<field>`;
/// - `#[metrics(crate = "path")]`: where `obs_runtime` is, for renamed
///   dependencies (default `::obs_runtime`), as in
///   `#[instrumented(crate = "..")]`.
///
/// # Field attributes
/// - doc comment (required): the metric's `# HELP` text;
/// - `#[metric(name = "...")]`: the name after the prefix (default: the
///   field's name);
/// - `#[metric(buckets = "preset" | [..])]`: a histogram's bounds (default
///   [`schema::default_buckets`] of its unit: `latency`, or `bytes` when a
///   unit is given);
/// - `#[metric(unit = "bytes")]`: a histogram that does not measure seconds;
/// - `#[metric(max_series = 500)]`: the series limit of a dynamic label set.
///
/// # Rules, checked at compile time
/// Each field's kind is its type's [`registry::Metric::KIND`], so a type
/// alias of a `Counter` is a counter. A counter's name ends in `_total`; a
/// histogram's ends in `_seconds`, or in its `unit`; a gauge's ends in
/// neither `_total` nor a histogram suffix; only histograms take `buckets`
/// and `unit`; label names follow [`schema::check_label_name`]. The rules
/// are [`schema::check_metric_member`] and its neighbours.
///
/// # Outputs
/// `fn global() -> &'static Self`. The set registers itself when first used
/// or at the first scrape (link-time registration), with every series of
/// fixed label sets present at zero.
///
/// # Example
/// ```
/// use obs_runtime::metrics::{Counter, Gauge, Histogram};
/// use obs_runtime::{LabelSet, LabelValue, MetricSet};
///
/// #[derive(LabelValue, Clone, Copy)]
/// enum Cache { Session, Profile }
///
/// #[derive(LabelSet, Clone, Copy)]
/// struct CacheLabels { cache: Cache }
///
/// #[derive(MetricSet)]
/// #[metrics(prefix = "doc_cache")]
/// struct CacheMetrics {
///     /// Lookups answered from the cache.
///     hits_total: Counter<CacheLabels>,
///     /// Entries held.
///     entries: Gauge,
///     /// Time to load a missing entry.
///     #[metric(buckets = "db")]
///     load_seconds: Histogram,
/// }
///
/// let m = CacheMetrics::global();
/// m.hits_total.with(CacheLabels { cache: Cache::Session }).inc();
/// m.entries.set(12.0);
/// let text = obs_runtime::encode_text();
/// assert!(text.contains("doc_cache_hits_total{cache=\"session\"} 1"));
/// assert!(text.contains("doc_cache_hits_total{cache=\"profile\"} 0"));
/// ```
pub use obs_macros::MetricSet;

/// Counts, times and traces every call of a function.
///
/// # Attribute options
/// | option | meaning | default |
/// |---|---|---|
/// | `metric = "base"` | base name of the metrics | `function` |
/// | `buckets = "preset"` or `buckets = [0.1, 1.0]` | histogram bounds in seconds; presets are listed in [`schema::BUCKET_PRESETS`] | `"latency"` |
/// | `labels(key = "literal", key = arg)` | extra labels: a literal, or an argument whose type implements [`LabelValue`] | none |
/// | `fields(arg, redact(arg))` | arguments recorded on the span (`Debug`); `redact(..)` records `"[REDACTED]"` | none |
/// | `span = true \| false \| "name"` | a `tracing` span per call, named after the function or as given | `true` |
/// | `level = "trace" \| "debug" \| "info" \| "warn" \| "error"` | the span's level | `"info"` |
/// | `in_flight = true` | also keep `<base>_in_flight` | `false` |
/// | `crate = "path"` | where `obs_runtime` is, for renamed dependencies | `::obs_runtime` |
///
/// # What it generates
/// - `<base>_calls_total{function, module, result, ..labels}`: a counter,
///   where `result` is `ok`, `error` (an `Err` was returned), `cancelled` (an
///   async call whose future was dropped before completing) or `panic` (the
///   panic then continues to unwind);
/// - `<base>_duration_seconds{function, module, result, ..labels}`: a
///   histogram with the chosen buckets;
/// - with `in_flight = true`, `<base>_in_flight{function, module, ..labels}`.
///
/// The `ok` series, and `error` for functions returning `Result`, exist at
/// zero before the first call. A `Result` is recognised by its type, not
/// its name: `io::Result<()>` and `type Outcome = Result<u8, E>` count, a
/// type named `…Result` that is no `Result` does not. (When the return type
/// names a generic parameter, `Self` or `impl Trait`, the `error` series
/// appear with the first call instead.) The span carries `code.function`,
/// `code.namespace`, `result` and the listed `fields`; an `Err` sets
/// `otel.status_code = "ERROR"` and `otel.status_description` to its `Display`.
/// Arguments are never recorded unless listed.
///
/// # Compile errors
/// Forbidden, reserved or own label names, invalid metric names, unknown
/// presets, bad bucket lists, unbounded label types (`String`, `&str`),
/// sensitive arguments in `fields` without `redact(..)`, and unknown or
/// repeated options are all rejected at compile time, with the rule and the
/// fix in the message.
///
/// # Example
/// ```
/// use obs_runtime::instrumented;
///
/// struct Db;
///
/// impl Db {
///     #[instrumented(metric = "doc_db_query", buckets = "db", in_flight = true, fields(id))]
///     async fn load(&self, id: u64) -> Result<String, std::fmt::Error> {
///         Ok(format!("user {id}"))
///     }
/// }
///
/// #[instrumented(span = false)]
/// fn parse(input: &[u8]) -> Option<u8> {
///     input.first().copied()
/// }
///
/// assert_eq!(parse(b"x"), Some(b'x'));
/// ```
pub use obs_macros::instrumented;

/// An objective for HTTP routes, checked at compile time:
/// `slo!(success = "99.9%", latency = "250ms", percentile = "99%", period = "30d")`,
/// for [`http::ObsLayer::slo`] and [`http::ObsLayer::default_slo`].
///
/// # Options
/// The options of `#[instrumented(slo(..))]`, read by the same parser:
///
/// | option | meaning | default |
/// |---|---|---|
/// | `success = "99.9%"` | the share of requests not answered with a 5xx status | — |
/// | `latency = "250ms"` with `percentile = "99%"` | the share of requests answered within the bound; the bound must be a bucket bound of `http_server_request_duration_seconds` ([`schema::HTTP`]: 5ms, 10ms, 25ms, 50ms, 75ms, 100ms, 250ms, 500ms, 750ms, 1s, 2.5s, 5s, 7.5s, 10s) | — |
/// | `period = "7d" \| "28d" \| "30d"` | the period the error budget is counted over | `"30d"` |
/// | `crate = "path"` | where `obs_runtime` is, for renamed dependencies | `::obs_runtime` |
///
/// At least `success`, or `latency` with `percentile`.
///
/// # What it generates
/// A block evaluating to a [`schema::Objective`], a constant (it also
/// initialises a `const`): every value is parsed and checked by the
/// schema's `const fn`s at compile time, so a percentage of 100 %, a
/// duration written `"250 ms"`, an unknown key or a latency between two
/// bucket bounds is a compile error at the literal, naming the rule (and
/// the two nearest bounds).
///
/// # Example
/// ```
/// use obs_runtime::{schema::Objective, slo};
///
/// const CHECKOUT: Objective = slo!(success = "99.9%", latency = "250ms", percentile = "99%");
/// assert_eq!(CHECKOUT.success_ppm, Some(999_000));
/// assert_eq!(CHECKOUT.latency_ms, Some(250));
/// assert_eq!(slo!(success = "99.5%", period = "28d").period_days, 28);
/// ```
///
/// ```compile_fail
/// // 300ms is not a bound: the nearest are 250ms and 500ms.
/// let _ = obs_runtime::slo!(latency = "300ms", percentile = "99%");
/// ```
pub use obs_macros::slo;

/// Declares an `async fn` as a health check that a Kubernetes probe runs.
///
/// ```text
/// #[health_check("name", timeout = "2s", kind = "readiness", critical = true)]
/// ```
///
/// # Attribute options
/// | option | meaning | default |
/// |---|---|---|
/// | `"name"` (first, required) | the check's name: its key in the report, its URL (`/readyz/<name>`), its `check` label; lower-case letters, digits, `_`, `-` | — |
/// | `timeout = "250ms" \| "2s" \| "1m"` | how long one run may take; a whole number and a unit with no space, at most 60 s, checked at compile time | `"1s"` |
/// | `kind = "readiness" \| "liveness" \| "startup"` | the probe that runs it: `/readyz`, `/livez` or `/startupz` | `"readiness"` |
/// | `critical = false` | a failure makes the probe `warn` (HTTP 200) instead of `fail` (503) | `true` |
/// | `crate = "path"` | where `obs_runtime` is, for renamed dependencies | `::obs_runtime` |
///
/// # The function
/// An `async fn` with no arguments, outside `impl` blocks, returning
/// `Result<(), E>` or `Result<Observed, E>` where `E: Display` (its text
/// becomes the failure's `output`, redacted of secrets) and
/// [`Observed`](health::Observed) reports a measured value and unit. The
/// future must be `Send`. The runner gives it nothing: reach shared state,
/// such as a connection pool, through a `static` that `main` fills (a
/// `OnceLock<Pool>`), and fail while it is empty.
///
/// # What it generates
/// The function stays as written, callable as before. Beside it, a
/// [`RegisteredCheck`](health::RegisteredCheck) in a link-time distributed
/// slice, so every probe knows the check from start-up with no wiring;
/// `const` items that check the name, timeout and kind against
/// [`schema`] at compile time; and the source location, so two checks of
/// the same name are reported with both locations
/// ([`health::validate`], the router, and a failing report).
///
/// Each run happens in its own task under the timeout (a timeout fails
/// with "timed out after 2s"; a panic fails with its message), its result
/// is cached for the TTL, and it sets `health_check_status{check,kind}`
/// and `health_check_duration_seconds{check}`.
///
/// # Example
/// ```standalone_crate
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use obs_runtime::health::{self, Observed, Probe};
/// use obs_runtime::health_check;
///
/// #[health_check("doc_queue", timeout = "250ms")]
/// async fn queue() -> Result<(), std::io::Error> {
///     Ok(())
/// }
///
/// #[health_check("doc_spool", kind = "liveness", critical = false)]
/// async fn spool() -> Result<Observed, String> {
///     Ok(Observed::new(12.0, "percent"))
/// }
///
/// let ready = health::report(Probe::Readiness).await;
/// assert_eq!(ready.check("doc_queue").unwrap().status(), health::Status::Pass);
/// let live = health::report(Probe::Liveness).await;
/// assert!(live.check("doc_queue").is_none(), "liveness runs liveness checks only");
/// assert_eq!(live.check("doc_spool").unwrap().observed().unwrap().value(), 12.0);
/// # }
/// ```
pub use obs_macros::health_check;

/// The Prometheus text exposition (format 0.0.4) of every metric in the
/// program: instrumented functions, registered metrics and registered
/// `prometheus` crate collectors.
///
/// ```
/// let text = obs_runtime::encode_text();
/// assert!(text.lines().all(|l| !l.is_empty()));
/// ```
#[must_use]
pub fn encode_text() -> String {
    registry::global().encode_text()
}

/// The same metrics as [`encode_text`], as `OpenMetrics` 1.0.0 text, ended
/// by `# EOF`; serve it with [`encode::OPENMETRICS_CONTENT_TYPE`]. The
/// `/metrics` endpoint answers with it when the scraper asks for
/// `application/openmetrics-text` (a Prometheus does by default).
///
/// ```
/// let text = obs_runtime::encode_openmetrics();
/// assert!(text.ends_with("# EOF\n"));
/// ```
#[must_use]
pub fn encode_openmetrics() -> String {
    registry::global().encode_openmetrics()
}

/// Items the generated code names. Not a public API: it changes without
/// notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::health::Probe as HealthProbe;
    pub use crate::health::private::{
        CheckFuture, CheckMeta, CheckOutcome, CheckReturn, HEALTH_CHECKS, RegisteredCheck,
        boxed_check,
    };
    pub use crate::leaves::labels::{Combinations, LabelSetKind, LabelValue};
    pub use crate::metric_core::callsite::{
        ArgLabel, CALL_SITES, CallGuard, CallSite, CallSiteMeta, ClassifyOther, ClassifyResult,
        Outcome, Probe, ReturnType, SettleDebug, SettleDisplay, SettleOther, SettleResult, Timed,
        TypedLabel,
    };
    pub use crate::registry::METRIC_SETS;
    pub use crate::registry::Metric;
    pub use crate::schema;
    use std::sync::OnceLock;

    /// The cardinality of a label set from its fields': their product, or
    /// 0 (a bounded dynamic family) when a field is open or the product is
    /// too large to preallocate.
    #[must_use]
    pub const fn set_cardinality(fields: &[usize]) -> usize {
        let mut product = 1usize;
        let mut rest = fields;
        while let [field, tail @ ..] = rest {
            product = match product.checked_mul(*field) {
                Some(p) if p <= crate::schema::MAX_SERIES_PER_METRIC => p,
                _ => return 0,
            };
            rest = tail;
        }
        product
    }

    /// The kind of a derived label set: bounded when every field is and the
    /// product of their cardinalities can be preallocated, open otherwise.
    #[must_use]
    pub const fn derived_kind<L>(
        fields: &[usize],
        ordinal: fn(&L) -> usize,
        value_at: fn(usize, usize) -> &'static str,
    ) -> LabelSetKind<L> {
        match set_cardinality(fields) {
            0 => LabelSetKind::Open,
            cardinality => LabelSetKind::Bounded(Combinations {
                cardinality,
                ordinal,
                value_at,
            }),
        }
    }

    /// The position of field `index`'s value in a combination's ordinal
    /// (row-major, the first field most significant).
    #[must_use]
    pub fn digit(ordinal: usize, index: usize, cardinalities: &[usize]) -> usize {
        let stride: usize = cardinalities.iter().skip(index + 1).product();
        let radix = cardinalities.get(index).copied().unwrap_or(1).max(1);
        (ordinal / stride.max(1)) % radix
    }

    /// The global instance of a metric set. Whoever gets it gets it
    /// registered: the second `OnceLock` makes every caller wait until the
    /// registration is done, and one lock keeps the members of two sets
    /// registering at once from interleaving in the scrape.
    pub fn metric_set<T: Send + Sync>(
        cell: &'static OnceLock<T>,
        registered: &'static OnceLock<()>,
        at: crate::schema::SourceLocation,
        build: impl FnOnce() -> T,
        register: impl FnOnce(&'static T),
    ) -> &'static T {
        static REGISTERING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let set = cell.get_or_init(build);
        registered.get_or_init(|| {
            let _one_set_at_a_time = REGISTERING
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // The type's own name (`CacheMetrics`), so the catalog can
            // tell which set a metric belongs to.
            let path = std::any::type_name::<T>();
            let name = path.rsplit("::").next().unwrap_or(path);
            crate::registry::global().in_set(name, at, || register(set));
        });
        set
    }
    pub use linkme;
    pub use tracing;

    /// Runs the body of a sync instrumented function. Taking an
    /// `FnOnce` lets the body return borrows of what it captured
    /// (`fn get(&mut self) -> Result<&mut T, E>`), which an `FnMut` can't.
    #[inline]
    pub fn call_once<R>(body: impl FnOnce() -> R) -> R {
        body()
    }
}
