//! The example's monitoring bundle (`examples/monitoring/`): current with
//! the code, and accepted by the real tools. `promtool` checks both
//! Prometheus configurations and the rules and runs the rule tests;
//! `amtool` checks the Alertmanager configuration and shows where a
//! critical and a warning alert go; and the fleet profile runs: a
//! Prometheus agent scrapes the example service and remote-writes to a
//! second Prometheus, whose API then answers for the service's series.

mod service_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use service_support::prometheus::Prometheus;
use service_support::{ExampleService, tool, wait_for};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/monitoring");
const REGENERATE: &str = "cargo run --example service -- --export examples/monitoring";

fn committed() -> PathBuf {
    PathBuf::from(COMMITTED)
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("obs-bundle-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file under `dir`, by its path relative to `dir` with `/`.
fn files(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                let rel: Vec<String> = rel
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                out.insert(rel.join("/"), std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The first line where `old` and `new` differ, for the failure message.
fn first_difference(old: &str, new: &str) -> String {
    let (mut a, mut b) = (old.lines(), new.lines());
    for n in 1.. {
        match (a.next(), b.next()) {
            (None, None) => return "only in the line endings".to_owned(),
            (x, y) if x == y => {}
            (x, y) => {
                return format!(
                    "line {n}:\n  committed: {}\n  generated: {}",
                    x.unwrap_or("<end of file>"),
                    y.unwrap_or("<end of file>")
                );
            }
        }
    }
    unreachable!()
}

/// `cargo test` builds the examples beside the test binaries.
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples")
        .join("service");
    assert!(
        path.exists(),
        "{} is missing: `cargo test --workspace` builds it; or run `cargo build --example service` first",
        path.display()
    );
    path
}

/// Runs the example's `--export`, which writes and exits at once; an example
/// that serves instead (built before `--export` existed) is killed after a
/// minute rather than hanging the suite.
fn export_within_a_minute(command: &mut Command) -> std::process::Output {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the example with --export");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait for the example").is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            panic!(
                "the example still ran a minute after --export: is target/*/examples/service stale? `cargo build --example service`"
            );
        }
        std::thread::park_timeout(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("the example's output")
}

#[test]
fn the_committed_bundle_is_what_the_example_writes_now() {
    let dir = tempdir("fresh");
    let out = export_within_a_minute(
        Command::new(example_binary())
            .arg("--export")
            .arg(&dir)
            .env("RUST_LOG", "warn"),
    );
    assert!(
        out.status.success(),
        "service --export failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = files(&dir);
    let committed = files(&committed());
    let mut problems = Vec::new();
    for (path, new) in &generated {
        match committed.get(path) {
            None => problems.push(format!("{path}: missing from examples/monitoring/")),
            Some(old) if old != new => {
                problems.push(format!("{path}: stale, {}", first_difference(old, new)));
            }
            Some(_) => {}
        }
    }
    for path in committed.keys().filter(|p| !generated.contains_key(*p)) {
        problems.push(format!("{path}: no longer generated; delete it"));
    }
    assert!(
        problems.is_empty(),
        "examples/monitoring/ is stale; regenerate it with `{REGENERATE}` and commit it:\n{}",
        problems.join("\n")
    );
    // Stable across machines: no absolute path, and the same bundle from
    // another folder, user and host name (to a relative path).
    for (path, text) in &generated {
        assert!(
            !text.contains(env!("CARGO_MANIFEST_DIR"))
                && !text.contains(&*std::env::temp_dir().to_string_lossy()),
            "{path} holds a path of this machine"
        );
    }
    let elsewhere = tempdir("elsewhere");
    let out = export_within_a_minute(
        Command::new(example_binary())
            .args(["--export", "bundle"])
            .current_dir(&elsewhere)
            .env("HOSTNAME", "another-machine")
            .env("HOME", &elsewhere)
            .env("USER", "someone-else"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        files(&elsewhere.join("bundle")) == generated,
        "the bundle depends on where or by whom it is written"
    );
    let _ = std::fs::remove_dir_all(&elsewhere);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `program` in `dir`; its exit status and its stdout + stderr.
fn run(program: &Path, args: &[&str], dir: &Path) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn promtool(args: &[&str]) -> String {
    let (ok, text) = run(&tool("promtool", "prometheus"), args, &committed());
    assert!(ok, "promtool {args:?} failed:\n{text}");
    eprintln!("promtool {}: {}", args.join(" "), text.trim());
    text
}

fn amtool(args: &[&str]) -> String {
    let (ok, text) = run(
        &tool("amtool", "prometheus-alertmanager"),
        args,
        &committed(),
    );
    assert!(ok, "amtool {args:?} failed:\n{text}");
    eprintln!("amtool {}: {}", args.join(" "), text.trim());
    text
}

#[test]
fn promtool_accepts_both_configurations_and_the_rules() {
    // The server's configuration, its rule file included; lint errors
    // (duplicate rules) fail too.
    let checked = promtool(&[
        "check",
        "config",
        "--lint=all",
        "--lint-fatal",
        "prometheus/prometheus.yml",
    ]);
    assert!(checked.contains("SUCCESS: 1 rule files found"), "{checked}");
    assert!(!checked.contains("FAILED"), "{checked}");
    // The agent's, as Prometheus in agent mode reads it (it refuses
    // rule_files and alerting).
    let agent = promtool(&["check", "config", "--agent", "fleet/prometheus-agent.yml"]);
    assert!(agent.contains("SUCCESS"), "{agent}");
    let rules = promtool(&[
        "check",
        "rules",
        "--lint=all",
        "--lint-fatal",
        "prometheus/rules.yml",
    ]);
    assert!(rules.contains("SUCCESS"), "{rules}");
    let (ok, tested) = run(
        &tool("promtool", "prometheus"),
        &["test", "rules", "rules_test.yml"],
        &committed().join("prometheus"),
    );
    assert!(ok && tested.contains("SUCCESS"), "{tested}");
}

#[test]
fn amtool_accepts_the_alertmanager_config_and_routes_by_severity() {
    let checked = amtool(&["check-config", "alertmanager/alertmanager.yml"]);
    assert!(checked.contains("SUCCESS"), "{checked}");
    assert!(checked.contains("2 inhibit rules"), "{checked}");
    assert!(checked.contains("2 receivers"), "{checked}");
    let route = |labels: &[&str]| {
        let mut args = vec![
            "config",
            "routes",
            "test",
            "--config.file=alertmanager/alertmanager.yml",
        ];
        args.extend_from_slice(labels);
        amtool(&args)
            .lines()
            .filter(|l| !l.starts_with("Warning:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(route(&["severity=critical", "slo=x"]), "page");
    assert_eq!(route(&["severity=warning", "slo=x"]), "ticket");
    assert_eq!(route(&["severity=warning"]), "ticket");
    // --verify.receivers makes amtool itself fail on another answer.
    amtool(&[
        "config",
        "routes",
        "test",
        "--config.file=alertmanager/alertmanager.yml",
        "--verify.receivers=page",
        "severity=critical",
        "alertname=ObsTargetDown",
    ]);
    // amtool 0.25 can't evaluate inhibitions; it parsed them above (2
    // inhibit rules), and here they are as written.
    let config =
        std::fs::read_to_string(committed().join("alertmanager/alertmanager.yml")).unwrap();
    let inhibit = config
        .split("inhibit_rules:")
        .nth(1)
        .expect("inhibit_rules");
    for rule in [
        "  - source_matchers:\n      - 'severity=\"critical\"'\n      - 'slo=~\".+\"'\n    target_matchers:\n      - 'severity=\"warning\"'\n      - 'slo=~\".+\"'\n    equal:\n      - slo\n      - sli\n",
        "  - source_matchers:\n      - 'severity=\"critical\"'\n      - 'instance=~\".+\"'\n    target_matchers:\n      - 'severity=\"warning\"'\n    equal:\n      - alertname\n      - instance\n",
    ] {
        assert!(
            inhibit.contains(rule),
            "no inhibit rule\n{rule}\nin\n{inhibit}"
        );
    }
}

#[test]
fn a_prometheus_agent_forwards_the_service_to_a_central_receiver() {
    let service = ExampleService::start();
    let receiver = Prometheus::with_config(
        "receiver",
        "global:\n  scrape_interval: 1m\nscrape_configs: []\n",
        &[
            "--web.enable-remote-write-receiver",
            "--storage.tsdb.path=data",
        ],
        &[],
        &[],
    );

    // The committed agent configuration, with its two placeholders — the
    // service's port and the central receiver — pointed at this test's.
    let agent_config =
        std::fs::read_to_string(committed().join("fleet/prometheus-agent.yml")).unwrap();
    let target = "127.0.0.1:8080";
    let central = "https://prometheus-central.example.com/api/v1/write";
    for placeholder in [target, central] {
        assert!(
            agent_config.contains(placeholder),
            "{placeholder} not in {agent_config}"
        );
    }
    let agent_config = agent_config
        .replace(target, &service.addr.to_string())
        .replace(central, &format!("http://{}/api/v1/write", receiver.addr));
    // Debian 12's Prometheus 2.42: agent mode is a feature flag (Prometheus 3: --agent).
    let agent = Prometheus::with_config(
        "agent",
        &agent_config,
        &[
            "--enable-feature=agent,expand-external-labels",
            "--storage.agent.path=data-agent",
        ],
        &[("HOSTNAME", "fleet-test-machine")],
        &[],
    );

    // The agent scrapes every 15 s and sends within seconds.
    let query = r#"obs_build_info{job="example-service",host="fleet-test-machine"}"#;
    let found = wait_for(Duration::from_secs(60), || {
        receiver.try_query(query).ok().filter(|r| !r.is_empty())
    });
    assert!(
        found.is_some(),
        "{query} never reached the receiver\nagent log:\n{}\nreceiver log:\n{}",
        agent.log(),
        receiver.log()
    );
    let series = &found.unwrap()[0]["metric"];
    eprintln!("the receiver has {series}");
    assert_eq!(series["instance"], service.addr.to_string());
    let up = receiver
        .try_query(r#"up{job="example-service"}"#)
        .expect("a query for up");
    assert_eq!(
        up.first().map(|s| &s["value"][1]),
        Some(&serde_json::json!("1")),
        "{up:?}"
    );
}

/// Docker Compose can't run here; what can go wrong between the bundle's
/// files is checked instead: every file or folder the Compose file mounts
/// from the bundle exists in it, and Grafana's dashboard provider reads
/// the folder the dashboards are mounted at.
#[test]
fn the_compose_file_mounts_what_the_bundle_holds() {
    let bundle = files(&committed());
    let compose = &bundle["docker-compose.yaml"];
    let mounts: Vec<(&str, &str)> = compose
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- ./"))
        .filter_map(|m| {
            let mut parts = m.split(':');
            Some((parts.next()?, parts.next()?))
        })
        .collect();
    assert!(mounts.len() >= 5, "{mounts:?}");
    for (source, _) in &mounts {
        assert!(
            bundle
                .keys()
                .any(|f| f == source || f.starts_with(&format!("{source}/"))),
            "docker-compose.yaml mounts ./{source}, which the bundle lacks"
        );
    }
    let provider = &bundle["grafana/provisioning/dashboards/obs.yaml"];
    let path = provider
        .lines()
        .find_map(|l| l.trim().strip_prefix("path: "))
        .expect("the provider's path");
    assert!(
        mounts.contains(&("grafana/dashboards", path)),
        "Grafana reads {path}, the dashboards are mounted at {mounts:?}"
    );
    assert!(
        bundle
            .keys()
            .any(|f| f.starts_with("grafana/dashboards/") && f.ends_with(".json"))
    );
    // The data source is the Compose Prometheus.
    assert!(
        bundle["grafana/provisioning/datasources/prometheus.yaml"]
            .contains("http://prometheus:9090")
    );
    assert!(compose.contains("\n  prometheus:\n"));
}
