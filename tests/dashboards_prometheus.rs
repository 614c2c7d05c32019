//! Every PromQL expression of the generated dashboards and of
//! `docs/metrics.md`, evaluated by a real Prometheus that scraped the
//! example service while requests ran: none may fail, and the overview and
//! functions panels must show data.
//!
//! The example's declarations are linked into this test, so the files are
//! generated from the same catalog as the scraped process.

#[allow(dead_code, unused_imports, clippy::all, clippy::pedantic)]
#[path = "../examples/service.rs"]
mod example;
mod service_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use obs_runtime::export::ExportOptions;
use service_support::prometheus::Prometheus;
use service_support::{ExampleService, request, wait_for};

/// An objective the example lacks, so the objectives' queries are
/// evaluated too (they find no series: the rules are not loaded here).
#[obs_runtime::instrumented(metric = "dash_e2e_checkout", slo(success = "99.9%"))]
fn checkout() -> Result<(), String> {
    Ok(())
}

/// One query to evaluate: where it comes from, and its text.
struct Expr {
    origin: String,
    promql: String,
}

fn dashboard_queries(instance: &str) -> Vec<(String, String, Vec<Expr>)> {
    let mut out = Vec::new();
    for (file, text) in obs_runtime::export::grafana_dashboards() {
        let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
        for panel in dashboard["panels"].as_array().unwrap() {
            let Some(targets) = panel["targets"].as_array() else {
                continue;
            };
            let title = panel["title"].as_str().unwrap().to_owned();
            let exprs = targets
                .iter()
                .map(|t| Expr {
                    origin: format!("{file} / {title} / {}", t["refId"]),
                    promql: t["expr"]
                        .as_str()
                        .unwrap()
                        .replace("$__rate_interval", "1m")
                        .replace("$job", "obs")
                        .replace("$instance", instance)
                        .replace("$function", ".*"),
                })
                .collect();
            out.push((file.clone(), title, exprs));
        }
    }
    out
}

/// The query variables' `label_values(selector, label)`, as PromQL that
/// gives the same values: `count by (label) (selector)`.
fn variable_queries(instance: &str) -> Vec<Expr> {
    let mut out = Vec::new();
    for (file, text) in obs_runtime::export::grafana_dashboards() {
        let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
        for var in dashboard["templating"]["list"].as_array().unwrap() {
            if var["type"] != "query" {
                continue;
            }
            let query = var["query"].as_str().unwrap();
            let inner = query
                .strip_prefix("label_values(")
                .and_then(|q| q.strip_suffix(')'))
                .unwrap_or_else(|| panic!("{file}: {query}"));
            let (selector, label) = inner.rsplit_once(", ").unwrap();
            out.push(Expr {
                origin: format!("{file} / variable {}", var["name"]),
                promql: format!("count by ({label}) ({selector})")
                    .replace("$job", "obs")
                    .replace("$instance", instance),
            });
        }
    }
    out
}

fn markdown_queries() -> Vec<Expr> {
    let markdown = obs_runtime::export::metrics_markdown();
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for line in markdown.lines() {
        match (&mut block, line) {
            (None, "```promql") => block = Some(String::new()),
            (Some(text), "```") => {
                out.push(Expr {
                    origin: "docs/metrics.md".to_owned(),
                    promql: std::mem::take(text),
                });
                block = None;
            }
            (Some(text), line) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

/// The overview, the example's functions and the example's objectives
/// (recorded per job) must show data.
fn must_show(file: &str, title: &str) -> bool {
    file == "obs-overview.json"
        || (file == "obs-functions.json" && !title.starts_with("dash_e2e_checkout"))
        || (file == "obs-objectives.json"
            && ["user_lookup", "http_users_id", "http_all_routes"]
                .iter()
                .any(|slo| title.starts_with(&format!("{slo} "))))
}

#[test]
fn every_dashboard_and_docs_query_runs_on_prometheus() {
    let _ = checkout();
    // The example's route objectives, declared as its layer is built, so
    // their panels and docs queries are evaluated too.
    let _layer = example::layer().expect("the example's route objectives");
    let service = ExampleService::start();
    // With the generated rules, so the objectives' panels read recorded
    // series, filtered by the dashboards' `$job`.
    let rules = obs_runtime::export::prometheus_rules_with(&ExportOptions::default().job("obs"));
    let prometheus = Prometheus::start_with_rules("dashboards", "obs", service.addr, Some(&rules));

    // Requests over every route for the whole test, so rates grow between
    // scrapes.
    let addr = service.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let driver = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut sent = 0_u64;
            while !stop.load(Relaxed) {
                let (method, path) = match sent % 4 {
                    0 => ("GET", format!("/users/{}", 1 + sent * 37 % 500)),
                    1 => ("GET", "/ask?provider=anthropic&q=hi".to_owned()),
                    2 => ("POST", "/scan".to_owned()),
                    _ => ("GET", format!("/no/such/page/{sent}")),
                };
                let _ = request(addr, method, &path, &[]);
                sent += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            sent
        })
    };

    let flowing = wait_for(Duration::from_secs(60), || {
        prometheus
            .try_query("sum(rate(http_server_request_duration_seconds_count[1m])) > 0")
            .ok()
            .filter(|r| !r.is_empty())
    });
    assert!(flowing.is_some(), "no request rate: {}", prometheus.log());
    // The objectives' rules evaluated on the requests.
    let recorded = wait_for(Duration::from_secs(60), || {
        prometheus
            .try_query("slo:sli_error:ratio_rate5m{slo=\"http_all_routes\", job=\"obs\"}")
            .ok()
            .filter(|r| !r.is_empty())
    });
    assert!(
        recorded.is_some(),
        "no recorded objective: {}",
        prometheus.log()
    );

    let instance = service.addr.to_string();
    let panels = dashboard_queries(&instance);
    let docs = markdown_queries();
    // Until every panel that must show data does (a rate needs two scrapes
    // with calls of each function), within a bound; the loop below names
    // the panels still empty after it.
    let has_data = |e: &Expr| prometheus.try_query(&e.promql).is_ok_and(|r| !r.is_empty());
    let _ = wait_for(Duration::from_secs(60), || {
        panels
            .iter()
            .filter(|(file, title, _)| must_show(file, title))
            .all(|(_, _, exprs)| exprs.iter().any(has_data))
            .then_some(())
    });
    let mut failures = Vec::new();
    let mut empty_panels = Vec::new();
    let mut evaluated = 0;
    for (file, title, exprs) in &panels {
        let mut any_data = false;
        for e in exprs {
            evaluated += 1;
            match prometheus.try_query(&e.promql) {
                Ok(result) => any_data |= !result.is_empty(),
                Err(error) => failures.push(format!("{}: {error}\n{}", e.origin, e.promql)),
            }
        }
        if must_show(file, title) && !any_data {
            empty_panels.push(format!("{file} / {title}"));
        }
    }
    // Every variable offers values: the job, the instance, the functions.
    for e in variable_queries(&instance) {
        evaluated += 1;
        match prometheus.try_query(&e.promql) {
            Ok(result) if result.is_empty() => empty_panels.push(e.origin),
            Ok(_) => {}
            Err(error) => failures.push(format!("{}: {error}\n{}", e.origin, e.promql)),
        }
    }
    for e in &docs {
        evaluated += 1;
        if let Err(error) = prometheus.try_query(&e.promql) {
            failures.push(format!("{}: {error}\n{}", e.origin, e.promql));
        }
    }
    stop.store(true, Relaxed);
    let sent = driver.join().expect("the request driver");
    eprintln!(
        "{} panels, {evaluated} expressions evaluated ({} from docs/metrics.md), {sent} requests",
        panels.len(),
        docs.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        empty_panels.is_empty(),
        "panels without data: {empty_panels:#?}"
    );
    assert!(docs.len() > 20, "the docs hold queries");
}
