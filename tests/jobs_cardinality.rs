//! Job, queue and worker names are run-time strings: 12,000 distinct job
//! names and 12,000 workers stay within each family's series limit, the
//! rest going to the `__overflow__` series, counted. A binary of its own:
//! filling the families' limit would send the other job tests' new series
//! to the overflow series too.

use obs_runtime::jobs::Queue;

fn series(text: &str, family: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with(family) && l[family.len()..].starts_with('{'))
        .count()
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        line.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .map(|v| v.parse().unwrap())
    })
}

#[test]
fn many_job_and_worker_names_stay_within_the_series_limit() {
    let limit = obs_runtime::schema::MAX_SERIES_PER_METRIC;
    let names = limit + 2_000;
    let queue = Queue::new("test_many");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        for i in 0..names {
            let name = format!("job_{i}");
            queue
                .job(&name)
                .run(async { Ok::<_, std::io::Error>(()) })
                .await
                .unwrap();
            queue.worker(format!("w{i}"));
        }
        // Hostile names: too long for a label value, the overflow marker.
        let long = "j".repeat(5_000);
        for name in [long.as_str(), "__overflow__", "", "line\nbreak\"quote"] {
            let _ = queue
                .job(name)
                .run(async { Ok::<_, std::io::Error>(()) })
                .await;
        }
    });

    let text = obs_runtime::encode_text();
    let runs = series(&text, "job_runs_total");
    assert!(runs <= limit + 1, "{runs} job_runs_total series");
    assert!(runs >= limit, "the limit is used, not undercut: {runs}");
    let overflow = value(
        &text,
        r#"job_runs_total{queue="__overflow__",job_name="__overflow__",result="__overflow__"}"#,
    )
    .expect("an overflow series");
    assert!(overflow >= 2_000.0, "{overflow}");
    let workers = series(&text, "job_worker_last_seen_timestamp_seconds");
    assert!(workers <= limit + 1, "{workers} heartbeat series");
    assert!(
        series(&text, "job_duration_seconds_count") <= limit + 1,
        "the histogram is capped too"
    );
    for family in ["job_runs_total", "job_worker_last_seen_timestamp_seconds"] {
        let counted = value(
            &text,
            &format!(r#"obs_cardinality_overflow_total{{metric="{family}"}}"#),
        )
        .unwrap_or_else(|| panic!("{family} overflow not counted"));
        assert!(counted >= 2_000.0, "{family}: {counted}");
    }
    assert!(
        !text.contains(&"j".repeat(2_000)),
        "no 5,000-byte label value"
    );
    assert!(
        !text.contains("line\nbreak"),
        "no raw line break in a label"
    );
}
