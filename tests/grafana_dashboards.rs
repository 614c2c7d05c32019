//! The generated Grafana dashboards against Grafana's published dashboard
//! JSON schema, and the rules' runbook links against `docs/metrics.md`.
//!
//! The example service's declarations are linked into this test, so the
//! catalog holds its functions, objectives, checks and metric sets.
//!
//! `tests/data/grafana-dashboard.schema.json` is
//! `jsonschema/dashboard.jsonschema.json` of grafana/grafana-foundation-sdk
//! (commit f178d5a42a8915fdda9235e97ad93881e3f94fef, 2026-06-16), the JSON
//! schema Grafana generates from its dashboard kind (schema v1, the JSON
//! model with `schemaVersion`).

#[allow(dead_code, unused_imports, clippy::all, clippy::pedantic)]
#[path = "../examples/service.rs"]
mod example;

use serde_json::Value;

/// The example declares no objective; this one puts the objectives'
/// panels and runbook in the files under test.
#[obs_runtime::instrumented(
    metric = "dash_test_checkout",
    buckets = "http",
    slo(success = "99.9%", latency = "250ms", percentile = "99%")
)]
fn checkout() -> Result<(), String> {
    Ok(())
}

const SCHEMA: &str = include_str!("data/grafana-dashboard.schema.json");

fn dashboards() -> Vec<(String, Value)> {
    obs_runtime::export::grafana_dashboards()
        .into_iter()
        .map(|(file, text)| {
            let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
            (file, json)
        })
        .collect()
}

/// Every panel of a dashboard, rows' nested panels included.
fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in dashboard["panels"].as_array().unwrap() {
        out.push(p);
        if let Some(nested) = p["panels"].as_array() {
            out.extend(nested);
        }
    }
    out
}

#[test]
fn dashboards_validate_against_grafanas_schema() {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::draft7::new(&schema).expect("the schema compiles");
    let all = dashboards();
    let files: Vec<&str> = all.iter().map(|(f, _)| f.as_str()).collect();
    // The four of every program, and the work dashboard once the program
    // registers outbound calls, jobs, pools or batch pushes.
    assert_eq!(
        files[..4],
        [
            "obs-overview.json",
            "obs-functions.json",
            "obs-objectives.json",
            "obs-runtime.json"
        ]
    );
    assert!(
        files[4..] == [] as [&str; 0] || files[4..] == ["obs-work.json"],
        "{files:?}"
    );
    for (file, dashboard) in &all {
        let errors: Vec<String> = validator
            .iter_errors(dashboard)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{file}:\n{}", errors.join("\n"));
    }
}

#[test]
fn dashboards_load_by_file_provisioning() {
    for (file, dashboard) in dashboards() {
        let text = dashboard.to_string();
        assert!(
            !text.contains("__inputs") && !text.contains("${DS_"),
            "{file}: import placeholders break file provisioning"
        );
        assert_eq!(dashboard["schemaVersion"], 39, "{file}");
        let vars = dashboard["templating"]["list"].as_array().unwrap();
        let var = |name: &str| vars.iter().find(|v| v["name"] == name);
        let ds = var("datasource").expect("a datasource variable");
        assert_eq!(
            (&ds["type"], &ds["query"]),
            (&"datasource".into(), &"prometheus".into())
        );
        assert_eq!(var("job").unwrap()["query"], "label_values(up, job)");
        assert!(
            var("instance").unwrap()["query"]
                .as_str()
                .unwrap()
                .contains("instance)")
        );
        let mut ids = Vec::new();
        for panel in panels(&dashboard) {
            ids.push(panel["id"].as_u64().unwrap());
            if panel["type"] == "row" {
                continue;
            }
            assert_eq!(panel["datasource"]["uid"], "${datasource}", "{file}");
            let targets = panel["targets"].as_array().unwrap();
            assert!(!targets.is_empty(), "{file}: {}", panel["title"]);
            for t in targets {
                let expr = t["expr"].as_str().unwrap();
                // The objectives' recorded series keep `job`, not
                // `instance`: they are filtered by job alone.
                let filter = if expr.starts_with("slo:") {
                    "job=~\"$job\""
                } else {
                    "job=~\"$job\", instance=~\"$instance\""
                };
                assert!(expr.contains(filter), "{file}: unfiltered {expr}");
                if expr.contains('[') {
                    assert!(expr.contains("[$__rate_interval]"), "{file}: {expr}");
                }
            }
        }
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "{file}: panel ids are unique");
    }
}

#[test]
fn dashboards_cover_the_catalog() {
    let all = dashboards();
    let text = |file: &str| {
        all.iter()
            .find(|(f, _)| f == file)
            .map(|(_, d)| d.to_string())
            .unwrap()
    };
    let _ = checkout();
    let catalog = obs_runtime::catalog();
    assert!(catalog.objectives().next().is_some());
    let functions = text("obs-functions.json");
    for base in catalog.bases() {
        assert!(functions.contains(&format!("{base}_calls_total")), "{base}");
        assert!(
            functions.contains(&format!("{base}_duration_seconds_bucket")),
            "{base}"
        );
    }
    let objectives = text("obs-objectives.json");
    for (f, _) in catalog.objectives() {
        assert!(objectives.contains(&f.slo_name()));
    }
    assert!(objectives.contains("slo:error_budget:remaining"));
    assert!(objectives.contains("health_check_status"));
    let runtime = text("obs-runtime.json");
    for (set, members) in catalog.metric_sets() {
        assert!(runtime.contains(&format!("Metric set {set}")));
        for m in members {
            assert!(runtime.contains(&m.name), "{}", m.name);
        }
    }
    assert!(
        !catalog.metric_sets().is_empty(),
        "the example's metric sets"
    );
    let overview = text("obs-overview.json");
    assert!(overview.contains("http_server_request_duration_seconds_bucket"));
}

#[test]
fn provisioning_files_name_the_data_source_and_the_folder() {
    let files = obs_runtime::export::grafana_provisioning("http://prometheus:9090");
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "grafana/provisioning/datasources/prometheus.yaml",
            "grafana/provisioning/dashboards/obs.yaml"
        ]
    );
    assert!(files[0].1.contains("type: prometheus"));
    assert!(files[1].1.contains("type: file"));
}

/// GitHub's heading anchor.
fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[test]
fn every_runbook_url_has_its_heading() {
    let markdown = obs_runtime::export::metrics_markdown();
    let anchors: Vec<String> = markdown
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| slug(l.trim_start_matches('#').trim()))
        .collect();
    let rules = obs_runtime::export::prometheus_rules();
    let urls: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("runbook_url: "))
        .collect();
    assert!(urls.len() > 5, "the example's alerts");
    for url in urls {
        let url = url.trim_matches('"');
        let (doc, anchor) = url.split_once('#').unwrap();
        assert_eq!(doc, "docs/metrics.md");
        assert!(
            anchors.iter().any(|a| a == anchor),
            "no heading for #{anchor}"
        );
    }
    for f in obs_runtime::catalog().functions() {
        assert!(markdown.contains(&format!("`{}::{}`", f.module, f.function)));
        // Where to look: the file and line of the function's attribute.
        assert!(
            markdown.contains(&format!("| declared at | `{}` |", f.location)),
            "{}: no source location",
            f.function
        );
        assert!(f.location.file.ends_with(".rs") && f.location.line > 0);
    }
}
