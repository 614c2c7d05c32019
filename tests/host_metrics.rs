//! `host::register(&["/", dir])`: a scrape over loopback carries the
//! `node_exporter` families with plausible values (memory: total at least
//! the available, which is positive; file systems: size, free, available
//! in that order and positive; a CPU time per mode that only grows), the
//! catalog knows them, the `OpenMetrics` text carries them too, and bad
//! paths are refused before anything is registered.
//!
//! Its own test binary: the families are registered once per process.

mod service_support;

use std::collections::BTreeMap;
use std::time::Duration;

use obs_runtime::host::{self, HostError};
use service_support::{sample_value as value, serve_router};

/// `node_cpu_seconds_total` by `(cpu, mode)`.
fn cpu_seconds(text: &str) -> BTreeMap<(String, String), f64> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("node_cpu_seconds_total{cpu=\"")?;
            let (cpu, rest) = rest.split_once("\",mode=\"")?;
            let (mode, value) = rest.split_once("\"} ")?;
            Some(((cpu.to_owned(), mode.to_owned()), value.parse().ok()?))
        })
        .collect()
}

#[test]
fn a_scrape_shows_cpu_memory_and_disks_with_plausible_values() {
    // Refused before anything is registered.
    let missing = host::register(&["/", "/no/such/obs/path"]).unwrap_err();
    assert!(
        matches!(&missing, HostError::Path { path, .. } if path.ends_with("path")),
        "{missing}"
    );
    assert!(
        missing.to_string().contains("/no/such/obs/path"),
        "{missing}"
    );
    let twice = host::register(&["/", "/"]).unwrap_err();
    assert_eq!(twice, HostError::DuplicatePath("/".into()));

    let dir = std::env::temp_dir();
    let dir = dir.to_str().unwrap();
    host::register(&["/", dir]).unwrap();
    assert!(
        matches!(host::register(&["/"]), Err(HostError::Registry(_))),
        "once per program"
    );

    let (addr, runtime) = serve_router(obs_runtime::http::routes());
    let scrape = || {
        let r = service_support::get(addr, "/metrics").expect("a scrape");
        assert_eq!(r.status, 200);
        r.text()
    };
    let text = scrape();
    for family in [
        "# TYPE node_cpu_seconds_total counter",
        "# TYPE node_memory_MemTotal_bytes gauge",
        "# TYPE node_memory_MemAvailable_bytes gauge",
        "# TYPE node_filesystem_size_bytes gauge",
        "# TYPE node_filesystem_free_bytes gauge",
        "# TYPE node_filesystem_avail_bytes gauge",
    ] {
        assert!(text.contains(family), "{family} missing:\n{text}");
    }
    let total = value(&text, "node_memory_MemTotal_bytes").unwrap();
    let available = value(&text, "node_memory_MemAvailable_bytes").unwrap();
    assert!(total >= available && available > 0.0, "{total} {available}");
    // More than 16 MiB and less than 1 PiB: a machine, not a unit slip.
    assert!(
        total > 16.0 * 1024.0 * 1024.0 && total < 1024f64.powi(5),
        "{total}"
    );

    for mountpoint in ["/", dir] {
        let line = |family: &str| {
            text.lines()
                .find(|l| {
                    l.starts_with(&format!("{family}{{"))
                        && l.contains(&format!("mountpoint=\"{mountpoint}\"}}"))
                })
                .and_then(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("{family} of {mountpoint}:\n{text}"))
        };
        let (size, free, avail) = (
            line("node_filesystem_size_bytes"),
            line("node_filesystem_free_bytes"),
            line("node_filesystem_avail_bytes"),
        );
        assert!(
            size >= free && free >= avail && avail > 0.0,
            "{mountpoint}: {size} {free} {avail}"
        );
    }
    // The mount's device and type, as node_exporter labels them.
    assert!(
        text.lines()
            .any(|l| l.starts_with("node_filesystem_size_bytes{device=\"")
                && !l.contains("fstype=\"unknown\"")
                && l.contains("mountpoint=\"/\"}")),
        "{text}"
    );

    let before = cpu_seconds(&text);
    let modes: Vec<&str> = before
        .keys()
        .filter(|(cpu, _)| cpu == "0")
        .map(|(_, m)| m.as_str())
        .collect();
    assert_eq!(modes.len(), 8, "every mode of cpu 0: {modes:?}\n{text}");
    for mode in ["user", "system", "idle", "iowait", "steal"] {
        assert!(modes.contains(&mode), "{mode}: {modes:?}");
    }
    let busy: f64 = before.values().sum();
    assert!(busy > 0.0, "{before:?}");
    // Burn a little CPU, then the counters have only grown.
    let mut x = 0u64;
    for i in 0..5_000_000u64 {
        x = x.wrapping_mul(31).wrapping_add(i);
    }
    std::hint::black_box(x);
    let after = cpu_seconds(&scrape());
    for (key, v) in &before {
        assert!(after[key] >= *v, "{key:?} went down: {v} -> {}", after[key]);
    }

    // In the catalog, so docs and dashboards see them.
    let catalog = obs_runtime::catalog();
    for name in [
        "node_cpu_seconds_total",
        "node_memory_MemTotal_bytes",
        "node_filesystem_avail_bytes",
    ] {
        assert!(catalog.metric(name).is_some(), "{name} not in the catalog");
    }
    let md = obs_runtime::export::metrics_markdown();
    assert!(md.contains("node_memory_MemAvailable_bytes"), "{md}");
    // The bundle of a program that reports its host is still valid.
    let bundle = std::env::temp_dir().join(format!("obs-host-bundle-{}", std::process::id()));
    obs_runtime::export::write_bundle(&bundle).unwrap();
    let checked =
        service_support::promtool(&["check", "rules", "rules.yml"], &bundle.join("prometheus"));
    assert!(checked.contains("SUCCESS"), "{checked}");
    let tested = service_support::promtool(
        &["test", "rules", "rules_test.yml"],
        &bundle.join("prometheus"),
    );
    assert!(tested.contains("SUCCESS"), "{tested}");
    let _ = std::fs::remove_dir_all(&bundle);
    // OpenMetrics: a counter family without `_total`, units declared.
    let om = obs_runtime::encode_openmetrics();
    assert!(om.contains("# TYPE node_cpu_seconds counter\n"), "{om}");
    assert!(
        om.contains("# UNIT node_filesystem_size_bytes bytes\n"),
        "{om}"
    );
    runtime.shutdown_timeout(Duration::from_secs(1));
}
