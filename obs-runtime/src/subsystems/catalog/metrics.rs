//! The metric families of the catalog: what each is (kind, labels and their
//! values, buckets, unit, source), and the families obs itself keeps.

use crate::leaves::schema::{self, MetricKind, SourceLocation};
use crate::metric_core::encode::{Description, Kind};

use super::FunctionInfo;

/// The unit of a metric, read from its name's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricUnit {
    /// `_seconds` (or `_seconds_total`).
    Seconds,
    /// `_bytes` (or `_bytes_total`).
    Bytes,
    /// A count of things: `_total` with no other unit.
    Count,
    /// Nothing in the name says.
    None,
}

impl MetricUnit {
    /// The unit of a metric called `name`.
    ///
    /// ```
    /// use obs_runtime::MetricUnit;
    /// assert_eq!(MetricUnit::of("process_cpu_seconds_total"), MetricUnit::Seconds);
    /// assert_eq!(MetricUnit::of("cache_hits_total"), MetricUnit::Count);
    /// assert_eq!(MetricUnit::of("cache_entries"), MetricUnit::None);
    /// ```
    #[must_use]
    pub fn of(name: &str) -> Self {
        let stem = name.strip_suffix("_total").unwrap_or(name);
        if stem.ends_with("_seconds") {
            Self::Seconds
        } else if stem.ends_with("_bytes") {
            Self::Bytes
        } else if stem.len() < name.len() {
            Self::Count
        } else {
            Self::None
        }
    }

    /// The unit's word, as the docs write it (`""` for none).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seconds => "seconds",
            Self::Bytes => "bytes",
            Self::Count => "count",
            Self::None => "",
        }
    }
}

/// Where a metric family comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricSource {
    /// `#[instrumented]` functions of this base, as `(module, function)`.
    Functions(Vec<(&'static str, &'static str)>),
    /// A `#[derive(MetricSet)]` struct of this name.
    MetricSet(&'static str),
    /// Registered at run time by the program (`Counter::register`, …).
    Registered,
    /// A `prometheus` crate collector added to the registry.
    Foreign,
    /// The process metrics (`process_*`, `obs_build_info`).
    Process,
    /// The HTTP layer (`http::ObsLayer`, feature `tower`).
    Http,
    /// The health checks.
    Health,
    /// obs about itself (`obs_*`).
    Obs,
    /// The outbound HTTP client layer (`http_client_*`, feature `client`).
    Client,
    /// Background jobs (`job_*`, `obs_runtime::jobs`).
    Jobs,
    /// Connection pools (`db_client_connection_*`, `redis_connected`).
    Pools,
    /// Batch jobs pushing to a Pushgateway
    /// (`last_success_timestamp_seconds`, [`push`](crate::push)).
    Push,
}

/// One label of a metric family.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LabelInfo {
    /// The label's name.
    pub name: String,
    /// Every value it can take, when the program knows them (a bounded
    /// label set, or a label of obs's own with fixed values).
    pub values: Option<Vec<&'static str>>,
}

/// A metric family the program exposes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetricInfo {
    /// The family name (for histograms, without `_bucket`/`_sum`/`_count`).
    pub name: String,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// The `# HELP` text.
    pub help: String,
    /// The labels every series carries.
    pub labels: Vec<LabelInfo>,
    /// Histogram bounds (empty for counters and gauges).
    pub buckets: Vec<f64>,
    /// The unit, from the name's suffix.
    pub unit: MetricUnit,
    /// Where it comes from.
    pub source: MetricSource,
    /// Where the program declares it: the first `#[instrumented]` function
    /// of its base, its metric set's struct, or the call to `register()`;
    /// `None` for obs's own families and foreign collectors.
    pub location: Option<SourceLocation>,
}

impl MetricInfo {
    /// The label called `name`.
    #[must_use]
    pub fn label(&self, name: &str) -> Option<&LabelInfo> {
        self.labels.iter().find(|l| l.name == name)
    }

    pub(crate) fn new(
        name: &str,
        kind: MetricKind,
        help: &str,
        labels: &[(&str, Option<&[&'static str]>)],
        buckets: &[f64],
        source: MetricSource,
    ) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            help: help.to_owned(),
            labels: labels
                .iter()
                .map(|(n, v)| LabelInfo {
                    name: (*n).to_owned(),
                    values: v.map(<[_]>::to_vec),
                })
                .collect(),
            buckets: buckets.to_vec(),
            unit: MetricUnit::of(name),
            source,
            location: None,
        }
    }

    pub(super) fn from_description(d: Description, source: MetricSource) -> Self {
        let kind = match d.kind {
            Kind::Counter => MetricKind::Counter,
            Kind::Histogram => MetricKind::Histogram,
            Kind::Gauge | Kind::Summary | Kind::Untyped => MetricKind::Gauge,
        };
        let labels = d
            .labels
            .into_iter()
            .enumerate()
            .map(|(i, name)| LabelInfo {
                name,
                values: d.values.as_ref().and_then(|v| v.get(i).cloned()),
            })
            .collect();
        Self {
            unit: MetricUnit::of(&d.name),
            name: d.name,
            kind,
            help: d.help,
            labels,
            buckets: d.buckets,
            source,
            location: None,
        }
    }
}

/// The values of `result`, the outcome of an `#[instrumented]` call.
pub const RESULTS: &[&str] = &["ok", "error", "cancelled", "panic"];

/// The HTTP server families: the labels of the request histograms.
const HTTP_LABELS: [(&str, Option<&[&str]>); 4] = [
    ("http_request_method", None),
    ("http_route", None),
    ("http_response_status_code", None),
    ("error_type", None),
];

/// obs's own families, known whether or not the program has used the part
/// that registers them yet (the HTTP layer registers its families when a
/// router is built, the span exporter its counter when it starts).
pub(super) fn known_families() -> Vec<MetricInfo> {
    const PROBES: &[&str] = &["readiness", "liveness", "startup"];
    let mut out = Vec::new();
    if cfg!(feature = "tower") {
        for (name, help, buckets) in [
            (
                "http_server_request_duration_seconds",
                "Duration of HTTP server requests, until the response head is ready.",
                schema::HTTP,
            ),
            (
                "http_server_request_size_bytes",
                "Size of HTTP server request bodies, from Content-Length or the body's exact size.",
                schema::BYTES,
            ),
            (
                "http_server_response_size_bytes",
                "Size of HTTP server response bodies, from Content-Length or the bytes sent.",
                schema::BYTES,
            ),
        ] {
            out.push(MetricInfo::new(
                name,
                MetricKind::Histogram,
                help,
                &HTTP_LABELS,
                buckets,
                MetricSource::Http,
            ));
        }
        out.push(MetricInfo::new(
            "http_server_active_requests",
            MetricKind::Gauge,
            "HTTP server requests being handled now.",
            &HTTP_LABELS[..2],
            &[],
            MetricSource::Http,
        ));
    }
    out.push(MetricInfo::new(
        "health_check_status",
        MetricKind::Gauge,
        "Result of the latest run of a health check: 1 pass, 0.5 warn (a non-critical check failed), 0 fail.",
        &[("check", None), ("kind", Some(PROBES))],
        &[],
        MetricSource::Health,
    ));
    out.push(MetricInfo::new(
        "health_check_duration_seconds",
        MetricKind::Histogram,
        "Duration of health check runs, timeouts included.",
        &[("check", None)],
        schema::LATENCY,
        MetricSource::Health,
    ));
    for (name, help) in [
        (
            "obs_telemetry_dropped_spans_total",
            "Spans dropped before reaching the collector: export queue full, or export failed.",
        ),
        (
            "obs_telemetry_dropped_metric_points_total",
            "Metric points of OTLP pushes that failed, timed out or were refused (OTEL_METRICS_EXPORTER=otlp).",
        ),
        (
            "obs_panics_total",
            "Panics anywhere in the process, caught or not, since start.",
        ),
        (
            "obs_log_events_suppressed_total",
            "Log events dropped by the per-call-site rate limit.",
        ),
        (
            "obs_log_lines_dropped_total",
            "Log lines dropped because the log writer fell behind (its queue was full) or failed.",
        ),
    ] {
        out.push(MetricInfo::new(
            name,
            MetricKind::Counter,
            help,
            &[],
            &[],
            MetricSource::Obs,
        ));
    }
    out
}

/// The families of obs's outbound client, jobs, pools and pushes, by the
/// names those parts register them under (OpenTelemetry's conventions, as
/// Prometheus spells them), with their source.
const WORK_FAMILIES: &[(&str, MetricSource)] = &[
    ("http_client_request_duration_seconds", MetricSource::Client),
    ("http_client_active_requests", MetricSource::Client),
    ("job_runs_total", MetricSource::Jobs),
    ("job_duration_seconds", MetricSource::Jobs),
    ("job_queue_wait_seconds", MetricSource::Jobs),
    ("job_retries_total", MetricSource::Jobs),
    ("job_in_flight", MetricSource::Jobs),
    ("job_queue_depth", MetricSource::Jobs),
    ("job_worker_last_seen_timestamp_seconds", MetricSource::Jobs),
    ("db_client_connection_count", MetricSource::Pools),
    ("db_client_connection_max", MetricSource::Pools),
    ("db_client_connection_pending_requests", MetricSource::Pools),
    (
        "db_client_connection_wait_time_seconds",
        MetricSource::Pools,
    ),
    ("redis_connected", MetricSource::Pools),
    ("last_success_timestamp_seconds", MetricSource::Push),
];

/// The source of an obs family registered at run time, by its name.
pub(super) fn own_source(name: &str) -> MetricSource {
    if let Some((_, source)) = WORK_FAMILIES.iter().find(|(n, _)| *n == name) {
        source.clone()
    } else if name.starts_with("http_server_") {
        MetricSource::Http
    } else if name.starts_with("health_check_") {
        MetricSource::Health
    } else if name.starts_with("obs_") {
        MetricSource::Obs
    } else {
        MetricSource::Registered
    }
}

/// The families of the `#[instrumented]` functions, one per base.
pub(super) fn function_families(functions: &[FunctionInfo]) -> Vec<MetricInfo> {
    let mut out = Vec::new();
    for group in functions.chunk_by(|a, b| a.base == b.base) {
        // `chunk_by` never yields an empty group.
        let [first, ..] = group else {
            continue;
        };
        let base = first.base;
        let sources =
            MetricSource::Functions(group.iter().map(|f| (f.module, f.function)).collect());
        let mut labels: Vec<(&str, Option<&[&'static str]>)> =
            vec![("function", None), ("module", None)];
        for f in group {
            for name in f
                .labels
                .iter()
                .map(|(k, _)| *k)
                .chain(f.arg_labels.iter().copied())
            {
                if !labels.iter().any(|(n, _)| *n == name) {
                    labels.push((name, None));
                }
            }
        }
        let mut with_result = labels.clone();
        with_result.push(("result", Some(RESULTS)));
        let start = out.len();
        out.push(MetricInfo::new(
            &format!("{base}_calls_total"),
            MetricKind::Counter,
            &format!("Calls of functions instrumented as `{base}`, by result."),
            &with_result,
            &[],
            sources.clone(),
        ));
        out.push(MetricInfo::new(
            &format!("{base}_duration_seconds"),
            MetricKind::Histogram,
            &format!("Duration of calls of functions instrumented as `{base}`, by result."),
            &with_result,
            first.buckets,
            sources.clone(),
        ));
        if group.iter().any(|f| f.in_flight) {
            out.push(MetricInfo::new(
                &format!("{base}_in_flight"),
                MetricKind::Gauge,
                &format!("Calls of functions instrumented as `{base}` running now."),
                &labels,
                &[],
                sources,
            ));
        }
        for m in out.iter_mut().skip(start) {
            m.location = Some(first.location);
        }
    }
    out
}
