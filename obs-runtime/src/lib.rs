//! # obs-runtime
//!
//! Compile-time checked Prometheus metrics and tracing spans for Rust
//! services. Annotate a function, and every call is counted, timed and
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
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![warn(clippy::pedantic)]
// `with(labels)` takes the label set by value, as `prometheus` and `measured`
// do: sets are small `Copy`-like structs and enums, and the call reads well.
#![allow(clippy::needless_pass_by_value)]

mod callsite;
pub mod encode;
mod labels;
pub mod metrics;
pub mod registry;
pub mod schema;

pub use labels::{LabelSet, LabelValue};

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
/// zero before the first call. The span carries `code.function`,
/// `code.namespace`, `result` and the listed `fields`; an `Err` sets
/// `otel.status_code = "ERROR"` and `otel.status_message` to its `Display`.
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

/// Items the generated code names. Not a public API: it changes without
/// notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::callsite::{
        ArgLabel, CALL_SITES, CallGuard, CallSite, CallSiteMeta, Outcome, Probe, SettleDebug,
        SettleDisplay, SettleOther, SettleResult, Timed, TypedLabel,
    };
    pub use crate::labels::LabelValue;
    pub use crate::schema;
    pub use linkme;
    pub use tracing;

    /// Runs the body of a sync function that returns a `Result`. Taking an
    /// `FnOnce` lets the body return borrows of what it captured
    /// (`fn get(&mut self) -> Result<&mut T, E>`), which an `FnMut` can't.
    #[inline]
    pub fn call_once<R>(body: impl FnOnce() -> R) -> R {
        body()
    }
}
