//! Prometheus recording and alerting rules from the catalog.
//!
//! Per objective — `slo(..)` on an `#[instrumented]` function,
//! `ObsLayer::slo(route, slo!(..))` on an HTTP route, or
//! `ObsLayer::default_slo(..)` for every other route but `unmatched`, one
//! objective judged per `http_route` — for each of its SLIs (`success`,
//! `latency`), every series kept per `job` (and `http_route` for the
//! default) so dashboards can filter by job:
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
//! A function's bad events are `error` and `panic` calls; a route's are
//! requests answered 5xx or failed without an answer (`error_type` `5xx`
//! or `_OTHER`); cancelled calls and requests are not events.
//!
//! Latency SLIs count the calls at or under the bound through the bucket of
//! that bound, matched as `le=~"1|1\\.0"` so the rules work on Prometheus 2
//! (which keeps `1`) and 3 (which writes `1.0`).
//!
//! Per metric base, the seeds' classic alerts: error ratio above 5 % for 5
//! minutes, p95 above 1 s and p99 above 2 s for 5 minutes (all `warning`,
//! with the same traffic minimum), and the same per HTTP route
//! (`ObsHttpHighErrorRatio` on 5xx, `ObsHttpHighLatencyP95`/`P99`, per
//! `job` and `http_route`); per health check, failing for 2 minutes
//! (`critical` when the check is critical); and for the process, the target
//! down for 1 minute, series refused by the cardinality guard, spans dropped
//! and panics.
//!
//! For the families of outbound calls, jobs, pools and batch jobs, when
//! the program registered them: see [`work`](super::work).

use std::borrow::Cow;
use std::fmt::Write as _;

use super::ExportOptions;
use super::decimal::{decimal, le_regex};
use crate::leaves::schema::MetricKind;
use crate::leaves::schema::{Objective, PPM, UNMATCHED_ROUTE};
use crate::subsystems::catalog::{
    Catalog, DEFAULT_ROUTE_SLO, FunctionInfo, MetricInfo, MetricUnit,
};

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
    /// The labels the recorded series keep: `job`, and `http_route` for
    /// the default route objective, judged per route.
    pub(crate) by: &'static str,
    /// Events counted (non-cancelled calls or requests).
    pub(crate) total: String,
    /// Bad events; `None` for latency, where bad = total − good.
    pub(crate) bad: Option<String>,
    /// Good events, for latency: calls within the bound.
    pub(crate) good: Option<String>,
}

impl Sli {
    /// `sum by (..) (f(sel[w]))`.
    fn sum(&self, f: &str, sel: &str, window: &str) -> String {
        format!("sum by ({}) ({f}({sel}[{window}]))", self.by)
    }

    /// Bad events over all events through `f` (`rate` or `increase`) over
    /// `window`, per `by`: 0 (not absent) when nothing failed, absent when
    /// there were no events, never NaN.
    fn bad_ratio(&self, f: &str, window: &str) -> String {
        let total = self.sum(f, &self.total, window);
        let zero = format!("0 * {total}");
        let bad = match (&self.bad, &self.good) {
            (Some(bad), _) => format!("({} or {zero})", self.sum(f, bad, window)),
            (None, Some(good)) => {
                format!("({total} - ({} or {zero}))", self.sum(f, good, window))
            }
            (None, None) => zero,
        };
        format!("{bad}\n/\n({total} > 0)")
    }

    /// `slo:sli_error:ratio_rate<window>`.
    fn ratio(&self, window: &str) -> String {
        self.bad_ratio("rate", window)
    }

    /// Bad events over all events in `period`, as a share of the budget.
    fn budget_remaining(&self, period: &str) -> String {
        let ratio = self.bad_ratio("increase", period).replace('\n', "\n  ");
        format!("1 - (\n  {ratio}\n) / {}", budget(self.objective_ppm))
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

/// The content of a `PromQL` string.
pub(crate) fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A regex (RE2, anchored by Prometheus) matching `v` literally, as `PromQL`
/// string content.
fn regex_literal(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    escape(&out)
}

/// The HTTP server histogram the route objectives are computed from.
pub(crate) const REQUESTS: &str = "http_server_request_duration_seconds";

/// Where an objective's events come from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// The calls of an `#[instrumented]` function.
    Function(FunctionInfo),
    /// The requests of one route.
    Route(String),
    /// The requests of every route but these (the routes with their own
    /// objective), judged per `http_route`.
    AllRoutes { except: Vec<String> },
}

impl Source {
    /// The label matchers of the source's events.
    pub(crate) fn matchers(&self) -> String {
        match self {
            Self::Function(f) => matchers(f),
            Self::Route(route) => format!("http_route=\"{}\"", escape(route)),
            Self::AllRoutes { except } => {
                let mut routes: Vec<String> = except.iter().map(|r| regex_literal(r)).collect();
                routes.push(regex_literal(UNMATCHED_ROUTE));
                format!("http_route!~\"{}\"", routes.join("|"))
            }
        }
    }

    /// The labels the recorded series and alerts keep.
    pub(crate) fn by(&self) -> &'static str {
        match self {
            Self::AllRoutes { .. } => "job, http_route",
            _ => "job",
        }
    }

    /// What the objective is about, for descriptions.
    pub(crate) fn subject(&self) -> String {
        match self {
            Self::Function(f) => format!("calls of {}", f.function),
            // Literal braces of a route (`{{`) would open an alert
            // template: spaced out in this prose.
            Self::Route(route) => format!(
                "requests to {}",
                route.replace("{{", "{ {").replace("}}", "} }")
            ),
            Self::AllRoutes { .. } => {
                "requests to {{ $labels.http_route }} (the default of every route without its own objective)"
                    .to_owned()
            }
        }
    }

    /// The events: the counter of calls, or the count of requests.
    pub(crate) fn counted(&self) -> String {
        match self {
            Self::Function(f) => f.calls_metric(),
            _ => format!("{REQUESTS}_count"),
        }
    }

    /// The duration histogram.
    pub(crate) fn duration(&self) -> String {
        match self {
            Self::Function(f) => f.duration_metric(),
            _ => REQUESTS.to_owned(),
        }
    }

    /// The matcher that leaves cancelled calls or requests out.
    pub(crate) fn not_cancelled(&self) -> &'static str {
        match self {
            Self::Function(_) => "result!=\"cancelled\"",
            _ => "error_type!=\"cancelled\"",
        }
    }

    /// The matcher of bad events: errors and panics of a function; 5xx
    /// answers and failures without an answer of a route.
    pub(crate) fn failed(&self) -> &'static str {
        match self {
            Self::Function(_) => "result=~\"error|panic\"",
            _ => "error_type=~\"5..|_OTHER\"",
        }
    }

    /// The SLIs `objective` defines over this source.
    pub(crate) fn slis(&self, objective: Objective) -> Vec<Sli> {
        let m = self.matchers();
        let (counted, duration) = (self.counted(), self.duration());
        let counted_ok = self.not_cancelled();
        let mut out = Vec::new();
        if let Some(ppm) = objective.success_ppm {
            out.push(Sli {
                name: "success",
                objective_ppm: ppm,
                by: self.by(),
                total: format!("{counted}{{{m},{counted_ok}}}"),
                bad: Some(format!("{counted}{{{m},{}}}", self.failed())),
                good: None,
            });
        }
        if let (Some(ms), Some(ppm)) = (objective.latency_ms, objective.percentile_ppm) {
            #[allow(clippy::cast_precision_loss)] // milliseconds fit in 52 bits
            let seconds = ms as f64 / 1_000.0;
            out.push(Sli {
                name: "latency",
                objective_ppm: ppm,
                by: self.by(),
                total: format!("{duration}_count{{{m},{counted_ok}}}"),
                bad: None,
                good: Some(format!(
                    "{duration}_bucket{{{m},{counted_ok},le=~\"{}\"}}",
                    le_regex(seconds)
                )),
            });
        }
        out
    }
}

/// One declared objective: its name (the `slo` label), where its events
/// come from, and the objective.
#[derive(Debug, Clone)]
pub(crate) struct Slo {
    pub(crate) name: String,
    pub(crate) source: Source,
    pub(crate) objective: Objective,
}

/// Every objective of the program: the functions', then the routes', then
/// the default of the other routes; names made unique (two routes that
/// differ only in punctuation would share one) with `_2`, `_3`, ….
pub(crate) fn objectives(catalog: &Catalog) -> Vec<Slo> {
    let mut out = declared(catalog);
    let mut seen: Vec<String> = Vec::new();
    for slo in &mut out {
        let mut name = slo.name.clone();
        let mut n = 1;
        while seen.contains(&name) {
            n += 1;
            name = format!("{}_{n}", slo.name);
        }
        seen.push(name.clone());
        slo.name = name;
    }
    out
}

fn declared(catalog: &Catalog) -> Vec<Slo> {
    let mut out: Vec<Slo> = catalog
        .objectives()
        .map(|(f, objective)| Slo {
            name: f.slo_name(),
            source: Source::Function(f.clone()),
            objective,
        })
        .collect();
    for r in catalog.route_objectives() {
        out.push(Slo {
            name: r.slo_name(),
            source: Source::Route(r.route.clone()),
            objective: r.objective,
        });
    }
    if let Some(objective) = catalog.default_route_objective() {
        out.push(Slo {
            name: DEFAULT_ROUTE_SLO.to_owned(),
            source: Source::AllRoutes {
                except: catalog
                    .route_objectives()
                    .iter()
                    .map(|r| r.route.clone())
                    .collect(),
            },
            objective,
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
    pub(crate) name: Cow<'static, str>,
    pub(crate) expr: String,
    pub(crate) for_: Cow<'static, str>,
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
    pub(crate) slo: Slo,
    pub(crate) sli: Sli,
    pub(crate) latency_ms: Option<u64>,
    pub(crate) fast: Alert,
    pub(crate) slow: Alert,
}

/// Everything generated, as a model the YAML and the tests are written from.
pub(crate) struct Rules {
    pub(crate) groups: Vec<Group>,
    pub(crate) slis: Vec<SliRules>,
    /// The program's own alerts that passed their checks (their rules are
    /// the `custom` group).
    pub(crate) custom: Vec<super::custom::CheckedAlert>,
    /// Their runbooks: name, what it means, what to check first.
    pub(crate) custom_runbooks: Vec<(String, String, String)>,
    /// Why the others were left out, one line each.
    pub(crate) left_out: Vec<String>,
}

impl Rules {
    /// The rules file.
    pub(crate) fn yaml(&self) -> String {
        let mut out = String::from(
            "# Generated by obs from the program's own declarations; do not edit.\n# Regenerate with obs_runtime::export::prometheus_rules().\n",
        );
        self.comment_left_out(&mut out);
        out.push_str("groups:\n");
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

    /// A comment line per custom alert left out, saying why.
    pub(crate) fn comment_left_out(&self, out: &mut String) {
        for why in &self.left_out {
            let _ = writeln!(out, "# Left out: {}", why.replace('\n', " "));
        }
    }

    /// The runbook of a custom alert: what it means, what to check first.
    pub(crate) fn custom_runbook(&self, name: &str) -> Option<(&str, &str)> {
        self.custom_runbooks
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, means, check)| (means.as_str(), check.as_str()))
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

/// The rules of `catalog`, with the custom alerts of `options` that pass
/// their checks in a last group, `custom`.
pub(crate) fn build(catalog: &Catalog, options: &ExportOptions) -> Rules {
    let mut rules = generated(catalog, options);
    let names = rules.alert_names();
    let checked = super::custom::check(catalog, &options.alerts, &[], &names, &[]);
    if !checked.alerts.is_empty() {
        rules.groups.push(Group {
            name: "custom".to_owned(),
            records: Vec::new(),
            alerts: checked
                .alerts
                .iter()
                .map(|c| super::custom::rule(c, options))
                .collect(),
        });
    }
    rules.custom_runbooks = checked
        .alerts
        .iter()
        .map(|c| {
            let (means, check) = super::custom::runbook(c, options);
            (c.alert.name.clone(), means, check)
        })
        .collect();
    rules.custom = checked.alerts;
    rules.left_out = checked.alert_problems;
    rules
}

impl Rules {
    /// The distinct alert names.
    pub(crate) fn alert_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for a in self.groups.iter().flat_map(|g| g.alerts.iter()) {
            if !names.contains(&a.name.as_ref()) {
                names.push(&a.name);
            }
        }
        names
    }
}

/// The generated rules of `catalog`; see the module documentation.
pub(crate) fn generated(catalog: &Catalog, options: &ExportOptions) -> Rules {
    let mut groups = Vec::new();
    let mut all_slis = Vec::new();
    let min = options.min_events;
    for declared in objectives(catalog) {
        let slo = declared.name.clone();
        let objective = declared.objective;
        let period = format!("{}d", objective.period_days);
        let mut group = Group {
            name: format!("obs-slo-{slo}"),
            records: Vec::new(),
            alerts: Vec::new(),
        };
        let subject = declared.source.subject();
        let per_route = matches!(declared.source, Source::AllRoutes { .. });
        for sli in declared.source.slis(objective) {
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
                    expr: sli.sum("increase", &sli.total, w),
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
                    "{objective_text}% of {subject} finish within {}",
                    latency_text(ms)
                ),
                _ => format!("{objective_text}% of {subject} succeed"),
            };
            let whose = if per_route {
                format!("{slo} ({{{{ $labels.http_route }}}})")
            } else {
                slo.clone()
            };
            let alert = |name, burns: &[(u64, &str, &str)], severity: &str, pace: &str, for_| {
                Alert {
                    name: Cow::Borrowed(name),
                    expr: burn_expr(&slo, &sli, burns, min),
                    for_: Cow::Borrowed(for_),
                    labels: vec![
                        ("severity", severity.to_owned()),
                        ("slo", slo.clone()),
                        ("sli", sli.name.to_owned()),
                    ],
                    summary: format!("{whose}: the {} error budget burns {pace}", sli.name),
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
                slo: declared.clone(),
                sli,
                latency_ms: objective.latency_ms,
                fast,
                slow,
            });
        }
        groups.push(group);
    }
    groups.extend(classic(catalog, options));
    groups.extend(super::work::groups(catalog, options));
    Rules {
        groups,
        slis: all_slis,
        custom: Vec::new(),
        custom_runbooks: Vec::new(),
        left_out: Vec::new(),
    }
}

/// What a family of classic alerts is about: a metric base's functions,
/// or the HTTP server's routes.
struct Classic<'a> {
    /// The alerts' names: error ratio, p95, p99.
    names: [&'static str; 3],
    /// The labels each alert is computed per.
    by: &'a str,
    source: Source,
    /// Rule labels beside `severity`.
    labels: Vec<(&'static str, String)>,
    /// Who the alert is about, as the annotations say it.
    who: &'static str,
    /// Who, at more length, for the descriptions.
    who_long: &'static str,
    /// What is counted: "calls", "requests".
    events: &'static str,
    /// What counts as failed, for the error ratio's description.
    failed: &'static str,
}

impl Classic<'_> {
    fn alerts(&self, options: &ExportOptions) -> Vec<Alert> {
        let Self {
            by,
            who,
            who_long,
            events,
            ..
        } = *self;
        let counted = self.source.counted();
        let duration = self.source.duration();
        let bucket = format!("{duration}_bucket");
        let (bad, ok) = (self.source.failed(), self.source.not_cancelled());
        let min = options.min_events;
        let traffic = format!("sum by ({by}) (increase({counted}{{{ok}}}[5m])) >= {min}");
        let labels = |labels: &[(&'static str, String)]| {
            let mut all = vec![("severity", "warning".to_owned())];
            all.extend(labels.iter().cloned());
            all
        };
        let [error_name, p95_name, p99_name] = self.names;
        let mut out = vec![Alert {
            name: error_name.into(),
            expr: format!(
                "(\n  sum by ({by}) (rate({counted}{{{bad}}}[5m]))\n  /\n  (sum by ({by}) (rate({counted}{{{ok}}}[5m])) > 0)\n) > {}\nand on ({by})\n{traffic}",
                decimal(u64::from(options.error_ratio_percent), 2)
            ),
            for_: "5m".into(),
            labels: labels(&self.labels),
            summary: format!(
                "{who} fails more than {}% of its {events}",
                options.error_ratio_percent
            ),
            description: format!(
                "{who_long} {} on more than {}% of its {events} over 5 minutes ({counted}).",
                self.failed, options.error_ratio_percent
            ),
            runbook: options.runbook(&format!("alert-{}", error_name.to_ascii_lowercase())),
        }];
        for (name, q, limit) in [
            (p95_name, "0.95", options.p95_seconds.as_str()),
            (p99_name, "0.99", options.p99_seconds.as_str()),
        ] {
            let percentile = q.trim_start_matches("0.");
            out.push(Alert {
                name: name.into(),
                expr: format!(
                    "histogram_quantile({q}, sum by (le, {by}) (rate({bucket}{{{ok}}}[5m]))) > {limit}\nand on ({by})\n{traffic}"
                ),
                for_: "5m".into(),
                labels: labels(&self.labels),
                summary: format!("{who}: p{percentile} latency above {limit}s"),
                description: format!(
                    "The {q} quantile of {duration} for {who_long} stayed above {limit}s for 5 minutes."
                ),
                runbook: options.runbook(&format!("alert-{}", name.to_ascii_lowercase())),
            });
        }
        out
    }
}

/// The seeds' classic alerts.
fn classic(catalog: &Catalog, options: &ExportOptions) -> Vec<Group> {
    let mut functions = Group {
        name: "obs-functions".to_owned(),
        records: Vec::new(),
        alerts: Vec::new(),
    };
    for base in catalog.bases() {
        let Some(f) = catalog.functions().iter().find(|f| f.base == base) else {
            continue;
        };
        let classic = Classic {
            names: [
                "ObsHighErrorRatio",
                "ObsHighLatencyP95",
                "ObsHighLatencyP99",
            ],
            by: "job, function, module",
            source: Source::Function(f.clone()),
            labels: vec![("metric", base.to_owned())],
            who: "{{ $labels.function }}",
            who_long: "{{ $labels.function }} ({{ $labels.module }})",
            events: "calls",
            failed: "returned errors or panicked",
        };
        functions.alerts.extend(classic.alerts(options));
    }
    let mut groups = vec![functions];
    let sets = metric_set_group(catalog, options);
    if !sets.alerts.is_empty() {
        groups.push(sets);
    }
    if catalog.metric(REQUESTS).is_some() {
        let classic = Classic {
            names: [
                "ObsHttpHighErrorRatio",
                "ObsHttpHighLatencyP95",
                "ObsHttpHighLatencyP99",
            ],
            by: "job, http_route",
            source: Source::AllRoutes { except: Vec::new() },
            labels: Vec::new(),
            who: "{{ $labels.http_route }}",
            who_long: "route {{ $labels.http_route }} of {{ $labels.job }}",
            events: "requests",
            failed: "answered with a 5xx status or failed without an answer",
        };
        groups.push(Group {
            name: "obs-http".to_owned(),
            records: Vec::new(),
            alerts: classic.alerts(options),
        });
    }
    groups.push(process_group(catalog, options));
    groups
}

/// The names of the metric-set latency alerts: p95, p99.
pub(crate) const METRIC_SET_LATENCY: [&str; 2] =
    ["ObsMetricSetLatencyP95", "ObsMetricSetLatencyP99"];

/// The labels a metric set histogram's alerts are computed per: `job` and
/// the histogram's own.
pub(crate) fn metric_set_by(m: &MetricInfo) -> String {
    std::iter::once("job")
        .chain(m.labels.iter().map(|l| l.name.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The metric sets' classic alerts: the p95 and p99 latency of every
/// histogram in seconds, with the same thresholds and traffic minimum as
/// functions'. Counters and gauges of a set mean what the program says
/// they mean, so no generic alert is made for them.
fn metric_set_group(catalog: &Catalog, options: &ExportOptions) -> Group {
    let mut group = Group {
        name: "obs-metric-sets".to_owned(),
        records: Vec::new(),
        alerts: Vec::new(),
    };
    for (set, members) in catalog.metric_sets() {
        for m in members {
            if m.kind != MetricKind::Histogram || m.unit != MetricUnit::Seconds {
                continue;
            }
            let name = &m.name;
            let by = metric_set_by(m);
            let min = options.min_events;
            let traffic = format!("sum by ({by}) (increase({name}_count[5m])) >= {min}");
            for (alert, q, limit) in [
                (METRIC_SET_LATENCY[0], "0.95", options.p95_seconds.as_str()),
                (METRIC_SET_LATENCY[1], "0.99", options.p99_seconds.as_str()),
            ] {
                let percentile = q.trim_start_matches("0.");
                group.alerts.push(Alert {
                    name: alert.into(),
                    expr: format!(
                        "histogram_quantile({q}, sum by (le, {by}) (rate({name}_bucket[5m]))) > {limit}\nand on ({by})\n{traffic}"
                    ),
                    for_: "5m".into(),
                    labels: vec![("severity", "warning".to_owned()), ("metric", name.clone())],
                    summary: format!("{name}: p{percentile} above {limit}s"),
                    description: format!(
                        "The {q} quantile of {name} (metric set {set}) stayed above {limit}s for 5 minutes."
                    ),
                    runbook: options.runbook(&format!("alert-{}", alert.to_ascii_lowercase())),
                });
            }
        }
    }
    group
}

/// The process's alerts: target down, failing checks, drops and panics.
fn process_group(catalog: &Catalog, options: &ExportOptions) -> Group {
    let mut process = Group {
        name: "obs-process".to_owned(),
        records: Vec::new(),
        alerts: Vec::new(),
    };
    process.alerts.push(Alert {
        name: "ObsTargetDown".into(),
        expr: format!("up{{job=\"{}\"}} == 0", escape(&options.job)),
        for_: "1m".into(),
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
            name: "ObsHealthCheckFailing".into(),
            expr: format!("health_check_status{{check=\"{}\"}} < 1", escape(check.name)),
            for_: "2m".into(),
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
        (
            "ObsTelemetryDroppedMetricPoints",
            "obs_telemetry_dropped_metric_points_total",
            "OTLP metric pushes failed: points were dropped",
        ),
        ("ObsPanics", "obs_panics_total", "the service panicked"),
    ] {
        process.alerts.push(Alert {
            name: name.into(),
            expr: format!("increase({metric}[10m]) > 0"),
            for_: "".into(),
            labels: vec![("severity", "warning".to_owned())],
            summary: format!("{{{{ $labels.instance }}}}: {summary}"),
            description: format!("{metric} grew in the last 10 minutes."),
            runbook: options.runbook(&format!("alert-{}", name.to_ascii_lowercase())),
        });
    }
    process
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_literally_in_regexes() {
        // PromQL string content: `\\{` is the regex `\{`, a literal brace.
        assert_eq!(regex_literal("/users/{id}"), "/users/\\\\{id\\\\}");
        assert_eq!(regex_literal("/a.b|c"), "/a\\\\.b\\\\|c");
        let all = Source::AllRoutes {
            except: vec!["/users/{id}".to_owned()],
        };
        assert_eq!(
            all.matchers(),
            "http_route!~\"/users/\\\\{id\\\\}|unmatched\""
        );
        assert_eq!(all.by(), "job, http_route");
        assert_eq!(Source::Route("/x".to_owned()).by(), "job");
    }

    #[test]
    fn a_route_sli_counts_5xx_and_failures_as_bad_and_leaves_cancelled_out() {
        let route = Source::Route("/users/{id}".to_owned());
        let slis = route.slis(Objective::new().success(999_000).latency(250, 990_000));
        let [success, latency] = slis.as_slice() else {
            panic!("two SLIs");
        };
        assert_eq!(
            success.bad.as_deref(),
            Some(
                "http_server_request_duration_seconds_count{http_route=\"/users/{id}\",error_type=~\"5..|_OTHER\"}"
            )
        );
        assert!(success.total.contains("error_type!=\"cancelled\""));
        let good = latency.good.as_deref().unwrap_or_default();
        assert!(
            good.contains("_bucket{") && good.contains("le=~\"0\\\\.25\""),
            "{good}"
        );
        // Grouped by job: a missing bad series reads 0, not absent.
        let ratio = success.ratio("5m");
        assert!(ratio.starts_with("(sum by (job) (rate("), "{ratio}");
        assert!(ratio.contains(" or 0 * sum by (job) "), "{ratio}");
        assert!(ratio.ends_with("[5m])) > 0)"), "{ratio}");
    }
}
