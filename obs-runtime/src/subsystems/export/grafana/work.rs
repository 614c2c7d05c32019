//! The "Jobs and dependencies" dashboard: outbound HTTP calls, background
//! jobs, connection pools, Redis and batch jobs — a row per group the
//! program registered, a panel per family present.

use super::super::work::{
    CLIENT_ACTIVE, CLIENT_COUNTED, CLIENT_DURATION, CLIENT_FAILED, JOB_DURATION, JOB_FAILED,
    JOB_FINISHED, JOB_IN_FLIGHT, JOB_QUEUE_DEPTH, JOB_QUEUE_WAIT, JOB_RETRIES, JOB_RUNS,
    JOB_WORKER_SEEN, LAST_SUCCESS, POOL_COUNT, POOL_MAX, POOL_PENDING, POOL_WAIT, REDIS_CONNECTED,
};
use super::board::{Board, Viz, q};
use super::promql::{filtered, rate, ratio};
use crate::subsystems::catalog::Catalog;

/// The file of the dashboard.
pub(crate) const UID: &str = "obs-work";

/// `histogram_quantile(0.95, …)` of `family` per `by`.
fn p95(family: &str, by: &str) -> String {
    format!(
        "histogram_quantile(0.95, {})",
        rate(&format!("{family}_bucket"), &format!("le, {by}"))
    )
}

/// `agg by (by) (family{filter})`.
fn gauge(agg: &str, family: &str, by: &str) -> String {
    format!("{agg} by ({by}) ({})", filtered(family))
}

fn outbound(b: &mut Board, has: &impl Fn(&str) -> bool) {
    if !has(CLIENT_DURATION) {
        return;
    }
    let count = format!("{CLIENT_DURATION}_count");
    b.row("Outbound calls");
    b.panel(
        Viz::Series,
        8,
        "Outbound call rate",
        format!("Outbound HTTP calls per second by server ({count})."),
        "reqps",
        vec![q(rate(&count, "server_address"), "{{server_address}}")],
    );
    b.panel(
        Viz::Series,
        8,
        "Outbound error ratio",
        "Share of outbound calls that failed (a non-empty error_type: 5xx answers, timeouts, refused connections), cancelled calls left out, by server.",
        "percentunit",
        vec![q(
            ratio(
                &format!("{count}{{{CLIENT_FAILED}}}"),
                &format!("{count}{{{CLIENT_COUNTED}}}"),
                "server_address",
            ),
            "{{server_address}}",
        )],
    );
    b.panel(
        Viz::Series,
        8,
        "Outbound p95 latency",
        format!("95th percentile of {CLIENT_DURATION} by server."),
        "s",
        vec![q(
            p95(CLIENT_DURATION, "server_address"),
            "{{server_address}}",
        )],
    );
    b.panel(
        Viz::Series,
        12,
        "Outbound failures by error type",
        "Failed outbound calls per second by server and error_type.",
        "reqps",
        vec![q(
            rate(
                &format!("{count}{{error_type!=\"\"}}"),
                "server_address, error_type",
            ),
            "{{server_address}} {{error_type}}",
        )],
    );
    if has(CLIENT_ACTIVE) {
        b.panel(
            Viz::Series,
            12,
            "Outbound calls in flight",
            format!("Outbound calls waiting for their answer ({CLIENT_ACTIVE})."),
            "short",
            vec![q(
                gauge("sum", CLIENT_ACTIVE, "server_address"),
                "{{server_address}}",
            )],
        );
    }
}

fn jobs(b: &mut Board, has: &impl Fn(&str) -> bool) {
    let any = [
        JOB_RUNS,
        JOB_DURATION,
        JOB_QUEUE_WAIT,
        JOB_RETRIES,
        JOB_IN_FLIGHT,
        JOB_QUEUE_DEPTH,
        JOB_WORKER_SEEN,
    ];
    if !any.iter().any(|f| has(f)) {
        return;
    }
    let job = "{{queue}} {{job_name}}";
    b.row("Jobs");
    if has(JOB_RUNS) {
        b.panel(
            Viz::Series,
            12,
            "Job runs by result",
            format!("Runs per second by queue, job and result ({JOB_RUNS})."),
            "ops",
            vec![q(
                rate(JOB_RUNS, "queue, job_name, result"),
                "{{queue}} {{job_name}} {{result}}",
            )],
        );
        b.panel(
            Viz::Series,
            12,
            "Job failure ratio",
            "Runs that ended in error or panic over finished runs (ok, error, panic); retried and cancelled runs left out.",
            "percentunit",
            vec![q(
                ratio(
                    &format!("{JOB_RUNS}{{{JOB_FAILED}}}"),
                    &format!("{JOB_RUNS}{{{JOB_FINISHED}}}"),
                    "queue, job_name",
                ),
                job,
            )],
        );
    }
    for (family, title, what) in [
        (JOB_DURATION, "Job duration p95", "run duration"),
        (
            JOB_QUEUE_WAIT,
            "Job queue wait p95",
            "the wait from enqueue to start",
        ),
    ] {
        if has(family) {
            b.panel(
                Viz::Series,
                8,
                title,
                format!("95th percentile of {what} ({family}) by queue and job."),
                "s",
                vec![q(p95(family, "queue, job_name"), job)],
            );
        }
    }
    if has(JOB_RETRIES) {
        b.panel(
            Viz::Series,
            8,
            "Job retries",
            format!("Retries per second by queue and job ({JOB_RETRIES})."),
            "ops",
            vec![q(rate(JOB_RETRIES, "queue, job_name"), job)],
        );
    }
    job_gauges(b, has);
}

/// The jobs' gauges: in flight, queue depth, worker heartbeats.
fn job_gauges(b: &mut Board, has: &impl Fn(&str) -> bool) {
    let job = "{{queue}} {{job_name}}";
    if has(JOB_IN_FLIGHT) {
        b.panel(
            Viz::Series,
            8,
            "Jobs in flight",
            format!("Jobs running now ({JOB_IN_FLIGHT})."),
            "short",
            vec![q(gauge("sum", JOB_IN_FLIGHT, "queue, job_name"), job)],
        );
    }
    if has(JOB_QUEUE_DEPTH) {
        b.panel(
            Viz::Series,
            8,
            "Queue depth",
            format!("Jobs waiting in each queue ({JOB_QUEUE_DEPTH})."),
            "short",
            vec![q(gauge("sum", JOB_QUEUE_DEPTH, "queue"), "{{queue}}")],
        );
    }
    if has(JOB_WORKER_SEEN) {
        b.panel(
            Viz::Series,
            8,
            "Worker heartbeat age",
            format!(
                "Seconds since each worker's last heartbeat ({JOB_WORKER_SEEN}); ObsJobWorkerStale pages when one stays old."
            ),
            "s",
            vec![q(
                format!("time() - {}", gauge("max", JOB_WORKER_SEEN, "queue, worker")),
                "{{queue}} {{worker}}",
            )],
        );
    }
}

fn pools(b: &mut Board, has: &impl Fn(&str) -> bool) {
    let any = [
        POOL_COUNT,
        POOL_MAX,
        POOL_PENDING,
        POOL_WAIT,
        REDIS_CONNECTED,
    ];
    if !any.iter().any(|f| has(f)) {
        return;
    }
    b.row("Connection pools");
    if has(POOL_COUNT) || has(POOL_MAX) {
        let mut queries = Vec::new();
        if has(POOL_COUNT) {
            queries.push(q(
                gauge("sum", POOL_COUNT, "pool_name, state"),
                "{{pool_name}} {{state}}",
            ));
        }
        if has(POOL_MAX) {
            queries.push(q(gauge("sum", POOL_MAX, "pool_name"), "{{pool_name}} max"));
        }
        b.panel(
            Viz::Series,
            8,
            "Connections: used, idle, max",
            format!("Connections of each pool by state ({POOL_COUNT}) and the pool's maximum ({POOL_MAX}), all instances."),
            "short",
            queries,
        );
    }
    if has(POOL_PENDING) {
        b.panel(
            Viz::Series,
            8,
            "Callers waiting for a connection",
            format!("Requests waiting for a connection ({POOL_PENDING})."),
            "short",
            vec![q(gauge("sum", POOL_PENDING, "pool_name"), "{{pool_name}}")],
        );
    }
    if has(POOL_WAIT) {
        b.panel(
            Viz::Series,
            8,
            "Connection wait p95",
            format!("95th percentile of the wait for a connection ({POOL_WAIT})."),
            "s",
            vec![q(p95(POOL_WAIT, "pool_name"), "{{pool_name}}")],
        );
    }
    if has(REDIS_CONNECTED) {
        b.panel(
            Viz::Stat,
            8,
            "Redis connected",
            format!(
                "1 when every instance reaches Redis, 0 when one does not ({REDIS_CONNECTED}, the lowest)."
            ),
            "short",
            vec![q(
                gauge("min", REDIS_CONNECTED, "pool_name"),
                "{{pool_name}}",
            )],
        );
    }
}

fn batch(b: &mut Board, has: &impl Fn(&str) -> bool) {
    if !has(LAST_SUCCESS) {
        return;
    }
    b.row("Batch jobs");
    b.panel(
        Viz::Stat,
        8,
        "Age of the last success",
        format!(
            "Time since each batch job last succeeded ({LAST_SUCCESS}, pushed to the Pushgateway; `job` is the batch job's name there)."
        ),
        "s",
        vec![q(
            format!("time() - {}", gauge("max", LAST_SUCCESS, "job")),
            "{{job}}",
        )],
    );
}

/// The dashboard, when the program registered any of its families.
pub(super) fn work(catalog: &Catalog) -> Option<(String, String)> {
    let has = |name: &str| catalog.metric(name).is_some();
    let mut b = Board::new(
        UID,
        "Jobs and dependencies",
        "Outbound HTTP calls, background jobs, connection pools, Redis and batch jobs (OpenTelemetry HTTP client, messaging-style job and database client conventions).",
    );
    outbound(&mut b, &has);
    jobs(&mut b, &has);
    pools(&mut b, &has);
    batch(&mut b, &has);
    (!b.panels.is_empty()).then(|| b.finish())
}

#[cfg(test)]
mod tests {
    use super::super::super::work::tests::families;
    use super::*;

    fn text(names: &[&str]) -> Option<String> {
        let metrics = families()
            .into_iter()
            .filter(|m| names.contains(&m.name.as_str()))
            .collect();
        work(&Catalog::of_metrics(metrics)).map(|(_, json)| json)
    }

    #[test]
    fn the_dashboard_exists_only_with_work_families() {
        assert!(text(&[]).is_none());
        let all: Vec<String> = families().into_iter().map(|m| m.name).collect();
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let json = text(&all).unwrap();
        for row in ["Outbound calls", "Jobs", "Connection pools", "Batch jobs"] {
            assert!(json.contains(&format!("\"title\": \"{row}\"")), "{row}");
        }
        for family in &all {
            assert!(json.contains(family), "{family}");
        }
        assert!(json.contains("[$__rate_interval]"));
        assert!(json.contains("job=~\\\"$job\\\", instance=~\\\"$instance\\\""));
    }

    #[test]
    fn each_group_brings_its_row_alone() {
        let jobs = text(&[JOB_RUNS, JOB_WORKER_SEEN]).unwrap();
        assert!(jobs.contains("\"title\": \"Jobs\""));
        assert!(jobs.contains("Worker heartbeat age"));
        assert!(!jobs.contains("Job queue wait p95"));
        assert!(!jobs.contains("\"title\": \"Outbound calls\""));
        assert!(!jobs.contains("\"title\": \"Connection pools\""));
        let redis = text(&[REDIS_CONNECTED]).unwrap();
        assert!(redis.contains("Redis connected") && !redis.contains("Connections: used"));
        let batch = text(&[LAST_SUCCESS]).unwrap();
        assert!(batch.contains("Age of the last success") && !batch.contains("\"Jobs\""));
    }
}
