//! A `promtool test rules` file for the generated rules: for every alert a
//! case where synthetic series breach it and it fires, with its exact
//! labels and annotations, and cases where healthy series and low traffic
//! stay silent. Latency objectives at a whole-second bound are tested with
//! both spellings of `le` (`1` of Prometheus 2, `1.0` of Prometheus 3).
//!
//! Debian's promtool (2.42) compares sample values exactly and knows no
//! `fuzzy_compare`, so the cases assert alerts, not ratios.

use std::fmt::Write as _;

use super::ExportOptions;
use super::decimal::bound;
use super::rules::{
    Alert, METRIC_SET_LATENCY, REQUESTS, Rules, SliRules, Source, matchers, metric_set_by, quoted,
};
use crate::leaves::schema::HTTP;
use crate::subsystems::catalog::{Catalog, FunctionInfo, MetricInfo};

/// One input series: its selector and its values in promtool's notation.
struct Series(String, String);

/// One test group.
struct Case {
    name: String,
    series: Vec<Series>,
    eval: &'static str,
    alertname: &'static str,
    /// `None`: the alert must stay silent.
    fires: Option<Vec<(String, String)>>,
    alert: Option<Alert>,
}

/// `{{ $labels.x }}` replaced by the series' value, as Prometheus renders
/// the annotation.
fn render(template: &str, labels: &[(String, String)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in labels {
        out = out.replace(&format!("{{{{ $labels.{k} }}}}"), v);
    }
    out
}

fn function_labels(f: &FunctionInfo) -> Vec<(String, String)> {
    let mut labels = vec![
        ("function".to_owned(), f.function.to_owned()),
        ("module".to_owned(), f.module.to_owned()),
    ];
    for (k, v) in &f.labels {
        labels.push(((*k).to_owned(), (*v).to_owned()));
    }
    labels
}

/// A route the default route objective covers, for its cases.
const SAMPLE_ROUTE: &str = "/rule-test/{id}";

/// Concrete input series of a source: the labels of its series in the
/// test, the matchers of a good and of a bad event, and the labels a
/// firing objective alert has beside `severity`, `slo` and `sli`.
struct Events {
    labels: String,
    good: &'static str,
    bad: &'static str,
    alert_labels: Vec<(String, String)>,
}

impl Events {
    fn of(source: &Source, options: &ExportOptions) -> Self {
        let job = format!("job=\"{}\",instance=\"localhost:8080\"", options.job);
        let alert_job = ("job".to_owned(), options.job.clone());
        let route = |route: &str| Self {
            labels: format!("{job},http_route=\"{route}\",http_request_method=\"GET\""),
            good: "http_response_status_code=\"200\"",
            bad: "http_response_status_code=\"500\",error_type=\"500\"",
            alert_labels: vec![alert_job.clone()],
        };
        match source {
            Source::Function(f) => Self {
                labels: format!("{job},{}", matchers(f)),
                good: "result=\"ok\"",
                bad: "result=\"error\"",
                alert_labels: vec![alert_job.clone()],
            },
            Source::Route(r) => route(r),
            Source::AllRoutes { .. } => {
                let mut events = route(SAMPLE_ROUTE);
                events
                    .alert_labels
                    .push(("http_route".to_owned(), SAMPLE_ROUTE.to_owned()));
                events
            }
        }
    }

    /// A good or bad event's series of the source's counter.
    fn counted(&self, source: &Source, bad: bool) -> String {
        let outcome = if bad { self.bad } else { self.good };
        format!("{}{{{},{outcome}}}", source.counted(), self.labels)
    }

    /// The good events' count of the duration histogram.
    fn count(&self, source: &Source) -> String {
        format!(
            "{}_count{{{},{}}}",
            source.duration(),
            self.labels,
            self.good
        )
    }

    /// The good or bad events in the duration histogram's bucket `le`.
    fn within(&self, source: &Source, bad: bool, le: &str) -> String {
        let outcome = if bad { self.bad } else { self.good };
        format!(
            "{}_bucket{{{},{outcome},le=\"{le}\"}}",
            source.duration(),
            self.labels
        )
    }
}

fn slo_cases(s: &SliRules, options: &ExportOptions, cases: &mut Vec<Case>) {
    let source = &s.slo.source;
    let events = Events::of(source, options);
    let alert_labels = |severity: &str| {
        let mut labels = vec![
            ("severity".to_owned(), severity.to_owned()),
            ("sli".to_owned(), s.sli.name.to_owned()),
            ("slo".to_owned(), s.slo.name.clone()),
        ];
        labels.extend(events.alert_labels.iter().cloned());
        labels
    };
    let labels = alert_labels("critical");
    let slow_labels = alert_labels("warning");
    let who = format!("{} {}", s.slo.name, s.sli.name);
    if s.sli.name == "success" {
        // A route's requests count toward its latency SLI too: all within
        // the bound, so only the success SLI can burn.
        let fast = match (source, s.latency_ms) {
            (Source::Function(_), _) | (_, None) => None,
            #[allow(clippy::cast_precision_loss)] // milliseconds fit in 52 bits
            (_, Some(ms)) => Some(bound(ms as f64 / 1_000.0)),
        };
        let series = |ok: &str, error: &str| {
            let mut out = vec![
                Series(events.counted(source, false), ok.to_owned()),
                Series(events.counted(source, true), error.to_owned()),
            ];
            if let Some(le) = &fast {
                out.push(Series(events.within(source, false, le), ok.to_owned()));
                out.push(Series(events.within(source, true, le), error.to_owned()));
            }
            out
        };
        // Half the calls fail: both burn rates are breached.
        cases.push(Case {
            name: format!("{who}: a fast burn pages"),
            series: series("0+60x240", "0+60x240"),
            eval: "70m",
            alertname: "ObsSloFastBurn",
            fires: Some(labels.clone()),
            alert: Some(s.fast.clone()),
        });
        cases.push(Case {
            name: format!("{who}: a slow burn opens a ticket"),
            series: series("0+60x240", "0+60x240"),
            eval: "3h",
            alertname: "ObsSloSlowBurn",
            fires: Some(slow_labels),
            alert: Some(s.slow.clone()),
        });
        for alertname in ["ObsSloFastBurn", "ObsSloSlowBurn"] {
            cases.push(Case {
                name: format!("{who}: healthy traffic is silent ({alertname})"),
                series: series("0+60x240", "0x240"),
                eval: "3h",
                alertname,
                fires: None,
                alert: None,
            });
            // One failed call in a quiet hour: a 100 % error ratio, but
            // below the traffic minimum.
            cases.push(Case {
                name: format!("{who}: one error at low traffic is silent ({alertname})"),
                series: series("0x240", "0x30 1x209"),
                eval: "40m",
                alertname,
                fires: None,
                alert: None,
            });
        }
    } else {
        let Some(ms) = s.latency_ms else { return };
        #[allow(clippy::cast_precision_loss)] // milliseconds fit in 52 bits
        let le = bound(ms as f64 / 1_000.0);
        let mut spellings = vec![le.clone()];
        if !le.contains('.') {
            spellings.push(format!("{le}.0"));
        }
        let count = events.count(source);
        for spelling in spellings {
            let within = events.within(source, false, &spelling);
            cases.push(Case {
                name: format!("{who}: a latency burn pages (le={spelling})"),
                series: vec![
                    Series(within.clone(), "0+30x240".to_owned()),
                    Series(count.clone(), "0+60x240".to_owned()),
                ],
                eval: "70m",
                alertname: "ObsSloFastBurn",
                fires: Some(labels.clone()),
                alert: Some(s.fast.clone()),
            });
            cases.push(Case {
                name: format!("{who}: fast calls are silent (le={spelling})"),
                series: vec![
                    Series(within, "0+60x240".to_owned()),
                    Series(count.clone(), "0+60x240".to_owned()),
                ],
                eval: "70m",
                alertname: "ObsSloFastBurn",
                fires: None,
                alert: None,
            });
        }
    }
}

/// The classic alerts of one subject (a metric base, the HTTP routes):
/// its error ratio warns at 10 % and is silent at 2 %, and its p99 warns
/// when every event is slower than 2 s.
struct Classic<'a> {
    who: String,
    source: Source,
    events: Events,
    buckets: &'a [f64],
    /// The error ratio and p99 alerts, with their names.
    error: Option<(&'static str, &'a Alert)>,
    p99: Option<(&'static str, &'a Alert)>,
    /// The labels the alerts fire with.
    labels: Vec<(String, String)>,
}

impl Classic<'_> {
    fn cases(&self, cases: &mut Vec<Case>) {
        let who = &self.who;
        let ok = self.events.counted(&self.source, false);
        let error = self.events.counted(&self.source, true);
        if let Some((alertname, alert)) = self.error {
            cases.push(Case {
                name: format!("{who}: an error ratio of 10% warns"),
                series: vec![
                    Series(ok.clone(), "0+54x30".to_owned()),
                    Series(error.clone(), "0+6x30".to_owned()),
                ],
                eval: "15m",
                alertname,
                fires: Some(self.labels.clone()),
                alert: Some(alert.clone()),
            });
            cases.push(Case {
                name: format!("{who}: an error ratio of 2% is silent"),
                series: vec![
                    Series(ok.clone(), "0+49x30".to_owned()),
                    Series(error, "0+1x30".to_owned()),
                ],
                eval: "15m",
                alertname,
                fires: None,
                alert: None,
            });
        }
        // Every observation in the first bucket above 2 s: both quantiles
        // breach their limits.
        let slow_from = self.buckets.iter().position(|b| *b > 2.0);
        if let (Some(from), Some((alertname, alert))) = (slow_from, self.p99) {
            let mut series = Vec::new();
            for (i, b) in self.buckets.iter().enumerate() {
                let growth = if i >= from { "0+60x30" } else { "0x30" };
                series.push(Series(
                    self.events.within(&self.source, false, &bound(*b)),
                    growth.to_owned(),
                ));
            }
            series.push(Series(
                self.events.within(&self.source, false, "+Inf"),
                "0+60x30".to_owned(),
            ));
            series.push(Series(
                self.events.count(&self.source),
                "0+60x30".to_owned(),
            ));
            // A function's traffic is read from its calls counter; a
            // route's from the count above.
            if let Source::Function(_) = self.source {
                series.push(Series(ok, "0+60x30".to_owned()));
            }
            cases.push(Case {
                name: format!("{who}: events slower than 2s warn (p99)"),
                series,
                eval: "15m",
                alertname,
                fires: Some(self.labels.clone()),
                alert: Some(alert.clone()),
            });
        }
    }
}

fn classic_cases(rules: &Rules, catalog: &Catalog, options: &ExportOptions, cases: &mut Vec<Case>) {
    for base in catalog.bases() {
        let Some(f) = catalog.functions().iter().find(|f| f.base == base) else {
            continue;
        };
        let mut labels = function_labels(f);
        labels.retain(|(k, _)| k == "function" || k == "module");
        labels.push(("job".to_owned(), options.job.clone()));
        labels.push(("metric".to_owned(), base.to_owned()));
        labels.push(("severity".to_owned(), "warning".to_owned()));
        let source = Source::Function(f.clone());
        let find = |name| rules.alert(name, ("metric", base)).map(|a| (name, a));
        Classic {
            who: base.to_owned(),
            events: Events::of(&source, options),
            source,
            buckets: f.buckets,
            error: find("ObsHighErrorRatio"),
            p99: find("ObsHighLatencyP99"),
            labels,
        }
        .cases(cases);
    }
    metric_set_cases(rules, catalog, options, cases);
    if catalog.metric(REQUESTS).is_some() {
        let source = Source::Route(SAMPLE_ROUTE.to_owned());
        let find = |name| {
            rules
                .alert(name, ("severity", "warning"))
                .map(|a| (name, a))
        };
        Classic {
            who: format!("http route {SAMPLE_ROUTE}"),
            events: Events::of(&source, options),
            source,
            buckets: HTTP,
            error: find("ObsHttpHighErrorRatio"),
            p99: find("ObsHttpHighLatencyP99"),
            labels: vec![
                ("http_route".to_owned(), SAMPLE_ROUTE.to_owned()),
                ("job".to_owned(), options.job.clone()),
                ("severity".to_owned(), "warning".to_owned()),
            ],
        }
        .cases(cases);
    }
    process_cases(rules, catalog, options, cases);
}

/// The latency alerts of metric-set histograms: observations above 2 s
/// warn (p95 and p99), fast ones and slow ones at low traffic are silent.
fn metric_set_cases(
    rules: &Rules,
    catalog: &Catalog,
    options: &ExportOptions,
    cases: &mut Vec<Case>,
) {
    for (set, members) in catalog.metric_sets() {
        for m in members {
            histogram_cases(rules, set, m, options, cases);
        }
    }
}

/// The cases of one metric-set histogram (none unless it has bounds above
/// 2 s, as the seconds histograms the alerts are made for do).
fn histogram_cases(
    rules: &Rules,
    set: &str,
    m: &MetricInfo,
    options: &ExportOptions,
    cases: &mut Vec<Case>,
) {
    let Some(slow_from) = m.buckets.iter().position(|b| *b > 2.0) else {
        return;
    };
    // One series of the histogram: its labels at their first known
    // value, under the exported job.
    let mut labels = vec![("job".to_owned(), options.job.clone())];
    for l in &m.labels {
        let value = l
            .values
            .as_ref()
            .and_then(|v| v.first())
            .copied()
            .unwrap_or("x");
        labels.push((l.name.clone(), value.to_owned()));
    }
    debug_assert_eq!(
        metric_set_by(m),
        labels
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let selector = |extra: Option<(&str, &str)>| {
        let all: Vec<String> = labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(extra)
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        all.join(",")
    };
    // Every observation in the buckets from `from` up, growing by
    // `per_minute`.
    let histogram = |from: usize, per_minute: u32| {
        let growth = format!("0+{per_minute}x30");
        let mut series: Vec<Series> = m
            .buckets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                Series(
                    format!(
                        "{}_bucket{{{}}}",
                        m.name,
                        selector(Some(("le", &bound(*b))))
                    ),
                    if i >= from {
                        growth.clone()
                    } else {
                        "0x30".to_owned()
                    },
                )
            })
            .collect();
        series.push(Series(
            format!("{}_bucket{{{}}}", m.name, selector(Some(("le", "+Inf")))),
            growth.clone(),
        ));
        series.push(Series(
            format!("{}_count{{{}}}", m.name, selector(None)),
            growth,
        ));
        series
    };
    let mut fired = labels.clone();
    fired.push(("metric".to_owned(), m.name.clone()));
    fired.push(("severity".to_owned(), "warning".to_owned()));
    fired.sort();
    for alertname in METRIC_SET_LATENCY {
        let Some(alert) = rules.alert(alertname, ("metric", &m.name)) else {
            continue;
        };
        let who = format!("{} ({set})", m.name);
        cases.push(Case {
            name: format!("{who}: observations slower than 2s warn ({alertname})"),
            series: histogram(slow_from, 60),
            eval: "15m",
            alertname,
            fires: Some(fired.clone()),
            alert: Some(alert.clone()),
        });
        cases.push(Case {
            name: format!("{who}: fast observations are silent ({alertname})"),
            series: histogram(0, 60),
            eval: "15m",
            alertname,
            fires: None,
            alert: None,
        });
        // Five slow observations in 5 minutes: below the minimum
        // (when it is above five).
        if options.min_events <= 5 {
            continue;
        }
        cases.push(Case {
            name: format!("{who}: slow but rare observations are silent ({alertname})"),
            series: histogram(slow_from, 1),
            eval: "15m",
            alertname,
            fires: None,
            alert: None,
        });
    }
}

/// Failing checks, the target down and panics.
fn process_cases(rules: &Rules, catalog: &Catalog, options: &ExportOptions, cases: &mut Vec<Case>) {
    for check in catalog.checks() {
        let selector = format!("check=\"{}\"", check.name);
        let Some(alert) = rules
            .groups
            .iter()
            .flat_map(|g| g.alerts.iter())
            .find(|a| a.name == "ObsHealthCheckFailing" && a.expr.contains(&selector))
        else {
            continue;
        };
        let severity = if check.critical {
            "critical"
        } else {
            "warning"
        };
        cases.push(Case {
            name: format!("health check {} failing for 2m fires", check.name),
            series: vec![Series(
                format!(
                    "health_check_status{{check=\"{}\",kind=\"{}\"}}",
                    check.name,
                    check.kind.as_str()
                ),
                "0x10".to_owned(),
            )],
            eval: "5m",
            alertname: "ObsHealthCheckFailing",
            fires: Some(vec![
                ("check".to_owned(), check.name.to_owned()),
                ("kind".to_owned(), check.kind.as_str().to_owned()),
                ("severity".to_owned(), severity.to_owned()),
            ]),
            alert: Some(alert.clone()),
        });
    }
    let instance = "localhost:8080".to_owned();
    if let Some(alert) = rules.alert("ObsTargetDown", ("severity", "critical")) {
        cases.push(Case {
            name: "the target down for a minute pages".to_owned(),
            series: vec![Series(
                format!("up{{job=\"{}\",instance=\"{instance}\"}}", options.job),
                "0x5".to_owned(),
            )],
            eval: "3m",
            alertname: "ObsTargetDown",
            fires: Some(vec![
                ("instance".to_owned(), instance.clone()),
                ("job".to_owned(), options.job.clone()),
                ("severity".to_owned(), "critical".to_owned()),
            ]),
            alert: Some(alert.clone()),
        });
        cases.push(Case {
            name: "a target that is up is silent".to_owned(),
            series: vec![Series(
                format!("up{{job=\"{}\",instance=\"{instance}\"}}", options.job),
                "1x5".to_owned(),
            )],
            eval: "3m",
            alertname: "ObsTargetDown",
            fires: None,
            alert: None,
        });
    }
    if let Some(alert) = rules.alert("ObsPanics", ("severity", "warning")) {
        cases.push(Case {
            name: "a panic warns".to_owned(),
            series: vec![Series(
                format!(
                    "obs_panics_total{{job=\"{}\",instance=\"{instance}\"}}",
                    options.job
                ),
                "0 0 1 1 1".to_owned(),
            )],
            eval: "3m",
            alertname: "ObsPanics",
            fires: Some(vec![
                ("instance".to_owned(), instance.clone()),
                ("job".to_owned(), options.job.clone()),
                ("severity".to_owned(), "warning".to_owned()),
            ]),
            alert: Some(alert.clone()),
        });
    }
}

/// The test file for `rules`, which must be saved as `rules_file` beside it.
pub(crate) fn write(
    rules: &Rules,
    catalog: &Catalog,
    options: &ExportOptions,
    rules_file: &str,
) -> String {
    let mut cases = Vec::new();
    for s in &rules.slis {
        slo_cases(s, options, &mut cases);
    }
    classic_cases(rules, catalog, options, &mut cases);
    let mut out = format!(
        "# Generated by obs: promtool test rules for {rules_file}; do not edit.\nrule_files:\n  - {rules_file}\nevaluation_interval: 1m\ntests:\n"
    );
    for case in &cases {
        let _ = writeln!(out, "  - name: {}", quoted(&case.name));
        let _ = writeln!(out, "    interval: 1m");
        let _ = writeln!(out, "    input_series:");
        for Series(series, values) in &case.series {
            let _ = writeln!(out, "      - series: {}", quoted(series));
            let _ = writeln!(out, "        values: {}", quoted(values));
        }
        let _ = writeln!(out, "    alert_rule_test:");
        let _ = writeln!(out, "      - eval_time: {}", case.eval);
        let _ = writeln!(out, "        alertname: {}", case.alertname);
        match (&case.fires, &case.alert) {
            (Some(labels), Some(alert)) => {
                let _ = writeln!(out, "        exp_alerts:");
                let _ = writeln!(out, "          - exp_labels:");
                for (k, v) in labels {
                    let _ = writeln!(out, "              {k}: {}", quoted(v));
                }
                let _ = writeln!(out, "            exp_annotations:");
                for (k, v) in alert.annotations() {
                    let _ = writeln!(out, "              {k}: {}", quoted(&render(v, labels)));
                }
            }
            _ => {
                let _ = writeln!(out, "        exp_alerts: []");
            }
        }
    }
    out
}
