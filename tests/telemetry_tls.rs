//! TLS to the collector, against the real OTLP receiver served over rustls
//! with certificates made at test time: spans reach an `https://` endpoint
//! over gRPC (with a client certificate the receiver demands) and over
//! HTTP/protobuf, trusting the CA that `OTEL_EXPORTER_OTLP_CERTIFICATE`
//! (or its traces variant) names; a server certificate nobody trusts is a
//! counted drop and a warning that points at TLS, never a hang.
//!
//! `init` installs a global subscriber once per process, so each test runs
//! its scenario in a child process of this binary (the test re-runs itself
//! with `--exact`), configured, like a service, from the environment.

#[path = "otlp/child.rs"]
mod child;
#[path = "otlp/pki.rs"]
mod pki;
#[path = "otlp/receiver.rs"]
mod receiver;

use std::time::{Duration, Instant};

use child::in_own_process;
use obs_runtime::instrumented;

#[instrumented(metric = "tt_ship")]
fn ship(order: u32) -> u32 {
    order + 1
}

fn dropped() -> u64 {
    obs_runtime::encode_text()
        .lines()
        .find_map(|l| l.strip_prefix("obs_telemetry_dropped_spans_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Sets the environment of a scenario.
fn set_env(vars: &[(&str, String)]) {
    for (k, v) in vars {
        // SAFETY: the child process runs this one test, which sets the
        // environment before `init` and before any thread of ours reads
        // it (the receiver's threads never do).
        unsafe { std::env::set_var(k, v) };
    }
}

/// Initialises from the environment, makes a span, flushes, and returns
/// the log lines written meanwhile.
fn init_and_ship(rx: &receiver::Receiver, logs: &obs_runtime::log::Captured) {
    let guard = obs_runtime::Builder::from_env()
        .log_writer(logs.clone())
        .try_init()
        .expect("init");
    assert_eq!(ship(41), 42);
    guard.flush();
    let spans = rx.store.wait_for(Duration::from_secs(20), |s| {
        s.iter().any(|s| s.name == "ship")
    });
    assert!(
        spans.iter().any(|s| s.name == "ship"),
        "no span over TLS: {spans:#?}\nlogs: {:#?}",
        logs.lines()
    );
    assert_eq!(dropped(), 0, "logs: {:#?}", logs.lines());
    let warnings: Vec<String> = logs
        .lines()
        .into_iter()
        .filter(|l| l.contains("WARN"))
        .collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
    drop(guard);
}

#[test]
fn grpc_over_tls_with_a_client_certificate() {
    in_own_process("grpc_over_tls_with_a_client_certificate", || {
        let pki = pki::generate("tls-grpc");
        let rx = receiver::start_tls(&receiver::ServerTls {
            cert: pki.server_cert.clone(),
            key: pki.server_key.clone(),
            // The receiver refuses a client without a certificate of this CA.
            client_ca: Some(pki.ca_pem.clone()),
        });
        set_env(&[
            ("OBS_ENV", "production".into()),
            ("OTEL_TRACES_SAMPLER", "always_on".into()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("https://localhost:{}", rx.grpc.port()),
            ),
            (
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
                pki.ca.display().to_string(),
            ),
            (
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                pki.client_cert.display().to_string(),
            ),
            (
                "OTEL_EXPORTER_OTLP_CLIENT_KEY",
                pki.client_key.display().to_string(),
            ),
        ]);
        init_and_ship(&rx, &obs_runtime::log::Captured::default());
    });
}

#[test]
fn http_protobuf_over_tls_trusting_the_traces_ca() {
    in_own_process("http_protobuf_over_tls_trusting_the_traces_ca", || {
        let pki = pki::generate("tls-http");
        let rx = receiver::start_tls(&receiver::ServerTls {
            cert: pki.server_cert.clone(),
            key: pki.server_key.clone(),
            client_ca: None,
        });
        set_env(&[
            ("OBS_ENV", "production".into()),
            ("OTEL_TRACES_SAMPLER", "always_on".into()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("https://localhost:{}", rx.http.port()),
            ),
            // The signal's own variable wins over the general one.
            (
                "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                pki.ca.display().to_string(),
            ),
            (
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
                "/nonexistent/not-read.pem".into(),
            ),
        ]);
        init_and_ship(&rx, &obs_runtime::log::Captured::default());
    });
}

#[test]
fn an_untrusted_server_certificate_is_a_counted_drop_and_a_warning() {
    in_own_process(
        "an_untrusted_server_certificate_is_a_counted_drop_and_a_warning",
        || {
            let pki = pki::generate("tls-untrusted");
            let rx = receiver::start_tls(&receiver::ServerTls {
                cert: pki.server_cert.clone(),
                key: pki.server_key.clone(),
                client_ca: None,
            });
            set_env(&[
                ("OBS_ENV", "production".into()),
                ("OTEL_TRACES_SAMPLER", "always_on".into()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    format!("https://localhost:{}", rx.grpc.port()),
                ),
                // Unreadable: a warning at init, then the system's store,
                // which does not hold the test CA.
                (
                    "OTEL_EXPORTER_OTLP_CERTIFICATE",
                    pki.dir.join("missing.pem").display().to_string(),
                ),
            ]);
            let logs = obs_runtime::log::Captured::default();
            let guard = obs_runtime::Builder::from_env()
                .log_writer(logs.clone())
                .try_init()
                .expect("init");
            let init_warning = logs
                .lines()
                .into_iter()
                .find(|l| l.contains("OTEL_EXPORTER_OTLP_CERTIFICATE=") && l.contains("WARN"));
            assert!(
                init_warning
                    .is_some_and(|l| l.contains("missing.pem") && l.contains("can't be read")),
                "{:#?}",
                logs.lines()
            );
            let started = Instant::now();
            assert_eq!(ship(1), 2);
            guard.flush();
            let spent = started.elapsed();
            assert!(spent < Duration::from_secs(10), "flush took {spent:?}");
            assert!(dropped() >= 1, "the failed export is a counted drop");
            assert!(rx.store.spans().is_empty(), "no span crossed");
            let warning = logs
                .lines()
                .into_iter()
                .find(|l| l.contains("spans dropped"))
                .unwrap_or_else(|| panic!("no drop warning: {:#?}", logs.lines()));
            assert!(warning.contains("WARN"), "{warning}");
            assert!(warning.contains("Check TLS"), "{warning}");
            assert!(
                warning.contains("OTEL_EXPORTER_OTLP_CERTIFICATE"),
                "{warning}"
            );
            drop(guard);
        },
    );
}
