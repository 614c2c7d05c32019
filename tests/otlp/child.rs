//! Scenarios that each need a process of their own (`init` installs one
//! global subscriber per process): the test re-runs its own binary with
//! `--exact`, and the child, seeing [`CHILD`], runs the scenario.

#![allow(dead_code)]

use std::process::Command;

/// Set in the child that runs a scenario.
pub const CHILD: &str = "OBS_OTLP_TEST_CHILD";

/// Runs `scenario` in a child process of its own, or here when this is
/// that child. Fails with the child's output if the scenario failed; the
/// child's stderr is passed on otherwise (its measurements).
pub fn in_own_process(name: &str, scenario: impl FnOnce()) {
    if std::env::var_os(CHILD).is_some() {
        scenario();
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} failed in its own process:\n{stdout}\n{stderr}"
    );
    eprintln!("{stderr}");
}
