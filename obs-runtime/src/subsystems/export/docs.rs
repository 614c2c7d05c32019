//! `docs/metrics.md` from the catalog and the rules model: every metric,
//! every objective and every alert, with the anchors the alerts'
//! `runbook_url`s point to.

use std::fmt::Write as _;

use super::decimal::decimal;
use super::rules::{self, Rules, Source};
use crate::leaves::schema::MetricKind;
use crate::subsystems::catalog::{Catalog, MetricInfo, MetricSource};

/// The anchor GitHub gives a heading: lower case, spaces to `-`, and
/// everything but letters, digits, `-` and `_` dropped.
pub(crate) fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// What an alert means and what to look at first, by alert name.
fn runbook(alert: &str) -> (&'static str, &'static str) {
    match alert {
        "ObsSloFastBurn" => (
            "The objective's error budget is being spent fast enough to run out within days (14.4× the sustainable rate over 1h, or 6× over 6h), confirmed by a short window so it stops soon after the problem does. It pages.",
            "Open the Objectives dashboard for this `slo`: which SLI (success or latency) burns? Then the Functions dashboard for a function (error ratio by result, latency quantiles) or the Service overview for a route (the alert's `http_route` for the default objective). Check recent deploys and the health checks of its dependencies.",
        ),
        "ObsSloSlowBurn" => (
            "The budget is being spent faster than the period allows (3× over 1d, or 1× over 3d): not an emergency, but the objective will be missed if nothing changes. A ticket.",
            "Compare the SLI over days on the Objectives dashboard; look for a slow rise in errors or latency after a change, or one dependency degrading.",
        ),
        "ObsHighErrorRatio" => (
            "More than the configured share of a function's calls returned an error or panicked over 5 minutes, with enough traffic to matter.",
            "Functions dashboard, the alert's `function`: which `result`? Read the error logs and spans of that function (the span status carries the redacted error).",
        ),
        "ObsHighLatencyP95" | "ObsHighLatencyP99" => (
            "The function's latency quantile stayed above its threshold for 5 minutes.",
            "Functions dashboard: latency by function; then what it calls (database, HTTP clients) on the same dashboard and in traces; CPU and memory on the Runtime dashboard.",
        ),
        "ObsMetricSetLatencyP95" | "ObsMetricSetLatencyP99" => (
            "A histogram of a metric set, in seconds, kept its latency quantile above the threshold for 5 minutes, with enough observations to matter. The alert's `metric` names the histogram; its labels are the series'.",
            "The metric set's row on the Runtime dashboard; the code that records the histogram (its file and line are under the metric above) and what it waits on, in traces.",
        ),
        "ObsHttpHighErrorRatio" => (
            "More than the configured share of a route's requests were answered with a 5xx status (or failed without an answer) over 5 minutes, with enough traffic to matter. The alert's `http_route` names the route.",
            "Service overview dashboard: error ratio by route and requests by status; the access log (target `obs::access`) and the server spans of that route carry the request ids and statuses; then the handler's own functions and dependencies.",
        ),
        "ObsHttpHighLatencyP95" | "ObsHttpHighLatencyP99" => (
            "The route's latency quantile (until the response head is ready) stayed above its threshold for 5 minutes. The alert's `http_route` names the route.",
            "Service overview dashboard: latency by route and active requests; the route's slow spans in traces; what its handler calls on the Functions dashboard; CPU and memory on the Runtime dashboard.",
        ),
        "ObsTargetDown" => (
            "Prometheus could not scrape the instance for a minute: the process is down, restarting, or `/metrics` is unreachable.",
            "Is the process running (`/livez`)? Restarts and exit reasons in the orchestrator; the scrape error on Prometheus's targets page; the `/metrics` allowlist.",
        ),
        "ObsHealthCheckFailing" => (
            "A health check has not passed for 2 minutes; a critical one fails `/readyz`, so the instance receives no traffic.",
            "`/readyz` from an allowlisted address shows the reason; the Objectives and health dashboard shows when it started and the check's duration (timeouts).",
        ),
        "ObsCardinalityOverflow" => (
            "A metric reached its series limit and new label combinations are counted in its `__overflow__` series instead: a label is taking more values than expected.",
            "`obs_cardinality_overflow_total` by `metric` on the Runtime dashboard names the metric; look at its labels for an unbounded value (ids, raw paths).",
        ),
        "ObsTelemetryDropped" => (
            "Spans were dropped before reaching the OpenTelemetry collector: the export queue was full or exports failed.",
            "Is the collector reachable (`OTEL_EXPORTER_OTLP_ENDPOINT`)? The service's warnings name the reason; a sustained span rate above the exporter's may need sampling (`OTEL_TRACES_SAMPLER`).",
        ),
        "ObsTelemetryDroppedMetricPoints" => (
            "OTLP metric pushes (`OTEL_METRICS_EXPORTER=otlp`) failed, timed out or were refused, and their points were dropped: the collector is missing part of the series' history (values are cumulative, so the next push that gets through restores the totals).",
            "Is the collector reachable (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`, protocol, TLS)? The service's warnings name the reason, once a minute; a collector refusing large requests needs its message size limit checked.",
        ),
        "ObsJobFailureRatio" => (
            "More than the configured share of a background job's finished runs (`ok`, `error`, `panic`) ended in `error` or `panic` over 5 minutes, with enough runs to matter. Runs that will be retried (`retry`) and cancelled runs are not counted. The alert's `queue` and `job_name` name the job.",
            "The Jobs row of the Jobs and dependencies dashboard: runs by result and retries of that job; its error log lines (they carry the request id of the request that enqueued it) and its spans, children of the enqueuing request's; then what the job calls (outbound calls, pools).",
        ),
        "ObsJobQueueWaitP95" => (
            "Jobs of the alert's `queue` and `job_name` waited, at the 95th percentile, longer than the threshold between enqueue and start for 10 minutes: the workers don't keep up. A lone slow start never fires (the window is 5 minutes, the alert needs 10).",
            "Queue depth, jobs in flight and worker heartbeats on the Jobs and dependencies dashboard: are workers stopped (`ObsJobWorkerStale`), busy with slow runs (duration p95), or is the enqueue rate up? Add workers or concurrency, or find what slows the runs.",
        ),
        "ObsJobWorkerStale" => (
            "A worker of the alert's `queue` has not sent a heartbeat (`job_worker_last_seen_timestamp_seconds`) for longer than the threshold: it is stuck, dead, or its task ended while the process lives on. If the whole process is gone, `ObsTargetDown` fires instead (its series go stale).",
            "The worker age panel of the Jobs and dependencies dashboard; the process's logs around the last heartbeat (a panic in the worker loop, a blocking call on the runtime); jobs in flight stuck at a constant value; restart the worker or the instance.",
        ),
        "ObsDbPoolSaturation" => (
            "More than the configured share of a connection pool's maximum has been in use for 5 minutes on one instance: callers will soon queue for connections (`db_client_connection_pending_requests`) and time out.",
            "The Connection pools row of the Jobs and dependencies dashboard: pending requests and wait time of the alert's `pool_name`; slow queries holding connections (the database functions' latency, the database's own activity); connections leaked by code that holds them across slow work; the pool size against the database's connection limit.",
        ),
        "ObsRedisDown" => (
            "The instance has had no connection to Redis through the alert's `pool_name` for a minute (`redis_connected` is 0).",
            "Is Redis up and reachable from the instance (network, DNS, credentials, TLS)? The instance's warnings name the connection error; the Redis panel of the Jobs and dependencies dashboard shows which instances are affected.",
        ),
        "ObsOutboundErrorRatio" => (
            "More than the configured share of the service's outbound HTTP calls to the alert's `server_address` failed over 5 minutes, with enough calls to matter: an `error_type` (a 5xx answer, `timeout`, `connect`, …) on `http_client_request_duration_seconds_count`. Cancelled calls are not counted.",
            "The Outbound calls row of the Jobs and dependencies dashboard: calls by error type and latency to that server; is the dependency itself alerting? Client spans carry the failure; timeouts point at the dependency's latency or at timeouts set too tight.",
        ),
        "ObsBatchStale" => (
            "The batch job named by the alert's `job` has not pushed a success (`last_success_timestamp_seconds`, set by `obs_runtime::push` on a successful push) for longer than the threshold: its runs fail, hang, or are no longer scheduled.",
            "The scheduler (cron, Kubernetes CronJob): did the job run, and how did it exit? Its logs of the last runs; the Pushgateway's `push_failure_time_seconds` for that group; a failed run pushes without a success, so the age keeps growing.",
        ),
        "ObsPanics" => (
            "The process panicked; obs caught it as a redacted `error` event (`obs::panic`).",
            "Search the logs for target `obs::panic` around the alert: the message and location are there.",
        ),
        _ => (
            "An alert generated by obs.",
            "Its expression and description in the rules file.",
        ),
    }
}

/// Ready Prometheus queries for a metric, by kind.
fn promql(m: &MetricInfo) -> Vec<(String, String)> {
    let name = &m.name;
    let labels: Vec<&str> = m
        .labels
        .iter()
        .map(|l| l.name.as_str())
        .filter(|l| *l != "result")
        .collect();
    let by = if labels.is_empty() {
        String::new()
    } else {
        format!(" by ({})", labels.join(", "))
    };
    let mut out = Vec::new();
    match m.kind {
        MetricKind::Counter => {
            out.push((
                "Per second".to_owned(),
                format!("sum{by} (rate({name}[5m]))"),
            ));
            if m.name == "job_runs_total" {
                out.push((
                    "Failure ratio by job".to_owned(),
                    format!(
                        "sum by (queue, job_name) (rate({name}{{result=~\"error|panic\"}}[5m]))\n/\n(sum by (queue, job_name) (rate({name}{{result=~\"ok|error|panic\"}}[5m])) > 0)"
                    ),
                ));
            } else if m.label("result").is_some() {
                out.push((
                    "Error ratio".to_owned(),
                    format!(
                        "sum by (function) (rate({name}{{result=~\"error|panic\"}}[5m]))\n/\n(sum by (function) (rate({name}{{result!=\"cancelled\"}}[5m])) > 0)"
                    ),
                ));
            }
        }
        MetricKind::Gauge => {
            out.push(("Current value".to_owned(), format!("sum{by} ({name})")));
            out.push((
                "Highest over the last hour".to_owned(),
                format!("max_over_time({name}[1h])"),
            ));
        }
        MetricKind::Histogram => {
            out.push((
                "99th percentile".to_owned(),
                format!("histogram_quantile(0.99, sum by (le) (rate({name}_bucket[5m])))"),
            ));
            let grouped = labels.first().map_or(String::new(), |l| format!(", {l}"));
            out.push((
                "95th percentile by its first label".to_owned(),
                format!("histogram_quantile(0.95, sum by (le{grouped}) (rate({name}_bucket[5m])))"),
            ));
            out.push((
                "Mean".to_owned(),
                format!("sum(rate({name}_sum[5m]))\n/\n(sum(rate({name}_count[5m])) > 0)"),
            ));
            if name == "http_server_request_duration_seconds" {
                out.push((
                    "Share of requests answered with a 5xx status".to_owned(),
                    format!(
                        "sum(rate({name}_count{{http_response_status_code=~\"5..\"}}[5m]))\n/\n(sum(rate({name}_count[5m])) > 0)"
                    ),
                ));
            }
        }
    }
    out
}

fn source(m: &MetricInfo) -> String {
    match &m.source {
        MetricSource::Functions(functions) => {
            let list = functions
                .iter()
                .map(|(module, function)| format!("`{module}::{function}`"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("`#[instrumented]`: {list}")
        }
        MetricSource::MetricSet(set) => format!("metric set `{set}`"),
        MetricSource::Registered => "registered at run time".to_owned(),
        MetricSource::Foreign => "a `prometheus` crate collector".to_owned(),
        MetricSource::Process => "the process (read from `/proc` at scrape time)".to_owned(),
        MetricSource::Http => "the HTTP layer (`http::ObsLayer`)".to_owned(),
        MetricSource::Health => "the health checks".to_owned(),
        MetricSource::Obs => "obs itself".to_owned(),
        MetricSource::Client => "the outbound HTTP client layer (feature `client`)".to_owned(),
        MetricSource::Jobs => "background jobs (`obs_runtime::jobs`)".to_owned(),
        MetricSource::Pools => "connection pools, read at scrape time".to_owned(),
        MetricSource::Push => "`obs_runtime::push`, on a successful push".to_owned(),
    }
}

fn kind(m: &MetricInfo) -> &'static str {
    match m.kind {
        MetricKind::Counter => "counter",
        MetricKind::Gauge => "gauge",
        MetricKind::Histogram => "histogram",
    }
}

/// Table cell text: `|` and newlines would break the row.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn metric(out: &mut String, m: &MetricInfo) {
    let _ = writeln!(out, "### `{}`\n", m.name);
    let _ = writeln!(out, "{}\n", cell(&m.help));
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| type | {} |", kind(m));
    if !m.unit.as_str().is_empty() {
        let _ = writeln!(out, "| unit | {} |", m.unit.as_str());
    }
    let labels = if m.labels.is_empty() {
        "none".to_owned()
    } else {
        m.labels
            .iter()
            .map(|l| match &l.values {
                Some(values) if !values.is_empty() => format!(
                    "`{}` ({})",
                    l.name,
                    values
                        .iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => format!("`{}`", l.name),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "| labels | {} |", cell(&labels));
    if !m.buckets.is_empty() {
        let buckets = m
            .buckets
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "| buckets | {buckets} |");
    }
    let _ = writeln!(out, "| source | {} |", cell(&source(m)));
    if let Some(at) = m.location {
        let _ = writeln!(out, "| declared at | `{}` |", cell(&at.to_string()));
    }
    out.push('\n');
    for (what, expr) in promql(m) {
        let _ = writeln!(out, "{what}:\n\n```promql\n{expr}\n```\n");
    }
}

fn objectives(out: &mut String, catalog: &Catalog) {
    let _ = writeln!(out, "## Objectives\n");
    let _ = writeln!(
        out,
        "Each SLI is recorded per `job` (`slo:sli_error:ratio_rate<window>`, `slo:sli_events:increase<window>`, `slo:error_budget:remaining`, with `slo` and `sli` labels) and alerted on with multi-window burn rates once the window holds enough events. Functions: a call that returned an error or panicked is a bad event, a cancelled call (its future dropped) is not an event. HTTP routes (`ObsLayer::slo`, `ObsLayer::default_slo`): a request answered with a 5xx status or failed without an answer (`error_type=\"_OTHER\"`) is a bad event, any other status a good one, a request whose caller went away first (`error_type=\"cancelled\"`) is not an event. A latency SLI counts the events at or under the bound (the bucket of that bound) among all events. The default route objective covers every route without its own, except `unmatched`, and is computed per `http_route`.\n"
    );
    let declared = rules::objectives(catalog);
    if declared.is_empty() {
        let _ = writeln!(
            out,
            "None declared: add `slo(success = \"99.9%\")` to an `#[instrumented]` function, or `ObsLayer::slo(route, slo!(..))` to the HTTP layer.\n"
        );
    }
    for declared in declared {
        let slo = &declared.name;
        let objective = declared.objective;
        let _ = writeln!(out, "### SLO: {slo}\n");
        let (about, what, check) = match &declared.source {
            Source::Function(f) => (
                format!("`{}::{}` (`{}`)", f.module, f.function, f.base),
                "calls",
                format!("the Functions dashboard for `{}`", f.function),
            ),
            Source::Route(route) => (
                format!("HTTP route `{route}` (`ObsLayer::slo`)"),
                "requests",
                format!("the Service overview dashboard for route `{route}`"),
            ),
            Source::AllRoutes { except } => (
                format!(
                    "every HTTP route without its own objective (`ObsLayer::default_slo`), each route held to it on its own: the alert's `http_route` label names the route{}",
                    if except.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (routes with their own: {})",
                            except
                                .iter()
                                .map(|r| format!("`{r}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                ),
                "requests",
                "the Service overview dashboard for the alert's `http_route`".to_owned(),
            ),
        };
        let _ = writeln!(
            out,
            "{about}, over {} days. The burn-rate alerts `ObsSloFastBurn` (page) and `ObsSloSlowBurn` (ticket) of this objective link here.\n",
            objective.period_days
        );
        for sli in declared.source.slis(objective) {
            let target = decimal(u64::from(sli.objective_ppm), 4);
            let text = match (sli.name, objective.latency_ms) {
                ("latency", Some(ms)) => {
                    format!(
                        "{target}% of {what} finish within {}",
                        rules::latency_text(ms)
                    )
                }
                _ => format!("{target}% of {what} succeed"),
            };
            let _ = writeln!(
                out,
                "- **{}**: {text}; error budget {}.\n",
                sli.name,
                rules::budget(sli.objective_ppm)
            );
            let by = sli.by;
            let live = match (&sli.bad, &sli.good) {
                (Some(bad), _) => format!(
                    "sum by ({by}) (rate({bad}[5m]))\n/\n(sum by ({by}) (rate({}[5m])) > 0)",
                    sli.total
                ),
                (None, Some(good)) => format!(
                    "1 - sum by ({by}) (rate({good}[5m]))\n/\n(sum by ({by}) (rate({}[5m])) > 0)",
                    sli.total
                ),
                (None, None) => continue,
            };
            let _ = writeln!(out, "  Its error ratio now:\n\n```promql\n{live}\n```\n");
            let _ = writeln!(
                out,
                "  Recorded (the rules file): budget left, and the ratio over 1 hour:\n\n```promql\nslo:error_budget:remaining{{slo=\"{slo}\", sli=\"{0}\"}}\n```\n\n```promql\nslo:sli_error:ratio_rate1h{{slo=\"{slo}\", sli=\"{0}\"}}\n```\n",
                sli.name
            );
        }
        let _ = writeln!(
            out,
            "What to check first: which SLI fires (the alert's `sli` label); {check}; recent deploys; the health of what it calls.\n"
        );
    }
}

fn alerts(out: &mut String, rules: &Rules) {
    let _ = writeln!(out, "## Alerts\n");
    for why in &rules.left_out {
        let _ = writeln!(out, "<!-- Left out: {} -->\n", why.replace("--", "- -"));
    }
    let mut names: Vec<&str> = Vec::new();
    for alert in rules.groups.iter().flat_map(|g| g.alerts.iter()) {
        if !names.contains(&alert.name.as_ref()) {
            names.push(&alert.name);
        }
    }
    for name in &names {
        let heading = format!("Alert: {name}");
        let _ = writeln!(out, "- [{name}](#{})", slug(&heading));
    }
    out.push('\n');
    let mut seen: Vec<&str> = Vec::new();
    for alert in rules.groups.iter().flat_map(|g| g.alerts.iter()) {
        if seen.contains(&alert.name.as_ref()) {
            continue;
        }
        seen.push(&alert.name);
        let severities: Vec<&str> = {
            let mut s: Vec<&str> = rules
                .groups
                .iter()
                .flat_map(|g| g.alerts.iter())
                .filter(|a| a.name == alert.name)
                .flat_map(|a| a.labels.iter())
                .filter(|(k, _)| *k == "severity")
                .map(|(_, v)| v.as_str())
                .collect();
            s.sort_unstable();
            s.dedup();
            s
        };
        let (means, check) = match rules.custom_runbook(&alert.name) {
            Some((means, check)) => (means, check),
            None => runbook(&alert.name),
        };
        let _ = writeln!(out, "### Alert: {}\n", alert.name);
        let _ = writeln!(
            out,
            "Severity: {}{}.\n",
            severities.join(", "),
            if alert.for_.is_empty() {
                String::new()
            } else {
                format!("; fires after {}", alert.for_)
            }
        );
        let _ = writeln!(out, "What it means: {means}\n");
        let _ = writeln!(out, "What to check first: {check}\n");
        let _ = writeln!(out, "Example expression:\n\n```text\n{}\n```\n", alert.expr);
    }
}

/// The document; see [`metrics_markdown`](super::metrics_markdown).
pub(crate) fn write(catalog: &Catalog, rules: &Rules) -> String {
    let mut out = String::from(
        "# Metrics, objectives and alerts\n\nGenerated by obs from the program's own declarations (`obs_runtime::export::metrics_markdown()`); do not edit. The alerts' `runbook_url`s point to the headings below. Queries use 5-minute windows; dashboards use `$__rate_interval`.\n\n",
    );
    let _ = writeln!(out, "## Metrics\n");
    for m in catalog.metrics() {
        metric(&mut out, m);
    }
    objectives(&mut out, catalog);
    alerts(&mut out, rules);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_follow_github() {
        assert_eq!(slug("Alert: ObsHighErrorRatio"), "alert-obshigherrorratio");
        assert_eq!(slug("SLO: checkout_pay"), "slo-checkout_pay");
        assert_eq!(slug("`cache_hits_total`"), "cache_hits_total");
    }

    #[test]
    fn every_runbook_anchor_is_a_heading() {
        let catalog = crate::catalog();
        let options = super::super::ExportOptions::default();
        let rules = rules::build(&catalog, &options);
        let doc = write(&catalog, &rules);
        let anchors: Vec<String> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("### ").or_else(|| l.strip_prefix("## ")))
            .map(slug)
            .collect();
        for alert in rules.groups.iter().flat_map(|g| g.alerts.iter()) {
            let (_, anchor) = alert.runbook.split_once('#').unwrap();
            assert!(anchors.iter().any(|a| a == anchor), "{anchor} missing");
        }
    }
}
