//! The deployment bundle: every file an operator needs to run the program
//! under Prometheus, Alertmanager, Grafana and the OpenTelemetry Collector,
//! written from the catalog like the rules, so it can be committed and
//! compared with what the code would write now.
//!
//! | file | what |
//! |---|---|
//! | `prometheus/prometheus.yml` | scrapes the job's `/metrics`, loads the rules, alerts to Alertmanager |
//! | `prometheus/rules.yml`, `prometheus/rules_test.yml` | [`prometheus_rules_with`](super::prometheus_rules_with) and [`rule_tests_with`](super::rule_tests_with) |
//! | `alertmanager/alertmanager.yml` | `severity="critical"` pages, `severity="warning"` opens a ticket; critical inhibits warning |
//! | `otel-collector/config.yaml` | OTLP in, the `redaction` processor, batch, remote write and OTLP out |
//! | `grafana/provisioning/…` | the Prometheus data source and the dashboards folder |
//! | `docker-compose.yaml` | all of the above around the service |
//! | `fleet/prometheus-agent.yml`, `fleet/README.md` | one Prometheus agent per machine, remote-writing to a central receiver |
//!
//! Every file is the same on every machine: sorted, no timestamps, no
//! absolute paths, no host names but the Compose services' and documented
//! placeholders (`example.com`).

mod alertmanager;
mod collector;
mod compose;
mod prometheus;

use std::fmt::Write as _;
use std::path::Path;

use super::{ExportOptions, prometheus_rules_with, rule_tests_with};

/// The port the service listens on in the bundle (the `PORT` the example
/// honours).
pub(crate) const SERVICE_PORT: u16 = 8080;

/// The Compose service the program runs as; Prometheus scrapes it there.
pub(crate) const SERVICE_HOST: &str = "service";

/// The files of the bundle, as `(relative path with '/', contents)`,
/// sorted by path; what [`write_bundle_with`] writes.
///
/// ```
/// let options = obs_runtime::export::ExportOptions::default().job("checkout");
/// let files = obs_runtime::export::bundle_files(&options);
/// let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
/// assert!(paths.contains(&"prometheus/prometheus.yml"));
/// assert!(paths.contains(&"fleet/prometheus-agent.yml"));
/// assert!(paths.is_sorted());
/// let (_, config) = files.iter().find(|(p, _)| p == "prometheus/prometheus.yml").unwrap();
/// assert!(config.contains("job_name: \"checkout\""));
/// ```
#[must_use]
pub fn bundle_files(options: &ExportOptions) -> Vec<(String, String)> {
    let mut files = vec![
        (
            "prometheus/prometheus.yml".to_owned(),
            prometheus::config(options),
        ),
        (
            format!("prometheus/{}", super::RULES_FILE),
            prometheus_rules_with(options),
        ),
        (
            "prometheus/rules_test.yml".to_owned(),
            rule_tests_with(options),
        ),
        (
            "alertmanager/alertmanager.yml".to_owned(),
            alertmanager::config(options),
        ),
        (
            "otel-collector/config.yaml".to_owned(),
            collector::config(options),
        ),
        ("docker-compose.yaml".to_owned(), compose::compose(options)),
        (
            "fleet/prometheus-agent.yml".to_owned(),
            prometheus::agent_config(options),
        ),
        (
            "fleet/README.md".to_owned(),
            prometheus::fleet_note(options),
        ),
    ];
    // The Compose Prometheus, as the Collector and Grafana reach it.
    files.extend(super::grafana::provisioning("http://prometheus:9090"));
    files.extend(extra_files(options));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

/// Files generated elsewhere in `export` that belong in the bundle: the
/// Grafana dashboards (`grafana/dashboards/*.json`, which
/// `grafana/provisioning/dashboards/obs.yaml` loads) and `docs/metrics.md`,
/// the runbook the alerts' `runbook_url`s point into.
fn extra_files(options: &ExportOptions) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = super::grafana_dashboards_with(options)
        .into_iter()
        .map(|(name, json)| (format!("grafana/dashboards/{name}"), json))
        .collect();
    files.push((
        "docs/metrics.md".to_owned(),
        super::metrics_markdown_with(options),
    ));
    files
}

/// Writes the [bundle](bundle_files) of this program into `dir` (created
/// if missing), with the default [`ExportOptions`]. Files already there
/// are replaced; other files are left alone.
///
/// ```no_run
/// obs_runtime::export::write_bundle(std::path::Path::new("monitoring"))?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
///
/// When a folder or file can't be created or written.
pub fn write_bundle(dir: &Path) -> std::io::Result<()> {
    write_bundle_with(dir, &ExportOptions::default())
}

/// [`write_bundle`] with `options`: the job the service is scraped as,
/// runbooks and thresholds.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("obs-doc-bundle-{}", std::process::id()));
/// let options = obs_runtime::export::ExportOptions::default().job("checkout");
/// obs_runtime::export::write_bundle_with(&dir, &options)?;
/// let rules = std::fs::read_to_string(dir.join("prometheus/rules.yml"))?;
/// assert!(rules.contains("up{job=\"checkout\"} == 0"));
/// assert!(dir.join("alertmanager/alertmanager.yml").exists());
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Custom alerts and dashboards are checked first
/// ([`ExportOptions::validate`]): nothing is written when one fails.
///
/// # Errors
///
/// When a custom alert or dashboard fails its checks (kind
/// `InvalidInput`, the message naming each and why), or a folder or file
/// can't be created or written.
pub fn write_bundle_with(dir: &Path, options: &ExportOptions) -> std::io::Result<()> {
    options.validate()?;
    for (path, contents) in bundle_files(options) {
        let file = path
            .split('/')
            .fold(dir.to_path_buf(), |p, part| p.join(part));
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&file, contents)?;
    }
    Ok(())
}

/// A YAML double-quoted scalar.
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The job as a name Docker accepts for an image: lower case,
/// `[a-z0-9._-]`, anything else a `-`.
pub(crate) fn image_name(job: &str) -> String {
    let name: String = job
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '.' | '_' | '-') => c,
            _ => '-',
        })
        .collect();
    let name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if name.is_empty() {
        "service".to_owned()
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_image_names() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote("tab\t"), "\"tab\\u0009\"");
        assert_eq!(image_name("Checkout Service"), "checkout-service");
        assert_eq!(image_name("__"), "service");
    }

    #[test]
    fn the_bundle_is_deterministic() {
        let options = ExportOptions::default().job("checkout");
        assert_eq!(bundle_files(&options), bundle_files(&options));
        for (path, contents) in bundle_files(&options) {
            assert!(!path.starts_with('/') && !path.contains(".."), "{path}");
            assert!(contents.ends_with('\n'), "{path}");
            assert!(
                !contents.contains("/home/") && !contents.contains("/work/"),
                "{path}"
            );
        }
    }
}
