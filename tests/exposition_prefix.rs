//! A registry-wide prefix and constant labels
//! (`registry::configure(Exposition::default().prefix("brain")…)`): a real
//! scrape of `/metrics` over loopback carries `brain_http_requests_total`
//! with `service` and `environment` on every series, `process_*` and
//! `obs_*` unprefixed, a metric already named `brain_…` not doubled, and
//! passes `promtool check metrics`; the OTLP push carries the same names
//! and labels to the real receiver; the exported rules, their tests and the
//! dashboards query the exposed names and pass `promtool test rules`; bad
//! names and clashes are refused with a clear error.
//!
//! Its own test binary: the exposition is process-wide, and every test
//! here configures the same one first.

#[path = "otlp/child.rs"]
mod child;
#[path = "otlp/receiver.rs"]
mod receiver;
mod service_support;

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use obs_runtime::export::{self, ExportOptions, RULES_FILE};
use obs_runtime::http::{HttpMetricNames, ObsLayer};
use obs_runtime::metrics::{Counter, Gauge};
use obs_runtime::registry::{self, Exposition, ExpositionError, RegistryError};
use obs_runtime::{LabelSet, LabelValue, MetricSet, instrumented};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use service_support::{promtool, sample_value as value, serve_router};

fn exposition() -> Exposition {
    Exposition::default()
        .prefix("brain")
        .constant_label("service", "brain")
        .constant_label("environment", "production")
}

fn configure() {
    registry::configure(exposition()).expect("a valid exposition");
}

#[derive(Debug)]
struct Failed;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

#[instrumented(metric = "mission", slo(success = "99%"))]
fn mission(ok: bool) -> Result<(), Failed> {
    if ok { Ok(()) } else { Err(Failed) }
}

#[derive(LabelValue, Clone, Copy, Debug)]
enum Provider {
    Ollama,
}

#[derive(LabelSet, Clone, Copy, Debug)]
struct LlmLabels {
    provider: Provider,
}

/// Already named as the team's dashboards query it: not prefixed twice.
#[derive(MetricSet)]
#[metrics(prefix = "brain_llm")]
struct LlmMetrics {
    /// LLM requests.
    requests_total: Counter<LlmLabels>,
}

#[derive(LabelSet, Clone, Copy, Debug)]
struct ServiceLabel {
    service: &'static str,
}

fn app() -> Router {
    Router::new()
        .route("/missions", get(|| async { "ok" }))
        .layer(ObsLayer::new().metric_names(HttpMetricNames::Instrumentator))
        .merge(obs_runtime::http::routes())
}

#[test]
fn a_real_scrape_is_prefixed_labelled_and_passes_promtool() {
    configure();
    let (addr, runtime) = serve_router(app());
    mission(true).unwrap();
    LlmMetrics::global()
        .requests_total
        .with(LlmLabels {
            provider: Provider::Ollama,
        })
        .inc();
    for _ in 0..2 {
        let r = service_support::get(addr, "/missions").expect("an answer");
        assert_eq!(r.status, 200);
    }
    let scrape = service_support::get(addr, "/metrics").expect("a scrape");
    assert_eq!(scrape.status, 200);
    let text = scrape.text();
    let c = r#"service="brain",environment="production""#;
    for (series, want) in [
        (
            format!(
                r#"brain_http_requests_total{{handler="/missions",method="GET",status="2xx",{c}}}"#
            ),
            2.0,
        ),
        (
            format!(
                r#"brain_http_request_duration_seconds_count{{handler="/missions",method="GET",{c}}}"#
            ),
            2.0,
        ),
        (
            format!(
                r#"brain_mission_calls_total{{function="mission",module="exposition_prefix",result="ok",{c}}}"#
            ),
            1.0,
        ),
        (
            format!(r#"brain_llm_requests_total{{provider="ollama",{c}}}"#),
            1.0,
        ),
    ] {
        assert_eq!(value(&text, &series), Some(want), "{series} in\n{text}");
    }
    // Bucket lines: the constant labels before `le`.
    assert!(
        text.contains(&format!(
            r#"brain_http_request_duration_seconds_bucket{{handler="/missions",method="GET",{c},le="+Inf"}} 2"#
        )),
        "{text}"
    );
    assert!(text.contains("# TYPE brain_http_server_request_duration_seconds histogram\n"));
    assert!(text.contains("# TYPE brain_health_check_status gauge\n"));
    // Families the prefix leaves alone, labelled all the same.
    assert!(
        text.contains("# TYPE process_cpu_seconds_total counter\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("process_cpu_seconds_total{{{c}}} ")),
        "{text}"
    );
    assert!(text.contains("# TYPE obs_build_info gauge\n"), "{text}");
    assert!(!text.contains("brain_brain_"), "{text}");
    assert!(!text.contains("brain_process_"), "{text}");
    // Every series carries the constant labels; `obs_build_info` names
    // the service itself, and its own `service` label wins.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if line.starts_with("obs_build_info{") {
            assert!(line.contains(r#"environment="production""#), "{line}");
            assert_eq!(line.matches("service=").count(), 1, "{line}");
        } else {
            assert!(line.contains(c), "unlabelled series {line}");
        }
    }
    // The overflow family names its metrics as exposed.
    assert!(
        text.contains(&format!(
            r#"obs_cardinality_overflow_total{{metric="brain_http_requests_total",{c}}} 0"#
        )),
        "{text}"
    );
    let checked = promtool_check_metrics(text.as_bytes());
    assert!(checked.0, "promtool check metrics: {}\n{text}", checked.1);

    // OpenMetrics from the same registry: the same names and labels.
    let om = service_support::request(
        addr,
        "GET",
        "/metrics",
        &[(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )],
    )
    .expect("an OpenMetrics scrape")
    .text();
    assert!(om.contains("# TYPE brain_http_requests counter\n"), "{om}");
    assert!(
        om.contains("# UNIT brain_http_request_duration_seconds seconds\n"),
        "{om}"
    );
    assert!(om.contains(&format!(
        r#"brain_http_requests_total{{handler="/missions",method="GET",status="2xx",{c}}} 2"#
    )));
    assert!(om.ends_with("# EOF\n"));

    // Through a `prometheus::Registry` (the bridge): the same names and labels.
    let prom = prometheus::Registry::new();
    prom.register(Box::new(registry::Bridge)).unwrap();
    let families = prom.gather();
    let requests = families
        .iter()
        .find(|f| f.name() == "brain_http_requests_total")
        .expect("the bridge exposes the prefixed name");
    for metric in requests.get_metric() {
        let labels: Vec<(&str, &str)> = metric
            .get_label()
            .iter()
            .map(|l| (l.name(), l.value()))
            .collect();
        assert!(labels.contains(&("service", "brain")), "{labels:?}");
        assert!(
            labels.contains(&("environment", "production")),
            "{labels:?}"
        );
    }
    assert!(!families.iter().any(|f| f.name() == "http_requests_total"));
    runtime.shutdown_timeout(Duration::from_secs(1));
}

fn promtool_check_metrics(body: &[u8]) -> (bool, String) {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut promtool = Command::new(service_support::tool("promtool", "prometheus"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    promtool.stdin.take().unwrap().write_all(body).unwrap();
    let out = promtool.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn bad_expositions_and_clashes_are_refused_clearly() {
    configure();
    // Checked before anything else, so the reason is the input's.
    let err = |e: Exposition| registry::configure(e).unwrap_err();
    let e = err(Exposition::default().prefix("Brain"));
    assert!(matches!(e, ExpositionError::Prefix { .. }), "{e}");
    assert!(e.to_string().contains("snake_case"), "{e}");
    let e = err(Exposition::default().prefix("process"));
    assert!(matches!(e, ExpositionError::Prefix { .. }), "{e}");
    let e = err(Exposition::default().constant_label("job", "x"));
    assert!(e.to_string().contains("exported_job"), "{e}");
    let e = err(Exposition::default().constant_label("le", "x"));
    assert!(matches!(e, ExpositionError::LabelName { .. }), "{e}");
    let e = err(Exposition::default().constant_label("user_id", "x"));
    assert!(matches!(e, ExpositionError::LabelName { .. }), "{e}");
    let e = err(Exposition::default()
        .constant_label("service", "a")
        .constant_label("service", "b"));
    assert_eq!(e, ExpositionError::DuplicateLabel("service".into()));
    let e = err(Exposition::default().constant_label("region", ""));
    assert!(matches!(e, ExpositionError::Value { .. }), "{e}");
    // A valid but different exposition: one per program.
    let e = err(Exposition::default().prefix("other"));
    assert_eq!(e, ExpositionError::AlreadyConfigured);
    // The same one again is fine.
    registry::configure(exposition()).unwrap();

    // A family with a label of a constant label's name.
    let clash = Counter::<ServiceLabel>::new("routed_total", "Routed.")
        .unwrap()
        .register()
        .unwrap_err();
    assert_eq!(
        clash,
        RegistryError::Exposition(ExpositionError::Clash {
            label: "service".into(),
            family: "routed_total".into(),
        })
    );
    assert!(
        clash.to_string().contains("constant label `service`"),
        "{clash}"
    );
    // Two names the prefix would expose alike.
    Gauge::<()>::new("queue_depth", "Depth.")
        .unwrap()
        .register()
        .unwrap();
    let twin = Gauge::<()>::new("brain_queue_depth", "Depth.")
        .unwrap()
        .register()
        .unwrap_err();
    assert!(
        matches!(
            twin,
            RegistryError::Exposition(ExpositionError::Collision { .. })
        ),
        "{twin}"
    );
    assert!(twin.to_string().contains("brain_queue_depth"), "{twin}");
    // A foreign collector is checked by its descriptor.
    let foreign = prometheus::IntCounterVec::new(
        prometheus::Opts::new("legacy_calls_total", "Legacy."),
        &["environment"],
    )
    .unwrap();
    let refused = registry::global()
        .register_collector(Box::new(foreign))
        .unwrap_err();
    assert!(refused.to_string().contains("environment"), "{refused}");
}

#[test]
fn exported_rules_and_dashboards_query_the_exposed_names() {
    configure();
    mission(false).unwrap_err();
    let _layer = ObsLayer::new()
        .default_slo(obs_runtime::slo!(success = "99.5%"))
        .unwrap();
    let dir = std::env::temp_dir().join(format!("obs-exposition-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let options = ExportOptions::default().job("brain");
    let rules = export::prometheus_rules_with(&options);
    let tests = export::rule_tests_with(&options);
    std::fs::write(dir.join(RULES_FILE), &rules).unwrap();
    std::fs::write(dir.join("rules_test.yml"), &tests).unwrap();
    let checked = promtool(&["check", "rules", RULES_FILE], &dir);
    assert!(checked.contains("SUCCESS"), "{checked}");
    let tested = promtool(&["test", "rules", "rules_test.yml"], &dir);
    assert!(tested.contains("SUCCESS"), "{tested}");
    for (what, text) in [("rules", &rules), ("tests", &tests)] {
        assert!(
            text.contains("brain_mission_calls_total"),
            "{what}:\n{text}"
        );
        assert!(
            text.contains("brain_http_server_request_duration_seconds_count"),
            "{what}:\n{text}"
        );
    }
    assert!(rules.contains("brain_health_check_status") || !rules.contains("health_check_status"));
    // No query names a prefixed family without its prefix.
    let bare = |text: &str, name: &str| {
        text.match_indices(name).any(|(i, _)| {
            let before = text[..i].bytes().last();
            !matches!(before, Some(b) if b.is_ascii_alphanumeric() || b == b'_' || b == b':')
        })
    };
    for name in [
        "mission_calls_total",
        "http_server_request_duration_seconds",
        "health_check_status",
    ] {
        assert!(!bare(&rules, name), "bare {name} in rules:\n{rules}");
        assert!(!bare(&tests, name), "bare {name} in rule tests:\n{tests}");
    }
    let dashboards = export::grafana_dashboards();
    let all: String = dashboards.iter().map(|(_, json)| json.as_str()).collect();
    assert!(all.contains("brain_mission_calls_total"));
    assert!(!bare(&all, "mission_calls_total"));
    assert!(!bare(&all, "http_server_request_duration_seconds"));
    let md = export::metrics_markdown_with(&options);
    assert!(md.contains("brain_mission_calls_total"), "{md}");
    assert_eq!(
        registry::exposed_name("http_requests_total"),
        "brain_http_requests_total"
    );
    assert_eq!(
        registry::exposed_name("node_cpu_seconds_total"),
        "node_cpu_seconds_total"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_otlp_push_carries_the_exposed_names_and_constant_labels() {
    child::in_own_process(
        "the_otlp_push_carries_the_exposed_names_and_constant_labels",
        || {
            configure();
            let rx = receiver::start();
            for (k, v) in [
                ("OTEL_METRICS_EXPORTER", "otlp".to_owned()),
                ("OTEL_TRACES_EXPORTER", "none".to_owned()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{}", rx.grpc)),
                ("OTEL_METRIC_EXPORT_INTERVAL", "3600000".to_owned()),
            ] {
                // SAFETY: the child runs this one test, which sets the
                // environment before `init` and any thread of ours reads it.
                unsafe { std::env::set_var(k, v) };
            }
            let guard = obs_runtime::Builder::from_env()
                .log_writer(std::io::sink)
                .try_init()
                .expect("init");
            mission(true).unwrap();
            guard.flush();
            let got = rx.store.wait_for_metrics(Duration::from_secs(20), 1);
            let metrics: Vec<_> = got
                .iter()
                .flat_map(|(_, r)| &r.resource_metrics)
                .flat_map(|rm| &rm.scope_metrics)
                .flat_map(|sm| &sm.metrics)
                .collect();
            let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
            assert!(names.contains(&"brain_mission_calls_total"), "{names:?}");
            assert!(names.contains(&"process_cpu_seconds_total"), "{names:?}");
            assert!(!names.contains(&"mission_calls_total"), "{names:?}");
            let calls = metrics
                .iter()
                .find(|m| m.name == "brain_mission_calls_total")
                .unwrap();
            let Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Sum(sum)) = &calls.data
            else {
                panic!("a sum: {calls:?}")
            };
            for point in &sum.data_points {
                let attr = |k: &str| {
                    point.attributes.iter().find(|a| a.key == k).and_then(|a| {
                        match a.value.as_ref()?.value.as_ref()? {
                            AnyValue::StringValue(s) => Some(s.as_str()),
                            _ => None,
                        }
                    })
                };
                assert_eq!(attr("service"), Some("brain"), "{point:?}");
                assert_eq!(attr("environment"), Some("production"), "{point:?}");
                assert!(attr("function").is_some(), "{point:?}");
            }
            drop(guard);
        },
    );
}

#[test]
fn init_configures_the_exposition_from_the_environment() {
    child::in_own_process(
        "init_configures_the_exposition_from_the_environment",
        || {
            for (k, v) in [
                ("OBS_METRICS_PREFIX", "envsvc"),
                ("OBS_METRICS_CONSTANT_LABELS", "region=eu, tier=gold"),
                ("OTEL_TRACES_EXPORTER", "none"),
            ] {
                // SAFETY: the child runs this one test, which sets the
                // environment before `init` and any thread of ours reads it.
                unsafe { std::env::set_var(k, v) };
            }
            let guard = obs_runtime::Builder::from_env()
                .log_writer(std::io::sink)
                .try_init()
                .expect("init");
            mission(true).unwrap();
            let text = obs_runtime::encode_text();
            assert!(
            text.contains(
                r#"envsvc_mission_calls_total{function="mission",module="exposition_prefix",result="ok",region="eu",tier="gold"} 1"#
            ),
            "{text}"
        );
            assert_eq!(registry::exposed_name("x_total"), "envsvc_x_total");
            drop(guard);
        },
    );
}
