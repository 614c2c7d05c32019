//! A `promtool test rules` file for the generated rules: for every alert a
//! case where synthetic series breach it and it fires, with its exact
//! labels and annotations, and cases where healthy series and low traffic
//! stay silent. Latency objectives at a whole-second bound are tested with
//! both spellings of `le` (`1` of Prometheus 2, `1.0` of Prometheus 3).
//!
//! Debian's promtool (2.42) compares sample values exactly and knows no
//! `fuzzy_compare`, so the cases assert alerts, not ratios.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::ExportOptions;
use super::decimal::bound;
use super::rules::{
    Alert, METRIC_SET_LATENCY, REQUESTS, Rules, SliRules, Source, matchers, metric_set_by, quoted,
};
use crate::leaves::schema::HTTP;
use crate::subsystems::catalog::{Catalog, FunctionInfo, MetricInfo};

/// One input series: its selector and its values in promtool's notation.
pub(super) struct Series(pub(super) String, pub(super) String);

/// One test group.
pub(super) struct Case {
    pub(super) name: String,
    pub(super) series: Vec<Series>,
    pub(super) eval: String,
    pub(super) alertname: Cow<'static, str>,
    /// `None`: the alert must stay silent.
    pub(super) fires: Option<Vec<(String, String)>>,
    pub(super) alert: Option<Alert>,
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
            eval: "70m".into(),
            alertname: "ObsSloFastBurn".into(),
            fires: Some(labels.clone()),
            alert: Some(s.fast.clone()),
        });
        cases.push(Case {
            name: format!("{who}: a slow burn opens a ticket"),
            series: series("0+60x240", "0+60x240"),
            eval: "3h".into(),
            alertname: "ObsSloSlowBurn".into(),
            fires: Some(slow_labels),
            alert: Some(s.slow.clone()),
        });
        for alertname in ["ObsSloFastBurn", "ObsSloSlowBurn"] {
            cases.push(Case {
                name: format!("{who}: healthy traffic is silent ({alertname})"),
                series: series("0+60x240", "0x240"),
                eval: "3h".into(),
                alertname: alertname.into(),
                fires: None,
                alert: None,
            });
            // One failed call in a quiet hour: a 100 % error ratio, but
            // below the traffic minimum.
            cases.push(Case {
                name: format!("{who}: one error at low traffic is silent ({alertname})"),
                series: series("0x240", "0x30 1x209"),
                eval: "40m".into(),
                alertname: alertname.into(),
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
                eval: "70m".into(),
                alertname: "ObsSloFastBurn".into(),
                fires: Some(labels.clone()),
                alert: Some(s.fast.clone()),
            });
            cases.push(Case {
                name: format!("{who}: fast calls are silent (le={spelling})"),
                series: vec![
                    Series(within, "0+60x240".to_owned()),
                    Series(count.clone(), "0+60x240".to_owned()),
                ],
                eval: "70m".into(),
                alertname: "ObsSloFastBurn".into(),
                fires: None,
                alert: None,
            });
        }
    }
}

/// The classic alerts of one subject (a metric base, the HTTP routes):
/// its error ratio warns at about twice the limit and is silent at half of
/// it, and each quantile alert warns when every event is slower than its
/// limit.
struct Classic<'a> {
    who: String,
    source: Source,
    events: Events,
    buckets: &'a [f64],
    /// The error ratio, p95 and p99 alerts, with their names.
    error: Option<(&'static str, &'a Alert)>,
    p95: Option<(&'static str, &'a Alert)>,
    p99: Option<(&'static str, &'a Alert)>,
    /// The error ratio limit in percent, the p95 and p99 limits in seconds.
    error_percent: u32,
    limits: [f64; 2],
    /// The labels the alerts fire with.
    labels: Vec<(String, String)>,
}

impl Classic<'_> {
    fn cases(&self, cases: &mut Vec<Case>) {
        let who = &self.who;
        let ok = self.events.counted(&self.source, false);
        let error = self.events.counted(&self.source, true);
        if let Some((alertname, alert)) = self.error {
            // Out of 200 events a minute: 4 × the limit's percent (capped
            // half-way to 100 %) is twice the limit; the percent itself is
            // half of it. Both are far above the traffic minimum.
            let p = self.error_percent.min(100);
            let breach = (4 * p).min(p + 100).min(200);
            let calm = p;
            for (bad, fires) in [(breach, true), (calm, false)] {
                let percent = f64::from(bad) / 2.0;
                cases.push(Case {
                    name: if fires {
                        format!("{who}: an error ratio of {percent}% warns")
                    } else {
                        format!("{who}: an error ratio of {percent}% is silent")
                    },
                    series: vec![
                        Series(ok.clone(), format!("0+{}x30", 200 - bad)),
                        Series(error.clone(), format!("0+{bad}x30")),
                    ],
                    eval: "15m".into(),
                    alertname: alertname.into(),
                    fires: fires.then(|| self.labels.clone()),
                    alert: fires.then(|| alert.clone()),
                });
            }
        }
        for (quantile, found, limit) in [
            ("p95", self.p95, self.limits[0]),
            ("p99", self.p99, self.limits[1]),
        ] {
            let Some((alertname, alert)) = found else {
                continue;
            };
            // Every observation in the first bucket above the limit: the
            // quantile breaches it. No such bucket: the alert can't fire,
            // and has no case.
            let Some(from) = first_above(self.buckets, limit) else {
                continue;
            };
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
                series.push(Series(ok.clone(), "0+60x30".to_owned()));
            }
            cases.push(Case {
                name: format!("{who}: events slower than {limit}s warn ({quantile})"),
                series,
                eval: "15m".into(),
                alertname: alertname.into(),
                fires: Some(self.labels.clone()),
                alert: Some(alert.clone()),
            });
        }
    }
}

/// The first bound above `limit`: where every observation breaches it.
fn first_above(buckets: &[f64], limit: f64) -> Option<usize> {
    buckets.iter().position(|b| *b > limit)
}

/// The p95 and p99 limits of the options, in seconds.
fn latency_limits(options: &ExportOptions) -> [f64; 2] {
    [
        options.p95_seconds.parse().unwrap_or(f64::MAX),
        options.p99_seconds.parse().unwrap_or(f64::MAX),
    ]
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
            p95: find("ObsHighLatencyP95"),
            p99: find("ObsHighLatencyP99"),
            error_percent: options.error_ratio_percent,
            limits: latency_limits(options),
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
            p95: find("ObsHttpHighLatencyP95"),
            p99: find("ObsHttpHighLatencyP99"),
            error_percent: options.error_ratio_percent,
            limits: latency_limits(options),
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

/// One series of a metric-set histogram: its labels at their first known
/// value, under the exported job.
fn series_labels(m: &MetricInfo, options: &ExportOptions) -> Vec<(String, String)> {
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
    labels
}

/// The cases of one metric-set histogram, per latency alert the rules
/// have for it (see `rules::latency_alert_can_tell`): slow observations
/// warn, fast ones and rare slow ones are silent.
fn histogram_cases(
    rules: &Rules,
    set: &str,
    m: &MetricInfo,
    options: &ExportOptions,
    cases: &mut Vec<Case>,
) {
    let Some(limits) = options.limits_of(&m.name) else {
        return;
    };
    let labels = series_labels(m, options);
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
    fired.extend(
        [
            ("metric", m.name.clone()),
            ("severity", "warning".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    fired.sort();
    for (alertname, limit) in METRIC_SET_LATENCY.into_iter().zip(limits) {
        let Some(alert) = rules.alert(alertname, ("metric", &m.name)) else {
            continue;
        };
        // The rules leave the alert out unless a bound is above the limit.
        let Some(slow_from) = first_above(&m.buckets, limit.parse().unwrap_or(f64::MAX)) else {
            continue;
        };
        let who = format!("{} ({set})", m.name);
        cases.push(Case {
            name: format!("{who}: observations slower than {limit}s warn ({alertname})"),
            series: histogram(slow_from, 60),
            eval: "15m".into(),
            alertname: alertname.into(),
            fires: Some(fired.clone()),
            alert: Some(alert.clone()),
        });
        cases.push(Case {
            name: format!("{who}: fast observations are silent ({alertname})"),
            series: histogram(0, 60),
            eval: "15m".into(),
            alertname: alertname.into(),
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
            eval: "15m".into(),
            alertname: alertname.into(),
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
            eval: "5m".into(),
            alertname: "ObsHealthCheckFailing".into(),
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
            eval: "3m".into(),
            alertname: "ObsTargetDown".into(),
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
            eval: "3m".into(),
            alertname: "ObsTargetDown".into(),
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
            eval: "3m".into(),
            alertname: "ObsPanics".into(),
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
    work_cases(rules, catalog, options, &mut cases);
    cases.extend(super::custom::cases(&rules.custom, options));
    let mut out =
        format!("# Generated by obs: promtool test rules for {rules_file}; do not edit.\n");
    rules.comment_left_out(&mut out);
    let _ = write!(
        out,
        "rule_files:\n  - {rules_file}\nevaluation_interval: 1m\ntests:\n"
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

/// `name{k="v",…}`.
fn sel(name: &str, labels: &[(&str, &str)]) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

/// Labels as an alert fires with them: owned, sorted.
fn fired(labels: &[(&str, &str)], severity: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    out.push(("severity".to_owned(), severity.to_owned()));
    out.sort();
    out
}

/// The cases of the work alerts (outbound calls, jobs, pools, Redis,
/// batch), each when its alert was made. Ratios are set from the options'
/// thresholds: twice the limit fires, half of it is silent.
fn work_cases(rules: &Rules, catalog: &Catalog, options: &ExportOptions, cases: &mut Vec<Case>) {
    let work = Work {
        rules,
        catalog,
        options,
        job: &options.job,
    };
    work.outbound(cases);
    work.job_runs(cases);
    work.queue_wait(cases);
    work.worker(cases);
    work.pool(cases);
    work.redis(cases);
    work.batch(cases);
}

use super::work::{
    CLIENT_DURATION, JOB_QUEUE_WAIT, JOB_RUNS, JOB_WORKER_SEEN, LAST_SUCCESS, POOL_COUNT, POOL_MAX,
    REDIS_CONNECTED,
};

/// What every work case shares: the rules, the options, the scrape job
/// and instance of the series.
struct Work<'a> {
    rules: &'a Rules,
    catalog: &'a Catalog,
    options: &'a ExportOptions,
    job: &'a str,
}

/// The series of a job, and the labels its alerts fire with.
const INSTANCE: &str = "localhost:8080";

impl Work<'_> {
    fn find(&self, name: &'static str, severity: &str) -> Option<&Alert> {
        self.rules.alert(name, ("severity", severity))
    }

    /// Of 100 events a minute, how many fail: twice the limit (fires),
    /// and half of it (silent).
    fn shares(percent: u32) -> (u32, u32) {
        ((2 * percent).min(100), percent / 2)
    }

    /// Whether five events in 5 minutes are below the traffic minimum.
    fn low_traffic(&self) -> bool {
        self.options.min_events > 5
    }

    fn job_labels(&self) -> [(&str, &str); 4] {
        [
            ("job", self.job),
            ("instance", INSTANCE),
            ("queue", "emails"),
            ("job_name", "send_welcome"),
        ]
    }

    fn about_job(&self) -> [(&str, &str); 3] {
        [
            ("job", self.job),
            ("job_name", "send_welcome"),
            ("queue", "emails"),
        ]
    }

    fn outbound(&self, cases: &mut Vec<Case>) {
        let options = self.options;
        let job = self.job;
        let instance = INSTANCE;
        if let Some(alert) = self.find("ObsOutboundErrorRatio", "warning") {
            let call = [
                ("job", job),
                ("instance", instance),
                ("http_request_method", "GET"),
                ("server_address", "payments.internal"),
                ("server_port", "443"),
            ];
            let count = format!("{CLIENT_DURATION}_count");
            let with = |extra: (&'static str, &'static str)| {
                let mut labels = call.to_vec();
                labels.push(extra);
                sel(&count, &labels)
            };
            let ok = with(("http_response_status_code", "200"));
            let timeout = with(("error_type", "timeout"));
            let connect = with(("error_type", "connect"));
            let cancelled = with(("error_type", "cancelled"));
            let (bad, fine) = Self::shares(options.outbound_error_percent);
            let labels = fired(
                &[("job", job), ("server_address", "payments.internal")],
                "warning",
            );
            let per_minute = |n: u32| format!("0+{n}x30");
            cases.push(Case {
                name: "outbound calls failing at twice the limit warn".to_owned(),
                series: vec![
                    Series(ok.clone(), per_minute(100 - bad)),
                    Series(timeout.clone(), per_minute(bad - bad / 2)),
                    Series(connect, per_minute(bad / 2)),
                ],
                eval: "15m".into(),
                alertname: "ObsOutboundErrorRatio".into(),
                fires: Some(labels),
                alert: Some(alert.clone()),
            });
            cases.push(Case {
                name: "outbound calls failing at half the limit are silent, cancelled ones don't count"
                    .to_owned(),
                series: vec![
                    Series(ok.clone(), per_minute(100 - fine)),
                    Series(timeout.clone(), per_minute(fine)),
                    Series(cancelled, per_minute(100)),
                ],
                eval: "15m".into(),
                alertname: "ObsOutboundErrorRatio".into(),
                fires: None,
                alert: None,
            });
            if self.low_traffic() {
                cases.push(Case {
                    name: "one failed outbound call a minute, and nothing else, is silent"
                        .to_owned(),
                    series: vec![Series(timeout, per_minute(1))],
                    eval: "15m".into(),
                    alertname: "ObsOutboundErrorRatio".into(),
                    fires: None,
                    alert: None,
                });
            }
            cases.push(Case {
                name: "no outbound calls is silent".to_owned(),
                series: vec![Series(ok, "0x30".to_owned())],
                eval: "15m".into(),
                alertname: "ObsOutboundErrorRatio".into(),
                fires: None,
                alert: None,
            });
        }
    }

    fn job_runs(&self, cases: &mut Vec<Case>) {
        let options = self.options;
        if let Some(alert) = self.find("ObsJobFailureRatio", "warning") {
            let run = |result: &'static str| {
                let mut labels = self.job_labels().to_vec();
                labels.push(("result", result));
                sel(JOB_RUNS, &labels)
            };
            let per_minute = |n: u32| format!("0+{n}x30");
            let (bad, fine) = Self::shares(options.job_failure_percent);
            cases.push(Case {
                name: "jobs failing at twice the limit warn (errors and panics)".to_owned(),
                series: vec![
                    Series(run("ok"), per_minute(100 - bad)),
                    Series(run("error"), per_minute(bad - bad / 2)),
                    Series(run("panic"), per_minute(bad / 2)),
                ],
                eval: "15m".into(),
                alertname: "ObsJobFailureRatio".into(),
                fires: Some(fired(&self.about_job(), "warning")),
                alert: Some(alert.clone()),
            });
            cases.push(Case {
                name: "jobs failing at half the limit are silent; retried and cancelled runs are no failures"
                    .to_owned(),
                series: vec![
                    Series(run("ok"), per_minute(100 - fine)),
                    Series(run("error"), per_minute(fine)),
                    Series(run("retry"), per_minute(100)),
                    Series(run("cancelled"), per_minute(100)),
                ],
                eval: "15m".into(),
                alertname: "ObsJobFailureRatio".into(),
                fires: None,
                alert: None,
            });
            if self.low_traffic() {
                cases.push(Case {
                    name: "one failed run a minute, and nothing else, is silent".to_owned(),
                    series: vec![Series(run("error"), per_minute(1))],
                    eval: "15m".into(),
                    alertname: "ObsJobFailureRatio".into(),
                    fires: None,
                    alert: None,
                });
            }
            cases.push(Case {
                name: "a queue without runs is silent".to_owned(),
                series: vec![Series(run("ok"), "0x30".to_owned())],
                eval: "15m".into(),
                alertname: "ObsJobFailureRatio".into(),
                fires: None,
                alert: None,
            });
        }
    }

    fn queue_wait(&self, cases: &mut Vec<Case>) {
        let catalog = self.catalog;
        let options = self.options;
        if let (Some(alert), Some(m)) = (
            self.find("ObsJobQueueWaitP95", "warning"),
            catalog.metric(JOB_QUEUE_WAIT),
        ) {
            let limit: f64 = options.queue_wait_p95_seconds.parse().unwrap_or(f64::MAX);
            let buckets = &m.buckets;
            let lower = |i: usize| {
                if i == 0 {
                    0.0
                } else {
                    buckets.get(i - 1).copied().unwrap_or(f64::MAX)
                }
            };
            // Observations in bucket `from` (`buckets.len()`: +Inf) and above
            // only, `values` each: what histogram_quantile reads.
            let histogram = |from: usize, values: &str| {
                let mut series: Vec<Series> = buckets
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        let le = bound(*b);
                        let mut labels = self.job_labels().to_vec();
                        labels.push(("le", le.as_str()));
                        let v = if i >= from { values } else { "0x40" };
                        Series(
                            sel(&format!("{JOB_QUEUE_WAIT}_bucket"), &labels),
                            v.to_owned(),
                        )
                    })
                    .collect();
                let mut labels = self.job_labels().to_vec();
                labels.push(("le", "+Inf"));
                series.push(Series(
                    sel(&format!("{JOB_QUEUE_WAIT}_bucket"), &labels),
                    values.to_owned(),
                ));
                series.push(Series(
                    sel(&format!("{JOB_QUEUE_WAIT}_count"), &self.job_labels()),
                    values.to_owned(),
                ));
                series
            };
            // The first bucket whose every observation waits longer than the
            // limit; in the +Inf bucket the quantile is the highest bound.
            let slow = (0..=buckets.len()).find(|i| {
                let low = lower(*i);
                if *i == buckets.len() {
                    low > limit
                } else {
                    low >= limit
                }
            });
            if let Some(from) = slow {
                cases.push(Case {
                    name: "jobs waiting longer than the limit in their queue warn".to_owned(),
                    series: histogram(from, "0+60x40"),
                    eval: "20m".into(),
                    alertname: "ObsJobQueueWaitP95".into(),
                    fires: Some(fired(&self.about_job(), "warning")),
                    alert: Some(alert.clone()),
                });
                cases.push(Case {
                    name: "a lone slow start is silent (the alert needs 10m, the window is 5m)"
                        .to_owned(),
                    series: histogram(from, "0x10 1x30"),
                    eval: "14m".into(),
                    alertname: "ObsJobQueueWaitP95".into(),
                    fires: None,
                    alert: None,
                });
            }
            if buckets.first().is_some_and(|b| *b <= limit) {
                cases.push(Case {
                    name: "jobs starting promptly are silent".to_owned(),
                    series: histogram(0, "0+60x40"),
                    eval: "20m".into(),
                    alertname: "ObsJobQueueWaitP95".into(),
                    fires: None,
                    alert: None,
                });
            }
        }
    }

    fn worker(&self, cases: &mut Vec<Case>) {
        let options = self.options;
        let job = self.job;
        let instance = INSTANCE;
        if let Some(alert) = self.find("ObsJobWorkerStale", "critical") {
            let labels = [
                ("job", job),
                ("instance", instance),
                ("queue", "emails"),
                ("worker", "worker-1"),
            ];
            let series = sel(JOB_WORKER_SEEN, &labels);
            // Beats for 5 minutes, then stops; stale once older than the
            // limit, firing a minute later.
            let eval = (300 + options.worker_stale_seconds).div_ceil(60) + 3;
            let n = eval + 5;
            let eval = format!("{eval}m");
            cases.push(Case {
                name: "a worker whose heartbeat stopped pages".to_owned(),
                series: vec![Series(series.clone(), format!("0+60x5 300x{n}"))],
                eval: eval.clone(),
                alertname: "ObsJobWorkerStale".into(),
                fires: Some(fired(&labels, "critical")),
                alert: Some(alert.clone()),
            });
            cases.push(Case {
                name: "a worker beating every minute is silent".to_owned(),
                series: vec![Series(series, format!("0+60x{}", n + 5))],
                eval,
                alertname: "ObsJobWorkerStale".into(),
                fires: None,
                alert: None,
            });
        }
    }

    fn pool(&self, cases: &mut Vec<Case>) {
        let pool = [
            ("job", self.job),
            ("instance", INSTANCE),
            ("pool_name", "main"),
        ];
        let options = self.options;
        if let Some(alert) = self.find("ObsDbPoolSaturation", "warning") {
            let state = |s: &'static str| {
                let mut labels = pool.to_vec();
                labels.push(("state", s));
                sel(POOL_COUNT, &labels)
            };
            let max = sel(POOL_MAX, &pool);
            let p = options.pool_saturation_percent;
            let series = |used: u32, size: u32| {
                vec![
                    Series(state("used"), format!("{used}x15")),
                    Series(state("idle"), format!("{}x15", size - used)),
                    Series(max.clone(), format!("{size}x15")),
                ]
            };
            cases.push(Case {
                name: "a pool used above the limit for 5m warns".to_owned(),
                series: series(u32::midpoint(p, 101), 100),
                eval: "10m".into(),
                alertname: "ObsDbPoolSaturation".into(),
                fires: Some(fired(&pool, "warning")),
                alert: Some(alert.clone()),
            });
            cases.push(Case {
                name: "a pool used below the limit is silent".to_owned(),
                series: series(p / 2, 100),
                eval: "10m".into(),
                alertname: "ObsDbPoolSaturation".into(),
                fires: None,
                alert: None,
            });
            cases.push(Case {
                name: "a pool with no maximum is silent (no division by zero)".to_owned(),
                series: series(0, 0),
                eval: "10m".into(),
                alertname: "ObsDbPoolSaturation".into(),
                fires: None,
                alert: None,
            });
        }
    }

    fn redis(&self, cases: &mut Vec<Case>) {
        let job = self.job;
        let instance = INSTANCE;
        if let Some(alert) = self.find("ObsRedisDown", "critical") {
            let labels = [("job", job), ("instance", instance), ("pool_name", "cache")];
            let series = sel(REDIS_CONNECTED, &labels);
            cases.push(Case {
                name: "Redis unreachable for a minute pages".to_owned(),
                series: vec![Series(series.clone(), "0x5".to_owned())],
                eval: "3m".into(),
                alertname: "ObsRedisDown".into(),
                fires: Some(fired(&labels, "critical")),
                alert: Some(alert.clone()),
            });
            cases.push(Case {
                name: "Redis connected is silent".to_owned(),
                series: vec![Series(series, "1x5".to_owned())],
                eval: "3m".into(),
                alertname: "ObsRedisDown".into(),
                fires: None,
                alert: None,
            });
        }
    }

    fn batch(&self, cases: &mut Vec<Case>) {
        let options = self.options;
        if let Some(alert) = self.find("ObsBatchStale", "warning") {
            // As the Pushgateway's scrape gives it (`honor_labels`): the batch
            // job's name as `job`.
            let labels = [("job", "nightly_report")];
            let series = sel(LAST_SUCCESS, &labels);
            // Last success at 1 s; stale once older than the limit.
            let eval = (options.batch_stale_seconds + 1).div_ceil(60) + 2;
            let n = eval + 2;
            let eval = format!("{eval}m");
            cases.push(Case {
                name: "a batch job without a success for too long warns".to_owned(),
                series: vec![Series(series.clone(), format!("1x{n}"))],
                eval: eval.clone(),
                alertname: "ObsBatchStale".into(),
                fires: Some(fired(&labels, "warning")),
                alert: Some(alert.clone()),
            });
            cases.push(Case {
                name: "a batch job succeeding every minute is silent".to_owned(),
                series: vec![Series(series, format!("0+60x{n}"))],
                eval,
                alertname: "ObsBatchStale".into(),
                fires: None,
                alert: None,
            });
        }
    }
}
