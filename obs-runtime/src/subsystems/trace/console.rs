//! `OTEL_TRACES_EXPORTER=console`: finished spans, one line each, on stdout.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::UNIX_EPOCH;

use opentelemetry::trace::Status;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Prints spans for development; never meant for production traffic.
#[derive(Debug, Default)]
pub(crate) struct ConsoleExporter;

fn line(span: &SpanData) -> String {
    let ctx = &span.span_context;
    let duration = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let start = span
        .start_time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut out = format!(
        "span name={:?} trace_id={} span_id={} parent_span_id={} start_unix_nano={} duration_us={}",
        span.name,
        ctx.trace_id(),
        ctx.span_id(),
        span.parent_span_id,
        start.as_nanos(),
        duration.as_micros(),
    );
    match &span.status {
        Status::Unset => {}
        Status::Ok => out.push_str(" status=ok"),
        Status::Error { description } => {
            let _ = write!(
                out,
                " status=error message={:?}",
                crate::leaves::redact::escape_console(description)
            );
        }
    }
    for kv in &span.attributes {
        let value = kv.value.as_str();
        let _ = write!(
            out,
            " {}={:?}",
            kv.key,
            crate::leaves::redact::escape_console(&value)
        );
    }
    for event in span.events.iter() {
        let _ = write!(out, " event={:?}", event.name);
    }
    out
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut stdout = std::io::stdout().lock();
        for span in &batch {
            // A closed stdout is no reason to fail the program.
            let _ = writeln!(stdout, "{}", line(span));
        }
        Ok(())
    }
}
