use obs_runtime::MetricSet;
use obs_runtime::metrics::Histogram;

#[derive(MetricSet)]
#[metrics(prefix = "ui_hist")]
struct Timings {
    /// No buckets named: the `latency` preset.
    default_seconds: Histogram,
    /// LLM calls take seconds.
    #[metric(buckets = "ai")]
    llm_request_duration_seconds: Histogram,
    /// Database queries.
    #[metric(buckets = "db")]
    query_duration_seconds: Histogram,
    /// Deployments, with bounds of their own (integers are fine).
    #[metric(buckets = [60, 300, 900, 3600])]
    deployment_duration_seconds: Histogram,
    /// Request bodies: a unit other than seconds, `bytes` buckets by default.
    #[metric(unit = "bytes")]
    request_size_bytes: Histogram,
    /// Risk scores, 0 to 100.
    #[metric(name = "risk_score", unit = "score", buckets = [10.0, 25.0, 50.0, 75.0, 90.0])]
    risk: Histogram,
}

fn main() {
    let m = Timings::global();
    m.llm_request_duration_seconds.observe(7.5);
    m.deployment_duration_seconds.observe(420.0);
    m.request_size_bytes.observe(2_000.0);
    m.risk.observe(42.0);

    let text = obs_runtime::encode_text();
    for line in [
        "ui_hist_default_seconds_bucket{le=\"0.01\"} 0\n",
        "ui_hist_default_seconds_bucket{le=\"10\"} 0\n",
        "ui_hist_llm_request_duration_seconds_bucket{le=\"5\"} 0\n",
        "ui_hist_llm_request_duration_seconds_bucket{le=\"10\"} 1\n",
        "ui_hist_llm_request_duration_seconds_bucket{le=\"60\"} 1\n",
        "ui_hist_query_duration_seconds_bucket{le=\"0.0005\"} 0\n",
        "ui_hist_deployment_duration_seconds_bucket{le=\"300\"} 0\n",
        "ui_hist_deployment_duration_seconds_bucket{le=\"900\"} 1\n",
        "ui_hist_request_size_bytes_bucket{le=\"1024\"} 0\n",
        "ui_hist_request_size_bytes_bucket{le=\"4096\"} 1\n",
        "ui_hist_risk_score_bucket{le=\"50\"} 1\n",
        "ui_hist_risk_score_sum 42\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}
