//! Traces and logs from `obs_runtime::init()`: three nested instrumented
//! calls, one failing, with a log line inside.
//!
//! ```sh
//! OTEL_TRACES_EXPORTER=console cargo run --example tracing     # spans on stdout
//! OBS_ENV=production OTEL_TRACES_EXPORTER=console cargo run --example tracing   # JSON logs
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run --example tracing  # to a collector
//! ```

use obs_runtime::instrumented;

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined")
    }
}

#[instrumented(metric = "payment_charge", buckets = "latency")]
async fn charge(amount_cents: u32) -> Result<u32, Declined> {
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    // The e-mail address is redacted in the log line.
    tracing::info!(amount_cents, "charging the card of ada@example.com");
    if amount_cents > 10_000 {
        Err(Declined)
    } else {
        Ok(amount_cents)
    }
}

#[instrumented(metric = "stock_reserve")]
async fn reserve(amount_cents: u32) -> Result<u32, Declined> {
    charge(amount_cents).await
}

#[instrumented(metric = "checkout")]
async fn checkout(amount_cents: u32) -> Result<u32, Declined> {
    reserve(amount_cents).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let guard = obs_runtime::Builder::from_env()
        .service_name("tracing-example")
        .service_version(env!("CARGO_PKG_VERSION"))
        .init();
    let ok = checkout(1_250).await;
    let declined = checkout(25_000).await;
    tracing::info!(
        ok = ok.is_ok(),
        declined = declined.is_err(),
        "two checkouts done"
    );
    // Dropping the guard exports the last spans before the program exits.
    drop(guard);
}
