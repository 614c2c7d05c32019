//! The parity check of a seed port: the rows of
//! `examples/seeds/<example>.parity` (read from the seed team's document)
//! checked against the running example, its scrape, its logs and the
//! monitoring bundle it exports, on a real Prometheus and with promtool.
//!
//! The list is line-oriented, fields separated by ` | `, `#` starts a
//! comment; the last field of a row is its source in the document:
//!
//! ```text
//! request | GET      | /api/missions                        | -
//! metric  | name     | counter | label,label               | source
//! alert   | Name     | > 0.05 | 5m                          | source
//! panel   | Board    | Panel title                          | source
//! health  | database | 2s                                   | source
//! log     | field    | GET /path                            | source
//! out     | what     | why it is out of scope               | source
//! ```

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::service_support::prometheus::Prometheus;
use crate::service_support::{self as support, ExampleService, request, wait_for};

/// One row of a parity list.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: usize,
    pub kind: String,
    pub key: String,
    pub fields: Vec<String>,
    pub source: String,
}

impl Row {
    fn field(&self, i: usize) -> &str {
        self.fields.get(i).map_or("", String::as_str)
    }
}

/// The rows of `examples/seeds/<example>.parity`, checked for shape: a
/// known kind, the fields it needs, a source, and a reason when out of
/// scope.
pub fn rows(example: &str) -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/seeds")
        .join(format!("{example}.parity"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<String> = line.split(" | ").map(|p| p.trim().to_owned()).collect();
        let [kind, key, middle @ .., source] = parts.as_slice() else {
            problems.push(format!("line {}: fewer than 3 fields: {line}", i + 1));
            continue;
        };
        let row = Row {
            line: i + 1,
            kind: kind.clone(),
            key: key.clone(),
            fields: middle.to_vec(),
            source: source.clone(),
        };
        let needed = match row.kind.as_str() {
            "request" | "panel" | "health" | "log" | "out" => 1,
            "metric" | "alert" => 2,
            other => {
                problems.push(format!("line {}: unknown kind `{other}`", row.line));
                continue;
            }
        };
        if row.fields.len() < needed || row.fields.iter().take(needed).any(String::is_empty) {
            problems.push(format!(
                "line {}: `{}` needs {needed} field(s) between key and source: {line}",
                row.line, row.kind
            ));
        }
        if row.kind != "request" && (row.source.is_empty() || row.source == "-") {
            problems.push(format!("line {}: no source in the document", row.line));
        }
        rows.push(row);
    }
    assert!(
        problems.is_empty(),
        "{}:\n{}",
        path.display(),
        problems.join("\n")
    );
    assert!(!rows.is_empty(), "{}: no rows", path.display());
    rows
}

/// A duration as the lists and Prometheus write them (`500ms`, `2s`, `5m`,
/// `1h`).
pub fn duration(text: &str) -> Duration {
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or_else(|| panic!("duration `{text}` has no unit"));
    let (number, unit) = text.split_at(split);
    let n: f64 = number
        .parse()
        .unwrap_or_else(|_| panic!("duration `{text}`"));
    let seconds = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86_400.0,
        _ => panic!("duration `{text}`: unknown unit `{unit}`"),
    };
    Duration::from_secs_f64(seconds)
}

/// Families of a 0.0.4 scrape: name → (type, label names seen on samples).
pub fn families(scrape: &str) -> BTreeMap<String, (String, BTreeSet<String>)> {
    let mut families: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for line in scrape.lines() {
        if let Some((name, kind)) = line.strip_prefix("# TYPE ").and_then(|r| r.split_once(' ')) {
            families.insert(name.to_owned(), (kind.trim().to_owned(), BTreeSet::new()));
        }
    }
    for line in scrape
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let sample = &line[..name_end];
        let family = [
            "", "_bucket", "_count", "_sum", "_total", "_created", "_info",
        ]
        .iter()
        .filter_map(|suffix| sample.strip_suffix(suffix))
        .find(|base| families.contains_key(*base))
        .map(str::to_owned);
        let Some(family) = family else { continue };
        let labels = labels_of(line);
        if let Some((_, seen)) = families.get_mut(&family) {
            seen.extend(labels.into_iter().filter(|l| l != "le" && l != "quantile"));
        }
    }
    families
}

/// The label names of one sample line.
fn labels_of(line: &str) -> Vec<String> {
    let Some(open) = line.find('{') else {
        return Vec::new();
    };
    let mut names = Vec::new();
    let mut rest = &line[open + 1..];
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq].trim_start_matches([',', ' ']).to_owned();
        names.push(name);
        // Skip the quoted value, escapes included.
        let mut chars = rest[eq + 2..].char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    end = Some(eq + 2 + i + 1);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        rest = &rest[end..];
        if rest.starts_with('}') {
            break;
        }
    }
    names
}

/// An alert rule of a rules file: its `expr` and `for`, by text (the
/// generated files are block YAML with two-space indents).
pub fn alert_rules(rules: &str) -> BTreeMap<String, (String, Option<String>)> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, String, Option<String>)> = None;
    let mut in_expr = false;
    let mut flush = |current: &mut Option<(String, String, Option<String>)>| {
        if let Some((name, expr, for_)) = current.take() {
            out.insert(name, (expr, for_));
        }
    };
    for line in rules.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("- alert:") || trimmed.starts_with("- record:") {
            flush(&mut current);
            in_expr = false;
            if let Some(name) = trimmed.strip_prefix("- alert:") {
                current = Some((
                    name.trim().trim_matches('"').to_owned(),
                    String::new(),
                    None,
                ));
            }
            continue;
        }
        let Some((_, expr, for_)) = current.as_mut() else {
            continue;
        };
        if let Some(e) = trimmed.strip_prefix("expr:") {
            let e = e.trim();
            in_expr = e.starts_with('|') || e.starts_with('>');
            if !in_expr {
                expr.push_str(e.trim_matches('"'));
            }
        } else if let Some(f) = trimmed.strip_prefix("for:") {
            in_expr = false;
            *for_ = Some(f.trim().trim_matches('"').to_owned());
        } else if in_expr && line.starts_with("          ") {
            expr.push_str(trimmed);
            expr.push('\n');
        } else {
            in_expr = false;
        }
    }
    flush(&mut current);
    out
}

/// Every panel of a dashboard, rows' panels included: (title, queries).
fn panels(board: &serde_json::Value) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut stack: Vec<&serde_json::Value> =
        board["panels"].as_array().into_iter().flatten().collect();
    while let Some(panel) = stack.pop() {
        if let Some(inner) = panel["panels"].as_array() {
            stack.extend(inner);
        }
        let title = panel["title"].as_str().unwrap_or_default().to_owned();
        let exprs = panel["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["expr"].as_str().map(str::to_owned))
            .collect();
        out.push((title, exprs));
    }
    out
}

/// A dashboard query with Grafana's variables filled in for `job` and
/// `instance`; any other variable matches everything.
pub fn concrete(expr: &str, job: &str, instance: &str) -> String {
    let mut q = expr
        .replace("${job}", job)
        .replace("$job", job)
        .replace("${instance}", instance)
        .replace("$instance", instance)
        .replace("$__rate_interval", "1m")
        .replace("$__interval", "1m")
        .replace("$__range", "5m");
    while let Some(start) = q.find('$') {
        let rest = &q[start + 1..];
        let len = if let Some(braced) = rest.strip_prefix('{') {
            braced.find('}').map_or(rest.len(), |e| e + 2)
        } else {
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len())
        };
        q.replace_range(start..start + 1 + len, ".*");
    }
    q
}

/// A JSON log line's field: nested objects by dotted path, or a flat key.
fn has_field(line: &serde_json::Value, key: &str) -> bool {
    if line.get(key).is_some_and(|v| !v.is_null()) {
        return true;
    }
    let mut v = line;
    for part in key.split('.') {
        match v.get(part) {
            Some(inner) => v = inner,
            None => return false,
        }
    }
    !v.is_null()
}

fn send(addr: std::net::SocketAddr, spec: &str) -> u16 {
    let (method, path) = spec
        .split_once(' ')
        .unwrap_or_else(|| panic!("request `{spec}`: want `METHOD /path`"));
    request(addr, method, path, &[])
        .unwrap_or_else(|| panic!("{method} {path}: no answer"))
        .status
}

/// Checks every row of `examples/seeds/<example>.parity` against the
/// example `target/<profile>/examples/<example>`; fails naming every row
/// not met.
pub fn check(example: &str) {
    let rows = rows(example);
    let binary = support::example_binary_named(example);
    let work = std::env::temp_dir().join(format!("obs-parity-{example}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let bundle = work.join("bundle");
    let env = [("RUST_LOG", "info"), ("OTEL_SERVICE_NAME", example)];

    // The bundle, as a team would write it.
    let exported = std::process::Command::new(&binary)
        .arg("--export")
        .arg(&bundle)
        .envs(env)
        .output()
        .expect("run the example with --export");
    assert!(
        exported.status.success(),
        "{example} --export failed:\n{}{}",
        String::from_utf8_lossy(&exported.stdout),
        String::from_utf8_lossy(&exported.stderr)
    );

    let log_path = work.join("output.log");
    let service = ExampleService::start_example(&binary, &env, Some(&log_path));
    let addr = service.addr;
    let mut failures: Vec<String> = Vec::new();
    let fail = |failures: &mut Vec<String>, row: &Row, why: String| {
        failures.push(format!(
            "line {} ({} {}; {}): {why}",
            row.line, row.kind, row.key, row.source
        ));
    };

    for row in rows.iter().filter(|r| r.kind == "request") {
        let status = send(addr, &format!("{} {}", row.key, row.field(0)));
        if status >= 500 {
            fail(&mut failures, row, format!("answered {status}"));
        }
    }

    // Metrics.
    let scrape = request(addr, "GET", "/metrics", &[])
        .expect("scrape")
        .text();
    let families = families(&scrape);
    for row in rows.iter().filter(|r| r.kind == "metric") {
        // A counter's family is `foo_total` or, as OpenMetrics names it, `foo`.
        let family = families.get(&row.key).or_else(|| {
            row.key
                .strip_suffix("_total")
                .and_then(|base| families.get(base))
        });
        let Some((kind, labels)) = family else {
            fail(&mut failures, row, "not in the scrape".to_owned());
            continue;
        };
        if kind != row.field(0) {
            fail(
                &mut failures,
                row,
                format!("type {kind}, not {}", row.field(0)),
            );
        }
        let want: Vec<&str> = row
            .field(1)
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "-")
            .collect();
        let missing: Vec<&&str> = want.iter().filter(|l| !labels.contains(**l)).collect();
        if !missing.is_empty() {
            fail(
                &mut failures,
                row,
                format!("labels {missing:?} not on its samples (seen {labels:?})"),
            );
        }
    }

    // Health checks and their timeouts.
    let mut checks = serde_json::Map::new();
    for path in ["/livez", "/readyz", "/startupz"] {
        let body = request(addr, "GET", path, &[]).map(|r| r.body);
        let json = body.and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        if let Some(map) = json.as_ref().and_then(|j| j["checks"].as_object()) {
            checks.extend(map.clone());
        }
    }
    for row in rows.iter().filter(|r| r.kind == "health") {
        let want = duration(row.field(0)).as_millis() as u64;
        match checks.get(&row.key).and_then(|c| c["timeout_ms"].as_u64()) {
            Some(ms) if ms == want => {}
            Some(ms) => fail(
                &mut failures,
                row,
                format!("timeout {ms} ms, not {want} ms"),
            ),
            None => fail(
                &mut failures,
                row,
                format!("not in /livez, /readyz or /startupz ({:?})", checks.keys()),
            ),
        }
    }

    // Log fields.
    for row in rows.iter().filter(|r| r.kind == "log") {
        send(addr, row.field(0));
        let found = wait_for(Duration::from_secs(10), || {
            let text = std::fs::read_to_string(&log_path).ok()?;
            text.lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .any(|l| has_field(&l, &row.key))
                .then_some(())
        });
        if found.is_none() {
            fail(
                &mut failures,
                row,
                "no JSON log line on stdout or stderr carries it".to_owned(),
            );
        }
    }

    // Alerts: in the rules with their threshold and `for`, with a rule
    // test, and the files pass promtool.
    let prom_dir = bundle.join("prometheus");
    let rules_text = std::fs::read_to_string(prom_dir.join("rules.yml")).expect("rules.yml");
    let tests_text =
        std::fs::read_to_string(prom_dir.join("rules_test.yml")).expect("rules_test.yml");
    support::promtool(&["check", "rules", "rules.yml"], &prom_dir);
    support::promtool(&["test", "rules", "rules_test.yml"], &prom_dir);
    let alerts = alert_rules(&rules_text);
    for row in rows.iter().filter(|r| r.kind == "alert") {
        let Some((expr, for_)) = alerts.get(&row.key) else {
            fail(&mut failures, row, "no such alert in rules.yml".to_owned());
            continue;
        };
        let threshold = row.field(0);
        if !expr.contains(threshold) {
            fail(
                &mut failures,
                row,
                format!("expr has no `{threshold}`:\n{expr}"),
            );
        }
        let want_for = row.field(1);
        let got_for = for_.as_deref().unwrap_or("-");
        if want_for != got_for {
            fail(&mut failures, row, format!("for {got_for}, not {want_for}"));
        }
        if !tests_text.contains(&format!("alertname: {}", row.key)) {
            fail(&mut failures, row, "no case in rules_test.yml".to_owned());
        }
    }

    // Panels: present, and every query answers on a real Prometheus that
    // scrapes the example and evaluates its rules.
    let panel_rows: Vec<&Row> = rows.iter().filter(|r| r.kind == "panel").collect();
    if !panel_rows.is_empty() {
        let boards = dashboards(&bundle.join("grafana/dashboards"));
        let prometheus = Prometheus::start_with_rules(
            &format!("parity-{example}"),
            example,
            addr,
            Some(&rules_text),
        );
        let scraped = wait_for(Duration::from_secs(60), || {
            prometheus
                .try_query(&format!(
                    "count_over_time(up{{job=\"{example}\"}}[1m]) >= 3"
                ))
                .ok()
                .filter(|r| !r.is_empty())
        });
        assert!(
            scraped.is_some(),
            "no scrapes of {example}: {}",
            prometheus.log()
        );
        let instance = addr.to_string();
        for row in panel_rows {
            let Some(board) = boards.get(&row.key) else {
                fail(
                    &mut failures,
                    row,
                    format!("no dashboard titled so ({:?})", boards.keys()),
                );
                continue;
            };
            let title = row.field(0);
            let Some((_, exprs)) = panels(board).into_iter().find(|(t, _)| t == title) else {
                fail(&mut failures, row, format!("no panel `{title}`"));
                continue;
            };
            if exprs.is_empty() {
                fail(&mut failures, row, format!("panel `{title}` has no query"));
            }
            for e in exprs {
                let q = concrete(&e, example, &instance);
                if let Err(why) = prometheus.try_query(&q) {
                    fail(&mut failures, row, format!("query {q} fails: {why}"));
                }
            }
        }
    }

    let out = rows.iter().filter(|r| r.kind == "out").count();
    let checked = rows
        .iter()
        .filter(|r| r.kind != "out" && r.kind != "request")
        .count();
    let failed: BTreeSet<&str> = failures
        .iter()
        .filter_map(|f| f.split_once(" (").map(|(line, _)| line))
        .collect();
    println!(
        "{example}: {} of {checked} rows met, {out} out of scope",
        checked - failed.len().min(checked)
    );
    let _ = std::fs::remove_dir_all(&work);
    assert!(
        failures.is_empty(),
        "{example}: {} row(s) not met:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The bundle's dashboards by title.
fn dashboards(dir: &Path) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap();
        let board: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        let title = board["title"].as_str().unwrap_or_default().to_owned();
        out.insert(title, board);
    }
    out
}
