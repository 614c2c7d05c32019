//! The panic hook `init()` installs: a panic becomes one redacted JSON log
//! event and a count, never raw text on stderr; a hook the program set
//! before `init()` still runs. Each scenario runs in a child process (this
//! same test, re-run with `OBS_PANIC_SCENARIO` set), whose stderr and log
//! lines the parent reads.

use std::process::Command;

const SECRET: &str = "hunter2";
const EMAIL: &str = "ada@example.com";

fn scenario(name: &str) {
    if name == "with_prior_hook" {
        std::panic::set_hook(Box::new(|_| eprintln!("prior hook ran")));
    }
    // Log lines on stdout, so the parent can tell them from stderr.
    let guard = obs_runtime::Builder::from_env()
        .log_format(obs_runtime::log::LogFormat::Json)
        .log_writer(std::io::stdout)
        .try_init()
        .expect("init");
    let caught = std::panic::catch_unwind(|| {
        panic!("login failed: password={SECRET} for {EMAIL}");
    });
    assert!(caught.is_err());
    let scrape = obs_runtime::encode_text();
    let count = scrape
        .lines()
        .find(|l| l.starts_with("obs_panics_total "))
        .unwrap_or("obs_panics_total missing");
    println!("SCRAPE {count}");
    drop(guard);
}

fn run_child(name: &str) -> (String, String) {
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "panics_are_logged_redacted_and_never_raw_on_stderr",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("OBS_PANIC_SCENARIO", name)
        .env("OTEL_TRACES_EXPORTER", "none")
        .env("RUST_LOG", "info")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run the child");
    assert!(out.status.success(), "child {name} failed: {out:?}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn panics_are_logged_redacted_and_never_raw_on_stderr() {
    if let Ok(name) = std::env::var("OBS_PANIC_SCENARIO") {
        scenario(&name);
        return;
    }
    let (stdout, stderr) = run_child("default_hook");
    assert!(
        !stderr.contains(SECRET) && !stderr.contains(EMAIL) && !stderr.contains("panicked at"),
        "raw panic text on stderr: {stderr}"
    );
    let event = stdout
        .lines()
        // The test harness prints `test <name> ... ` without a newline.
        .filter_map(|l| l.find('{').map(|at| &l[at..]))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|j| j["target"] == "obs::panic")
        .unwrap_or_else(|| panic!("no obs::panic event in {stdout}"));
    assert_eq!(event["level"], "ERROR");
    let message = event["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("panicked: login failed"), "{event}");
    assert!(
        message.contains("[EMAIL]") && message.contains("[REDACTED]"),
        "{event}"
    );
    assert!(
        !stdout.contains(SECRET) && !stdout.contains(EMAIL),
        "{stdout}"
    );
    assert!(
        event["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("panic_hook.rs")),
        "{event}"
    );
    assert!(stdout.contains("SCRAPE obs_panics_total 1"), "{stdout}");

    let (stdout, stderr) = run_child("with_prior_hook");
    assert!(
        stderr.contains("prior hook ran"),
        "the prior hook is chained: {stderr}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");
    assert!(stdout.contains("\"target\":\"obs::panic\""), "{stdout}");
}
