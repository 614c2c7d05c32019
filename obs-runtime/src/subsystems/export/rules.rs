//! Prometheus recording and alerting rules from the catalog.
//!
//! Per objective (`slo(..)` on an `#[instrumented]` function), for each of
//! its SLIs (`success`, `latency`):
//! - `slo:sli_error:ratio_rate<w>` for w in 5m, 30m, 1h, 2h, 6h, 1d, 3d: bad
//!   events over all non-cancelled events in the window; with no traffic the
//!   series is absent, never NaN (every denominator is guarded by `> 0`);
//! - `slo:sli_events:increase<w>` for the long windows: how many events the
//!   window held, so an alert needs a minimum of traffic
//!   ([`ExportOptions::min_events`]) and one failed call in a quiet hour
//!   never pages;
//! - `slo:error_budget:remaining`: 1 − (bad events / events over the period)
//!   / budget, weighted by traffic (not an average of ratios);
//! - the multi-window, multi-burn-rate alerts of the Google SRE workbook:
//!   `ObsSloFastBurn` (14.4× over 1h and 5m, or 6× over 6h and 30m,
//!   `severity="critical"`, pages) and `ObsSloSlowBurn` (3× over 1d and 2h,
//!   or 1× over 3d and 6h, `severity="warning"`, a ticket).
//!
//! Latency SLIs count the calls at or under the bound through the bucket of
//! that bound, matched as `le=~"1|1\\.0"` so the rules work on Prometheus 2
//! (which keeps `1`) and 3 (which writes `1.0`).
//!
//! Per metric base, the seeds' classic alerts: error ratio above 5 % for 5
//! minutes, p95 above 1 s and p99 above 2 s for 5 minutes (all `warning`,
//! with the same traffic minimum); per health check, failing for 2 minutes
//! (`critical` when the check is critical); and for the process, the target
//! down for 1 minute, series refused by the cardinality guard, spans dropped
//! and panics.

use std::fmt::Write as _;

use super::ExportOptions;
use super::decimal::{decimal, le_regex};
use crate::leaves::schema::{Objective, PPM};
use crate::subsystems::catalog::{Catalog, FunctionInfo};

/// The windows the ratios are recorded over.
pub(crate) const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// The long windows whose traffic an alert needs.
pub(crate) const LONG_WINDOWS: [&str; 4] = ["1h", "6h", "1d", "3d"];

/// One burn-rate alert condition: factor (in tenths), long window, short
/// window.
pub(crate) const FAST_BURNS: [(u64, &str, &str); 2] = [(144, "1h", "5m"), (60, "6h", "30m")];
pub(crate) const SLOW_BURNS: [(u64, &str, &str); 2] = [(30, "1d", "2h"), (10, "3d", "6h")];

/// An SLI of one objective: its name and the selectors of its events.
pub(crate) struct Sli {
    pub(crate) name: &'static str,
    /// The objective, in parts per million.
    pub(crate) objective_ppm: u32,
    /// Events counted (non-cancelled calls).
    pub(crate) total: String,
    /// Bad events; `None` for latency, where bad = total − good.
    pub(crate) bad: Option<String>,
    /// Good events, for latency: calls within the bound.
    pub(crate) good: Option<String>,
}

impl Sli {
    /// `sum(rate(bad[w]))` over `sum(rate(total[w]))`, guarded.
    fn ratio(&self, window: &str) -> String {
        let total = format!("sum(rate({}[{window}]))", self.total);
        let bad = match (&self.bad, &self.good) {
            (Some(bad), _) => format!("(sum(rate({bad}[{window}])) or vector(0))"),
            (None, Some(good)) => {
                format!("({total} - (sum(rate({good}[{window}])) or vector(0)))")
            }
            (None, None) => "vector(0)".to_owned(),
        };
        format!("{bad}\n/\n({total} > 0)")
    }

    /// Bad events over all events in `period`, as a share of the budget.
    fn budget_remaining(&self, period: &str) -> String {
        let total = format!("sum(increase({}[{period}]))", self.total);
        let bad = match (&self.bad, &self.good) {
            (Some(bad), _) => format!("(sum(increase({bad}[{period}])) or vector(0))"),
            (None, Some(good)) => {
                format!("({total} - (sum(increase({good}[{period}])) or vector(0)))")
            }
            (None, None) => "vector(0)".to_owned(),
        };
        format!(
            "1 - (\n  {bad}\n  /\n  ({total} > 0)\n) / {}",
            budget(self.objective_ppm)
        )
    }
}

/// The error budget, `1 - objective`, exact.
pub(crate) fn budget(objective_ppm: u32) -> String {
    decimal(u64::from(PPM - objective_ppm), 6)
}

/// `factor_tenths / 10 × budget`, exact.
pub(crate) fn threshold(factor_tenths: u64, objective_ppm: u32) -> String {
    decimal(factor_tenths * u64::from(PPM - objective_ppm), 7)
}

/// The label matchers that pick one function's series.
pub(crate) fn matchers(f: &FunctionInfo) -> String {
    let mut m = format!(
        "function=\"{}\",module=\"{}\"",
        escape(f.function),
        escape(f.module)
    );
    for (k, v) in &f.labels {
        let _ = write!(m, ",{k}=\"{}\"", escape(v));
    }
    m
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The SLIs an objective defines.
pub(crate) fn slis(f: &FunctionInfo, objective: Objective) -> Vec<Sli> {
    let m = matchers(f);
    let mut out = Vec::new();
    if let Some(ppm) = objective.success_ppm {
        out.push(Sli {
            name: "success",
            objective_ppm: ppm,
            total: format!("{}{{{m},result!=\"cancelled\"}}", f.calls_metric()),
            bad: Some(format!(
                "{}{{{m},result=~\"error|panic\"}}",
                f.calls_metric()
            )),
            good: None,
        });
    }
    if let (Some(ms), Some(ppm)) = (objective.latency_ms, objective.percentile_ppm) {
        #[allow(clippy::cast_precision_loss)] // milliseconds fit in 52 bits
        let seconds = ms as f64 / 1_000.0;
        out.push(Sli {
            name: "latency",
            objective_ppm: ppm,
            total: format!("{}_count{{{m},result!=\"cancelled\"}}", f.duration_metric()),
            bad: None,
            good: Some(format!(
                "{}_bucket{{{m},result!=\"cancelled\",le=~\"{}\"}}",
                f.duration_metric(),
                le_regex(seconds)
            )),
        });
    }
    out
}

/// A YAML block scalar of `text`, indented by `indent` spaces.
pub(crate) fn block(out: &mut String, key: &str, text: &str, indent: usize) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}{key}: |-");
    for line in text.lines() {
        let _ = writeln!(out, "{pad}  {line}");
    }
}

/// A YAML string in double quotes.
pub(crate) fn quoted(v: &str) -> String {
    format!(
        "\"{}\"",
        v.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

/// One alerting rule.
#[derive(Debug, Clone)]
pub(crate) struct Alert {
    pub(crate) name: &'static str,
    pub(crate) expr: String,
    pub(crate) for_: &'static str,
    pub(crate) labels: Vec<(&'static str, String)>,
    pub(crate) summary: String,
    pub(crate) description: String,
    pub(crate) runbook: String,
}

impl Alert {
    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "      - alert: {}", self.name);
        block(out, "expr", &self.expr, 8);
        if !self.for_.is_empty() {
            let _ = writeln!(out, "        for: {}", self.for_);
        }
        let _ = writeln!(out, "        labels:");
        for (k, v) in &self.labels {
            let _ = writeln!(out, "          {k}: {}", quoted(v));
        }
        let _ = writeln!(out, "        annotations:");
        for (k, v) in self.annotations() {
            let _ = writeln!(out, "          {k}: {}", quoted(v));
        }
    }

    pub(crate) fn annotations(&self) -> [(&'static str, &str); 3] {
        [
            ("summary", &self.summary),
            ("description", &self.description),
            ("runbook_url", &self.runbook),
        ]
    }
}

/// One recording rule.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) name: String,
    pub(crate) expr: String,
    pub(crate) labels: Vec<(&'static str, String)>,
}

impl Record {
    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "      - record: {}", self.name);
        block(out, "expr", &self.expr, 8);
        if !self.labels.is_empty() {
            let _ = writeln!(out, "        labels:");
            for (k, v) in &self.labels {
                let _ = writeln!(out, "          {k}: {}", quoted(v));
            }
        }
    }
}

/// A rule group: recording rules first, then alerts, evaluated in order.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) records: Vec<Record>,
    pub(crate) alerts: Vec<Alert>,
}

/// An objective's SLI with the alerts made from it, for the rule tests.
pub(crate) struct SliRules {
    pub(crate) function: FunctionInfo,
    pub(crate) sli: Sli,
    pub(crate) latency_ms: Option<u64>,
    pub(crate) fast: Alert,
    pub(crate) slow: Alert,
}

/// Everything generated, as a model the YAML and the tests are written from.
pub(crate) struct Rules {
    pub(crate) groups: Vec<Group>,
    pub(crate) slis: Vec<SliRules>,
}

impl Rules {
    /// The rules file.
    pub(crate) fn yaml(&self) -> String {
        let mut out = String::from(
            "# Generated by obs from the program's own declarations; do not edit.\n# Regenerate with obs_runtime::export::prometheus_rules().\ngroups:\n",
        );
        for g in &self.groups {
            let _ = writeln!(out, "  - name: {}", g.name);
            let _ = writeln!(out, "    rules:");
            for r in &g.records {
                r.write(&mut out);
            }
            for a in &g.alerts {
                a.write(&mut out);
            }
        }
        out
    }

    /// The alert of `name` whose labels include `label = value`.
    pub(crate) fn alert(&self, name: &str, label: (&str, &str)) -> Option<&Alert> {
        self.groups
            .iter()
            .flat_map(|g| g.alerts.iter())
            .find(|a| a.name == name && a.labels.iter().any(|(k, v)| *k == label.0 && v == label.1))
    }
}

/// `250ms` or `2s`, as the objective was likely written.
pub(crate) fn latency_text(ms: u64) -> String {
    if ms >= 1_000 && ms.is_multiple_of(1_000) {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

/// The burn-rate alert expression over `burns`.
pub(crate) fn burn_expr(slo: &str, sli: &Sli, burns: &[(u64, &str, &str)], min: u32) -> String {
    let sel = format!("{{slo=\"{slo}\",sli=\"{}\"}}", sli.name);
    burns
        .iter()
        .map(|(factor, long, short)| {
            let t = threshold(*factor, sli.objective_ppm);
            format!(
                "(\n  slo:sli_error:ratio_rate{long}{sel} > {t}\n  and\n  slo:sli_error:ratio_rate{short}{sel} > {t}\n  and\n  slo:sli_events:increase{long}{sel} >= {min}\n)"
            )
        })
        .collect::<Vec<_>>()
        .join("\nor\n")
}

/// The rules of `catalog`; see the module documentation.
pub(crate) fn build(catalog: &Catalog, options: &ExportOptions) -> Rules {
    let mut groups = Vec::new();
    let mut all_slis = Vec::new();
    let min = options.min_events;
    for (f, objective) in catalog.objectives() {
        let slo = f.slo_name();
        let period = format!("{}d", objective.period_days);
        let mut group = Group {
            name: format!("obs-slo-{slo}"),
            records: Vec::new(),
            alerts: Vec::new(),
        };
        for sli in slis(f, objective) {
            let labels = vec![("slo", slo.clone()), ("sli", sli.name.to_owned())];
            for w in WINDOWS {
                group.records.push(Record {
                    name: format!("slo:sli_error:ratio_rate{w}"),
                    expr: sli.ratio(w),
                    labels: labels.clone(),
                });
            }
            for w in LONG_WINDOWS {
                group.records.push(Record {
                    name: format!("slo:sli_events:increase{w}"),
                    expr: format!("sum(increase({}[{w}]))", sli.total),
                    labels: labels.clone(),
                });
            }
            group.records.push(Record {
                name: "slo:error_budget:remaining".to_owned(),
                expr: sli.budget_remaining(&period),
                labels: labels.clone(),
            });
            let objective_text = decimal(u64::from(sli.objective_ppm), 4);
            let what = match objective.latency_ms {
                Some(ms) if sli.name == "latency" => format!(
                    "{objective_text}% of calls of {} finish within {}",
                    f.function,
                    latency_text(ms)
                ),
                _ => format!("{objective_text}% of calls of {} succeed", f.function),
            };
            let alert = |name, burns: &[(u64, &str, &str)], severity: &str, pace: &str, for_| {
                Alert {
                    name,
                    expr: burn_expr(&slo, &sli, burns, min),
                    for_,
                    labels: vec![
                        ("severity", severity.to_owned()),
                        ("slo", slo.clone()),
                        ("sli", sli.name.to_owned()),
                    ],
                    summary: format!("{slo}: the {} error budget burns {pace}", sli.name),
                    description: format!(
                        "Objective: {what} over {period}. At this rate the period's error budget runs out early; see slo:sli_error:ratio_rate* for slo=\"{slo}\"."
                    ),
                    runbook: options.runbook(&format!("slo-{slo}")),
                }
            };
            let fast = alert("ObsSloFastBurn", &FAST_BURNS, "critical", "fast", "2m");
            let slow = alert("ObsSloSlowBurn", &SLOW_BURNS, "warning", "slowly", "15m");
            group.alerts.push(fast.clone());
            group.alerts.push(slow.clone());
            all_slis.push(SliRules {
                function: f.clone(),
                sli,
                latency_ms: objective.latency_ms,
                fast,
                slow,
            });
        }
        groups.push(group);
    }
    groups.extend(classic(catalog, options));
    Rules {
        groups,
        slis: all_slis,
    }
}

/// The seeds' classic alerts.
fn classic(catalog: &Catalog, options: &ExportOptions) -> Vec<Group> {
    let min = options.min_events;
    let by = "function, module";
    let mut functions = Group {
        name: "obs-functions".to_owned(),
        records: Vec::new(),
        alerts: Vec::new(),
    };
    for base in catalog.bases() {
        let calls = format!("{base}_calls_total");
        let duration = format!("{base}_duration_seconds_bucket");
        let traffic =
            format!("sum by ({by}) (increase({calls}{{result!=\"cancelled\"}}[5m])) >= {min}");
        functions.alerts.push(Alert {
            name: "ObsHighErrorRatio",
            expr: format!(
                "(\n  sum by ({by}) (rate({calls}{{result=~\"error|panic\"}}[5m]))\n  /\n  (sum by ({by}) (rate({calls}{{result!=\"cancelled\"}}[5m])) > 0)\n) > {}\nand on ({by})\n{traffic}",
                decimal(u64::from(options.error_ratio_percent), 2)
            ),
            for_: "5m",
            labels: vec![("severity", "warning".to_owned()), ("metric", base.to_owned())],
            summary: format!(
                "{{{{ $labels.function }}}} fails more than {}% of its calls",
                options.error_ratio_percent
            ),
            description: format!(
                "{{{{ $labels.function }}}} ({{{{ $labels.module }}}}) returned errors or panicked on more than {}% of its calls over 5 minutes ({calls}).",
                options.error_ratio_percent
            ),
            runbook: options.runbook("alert-obshigherrorratio"),
        });
        for (name, q, limit) in [
            ("ObsHighLatencyP95", "0.95", options.p95_seconds.as_str()),
            ("ObsHighLatencyP99", "0.99", options.p99_seconds.as_str()),
        ] {
            functions.alerts.push(Alert {
                name,
                expr: format!(
                    "histogram_quantile({q}, sum by (le, {by}) (rate({duration}{{result!=\"cancelled\"}}[5m]))) > {limit}\nand on ({by})\n{traffic}"
                ),
                for_: "5m",
                labels: vec![("severity", "warning".to_owned()), ("metric", base.to_owned())],
                summary: format!(
                    "{{{{ $labels.function }}}}: p{} latency above {limit}s",
                    &q[2..]
                ),
                description: format!(
                    "The {q} quantile of {base}_duration_seconds for {{{{ $labels.function }}}} ({{{{ $labels.module }}}}) stayed above {limit}s for 5 minutes."
                ),
                runbook: options.runbook(&format!("alert-{}", name.to_ascii_lowercase())),
            });
        }
    }
    vec![functions, process_group(catalog, options)]
}

/// The process's alerts: target down, failing checks, drops and panics.
fn process_group(catalog: &Catalog, options: &ExportOptions) -> Group {
    let mut process = Group {
        name: "obs-process".to_owned(),
        records: Vec::new(),
        alerts: Vec::new(),
    };
    process.alerts.push(Alert {
        name: "ObsTargetDown",
        expr: format!("up{{job=\"{}\"}} == 0", escape(&options.job)),
        for_: "1m",
        labels: vec![("severity", "critical".to_owned())],
        summary: "{{ $labels.instance }} is down".to_owned(),
        description: format!(
            "Prometheus could not scrape {{{{ $labels.instance }}}} of job {} for a minute.",
            options.job
        ),
        runbook: options.runbook("alert-obstargetdown"),
    });
    for check in catalog.checks() {
        let severity = if check.critical {
            "critical"
        } else {
            "warning"
        };
        process.alerts.push(Alert {
            name: "ObsHealthCheckFailing",
            expr: format!("health_check_status{{check=\"{}\"}} < 1", escape(check.name)),
            for_: "2m",
            // `check` also comes from the expression; as a rule label it
            // tells one check's rule from another's (promtool's
            // duplicate-rules lint).
            labels: vec![
                ("check", check.name.to_owned()),
                ("severity", severity.to_owned()),
            ],
            summary: format!("health check {} is failing", check.name),
            description: format!(
                "The {} check ({} probe) has not passed for 2 minutes; /readyz shows its reason to allowlisted callers.",
                check.name,
                check.kind.as_str()
            ),
            runbook: options.runbook("alert-obshealthcheckfailing"),
        });
    }
    for (name, metric, summary) in [
        (
            "ObsCardinalityOverflow",
            "obs_cardinality_overflow_total",
            "a metric refused new label combinations",
        ),
        (
            "ObsTelemetryDropped",
            "obs_telemetry_dropped_spans_total",
            "spans were dropped before reaching the collector",
        ),
        ("ObsPanics", "obs_panics_total", "the service panicked"),
    ] {
        process.alerts.push(Alert {
            name,
            expr: format!("increase({metric}[10m]) > 0"),
            for_: "",
            labels: vec![("severity", "warning".to_owned())],
            summary: format!("{{{{ $labels.instance }}}}: {summary}"),
            description: format!("{metric} grew in the last 10 minutes."),
            runbook: options.runbook(&format!("alert-{}", name.to_ascii_lowercase())),
        });
    }
    process
}
