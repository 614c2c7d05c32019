//! A seed example as a real process on a free loopback port, with its
//! log lines (stderr) in a file, for the seed-specific tests
//! beside the parity check. Needs `service_support` declared by the test.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use crate::service_support::{self, ExampleService, Response, request};

/// The example, killed (and its log removed) when dropped.
pub struct Seed {
    pub addr: std::net::SocketAddr,
    service: ExampleService,
    log: PathBuf,
}

impl Seed {
    /// `target/<profile>/examples/<example>`, started as the parity check
    /// starts it (`RUST_LOG=info`, production, no span export) with `env`
    /// set over that; answers `/livez` when this returns.
    pub fn start(example: &str, env: &[(&str, &str)]) -> Self {
        let binary = service_support::example_binary_named(example);
        let log = std::env::temp_dir().join(format!(
            "obs-seed-{example}-{}-{}.log",
            std::process::id(),
            service_support::free_port()
        ));
        let mut all = vec![("RUST_LOG", "info")];
        all.extend_from_slice(env);
        let service = ExampleService::start_logged(&binary, &all, Some(&log), false);
        Self {
            addr: service.addr,
            service,
            log,
        }
    }

    /// One request; fails the test when nothing answers.
    pub fn call(&self, method: &str, path: &str) -> Response {
        request(self.addr, method, path, &[]).expect("an answer")
    }

    /// The log lines, once one matches `until` (within 10 s).
    pub fn wait_for_log(&self, until: impl Fn(&str) -> bool) -> Vec<String> {
        service_support::wait_for(Duration::from_secs(10), || {
            let text = std::fs::read_to_string(&self.log).ok()?;
            let lines: Vec<String> = text.lines().map(str::to_owned).collect();
            lines.iter().any(|l| until(l)).then_some(lines)
        })
        .expect("the awaited log line")
    }
}

impl Drop for Seed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.log);
    }
}
