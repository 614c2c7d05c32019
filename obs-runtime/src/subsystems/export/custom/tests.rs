//! Every check of custom alerts and dashboards, one clear sentence each,
//! on a catalog of a few families (the global registry is shared by every
//! test of the crate).

use super::super::ExportOptions;
use super::super::{rule_tests, rules};
use super::*;
use crate::leaves::schema::MetricKind;
use crate::subsystems::catalog::{Catalog, MetricInfo, MetricSource};

const STATUSES: &[&str] = &["ok", "failed"];

fn catalog() -> Catalog {
    let f = |name, kind, labels: &[(&str, Option<&[&'static str]>)], buckets: &[f64]| {
        MetricInfo::new(
            name,
            kind,
            "A test family.",
            labels,
            buckets,
            MetricSource::Registered,
        )
    };
    Catalog::of_metrics(vec![
        f(
            "missions_total",
            MetricKind::Counter,
            &[("status", Some(STATUSES)), ("tenant", None)],
            &[],
        ),
        f("errors_total", MetricKind::Counter, &[("kind", None)], &[]),
        f(
            "request_duration_seconds",
            MetricKind::Histogram,
            &[("endpoint", None)],
            &[0.1, 0.5, 1.0, 2.5],
        ),
        f("pool_utilization_ratio", MetricKind::Gauge, &[], &[]),
    ])
}

/// The problems of `alert` alone, on the test catalog.
fn problems(alert: Alert) -> Vec<String> {
    check(&catalog(), &[alert], &[], &["ObsTargetDown"], &[]).problems
}

fn one(alert: Alert) -> String {
    let p = problems(alert);
    assert_eq!(p.len(), 1, "{p:#?}");
    p.into_iter().next().unwrap_or_default()
}

#[test]
fn every_form_passes_on_its_kind() {
    for alert in [
        Alert::above(
            "A",
            Query::ratio(r#"missions_total{status="failed"}"#, "missions_total"),
            "0.1",
        ),
        Alert::below("B", Query::rate("missions_total").by(&["tenant"]), "0.5"),
        Alert::above(
            "C",
            Query::quantile("request_duration_seconds", "0.95").by(&["endpoint"]),
            "1",
        ),
        Alert::above("D", Query::rate("request_duration_seconds_count"), "1"),
        Alert::below("E", Query::value("pool_utilization_ratio"), "-1.5"),
        Alert::absent("F", "request_duration_seconds").for_("1h30m"),
        Alert::above("G", Query::ratio("errors_total", "missions_total"), "0"),
        Alert::above("H", Query::age("pool_utilization_ratio"), "300").for_("1m"),
    ] {
        assert_eq!(problems(alert.clone()), Vec::<String>::new(), "{alert:?}");
    }
}

fn expect_each(cases: Vec<(Alert, &str)>) {
    for (alert, expected) in cases {
        let got = one(alert);
        assert!(got.contains(expected), "{expected:?} in {got:?}");
    }
}

fn value() -> Query {
    Query::value("pool_utilization_ratio")
}

#[test]
fn each_problem_of_an_alert_names_it_and_says_why() {
    expect_each(vec![
        (
            Alert::above("Bad-name", value(), "1"),
            "alert `Bad-name`: an alert name is letters, digits and `_`",
        ),
        (
            Alert::above("", value(), "1"),
            "alert ``: the alert name is empty",
        ),
        (
            Alert::above("X", value(), "0,5"),
            "alert `X`: threshold `0,5` is not a decimal number",
        ),
        (
            Alert::above("X", value(), "1").for_("5 minutes"),
            "alert `X`: for: `5 minutes` is not a Prometheus duration",
        ),
        (
            Alert::above("X", value(), "1").for_("2d"),
            "alert `X`: for `2d` is longer than a day",
        ),
        (
            Alert::above("X", value(), "1").summary("{{ $labels.pod }} is busy"),
            "the summary uses `{{ $labels.pod }}`, but the alert's labels are job, instance",
        ),
        (
            Alert::above("X", value(), "1").description("at {{ $value }}"),
            "the description uses `{{ $value }}`: only `{{ $labels.<name> }}`",
        ),
        (
            Alert::above("ObsTargetDown", value(), "1"),
            "alert `ObsTargetDown`: the name is taken by a generated alert",
        ),
    ]);
}

#[test]
fn each_problem_of_a_query_names_the_alert_and_says_why() {
    expect_each(vec![
        (
            Alert::above("X", Query::rate("mission_total"), "1"),
            "alert `X`: `mission_total` is not a metric of this program",
        ),
        (
            Alert::above("X", Query::rate("missions"), "1"),
            "did you mean `missions_total`?",
        ),
        (
            Alert::above("X", Query::rate("request_duration_seconds_bucket"), "1"),
            "use Query::quantile(\"request_duration_seconds\", …)",
        ),
        (
            Alert::above("X", Query::rate("pool_utilization_ratio"), "1"),
            "`pool_utilization_ratio` is a gauge; Query::rate reads a counter (or a histogram's `_count`)",
        ),
        (
            Alert::above("X", Query::value("missions_total"), "1"),
            "`missions_total` is a counter; Query::value reads a gauge",
        ),
        (
            Alert::above("X", Query::quantile("missions_total", "0.9"), "1"),
            "`missions_total` is a counter; Query::quantile reads a histogram",
        ),
        (
            Alert::above("X", Query::rate(r#"missions_total{status=~"f.*"}"#), "1"),
            "only equality matchers",
        ),
        (
            Alert::above("X", Query::rate(r#"missions_total{state="failed"}"#), "1"),
            "`state` is not a label of `missions_total` (its labels: status, tenant)",
        ),
        (
            Alert::above("X", Query::rate(r#"missions_total{status="fail"}"#), "1"),
            "`status` of `missions_total` is one of ok, failed, never \"fail\"",
        ),
        (
            Alert::above("X", Query::rate("missions_total").by(&["region"]), "1"),
            "by: `region` is not a label of `missions_total`",
        ),
        (
            Alert::above(
                "X",
                Query::ratio(r#"missions_total{status="failed"}"#, "missions_total")
                    .by(&["status"]),
                "0.1",
            ),
            "by: the bad selector fixes `status`",
        ),
        (
            Alert::above("X", Query::ratio("missions_total", "missions_total"), "0.1"),
            "the bad selector must keep the total's matchers and add at least one",
        ),
    ]);
}

#[test]
fn each_threshold_a_form_cannot_reach_is_refused() {
    expect_each(vec![
        (
            Alert::above(
                "X",
                Query::ratio(r#"missions_total{status="failed"}"#, "missions_total"),
                "5",
            ),
            "a ratio is between 0 and 1",
        ),
        (
            Alert::above("X", Query::age("missions_total"), "300"),
            "`missions_total` is a counter; Query::age reads a gauge",
        ),
        (
            Alert::above("X", Query::age("pool_utilization_ratio"), "172800"),
            "an age threshold is seconds, from 0 to a day",
        ),
        (
            Alert::below("X", Query::rate("missions_total"), "0"),
            "a rate is never below 0",
        ),
        (
            Alert::above("X", Query::quantile("request_duration_seconds", "95"), "1"),
            "the quantile `95` is not between 0 and 1",
        ),
        (
            Alert::above(
                "X",
                Query::quantile("request_duration_seconds", "0.95"),
                "3",
            ),
            "can't exceed its highest bucket bound (2.5)",
        ),
        (
            Alert::above(
                "X",
                Query::quantile("request_duration_seconds", "0.9"),
                "0.05",
            ),
            "is never below 0.09 (its first bucket bound, 0.1, times the quantile)",
        ),
        (
            Alert::below(
                "X",
                Query::quantile("request_duration_seconds", "0.5"),
                "0.01",
            ),
            "can't go below 0.05",
        ),
    ]);
}

#[test]
fn names_are_unique_ignoring_case_and_the_first_is_kept() {
    let alerts = [
        Alert::above("Busy", Query::value("pool_utilization_ratio"), "1"),
        Alert::above("busy", Query::value("pool_utilization_ratio"), "2"),
    ];
    let checked = check(&catalog(), &alerts, &[], &[], &[]);
    assert_eq!(checked.alerts.len(), 1);
    assert_eq!(
        checked.problems,
        [
            "alert `busy`: the name is taken by another custom alert (names are compared ignoring case: the runbook anchors must differ)"
        ]
    );
}

#[test]
fn dashboards_need_a_free_title_and_named_panels() {
    let rate = || Query::rate("missions_total");
    let boards = [
        Dashboard::new("  ").panel("p", rate()),
        Dashboard::new("!!!").panel("p", rate()),
        Dashboard::new("Obs overview").panel("p", rate()),
        Dashboard::new("Empty"),
        Dashboard::new("Mixed")
            .panel("Rate", rate())
            .panel("", rate())
            .panel("Rate", rate())
            .panel("Gauge", Query::rate("pool_utilization_ratio")),
        Dashboard::new("mixed").panel("p", rate()),
    ];
    let checked = check(&catalog(), &[], &boards, &[], &["obs-overview".to_owned()]);
    assert_eq!(
        checked.problems,
        [
            "dashboard `  `: the title is empty",
            "dashboard `!!!`: the title has no letters or digits to name its file with",
            "dashboard `Obs overview`: its file `obs-overview.json` is already taken (by a generated dashboard or another custom one): choose another title",
            "dashboard `Empty`: it has no panels",
            "panel `` of dashboard `Mixed`: the panel title is empty",
            "panel `Rate` of dashboard `Mixed`: another panel of this dashboard has the same title",
            "panel `Gauge` of dashboard `Mixed`: `pool_utilization_ratio` is a gauge; Query::rate reads a counter (or a histogram's `_count`)",
            "dashboard `mixed`: its file `mixed.json` is already taken (by a generated dashboard or another custom one): choose another title",
        ]
    );
    let [mixed] = checked.dashboards.as_slice() else {
        panic!("{:?}", checked.dashboards);
    };
    assert_eq!(mixed.slug, "mixed");
    assert_eq!(mixed.panels.len(), 1);
    assert_eq!(mixed.left_out.len(), 3);
}

#[test]
fn errors_read_as_one_line_or_a_list() {
    let one = ExportError {
        problems: vec!["alert `X`: why".to_owned()],
    };
    assert_eq!(one.to_string(), "alert `X`: why");
    let two = ExportError {
        problems: vec!["a".to_owned(), "b".to_owned()],
    };
    assert_eq!(
        two.to_string(),
        "2 problems in the custom alerts and dashboards:\n- a\n- b"
    );
    let io: std::io::Error = two.into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn rules_and_cases_follow_each_form() {
    let catalog = catalog();
    let options = ExportOptions::default()
        .job("svc")
        .min_events(20)
        .alert(
            Alert::below(
                "Quiet",
                Query::ratio(r#"missions_total{status="ok"}"#, "missions_total").by(&["tenant"]),
                "0.5",
            )
            .for_("10m")
            .severity(Severity::Critical),
        )
        .alert(Alert::above(
            "Busy",
            Query::value("pool_utilization_ratio"),
            "0.8",
        ));
    let rules = rules::build(&catalog, &options);
    let yaml = rules.yaml();
    assert!(yaml.contains("  - name: custom\n"), "{yaml}");
    assert!(yaml.contains("sum by (job, tenant) (increase(missions_total[5m])) >= 20"));
    assert!(yaml.contains(") < 0.5\n"));
    assert!(yaml.contains("severity: \"critical\""));
    assert!(yaml.contains("for: 10m"));
    let tests = rule_tests::write(&rules, &catalog, &options, "rules.yml");
    // The ratio's other events carry the other known status.
    assert!(
        tests.contains(
            r#"missions_total{job=\"svc\",instance=\"localhost:8080\",tenant=\"a\",status=\"failed\"}"#
        ),
        "{tests}"
    );
    // Below 0.5: 25 good of 100 fire, 100 of 100 are silent; a value of
    // 1.8 fires above 0.8, 0 is silent.
    assert!(
        tests.contains("Quiet: 25 of 100 events a minute (a ratio of 0.25) fire"),
        "{tests}"
    );
    assert!(tests.contains("Quiet: 100 of 100 events a minute (a ratio of 1) are silent"));
    assert!(tests.contains("Busy: a value of 1.8 fires"));
    assert!(tests.contains("Busy: a value of 0 is silent"));
    assert!(tests.contains("description: \"The value of pool_utilization_ratio has been above 0.8 for one evaluation (Busy, declared by the program).\""));
    assert!(tests.contains("      - eval_time: 20m\n        alertname: Quiet"));
    let docs = super::super::docs::write(&catalog, &rules);
    assert!(docs.contains("### Alert: Quiet\n\nSeverity: critical; fires after 10m."));
}
