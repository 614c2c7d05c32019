//! The `OTEL_METRICS_*` environment, read once and validated. Built without
//! the `otlp` feature too, so that `OTEL_METRICS_EXPORTER=otlp` in a build
//! that can't push says so instead of being ignored.
//!
//! The transport variables (endpoint, protocol, headers, certificates) are
//! read by the same functions as the traces' (`trace::config`, `trace::tls`),
//! with the metrics variants first.

use std::time::Duration;

/// Where metrics are pushed.
///
/// ```
/// use obs_runtime::otlp_metrics::MetricExport;
/// let export = MetricExport::OtlpHttp { url: "http://collector:4318/v1/metrics".into() };
/// assert_ne!(export, MetricExport::None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MetricExport {
    /// Nothing is pushed (the default; `/metrics` is still scraped).
    #[default]
    None,
    /// OTLP over gRPC to the collector at `endpoint`
    /// (`http://localhost:4317` by default).
    OtlpGrpc {
        /// The collector's URL.
        endpoint: String,
    },
    /// OTLP over HTTP/protobuf, posted to `url` as it is
    /// (`http://localhost:4318/v1/metrics` by default).
    OtlpHttp {
        /// The full URL, path included.
        url: String,
    },
}

/// The default of `OTEL_METRIC_EXPORT_INTERVAL`, as the specification says.
// `Duration::from_mins` is newer than the crate's minimum Rust (1.88).
#[allow(clippy::duration_suboptimal_units)]
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// The default of `OTEL_METRIC_EXPORT_TIMEOUT`, as the specification says.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the environment asked of metrics export, after validation.
#[derive(Debug, Clone, Default)]
// Without `otlp` the settings are read (for their warnings), never used.
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
pub(crate) struct MetricsConfig {
    pub(crate) export: MetricExport,
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
    /// Request headers (`OTEL_EXPORTER_OTLP_[METRICS_]HEADERS`).
    #[cfg(feature = "otlp")]
    pub(crate) headers: Vec<(String, String)>,
    /// Certificates for an `https://` endpoint.
    #[cfg(feature = "otlp")]
    pub(crate) tls: crate::subsystems::trace::tls::TlsFiles,
}

/// A duration in milliseconds, positive; `None` with a warning otherwise.
fn millis(
    get: &dyn Fn(&str) -> Option<String>,
    var: &str,
    default: Duration,
    warnings: &mut Vec<String>,
) -> Duration {
    match get(var).as_deref().map(str::trim) {
        None | Some("") => default,
        Some(v) => match v.parse::<u64>() {
            Ok(ms) if ms > 0 => Duration::from_millis(ms),
            _ => {
                warnings.push(format!(
                    "{var}={v:?} is not a positive number of milliseconds; using {}",
                    default.as_millis()
                ));
                default
            }
        },
    }
}

/// Whether `OTEL_METRICS_EXPORTER` asks for an OTLP push: `none` (the
/// default), `otlp`, `prometheus` (scrape only: nothing pushed), or a
/// comma-separated list of them. An unknown name is one warning and
/// counts as `none`.
fn wants_otlp(get: &dyn Fn(&str) -> Option<String>, warnings: &mut Vec<String>) -> bool {
    let Some(value) = get("OTEL_METRICS_EXPORTER") else {
        return false;
    };
    let mut otlp = false;
    let mut unknown: Vec<&str> = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "otlp" => otlp = true,
            "none" | "prometheus" => {}
            other => unknown.push(other),
        }
    }
    if !unknown.is_empty() {
        warnings.push(format!(
            "OTEL_METRICS_EXPORTER: {unknown:?} not known (use otlp, prometheus or none); \
             treated as none"
        ));
    }
    otlp
}

impl MetricsConfig {
    /// Reads the configuration through `get` (the environment, or a test's
    /// map), pushing a warning for each bad value.
    pub(crate) fn from_env(
        get: &dyn Fn(&str) -> Option<String>,
        warnings: &mut Vec<String>,
    ) -> Self {
        let otlp = wants_otlp(get, warnings);
        let interval = millis(
            get,
            "OTEL_METRIC_EXPORT_INTERVAL",
            DEFAULT_INTERVAL,
            warnings,
        );
        let timeout = millis(get, "OTEL_METRIC_EXPORT_TIMEOUT", DEFAULT_TIMEOUT, warnings);
        #[cfg(feature = "otlp")]
        let mut config = Self {
            export: MetricExport::None,
            interval,
            timeout,
            ..Self::default()
        };
        #[cfg(not(feature = "otlp"))]
        let config = Self {
            export: MetricExport::None,
            interval,
            timeout,
        };
        if !otlp {
            return config;
        }
        #[cfg(feature = "otlp")]
        {
            use crate::subsystems::trace;
            let grpc = trace::otlp_protocol(get, Some("METRICS"), warnings);
            let endpoint = trace::otlp_endpoint(get, Some("METRICS"), grpc, warnings);
            config.export = if grpc {
                MetricExport::OtlpGrpc {
                    endpoint: endpoint.url,
                }
            } else {
                MetricExport::OtlpHttp {
                    url: http_url(&endpoint),
                }
            };
            config.headers = trace::otlp_headers(get, "METRICS", warnings);
            let url = match &config.export {
                MetricExport::OtlpGrpc { endpoint } => endpoint.as_str(),
                MetricExport::OtlpHttp { url } => url.as_str(),
                MetricExport::None => "",
            };
            config.tls = trace::tls::from_env_for(get, "METRICS", url, warnings);
        }
        #[cfg(not(feature = "otlp"))]
        warnings.push(
            "OTEL_METRICS_EXPORTER=otlp, but obs-runtime was built without the `otlp` \
             feature: metrics are not pushed (enable the feature; /metrics still serves them)"
                .to_owned(),
        );
        config
    }
}

/// The URL metrics are posted to over HTTP/protobuf: the signal's own
/// variable as it is, the generic one with `/v1/metrics` appended (the
/// specification's rule).
#[cfg(feature = "otlp")]
fn http_url(endpoint: &crate::subsystems::trace::OtlpEndpoint) -> String {
    if endpoint.signal_specific {
        endpoint.url.clone()
    } else {
        format!("{}/v1/metrics", endpoint.url.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> (MetricsConfig, Vec<String>) {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut warnings = Vec::new();
        let config = MetricsConfig::from_env(&|k| map.get(k).cloned(), &mut warnings);
        (config, warnings)
    }

    #[test]
    fn nothing_is_pushed_by_default_nor_for_prometheus() {
        let (c, w) = with(&[]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.export, MetricExport::None);
        assert_eq!(c.interval.as_millis(), 60_000);
        assert_eq!(c.timeout, Duration::from_secs(30));
        let (c, w) = with(&[("OTEL_METRICS_EXPORTER", "prometheus")]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.export, MetricExport::None);
    }

    #[test]
    fn an_unknown_exporter_is_one_warning_and_none() {
        let (c, w) = with(&[("OTEL_METRICS_EXPORTER", "statsd")]);
        assert_eq!(c.export, MetricExport::None);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("statsd") && w[0].contains("none"), "{w:?}");
    }

    #[test]
    fn bad_durations_warn_and_take_the_default() {
        let (c, w) = with(&[
            ("OTEL_METRIC_EXPORT_INTERVAL", "10s"),
            ("OTEL_METRIC_EXPORT_TIMEOUT", "0"),
        ]);
        assert_eq!(c.interval, DEFAULT_INTERVAL);
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].starts_with("OTEL_METRIC_EXPORT_INTERVAL=\"10s\""),
            "{w:?}"
        );
        let (c, w) = with(&[("OTEL_METRIC_EXPORT_INTERVAL", "1500")]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.interval, Duration::from_millis(1500));
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn the_signal_path_is_appended_to_the_generic_endpoint_only() {
        let (c, w) = with(&[("OTEL_METRICS_EXPORTER", "otlp")]);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            c.export,
            MetricExport::OtlpHttp {
                url: "http://localhost:4318/v1/metrics".into()
            }
        );
        let (c, _) = with(&[
            ("OTEL_METRICS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
        ]);
        assert_eq!(
            c.export,
            MetricExport::OtlpHttp {
                url: "http://collector:4318/v1/metrics".into()
            }
        );
        let (c, _) = with(&[
            ("OTEL_METRICS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://metrics:9000/custom/path",
            ),
        ]);
        assert_eq!(
            c.export,
            MetricExport::OtlpHttp {
                url: "http://metrics:9000/custom/path".into()
            },
            "the signal's own endpoint is used as it is"
        );
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn the_metrics_protocol_and_headers_win_over_the_generic_ones() {
        let (c, w) = with(&[
            ("OTEL_METRICS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-team=pay,authorization=Basic%20a",
            ),
            (
                "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
                "Authorization=Bearer%20m,broken",
            ),
        ]);
        assert_eq!(
            c.export,
            MetricExport::OtlpGrpc {
                endpoint: "http://localhost:4317".into()
            }
        );
        assert_eq!(
            c.headers,
            vec![
                ("x-team".to_owned(), "pay".to_owned()),
                ("authorization".to_owned(), "Bearer m".to_owned())
            ]
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("OTEL_EXPORTER_OTLP_METRICS_HEADERS") && !w[0].contains("Bearer"),
            "{w:?}"
        );
        let (c, w) = with(&[
            ("OTEL_METRICS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "thrift"),
        ]);
        assert!(matches!(c.export, MetricExport::OtlpHttp { .. }));
        assert!(
            w[0].starts_with("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"),
            "{w:?}"
        );
    }

    #[cfg(not(feature = "otlp"))]
    #[test]
    fn otlp_without_the_feature_says_so() {
        let (c, w) = with(&[("OTEL_METRICS_EXPORTER", "otlp")]);
        assert_eq!(c.export, MetricExport::None);
        assert!(w[0].contains("`otlp` feature"), "{w:?}");
    }
}
