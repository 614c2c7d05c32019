//! A real Prometheus (server or agent) on a free loopback port, in a
//! folder of its own, and its query API; killed and removed when dropped.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::{free_port, get, tool, wait_for};

pub struct Prometheus {
    child: Child,
    pub addr: SocketAddr,
    dir: std::path::PathBuf,
}

/// A query's outcome: the result vector, or Prometheus's error.
pub type Answer = Result<Vec<serde_json::Value>, String>;

/// A dashboard panel's queries (its `targets`' `expr`) as a Prometheus
/// scraping `instance` as job `job` runs them: Grafana's `$__rate_interval`,
/// `$job` and `$instance` filled in, nothing else.
pub fn panel_queries(targets: &[Value], job: &str, instance: &str) -> Vec<String> {
    targets
        .iter()
        .map(|t| {
            t["expr"]
                .as_str()
                .unwrap()
                .replace("$__rate_interval", "1m")
                .replace("$job", job)
                .replace("$instance", instance)
        })
        .collect()
}

/// The rules evaluated with an error, one line each: name, group, health
/// and Prometheus's last error.
pub fn rule_failures(rules: &[(String, Value)]) -> Vec<String> {
    rules
        .iter()
        .filter(|(_, rule)| rule["health"] != "ok")
        .map(|(group, rule)| {
            format!(
                "rule {} ({group}): {} {}",
                rule["name"], rule["health"], rule["lastError"]
            )
        })
        .collect()
}

impl Prometheus {
    /// Started with job `job` scraping `target`; `name` keeps the data
    /// folders of tests running at once apart.
    pub fn start(name: &str, job: &str, target: SocketAddr) -> Self {
        Self::start_with_rules(name, job, target, None)
    }

    /// [`start`](Self::start), evaluating `rules` (a rules file's text)
    /// every second too.
    pub fn start_with_rules(
        name: &str,
        job: &str,
        target: SocketAddr,
        rules: Option<&str>,
    ) -> Self {
        let rule_files = if rules.is_some() {
            "rule_files:\n  - rules.yml\n"
        } else {
            ""
        };
        Self::with_config(
            name,
            &format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n{rule_files}scrape_configs:\n  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n"
            ),
            &["--storage.tsdb.path=data"],
            &[],
            &rules
                .map(|r| ("rules.yml", r))
                .into_iter()
                .collect::<Vec<_>>(),
        )
    }

    /// Started with the configuration `config`, the flags `args` (relative
    /// paths in them taken from its own folder), `env` set, and `files`
    /// (name, text) written beside the configuration.
    pub fn with_config(
        name: &str,
        config: &str,
        args: &[&str],
        env: &[(&str, &str)],
        files: &[(&str, &str)],
    ) -> Self {
        let dir = std::env::temp_dir().join(format!("obs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("prometheus.yml");
        std::fs::write(&file, config).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let child = Command::new(tool("prometheus", "prometheus"))
            .arg(format!("--config.file={}", file.display()))
            .arg(format!("--web.listen-address={addr}"))
            .args(args)
            .envs(env.iter().copied())
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("prometheus.log")).unwrap(),
            ))
            .spawn()
            .expect("start prometheus");
        let p = Self { child, addr, dir };
        let ready = wait_for(Duration::from_secs(60), || {
            get(addr, "/-/ready").filter(|r| r.status == 200)
        });
        assert!(
            ready.is_some(),
            "prometheus {name} did not get ready: {}",
            p.log()
        );
        p
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    /// An instant query: its result vector, or the error Prometheus gave.
    pub fn try_query(&self, promql: &str) -> Answer {
        let encoded: String = promql
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let r = get(self.addr, &format!("/api/v1/query?query={encoded}"))
            .ok_or_else(|| "prometheus did not answer".to_owned())?;
        let json: serde_json::Value =
            serde_json::from_slice(&r.body).map_err(|e| format!("not JSON: {e}"))?;
        if json["status"] != "success" {
            return Err(format!("{}: {}", json["errorType"], json["error"]));
        }
        Ok(json["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }
}

impl Prometheus {
    /// Runs every query of `panels` (title, queries): first until each
    /// panel shows data (a rate needs two scrapes) or 60 s pass, then once
    /// more to judge. The queries Prometheus refused (`title: error` and
    /// the query), and the titles of the panels none of whose queries gave
    /// data.
    pub fn check_panels(&self, panels: &[(String, Vec<String>)]) -> (Vec<String>, Vec<String>) {
        let has_data = |e: &String| self.try_query(e).is_ok_and(|r| !r.is_empty());
        // Until every panel shows data, within a bound; the loop below
        // names the panels still empty.
        let _ = wait_for(Duration::from_secs(60), || {
            panels
                .iter()
                .all(|(_, exprs)| exprs.iter().any(has_data))
                .then_some(())
        });
        let mut failures = Vec::new();
        let mut empty = Vec::new();
        for (title, exprs) in panels {
            let mut any = false;
            for e in exprs {
                match self.try_query(e) {
                    Ok(result) => any |= !result.is_empty(),
                    Err(error) => failures.push(format!("{title}: {error}\n{e}")),
                }
            }
            if !any {
                empty.push(title.clone());
            }
        }
        (failures, empty)
    }

    /// The rules of the groups `select` picks, as (group name, rule), once
    /// Prometheus has evaluated every one of them (health no longer
    /// `unknown`: many-to-many matches and the like show only when rules
    /// run); `None` when that takes more than 60 s or no group is picked.
    pub fn evaluated_rules(&self, select: impl Fn(&Value) -> bool) -> Option<Vec<(String, Value)>> {
        wait_for(Duration::from_secs(60), || {
            let answer = get(self.addr, "/api/v1/rules")?;
            let json: Value = serde_json::from_slice(&answer.body).ok()?;
            let mut rules = Vec::new();
            let mut groups = 0;
            for group in json["data"]["groups"]
                .as_array()?
                .iter()
                .filter(|g| select(g))
            {
                groups += 1;
                for rule in group["rules"].as_array()? {
                    if rule["health"] == "unknown" {
                        return None;
                    }
                    rules.push((group["name"].as_str()?.to_owned(), rule.clone()));
                }
            }
            (groups > 0).then_some(rules)
        })
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
