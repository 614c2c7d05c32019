//! The `tracing` span of each instrumented call: name, fields, result and
//! error status, with a real subscriber capturing what is recorded.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use obs_runtime::instrumented;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, registry::LookupSpan};

#[derive(Debug, Default, Clone)]
struct Captured {
    name: String,
    parent: Option<String>,
    fields: BTreeMap<String, String>,
}

#[derive(Default, Clone)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut c = Captured {
            name: attrs.metadata().name().to_owned(),
            ..Captured::default()
        };
        c.parent = ctx
            .span(id)
            .and_then(|s| s.parent())
            .map(|p| p.name().to_owned());
        attrs.record(&mut Fields(&mut c.fields));
        ctx.span(id).unwrap().extensions_mut().insert(c);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(c) = span.extensions_mut().get_mut::<Captured>()
        {
            values.record(&mut Fields(&mut c.fields));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(c) = ctx
            .span(&id)
            .and_then(|s| s.extensions_mut().remove::<Captured>())
        {
            self.0.lock().unwrap().push(c);
        }
    }
}

fn capture(f: impl FnOnce()) -> Vec<Captured> {
    let cap = Capture::default();
    let subscriber = tracing_subscriber::registry().with(cap.clone());
    tracing::subscriber::with_default(subscriber, f);
    cap.0.lock().unwrap().clone()
}

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined by issuer")
    }
}

#[instrumented(metric = "s_charge", fields(amount, redact(card_number)))]
fn charge(amount: u32, card_number: &str, secret_note: &str) -> Result<u32, Refused> {
    let _ = (card_number, secret_note);
    if amount > 100 {
        Err(Refused)
    } else {
        Ok(amount)
    }
}

#[instrumented(span = "checkout.run", level = "debug")]
fn checkout(amount: u32) -> Result<u32, Refused> {
    charge(amount, "4111 1111 1111 1111", "do not log")
}

#[instrumented(span = false)]
fn quiet() -> u8 {
    1
}

#[test]
fn spans_carry_code_fields_result_and_listed_arguments_only() {
    let spans = capture(|| {
        assert!(checkout(5).is_ok());
    });
    let charge = spans
        .iter()
        .find(|s| s.name == "charge")
        .expect("charge span");
    assert_eq!(
        charge.parent.as_deref(),
        Some("checkout.run"),
        "parent link follows the call chain"
    );
    assert_eq!(charge.fields["code.function"], "charge");
    assert_eq!(charge.fields["code.namespace"], module_path!());
    assert_eq!(charge.fields["result"], "ok");
    assert_eq!(charge.fields["amount"], "5");
    assert_eq!(charge.fields["card_number"], "[REDACTED]");
    assert!(
        !charge.fields.contains_key("secret_note"),
        "unlisted arguments are never recorded"
    );
    assert!(
        !format!("{spans:?}").contains("4111"),
        "the card number leaked: {spans:?}"
    );
    assert!(spans.iter().any(|s| s.name == "checkout.run"));
}

#[test]
fn an_err_marks_the_span_as_an_error_with_its_display() {
    let spans = capture(|| {
        assert!(checkout(500).is_err());
    });
    for name in ["charge", "checkout.run"] {
        let s = spans.iter().find(|s| s.name == name).unwrap();
        assert_eq!(s.fields["result"], "error", "{name}");
        assert_eq!(s.fields["otel.status_code"], "ERROR", "{name}");
        assert_eq!(
            s.fields["otel.status_description"], "card declined by issuer",
            "{name}"
        );
    }
}

#[test]
fn span_false_creates_no_span() {
    let spans = capture(|| {
        assert_eq!(quiet(), 1);
    });
    assert!(spans.is_empty(), "{spans:?}");
}

#[instrumented(metric = "s_async")]
async fn inner_step() -> Result<(), Refused> {
    tokio::task::yield_now().await;
    Err(Refused)
}

#[instrumented(metric = "s_async")]
async fn outer_step() -> Result<(), Refused> {
    inner_step().await
}

#[test]
fn async_spans_follow_awaits() {
    let spans = capture(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(rt.block_on(outer_step()).is_err());
    });
    let inner = spans.iter().find(|s| s.name == "inner_step").unwrap();
    assert_eq!(inner.parent.as_deref(), Some("outer_step"));
    assert_eq!(inner.fields["result"], "error");
    assert_eq!(
        inner.fields["otel.status_description"],
        "card declined by issuer"
    );
}
