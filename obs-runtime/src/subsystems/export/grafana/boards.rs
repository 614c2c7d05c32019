//! The four dashboards: overview, functions, objectives and health,
//! runtime (with a row per metric set).

use super::super::rules;
use super::FILTER;
use super::board::{Board, Query, Viz, q, query_variable};
use super::promql::{filtered, quantiles, rate, ratio};
use crate::leaves::schema::MetricKind;
use crate::subsystems::catalog::{Catalog, FunctionInfo, MetricInfo, MetricSource, MetricUnit};

pub(super) const REQUESTS: &str = "http_server_request_duration_seconds";

pub(super) fn overview(catalog: &Catalog) -> (String, String) {
    let mut b = Board::new(
        "obs-overview",
        "Service overview",
        "Requests, errors and latency of the HTTP server, by route (OpenTelemetry HTTP semantic conventions).",
    );
    let count = format!("{REQUESTS}_count");
    let errors = format!("{REQUESTS}_count{{http_response_status_code=~\"5..\"}}");
    let bucket = format!("{REQUESTS}_bucket");
    b.row("Traffic");
    b.panel(
        Viz::Stat,
        6,
        "Request rate",
        "Requests per second, all routes.",
        "reqps",
        vec![q(rate(&count, ""), "requests")],
    );
    b.panel(
        Viz::Stat,
        6,
        "Error ratio",
        "Share of requests answered with a 5xx status.",
        "percentunit",
        vec![q(ratio(&errors, &count, ""), "errors")],
    );
    b.panel(
        Viz::Stat,
        6,
        "p99 latency",
        "99th percentile of request duration, all routes.",
        "s",
        vec![q(
            format!("histogram_quantile(0.99, {})", rate(&bucket, "le")),
            "p99",
        )],
    );
    b.panel(
        Viz::Stat,
        6,
        "Targets up",
        "Scrape targets answering.",
        "short",
        vec![q(format!("sum(up{{{FILTER}}})"), "up")],
    );
    b.panel(
        Viz::Series,
        12,
        "Request rate by route",
        "Requests per second by route template and method.",
        "reqps",
        vec![q(
            rate(&count, "http_route, http_request_method"),
            "{{http_request_method}} {{http_route}}",
        )],
    );
    b.panel(
        Viz::Series,
        12,
        "Error ratio by route",
        "Share of requests answered with a 5xx status, by route.",
        "percentunit",
        vec![q(ratio(&errors, &count, "http_route"), "{{http_route}}")],
    );
    latency_row(&mut b, catalog);
    b.finish()
}

pub(super) fn latency_row(b: &mut Board, catalog: &Catalog) {
    let count = format!("{REQUESTS}_count");
    let bucket = format!("{REQUESTS}_bucket");
    b.row("Latency");
    b.panel(
        Viz::Series,
        24,
        "Latency by route",
        "p50, p95 and p99 of request duration, until the response head is ready.",
        "s",
        quantiles(&bucket, "http_route", "{{http_route}}"),
    );
    b.panel(
        Viz::Series,
        12,
        "Requests by status",
        "Requests per second by status code.",
        "reqps",
        vec![q(
            rate(&count, "http_response_status_code"),
            "{{http_response_status_code}}",
        )],
    );
    b.panel(
        Viz::Series,
        12,
        "Active requests",
        "Requests being handled now.",
        "short",
        vec![q(
            format!("sum by (http_route) (http_server_active_requests{{{FILTER}}})"),
            "{{http_route}}",
        )],
    );
    if catalog.metric("http_server_response_size_bytes").is_some() {
        b.panel(
            Viz::Series,
            24,
            "Response size by route",
            "p50, p95 and p99 of response body size.",
            "bytes",
            quantiles(
                "http_server_response_size_bytes_bucket",
                "http_route",
                "{{http_route}}",
            ),
        );
    }
}

pub(super) fn functions(catalog: &Catalog) -> (String, String) {
    let mut b = Board::new(
        "obs-functions",
        "Functions",
        "Every #[instrumented] function: calls, errors, latency and calls in flight, by metric base.",
    );
    let bases = catalog.bases();
    let names = bases
        .iter()
        .map(|base| format!("{base}_calls_total"))
        .collect::<Vec<_>>()
        .join("|");
    if !bases.is_empty() {
        b.variables.push(query_variable(
            "function",
            "Function",
            format!(
                "label_values({{__name__=~\"{names}\", job=~\"$job\", instance=~\"$instance\"}}, function)"
            ),
        ));
    }
    for base in bases {
        let members: Vec<&FunctionInfo> = catalog
            .functions()
            .iter()
            .filter(|f| f.base == base)
            .collect();
        let list = members
            .iter()
            .map(|f| format!("{}::{}", f.module, f.function))
            .collect::<Vec<_>>()
            .join(", ");
        let calls = format!("{base}_calls_total{{function=~\"$function\"}}");
        let counted =
            format!("{base}_calls_total{{function=~\"$function\", result!=\"cancelled\"}}");
        let bad = format!("{base}_calls_total{{function=~\"$function\", result=~\"error|panic\"}}");
        let bucket = format!(
            "{base}_duration_seconds_bucket{{function=~\"$function\", result!=\"cancelled\"}}"
        );
        b.row(base);
        b.panel(
            Viz::Series,
            8,
            format!("{base}: calls"),
            format!(
                "Calls per second by function and result ({base}_calls_total). Functions: {list}."
            ),
            "ops",
            vec![q(
                rate(&calls, "function, result"),
                "{{function}} {{result}}",
            )],
        );
        b.panel(
            Viz::Series,
            8,
            format!("{base}: error ratio"),
            "Errors and panics over non-cancelled calls.",
            "percentunit",
            vec![q(ratio(&bad, &counted, "function"), "{{function}}")],
        );
        b.panel(
            Viz::Series,
            8,
            format!("{base}: latency"),
            format!("p50, p95 and p99 of {base}_duration_seconds, non-cancelled calls."),
            "s",
            quantiles(&bucket, "function", "{{function}}"),
        );
        if members.iter().any(|f| f.in_flight) {
            b.panel(
                Viz::Series,
                8,
                format!("{base}: in flight"),
                format!("Calls running now ({base}_in_flight)."),
                "short",
                vec![q(
                    format!(
                        "sum by (function) ({})",
                        filtered(&format!("{base}_in_flight{{function=~\"$function\"}}"))
                    ),
                    "{{function}}",
                )],
            );
        }
    }
    b.finish()
}

pub(super) fn objectives(catalog: &Catalog) -> (String, String) {
    let mut b = Board::new(
        "obs-objectives",
        "Objectives and health",
        "Service level objectives declared with #[instrumented(slo(..))] and ObsLayer::slo/default_slo: SLIs, burn rates and error budgets from the generated recording rules, and the health checks.",
    );
    for declared in rules::objectives(catalog) {
        let slo = &declared.name;
        let objective = declared.objective;
        // The default route objective is judged per route: one line each.
        let (by, legend) = match declared.source {
            rules::Source::AllRoutes { .. } => ("http_route", " {{http_route}}"),
            _ => ("", ""),
        };
        b.row(format!("Objective {slo}"));
        for sli in declared.source.slis(objective) {
            let budget = rules::budget(sli.objective_ppm);
            // Recorded per job (and route), not per instance: the job
            // filter only, one line per series, as ratios don't add up.
            let sel = format!("{{slo=\"{slo}\", sli=\"{}\", job=~\"$job\"}}", sli.name);
            let live = match (&sli.bad, &sli.good) {
                (Some(bad), _) => ratio(bad, &sli.total, by),
                (None, Some(good)) => format!(
                    "1 - (\n  {}\n  /\n  ({} > 0)\n)",
                    rate(good, by),
                    rate(&sli.total, by)
                ),
                (None, None) => continue,
            };
            b.panel(
                Viz::Series,
                8,
                format!("{slo} {}: SLI error ratio", sli.name),
                format!(
                    "Bad events over all events: live over the rate interval, and the recorded 5m/1h/6h ratios. Budget: {budget}."
                ),
                "percentunit",
                vec![
                    q(live, format!("live{legend}")),
                    q(format!("slo:sli_error:ratio_rate5m{sel}"), format!("5m{legend}")),
                    q(format!("slo:sli_error:ratio_rate1h{sel}"), format!("1h{legend}")),
                    q(format!("slo:sli_error:ratio_rate6h{sel}"), format!("6h{legend}")),
                ],
            );
            b.panel(
                Viz::Series,
                8,
                format!("{slo} {}: burn rate", sli.name),
                "The error ratio as a multiple of the budget: 1 spends it exactly over the period; the fast-burn alert pages at 14.4 (1h) and 6 (6h).",
                "short",
                ["5m", "1h", "6h", "3d"]
                    .into_iter()
                    .map(|w| {
                        q(
                            format!("slo:sli_error:ratio_rate{w}{sel} / {budget}"),
                            format!("{w}{legend}"),
                        )
                    })
                    .collect(),
            );
            b.panel(
                Viz::Stat,
                8,
                format!("{slo} {}: error budget left", sli.name),
                format!(
                    "Share of the {}-day error budget not spent yet.",
                    objective.period_days
                ),
                "percentunit",
                vec![q(
                    format!("slo:error_budget:remaining{sel}"),
                    format!("left{legend}"),
                )],
            );
        }
    }
    b.row("Health checks");
    b.panel(
        Viz::Series,
        12,
        "Health check status",
        "1 pass, 0.5 warn (a non-critical check failed), 0 fail.",
        "short",
        vec![q(
            format!("max by (check, kind) (health_check_status{{{FILTER}}})"),
            "{{check}} ({{kind}})",
        )],
    );
    b.panel(
        Viz::Series,
        12,
        "Health check duration",
        "p95 of health check runs, timeouts included.",
        "s",
        vec![q(
            format!(
                "histogram_quantile(0.95, {})",
                rate("health_check_duration_seconds_bucket", "le, check")
            ),
            "{{check}}",
        )],
    );
    b.finish()
}

/// The unit Grafana shows for `m`'s panel: per second for counters.
pub(super) fn unit(m: &MetricInfo) -> &'static str {
    match (m.kind, m.unit) {
        (MetricKind::Counter, MetricUnit::Seconds) => "s",
        (MetricKind::Counter, MetricUnit::Bytes) => "Bps",
        (MetricKind::Counter, _) => "cps",
        (_, MetricUnit::Seconds) => "s",
        (_, MetricUnit::Bytes) => "bytes",
        _ => "short",
    }
}

/// The queries of a metric's panel, chosen by its kind.
pub(crate) fn metric_queries(m: &MetricInfo) -> Vec<Query> {
    let labels: Vec<&str> = m.labels.iter().map(|l| l.name.as_str()).collect();
    let by = labels.join(", ");
    let legend = labels
        .iter()
        .map(|l| format!("{{{{{l}}}}}"))
        .collect::<Vec<_>>()
        .join(" ");
    match m.kind {
        MetricKind::Counter => vec![q(rate(&m.name, &by), legend)],
        MetricKind::Gauge => {
            let by = if by.is_empty() {
                String::new()
            } else {
                format!(" by ({by})")
            };
            vec![q(format!("sum{by} ({})", filtered(&m.name)), legend)]
        }
        MetricKind::Histogram => quantiles(&format!("{}_bucket", m.name), "", ""),
    }
}

pub(super) fn metric_panel(b: &mut Board, m: &MetricInfo) {
    let how = match m.kind {
        MetricKind::Counter => "rate per second",
        MetricKind::Gauge => "value",
        MetricKind::Histogram => "p50, p95, p99",
    };
    b.panel(
        Viz::Series,
        8,
        m.name.clone(),
        format!("{} ({how})", m.help),
        unit(m),
        metric_queries(m),
    );
}

pub(super) fn runtime(catalog: &Catalog) -> (String, String) {
    let mut b = Board::new(
        "obs-runtime",
        "Runtime",
        "The process, obs's own health, and every metric set.",
    );
    process_rows(&mut b);
    for (set, members) in catalog.metric_sets() {
        b.row(format!("Metric set {set}"));
        for m in members {
            metric_panel(&mut b, m);
        }
    }
    let registered: Vec<&MetricInfo> = catalog
        .metrics()
        .iter()
        .filter(|m| matches!(m.source, MetricSource::Registered | MetricSource::Foreign))
        .collect();
    if !registered.is_empty() {
        b.row("Registered at run time");
        for m in registered {
            metric_panel(&mut b, m);
        }
    }
    b.finish()
}

/// The process and obs's own families.
pub(super) fn process_rows(b: &mut Board) {
    b.row("Process");
    b.panel(
        Viz::Series,
        8,
        "CPU",
        "CPU time per second (1 = one core).",
        "percentunit",
        vec![q(
            rate("process_cpu_seconds_total", "instance"),
            "{{instance}}",
        )],
    );
    b.panel(
        Viz::Series,
        8,
        "Memory",
        "Resident and virtual memory.",
        "bytes",
        vec![
            q(
                format!("sum by (instance) (process_resident_memory_bytes{{{FILTER}}})"),
                "resident {{instance}}",
            ),
            q(
                format!("sum by (instance) (process_virtual_memory_bytes{{{FILTER}}})"),
                "virtual {{instance}}",
            ),
        ],
    );
    b.panel(
        Viz::Series,
        8,
        "File descriptors",
        "Open file descriptors and their limit.",
        "short",
        vec![
            q(
                format!("sum by (instance) (process_open_fds{{{FILTER}}})"),
                "open {{instance}}",
            ),
            q(
                format!("sum by (instance) (process_max_fds{{{FILTER}}})"),
                "max {{instance}}",
            ),
        ],
    );
    b.panel(
        Viz::Stat,
        8,
        "Uptime",
        "Time since the process started.",
        "s",
        vec![q(
            format!("min by (instance) (process_uptime_seconds{{{FILTER}}})"),
            "{{instance}}",
        )],
    );
    b.row("obs");
    b.panel(
        Viz::Series,
        8,
        "Cardinality overflow",
        "Label combinations refused by a metric's series limit, per second.",
        "cps",
        vec![q(
            rate("obs_cardinality_overflow_total", "metric"),
            "{{metric}}",
        )],
    );
    b.panel(
        Viz::Series,
        8,
        "Dropped telemetry",
        "Spans and OTLP metric points dropped before reaching the collector, per second.",
        "cps",
        vec![
            q(
                rate("obs_telemetry_dropped_spans_total", "instance"),
                "spans {{instance}}",
            ),
            q(
                rate("obs_telemetry_dropped_metric_points_total", "instance"),
                "metric points {{instance}}",
            ),
        ],
    );
    b.panel(
        Viz::Series,
        8,
        "Panics and suppressed logs",
        "Panics and rate-limited log events, per second.",
        "cps",
        vec![
            q(rate("obs_panics_total", "instance"), "panics {{instance}}"),
            q(
                rate("obs_log_events_suppressed_total", "instance"),
                "suppressed logs {{instance}}",
            ),
        ],
    );
}
