//! Spans leave the process redacted, as log lines do: secrets recorded in
//! span attributes, in events inside a span, in a dynamic span name and in
//! the error of an `#[instrumented]` function, and in the resource
//! (`OTEL_RESOURCE_ATTRIBUTES`, `service.namespace`) are exported to a real OTLP
//! receiver, and none of them is anywhere in what it received — searched in
//! the debug form of every whole export request — while the placeholders
//! are. Samples of the redaction corpus, as span attributes and events,
//! don't survive the trip either.

#[path = "redaction_support/pii.rs"]
mod pii;
#[path = "otlp/receiver.rs"]
mod receiver;

use std::time::Duration;

use obs_runtime::instrumented;
use obs_runtime::trace::SpanExport;

const PASSWORD: &str = "hunter2-Sup3rSecret";
const EMAIL: &str = "ada.lovelace@example.com";
const EVENT_EMAIL: &str = "grace.hopper@example.org";
const NAME_EMAIL: &str = "alan.turing@example.net";
const BEARER: &str = "9f8e7d6c5b4aXyZ";
const CARD: &str = "4111 1111 1111 1111";
const EVENT_CARD: &str = "5555 5555 5555 4444";
const GITHUB_TOKEN: &str = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
const CARD_NUMBER: i64 = 4_111_111_111_111_111;
const API_KEY: &str = "k-live-abcdef123456";
const SESSION: &str = "sess-0042-QWERTY";
const ERROR_TOKEN: &str = "tok3n-Of-The-Error";
const PHONE: &str = "+1 415 555 2671";
/// Secrets in the resource, which rides along with every export.
const RESOURCE_PASSWORD: &str = "r3source-Pa55word";
const RESOURCE_EMAIL: &str = "oncall.lead@example.com";
/// Corpus samples sent as spans: 20 of each kind of secret.
const CORPUS_SPANS: usize = 220;

const JWT: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "refused: token={ERROR_TOKEN} for {PHONE}, id_token {JWT}"
        )
    }
}

#[instrumented(metric = "tr_refund")]
async fn refund(amount: u32) -> Result<u32, Refused> {
    tokio::task::yield_now().await;
    if amount > 0 { Err(Refused) } else { Ok(0) }
}

#[test]
fn secrets_never_reach_the_collector() {
    let rx = receiver::start();
    // SAFETY: this file's only test, before it starts any thread that could
    // read the environment.
    unsafe {
        std::env::set_var(
            "OTEL_RESOURCE_ATTRIBUTES",
            format!("db.password={RESOURCE_PASSWORD},team.contact=page%20{RESOURCE_EMAIL}"),
        );
    }
    let guard = obs_runtime::Builder::from_env()
        .service_namespace(format!("payments ({RESOURCE_EMAIL})"))
        .span_export(SpanExport::OtlpGrpc {
            endpoint: format!("http://{}", rx.grpc),
        })
        .log_writer(obs_runtime::log::Captured::default())
        .try_init()
        .expect("init");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    {
        let span = tracing::info_span!(
            "signup",
            password = PASSWORD,
            note = format!("contact {EMAIL} today").as_str(),
            upstream = format!("Authorization: Bearer {BEARER}").as_str(),
            memo = format!("paid with {CARD}, thanks").as_str(),
            session_id = tracing::field::Empty,
            plain = "nothing to hide",
            deploy = format!("pushed with {GITHUB_TOKEN}").as_str(),
            reference = CARD_NUMBER,
            count = 1_234_567_890_123_i64,
        );
        let _entered = span.enter();
        span.record("session_id", SESSION);
        tracing::info!(
            api_key = API_KEY,
            customer = EVENT_EMAIL,
            "charging card {EVENT_CARD} for {EVENT_EMAIL}"
        );
    }
    tracing::info_span!(
        "renamed",
        otel.name = format!("reset for {NAME_EMAIL}").as_str()
    )
    .in_scope(|| {});
    assert!(rt.block_on(refund(7)).is_err());
    let samples = pii::pii_corpus();
    let samples = &samples[..CORPUS_SPANS];
    for (i, (_, message, field)) in samples.iter().enumerate() {
        tracing::info_span!("corpus", sample = i, note = field.as_str())
            .in_scope(|| tracing::info!("{message}"));
    }
    guard.flush();

    let expected = 3 + CORPUS_SPANS;
    let spans = rx
        .store
        .wait_for(Duration::from_secs(20), |s| s.len() >= expected);
    assert_eq!(spans.len(), expected);
    let received = format!("{:?}", rx.store.requests());
    for secret in [
        PASSWORD,
        EMAIL,
        EVENT_EMAIL,
        NAME_EMAIL,
        BEARER,
        CARD,
        EVENT_CARD,
        API_KEY,
        GITHUB_TOKEN,
        &CARD_NUMBER.to_string(),
        SESSION,
        ERROR_TOKEN,
        PHONE,
        JWT,
        RESOURCE_PASSWORD,
        RESOURCE_EMAIL,
    ] {
        assert!(
            !received.contains(secret),
            "{secret:?} reached the collector: {:#?}",
            &spans[..3]
        );
    }
    assert!(
        received.contains("db.password"),
        "the resource's key is kept, its value hidden"
    );
    for placeholder in [
        "[REDACTED]",
        "[EMAIL]",
        "[TOKEN]",
        "[CARD]",
        "[PHONE]",
        "[JWT]",
    ] {
        assert!(
            received.contains(placeholder),
            "no {placeholder} in {:#?}",
            &spans[..3]
        );
    }

    let by_name = |n: &str| {
        spans
            .iter()
            .find(|s| s.name == n)
            .unwrap_or_else(|| panic!("no span {n}: {:#?}", &spans[..3]))
    };
    let signup = by_name("signup");
    let attribute = |k: &str| signup.attributes.get(k).map(String::as_str);
    assert_eq!(attribute("password"), Some("[REDACTED]"));
    assert_eq!(attribute("session_id"), Some("[REDACTED]"));
    assert_eq!(attribute("note"), Some("contact [EMAIL] today"));
    assert_eq!(attribute("upstream"), Some("Authorization: Bearer [TOKEN]"));
    assert_eq!(attribute("memo"), Some("paid with [CARD], thanks"));
    assert_eq!(attribute("plain"), Some("nothing to hide"));
    assert_eq!(attribute("reference"), Some("[CARD]"));
    assert_eq!(attribute("deploy"), Some("pushed with [API_KEY]"));
    assert_eq!(attribute("count"), Some("1234567890123"));
    let (event_name, event) = signup.events.first().expect("the event");
    assert_eq!(event_name, "charging card [CARD] for [EMAIL]");
    assert_eq!(event.get("api_key").map(String::as_str), Some("[REDACTED]"));
    assert_eq!(event.get("customer").map(String::as_str), Some("[EMAIL]"));

    by_name("reset for [EMAIL]");

    let refund = by_name("refund");
    assert_eq!(refund.status_code, 2);
    let redacted_error = "refused: token=[REDACTED] for [PHONE], id_token [JWT]".to_owned();
    assert_eq!(refund.status_message, redacted_error);
    let exception = refund
        .events
        .iter()
        .find(|(n, _)| n == "exception")
        .expect("exception event");
    assert_eq!(exception.1.get("exception.message"), Some(&redacted_error));

    let outputs: Vec<(usize, String)> = spans
        .iter()
        .filter(|s| s.name == "corpus")
        .flat_map(|s| {
            let i: usize = s.attributes["sample"].parse().expect("sample index");
            let events = s.events.iter().map(|(name, _)| name.clone());
            std::iter::once(s.attributes["note"].clone())
                .chain(events)
                .map(move |text| (i, text))
        })
        .collect();
    assert_eq!(outputs.len(), 2 * CORPUS_SPANS, "a note and an event each");
    let leaks = pii::count_leaks(samples, outputs.iter().map(|(i, t)| (*i, t.as_str())));
    assert_eq!(leaks, 0, "corpus secrets reached the collector");
    drop(guard);
}
