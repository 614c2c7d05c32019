//! The alerts of the work families — outbound HTTP calls, background
//! jobs, connection pools, Redis and batch jobs — each made exactly when
//! the program registered the family it reads (by name, in the catalog).
//!
//! | alert | family | fires when | for | severity |
//! |---|---|---|---|---|
//! | `ObsJobFailureRatio` | `job_runs_total` | `error` + `panic` over `ok` + `error` + `panic` runs, per `job`, `queue`, `job_name`, above 5 % over 5 m, with at least [`min_events`](super::ExportOptions::min_events) finished runs | 5m | warning |
//! | `ObsJobQueueWaitP95` | `job_queue_wait_seconds` | p95 of enqueue → start above 60 s | 10m | warning |
//! | `ObsJobWorkerStale` | `job_worker_last_seen_timestamp_seconds` | a worker's heartbeat older than 5 m | 1m | critical |
//! | `ObsDbPoolSaturation` | `db_client_connection_count`, `db_client_connection_max` | `used` over the maximum, per `job`, `instance`, `pool_name`, above 80 % | 5m | warning |
//! | `ObsRedisDown` | `redis_connected` | 0 | 1m | critical |
//! | `ObsOutboundErrorRatio` | `http_client_request_duration_seconds` | calls with an `error_type` over all calls, per `job`, `server_address`, above 5 % over 5 m, with the traffic minimum | 5m | warning |
//! | `ObsBatchStale` | `last_success_timestamp_seconds` | no success of a batch `job` for 24 h | — | warning |
//!
//! Thresholds are [`ExportOptions`]. Every ratio's denominator is guarded
//! (`> 0`): no traffic gives no series, never NaN. Cancelled calls and runs
//! (`error_type="cancelled"`, `result="cancelled"`) and runs that will be
//! retried (`result="retry"`) are not counted.
//!
//! The jobs families name the job `job_name`, not `job`: `job` is the label
//! Prometheus gives every scraped series (the scrape job), and a series'
//! own `job` would be renamed `exported_job` (or, under `honor_labels`,
//! replace the scrape job).

use super::ExportOptions;
use super::decimal::decimal;
use super::rules::{Alert, Group};
use crate::subsystems::catalog::Catalog;

/// The outbound HTTP client's duration histogram; `_count` counts calls.
pub(crate) const CLIENT_DURATION: &str = "http_client_request_duration_seconds";
/// The outbound HTTP client's active requests.
pub(crate) const CLIENT_ACTIVE: &str = "http_client_active_requests";
/// Job runs by `result`.
pub(crate) const JOB_RUNS: &str = "job_runs_total";
/// Job run durations.
pub(crate) const JOB_DURATION: &str = "job_duration_seconds";
/// Enqueue-to-start waits.
pub(crate) const JOB_QUEUE_WAIT: &str = "job_queue_wait_seconds";
/// Retries.
pub(crate) const JOB_RETRIES: &str = "job_retries_total";
/// Jobs running now.
pub(crate) const JOB_IN_FLIGHT: &str = "job_in_flight";
/// Jobs waiting, per queue.
pub(crate) const JOB_QUEUE_DEPTH: &str = "job_queue_depth";
/// Worker heartbeats, in Unix seconds.
pub(crate) const JOB_WORKER_SEEN: &str = "job_worker_last_seen_timestamp_seconds";
/// Pool connections by `state` (`idle`, `used`).
pub(crate) const POOL_COUNT: &str = "db_client_connection_count";
/// A pool's maximum size.
pub(crate) const POOL_MAX: &str = "db_client_connection_max";
/// Callers waiting for a connection.
pub(crate) const POOL_PENDING: &str = "db_client_connection_pending_requests";
/// How long callers waited for a connection.
pub(crate) const POOL_WAIT: &str = "db_client_connection_wait_time_seconds";
/// Redis reachable (1) or not (0).
pub(crate) const REDIS_CONNECTED: &str = "redis_connected";
/// A batch job's last success, in Unix seconds (`push`).
pub(crate) const LAST_SUCCESS: &str = "last_success_timestamp_seconds";

/// What a job is about: the scrape job, the queue, the job's name.
pub(crate) const JOB_BY: &str = "job, queue, job_name";
/// Finished runs: what the failure ratio is over.
pub(crate) const JOB_FINISHED: &str = "result=~\"ok|error|panic\"";
/// Failed runs.
pub(crate) const JOB_FAILED: &str = "result=~\"error|panic\"";
/// What an outbound call is about.
pub(crate) const CLIENT_BY: &str = "job, server_address";
/// Outbound calls that count: all but cancelled ones.
pub(crate) const CLIENT_COUNTED: &str = "error_type!=\"cancelled\"";
/// Failed outbound calls: a non-empty `error_type` other than `cancelled`.
pub(crate) const CLIENT_FAILED: &str = "error_type!~\"|cancelled\"";
/// What a pool is about: pools are per process.
pub(crate) const POOL_BY: &str = "job, instance, pool_name";

/// `300` → `5m`, `86400` → `24h`, `90` → `90s`.
pub(crate) fn age_text(seconds: u64) -> String {
    if seconds >= 3_600 && seconds.is_multiple_of(3_600) {
        format!("{}h", seconds / 3_600)
    } else if seconds >= 60 && seconds.is_multiple_of(60) {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

fn percent(p: u32) -> String {
    decimal(u64::from(p), 2)
}

/// A ratio alert's expression: `bad` over `total` of `counter` per `by`,
/// above `limit`, with at least `min` events in the window.
fn ratio_expr(counter: &str, bad: &str, total: &str, by: &str, limit: &str, min: u32) -> String {
    format!(
        "(\n  sum by ({by}) (rate({counter}{{{bad}}}[5m]))\n  /\n  (sum by ({by}) (rate({counter}{{{total}}}[5m])) > 0)\n) > {limit}\nand on ({by})\nsum by ({by}) (increase({counter}{{{total}}}[5m])) >= {min}"
    )
}

fn alert(
    name: &'static str,
    expr: String,
    for_: &'static str,
    severity: &str,
    summary: String,
    description: String,
    options: &ExportOptions,
) -> Alert {
    Alert {
        name: name.into(),
        expr,
        for_: for_.into(),
        labels: vec![("severity", severity.to_owned())],
        summary,
        description,
        runbook: options.runbook(&format!("alert-{}", name.to_ascii_lowercase())),
    }
}

fn jobs(catalog: &Catalog, options: &ExportOptions) -> Vec<Alert> {
    let mut out = Vec::new();
    let min = options.min_events;
    if catalog.metric(JOB_RUNS).is_some() {
        let p = options.job_failure_percent;
        out.push(alert(
            "ObsJobFailureRatio",
            ratio_expr(JOB_RUNS, JOB_FAILED, JOB_FINISHED, JOB_BY, &percent(p), min),
            "5m",
            "warning",
            format!("job {{{{ $labels.job_name }}}} on queue {{{{ $labels.queue }}}} fails more than {p}% of its runs"),
            format!(
                "Runs of {{{{ $labels.job_name }}}} (queue {{{{ $labels.queue }}}}, {{{{ $labels.job }}}}) ended in error or panic on more than {p}% of the runs finished in 5 minutes (job_runs_total; retried and cancelled runs are not counted)."
            ),
            options,
        ));
    }
    if catalog.metric(JOB_QUEUE_WAIT).is_some() {
        let limit = &options.queue_wait_p95_seconds;
        out.push(alert(
            "ObsJobQueueWaitP95",
            format!(
                "histogram_quantile(0.95, sum by (le, {JOB_BY}) (rate({JOB_QUEUE_WAIT}_bucket[5m]))) > {limit}"
            ),
            "10m",
            "warning",
            format!("job {{{{ $labels.job_name }}}} waits more than {limit}s in queue {{{{ $labels.queue }}}}"),
            format!(
                "The 0.95 quantile of {JOB_QUEUE_WAIT} (enqueue to start) of {{{{ $labels.job_name }}}} on queue {{{{ $labels.queue }}}} ({{{{ $labels.job }}}}) stayed above {limit}s for 10 minutes: the workers do not keep up."
            ),
            options,
        ));
    }
    if catalog.metric(JOB_WORKER_SEEN).is_some() {
        let age = options.worker_stale_seconds;
        out.push(alert(
            "ObsJobWorkerStale",
            format!("time() - {JOB_WORKER_SEEN} > {age}"),
            "1m",
            "critical",
            format!(
                "worker {{{{ $labels.worker }}}} of queue {{{{ $labels.queue }}}} stopped for {}",
                age_text(age)
            ),
            format!(
                "Worker {{{{ $labels.worker }}}} of queue {{{{ $labels.queue }}}} on {{{{ $labels.instance }}}} ({{{{ $labels.job }}}}) has not sent a heartbeat ({JOB_WORKER_SEEN}) for more than {}.",
                age_text(age)
            ),
            options,
        ));
    }
    out
}

fn pools(catalog: &Catalog, options: &ExportOptions) -> Vec<Alert> {
    let mut out = Vec::new();
    if catalog.metric(POOL_COUNT).is_some() && catalog.metric(POOL_MAX).is_some() {
        let p = options.pool_saturation_percent;
        out.push(alert(
            "ObsDbPoolSaturation",
            format!(
                "sum by ({POOL_BY}) ({POOL_COUNT}{{state=\"used\"}})\n/\n(sum by ({POOL_BY}) ({POOL_MAX}) > 0)\n> {}",
                percent(p)
            ),
            "5m",
            "warning",
            format!("pool {{{{ $labels.pool_name }}}} is more than {p}% used"),
            format!(
                "More than {p}% of the connections of pool {{{{ $labels.pool_name }}}} on {{{{ $labels.instance }}}} ({{{{ $labels.job }}}}) have been in use for 5 minutes ({POOL_COUNT}{{state=\"used\"}} over {POOL_MAX}): callers will soon wait for connections."
            ),
            options,
        ));
    }
    if catalog.metric(REDIS_CONNECTED).is_some() {
        out.push(alert(
            "ObsRedisDown",
            format!("{REDIS_CONNECTED} == 0"),
            "1m",
            "critical",
            "Redis of pool {{ $labels.pool_name }} is unreachable".to_owned(),
            format!(
                "{{{{ $labels.instance }}}} ({{{{ $labels.job }}}}) has had no connection to Redis through pool {{{{ $labels.pool_name }}}} for a minute ({REDIS_CONNECTED} is 0)."
            ),
            options,
        ));
    }
    out
}

fn outbound(catalog: &Catalog, options: &ExportOptions) -> Vec<Alert> {
    if catalog.metric(CLIENT_DURATION).is_none() {
        return Vec::new();
    }
    let p = options.outbound_error_percent;
    vec![alert(
        "ObsOutboundErrorRatio",
        ratio_expr(
            &format!("{CLIENT_DURATION}_count"),
            CLIENT_FAILED,
            CLIENT_COUNTED,
            CLIENT_BY,
            &percent(p),
            options.min_events,
        ),
        "5m",
        "warning",
        format!("calls to {{{{ $labels.server_address }}}} fail more than {p}%"),
        format!(
            "More than {p}% of the outbound HTTP calls of {{{{ $labels.job }}}} to {{{{ $labels.server_address }}}} failed over 5 minutes: an error_type (a 5xx answer, a timeout, a refused connection, …) on {CLIENT_DURATION}_count."
        ),
        options,
    )]
}

fn batch(catalog: &Catalog, options: &ExportOptions) -> Vec<Alert> {
    if catalog.metric(LAST_SUCCESS).is_none() {
        return Vec::new();
    }
    let age = options.batch_stale_seconds;
    vec![alert(
        "ObsBatchStale",
        format!("time() - max by (job) ({LAST_SUCCESS} > 0) > {age}"),
        "",
        "warning",
        format!(
            "batch job {{{{ $labels.job }}}} has not succeeded for {}",
            age_text(age)
        ),
        format!(
            "The last success of batch job {{{{ $labels.job }}}} ({LAST_SUCCESS}, set by obs_runtime::push on a successful push) is more than {} old.",
            age_text(age)
        ),
        options,
    )]
}

/// The work groups of `catalog`, those with alerts: `obs-outbound`,
/// `obs-jobs`, `obs-pools`, `obs-batch`.
pub(crate) fn groups(catalog: &Catalog, options: &ExportOptions) -> Vec<Group> {
    [
        ("obs-outbound", outbound(catalog, options)),
        ("obs-jobs", jobs(catalog, options)),
        ("obs-pools", pools(catalog, options)),
        ("obs-batch", batch(catalog, options)),
    ]
    .into_iter()
    .filter(|(_, alerts)| !alerts.is_empty())
    .map(|(name, alerts)| Group {
        name: name.to_owned(),
        records: Vec::new(),
        alerts,
    })
    .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::leaves::schema::{self, MetricKind};
    use crate::subsystems::catalog::{MetricInfo, MetricSource};

    /// Every work family with the labels its part registers it with.
    pub(crate) fn families() -> Vec<MetricInfo> {
        use MetricKind::{Counter, Gauge, Histogram};
        type Labels<'a> = &'a [(&'a str, Option<&'a [&'static str]>)];
        const RESULTS: &[&str] = &["ok", "error", "panic", "cancelled", "retry"];
        const STATES: &[&str] = &["idle", "used"];
        let client: Labels = &[
            ("http_request_method", None),
            ("server_address", None),
            ("server_port", None),
            ("http_response_status_code", None),
            ("error_type", None),
        ];
        let active: Labels = &[
            ("http_request_method", None),
            ("server_address", None),
            ("server_port", None),
        ];
        let run: Labels = &[
            ("queue", None),
            ("job_name", None),
            ("result", Some(RESULTS)),
        ];
        let job: Labels = &[("queue", None), ("job_name", None)];
        let pool: Labels = &[("pool_name", None)];
        let f = |name, kind, labels: Labels, buckets: &[f64], source| {
            MetricInfo::new(name, kind, "A work family.", labels, buckets, source)
        };
        vec![
            f(
                CLIENT_DURATION,
                Histogram,
                client,
                schema::HTTP,
                MetricSource::Client,
            ),
            f(CLIENT_ACTIVE, Gauge, active, &[], MetricSource::Client),
            f(JOB_RUNS, Counter, run, &[], MetricSource::Jobs),
            f(
                JOB_DURATION,
                Histogram,
                run,
                schema::LATENCY,
                MetricSource::Jobs,
            ),
            f(
                JOB_QUEUE_WAIT,
                Histogram,
                job,
                &[0.1, 1.0, 10.0, 30.0, 60.0, 120.0, 300.0],
                MetricSource::Jobs,
            ),
            f(JOB_RETRIES, Counter, job, &[], MetricSource::Jobs),
            f(JOB_IN_FLIGHT, Gauge, job, &[], MetricSource::Jobs),
            f(
                JOB_QUEUE_DEPTH,
                Gauge,
                &[("queue", None)],
                &[],
                MetricSource::Jobs,
            ),
            f(
                JOB_WORKER_SEEN,
                Gauge,
                &[("queue", None), ("worker", None)],
                &[],
                MetricSource::Jobs,
            ),
            f(
                POOL_COUNT,
                Gauge,
                &[("pool_name", None), ("state", Some(STATES))],
                &[],
                MetricSource::Pools,
            ),
            f(POOL_MAX, Gauge, pool, &[], MetricSource::Pools),
            f(POOL_PENDING, Gauge, pool, &[], MetricSource::Pools),
            f(POOL_WAIT, Histogram, pool, schema::DB, MetricSource::Pools),
            f(REDIS_CONNECTED, Gauge, pool, &[], MetricSource::Pools),
            f(LAST_SUCCESS, Gauge, &[], &[], MetricSource::Push),
        ]
    }

    fn names(groups: &[Group]) -> Vec<&str> {
        groups
            .iter()
            .flat_map(|g| g.alerts.iter().map(|a| a.name.as_ref()))
            .collect()
    }

    #[test]
    fn each_alert_exists_exactly_when_its_family_does() {
        let options = ExportOptions::default();
        let none = groups(&Catalog::of_metrics(Vec::new()), &options);
        assert!(none.is_empty());
        let all = groups(&Catalog::of_metrics(families()), &options);
        assert_eq!(
            names(&all),
            [
                "ObsOutboundErrorRatio",
                "ObsJobFailureRatio",
                "ObsJobQueueWaitP95",
                "ObsJobWorkerStale",
                "ObsDbPoolSaturation",
                "ObsRedisDown",
                "ObsBatchStale",
            ]
        );
        for (family, alert) in [
            (CLIENT_DURATION, "ObsOutboundErrorRatio"),
            (JOB_RUNS, "ObsJobFailureRatio"),
            (JOB_QUEUE_WAIT, "ObsJobQueueWaitP95"),
            (JOB_WORKER_SEEN, "ObsJobWorkerStale"),
            (POOL_MAX, "ObsDbPoolSaturation"),
            (REDIS_CONNECTED, "ObsRedisDown"),
            (LAST_SUCCESS, "ObsBatchStale"),
        ] {
            let only: Vec<MetricInfo> = families()
                .into_iter()
                .filter(|m| m.name == family)
                .collect();
            let alone_groups = groups(&Catalog::of_metrics(only), &options);
            let alone = names(&alone_groups);
            // The pool alert needs the count too.
            let expected: &[&str] = if family == POOL_MAX { &[] } else { &[alert] };
            assert_eq!(alone, expected, "{family}");
            let without: Vec<MetricInfo> = families()
                .into_iter()
                .filter(|m| m.name != family)
                .collect();
            let rest_groups = groups(&Catalog::of_metrics(without), &options);
            let rest = names(&rest_groups);
            assert!(!rest.contains(&alert), "{alert} without {family}");
        }
    }

    #[test]
    fn thresholds_follow_the_options_exactly() {
        use std::time::Duration;
        let catalog = Catalog::of_metrics(families());
        let text = |options: &ExportOptions| {
            groups(&catalog, options)
                .iter()
                .flat_map(|g| g.alerts.iter())
                .map(|a| [a.expr.as_str(), &a.summary, &a.for_, ""].join("\n"))
                .collect::<String>()
        };
        let defaults = text(&ExportOptions::default());
        for needle in [
            ") > 0.05\nand on (job, queue, job_name)\nsum by (job, queue, job_name) (increase(job_runs_total{result=~\"ok|error|panic\"}[5m])) >= 10",
            "(rate(job_queue_wait_seconds_bucket[5m]))) > 60\n",
            "time() - job_worker_last_seen_timestamp_seconds > 300\n",
            "stopped for 5m",
            "(sum by (job, instance, pool_name) (db_client_connection_max) > 0)\n> 0.8\n",
            "redis_connected == 0\n",
            "(rate(http_client_request_duration_seconds_count{error_type!~\"|cancelled\"}[5m]))",
            "time() - max by (job) (last_success_timestamp_seconds > 0) > 86400\n",
            "has not succeeded for 24h",
        ] {
            assert!(defaults.contains(needle), "{needle:?} in\n{defaults}");
        }
        let tuned = text(
            &ExportOptions::default()
                .job_failure_ratio_percent(10)
                .queue_wait_p95(Duration::from_millis(1_500))
                .worker_stale_after(Duration::from_secs(90))
                .pool_saturation_percent(95)
                .outbound_error_ratio_percent(1)
                .batch_stale_after(Duration::from_hours(2))
                .min_events(3),
        );
        for needle in [
            ") > 0.1\nand on (job, queue, job_name)",
            "[5m])) >= 3",
            "> 1.5\n",
            "> 90\n",
            "stopped for 90s",
            "\n> 0.95\n",
            ") > 0.01\nand on (job, server_address)",
            "> 7200\n",
            "for 2h",
        ] {
            assert!(tuned.contains(needle), "{needle:?} in\n{tuned}");
        }
    }

    #[test]
    fn every_work_alert_has_a_firing_and_a_silent_rule_test() {
        let catalog = Catalog::of_metrics(families());
        for options in [
            ExportOptions::default().job("svc"),
            ExportOptions::default()
                .job("svc")
                .min_events(3)
                .pool_saturation_percent(99)
                .job_failure_ratio_percent(60),
        ] {
            let rules = super::super::rules::build(&catalog, &options);
            let tests = super::super::rule_tests::write(&rules, &catalog, &options, "rules.yml");
            for alert in names(&groups(&catalog, &options)) {
                let cases: Vec<&str> = tests
                    .split("  - name: ")
                    .filter(|c| c.contains(&format!("alertname: {alert}\n")))
                    .collect();
                assert!(cases.iter().any(|c| c.contains("exp_labels:")), "{alert}");
                assert!(
                    cases.iter().any(|c| c.contains("exp_alerts: []")),
                    "{alert}"
                );
            }
        }
        // Nothing of it without the families.
        let empty = Catalog::of_metrics(Vec::new());
        let options = ExportOptions::default();
        let rules = super::super::rules::build(&empty, &options);
        let tests = super::super::rule_tests::write(&rules, &empty, &options, "rules.yml");
        assert!(!tests.contains("alertname: ObsJob") && !tests.contains("ObsBatchStale"));
        let docs = super::super::docs::write(&empty, &rules);
        assert!(!docs.contains("ObsJobFailureRatio"));
        let docs =
            super::super::docs::write(&catalog, &super::super::rules::build(&catalog, &options));
        assert!(docs.contains("### Alert: ObsJobWorkerStale"));
    }

    #[test]
    fn ages_read_as_written() {
        assert_eq!(age_text(300), "5m");
        assert_eq!(age_text(86_400), "24h");
        assert_eq!(age_text(90), "90s");
        assert_eq!(age_text(5_400), "90m");
    }
}
