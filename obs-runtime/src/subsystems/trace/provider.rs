//! The tracer provider: who is sending (the resource), which spans are kept
//! (the sampler) and where they go (the exporter behind [`BoundedBatch`]).

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

use super::batch::{BatchLimits, BoundedBatch};
use super::console;

/// How spans leave the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpanExport {
    /// OTLP over gRPC to `endpoint` (default `http://localhost:4317`).
    OtlpGrpc {
        /// The collector's base URL.
        endpoint: String,
    },
    /// OTLP over HTTP/protobuf to `endpoint` + `/v1/traces` (default
    /// `http://localhost:4318`).
    OtlpHttp {
        /// The collector's base URL.
        endpoint: String,
    },
    /// One line per finished span on stdout.
    Console,
    /// No export: spans are still created for logs' trace ids.
    None,
}

/// The trace sampler, as `OTEL_TRACES_SAMPLER` names it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SamplerChoice {
    /// `always_on`.
    AlwaysOn,
    /// `always_off`.
    AlwaysOff,
    /// `traceidratio` with the ratio.
    TraceIdRatio(f64),
    /// `parentbased_always_on` (the default).
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`.
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio` with the ratio of root spans kept.
    ParentBasedTraceIdRatio(f64),
}

impl SamplerChoice {
    fn sampler(self) -> Sampler {
        match self {
            Self::AlwaysOn => Sampler::AlwaysOn,
            Self::AlwaysOff => Sampler::AlwaysOff,
            Self::TraceIdRatio(r) => Sampler::TraceIdRatioBased(r),
            Self::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            Self::ParentBasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
            Self::ParentBasedTraceIdRatio(r) => {
                Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(r)))
            }
        }
    }
}

/// The resource: who is sending the spans.
pub(crate) fn resource(attributes: &[(String, String)]) -> Resource {
    // `builder_empty` plus our own attributes, so the environment is read in
    // one place (`config`), with its warnings; the SDK adds `telemetry.sdk.*`.
    Resource::builder_empty()
        .with_detectors(&[Box::new(
            opentelemetry_sdk::resource::TelemetryResourceDetector,
        )])
        .with_attributes(
            attributes
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .build()
}

/// Builds the tracer provider; `None` when nothing is exported.
pub(crate) fn provider(
    export: &SpanExport,
    sampler: SamplerChoice,
    resource: Resource,
    limits: BatchLimits,
) -> std::io::Result<SdkTracerProvider> {
    let timeout = limits.export_timeout;
    let processor = match export.clone() {
        SpanExport::OtlpGrpc { endpoint } => BoundedBatch::start(
            move || {
                opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_endpoint(endpoint)
                    .with_timeout(timeout)
                    .build()
                    .map_err(|e| tracing::warn!(target: "obs::telemetry", "OTLP gRPC exporter not built: {e}"))
                    .ok()
            },
            resource.clone(),
            limits,
        )?,
        SpanExport::OtlpHttp { endpoint } => BoundedBatch::start(
            move || {
                let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
                opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_endpoint(url)
                    .with_timeout(timeout)
                    .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                    .build()
                    .map_err(|e| tracing::warn!(target: "obs::telemetry", "OTLP HTTP exporter not built: {e}"))
                    .ok()
            },
            resource.clone(),
            limits,
        )?,
        SpanExport::Console => {
            BoundedBatch::start(|| Some(console::ConsoleExporter), resource.clone(), limits)?
        }
        SpanExport::None => {
            return Ok(SdkTracerProvider::builder()
                .with_sampler(sampler.sampler())
                .with_resource(resource)
                .build());
        }
    };
    Ok(SdkTracerProvider::builder()
        .with_sampler(sampler.sampler())
        .with_resource(resource)
        .with_span_processor(processor)
        .build())
}

/// How long [`crate::ObsGuard`] waits for the last spans to leave.
pub(crate) const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
