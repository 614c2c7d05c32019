//! The label schema, naming rules, bucket presets and limits: the single source
//! of truth for every rule that `obs` enforces.
//!
//! The macros of `obs-macros` keep no copy of these rules. For every metric
//! name, label name and bucket list they expand, they emit a `const` item that
//! calls the `const fn`s of this module, spanned at the user's tokens, so a
//! broken rule is a compile error whose message comes from here. The same
//! functions serve run-time input (metrics registered by name at run time).
//!
//! Each check returns `Option<&'static str>`: `None` when the input is fine,
//! otherwise a message that names the rule and says what to write instead.
//!
//! ```
//! use obs_runtime::schema;
//!
//! assert!(schema::check_label_name("cache").is_none());
//! let why = schema::check_label_name("user_id").unwrap();
//! assert!(why.contains("unbounded"));
//! assert_eq!(schema::bucket_preset("latency").unwrap().len(), 10);
//! ```

mod buckets;
mod durations;
mod health;
mod limits;
mod metric;
mod names;
mod objectives;
mod routes;
mod text;

pub use buckets::{
    AI, BUCKET_PRESETS, BYTES, DB, DEFAULT_BUCKETS, HTTP, LATENCY, UNKNOWN_PRESET, bucket_preset,
    check_buckets, default_buckets,
};
pub use durations::{
    DEFAULT_HEALTH_CHECK_TIMEOUT_MS, MAX_HEALTH_CHECK_TIMEOUT_MS, parse_health_timeout,
};
pub use health::{
    MAX_HEALTH_CHECK_NAME_LEN, Probe, UNKNOWN_HEALTH_KIND, check_health_check_name,
    health_check_kind,
};
pub use limits::{
    MAX_BUCKETS, MAX_LABEL_VALUE_LEN, MAX_LABELS, MAX_NAME_LEN, MAX_SERIES_PER_METRIC,
    OVERFLOW_VALUE, check_label_count, truncate_label_value,
};
pub use metric::{
    MetricKind, SourceLocation, check_member_buckets, check_member_unit, check_metric_member,
};
pub use names::{
    ADDED_SUFFIXES, FORBIDDEN_LABELS, OWN_LABELS, RESERVED_LABELS, SENSITIVE_FIELDS,
    SENSITIVE_NAME_WORDS, check_base_name, check_counter_name, check_gauge_name,
    check_histogram_name, check_label_name, check_label_value, check_metric_name,
    check_name_syntax, check_recorded_field, is_sensitive_field,
};
pub use objectives::{
    DEFAULT_OBJECTIVE_PERIOD_DAYS, Message, OBJECTIVE_PERIODS, Objective, PPM, SLO_KEYS,
    check_http_latency_bound, check_http_objective, check_latency_bound, check_objective_parts,
    parse_latency, parse_percentage, parse_period,
};
pub use routes::{UNMATCHED_ROUTE, check_route_template};
