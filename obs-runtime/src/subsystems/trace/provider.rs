//! The tracer provider: who is sending (the resource), which spans are kept
//! (the sampler) and where they go (the exporter behind [`BoundedBatch`]).

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

use crate::leaves::redact::redact_field;

use super::batch::{BatchLimits, BoundedBatch};
use super::console;
use super::tls::{self, TlsFiles};
use super::unsampled::DecidedIds;

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
    pub(crate) fn sampler(self) -> Sampler {
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

/// The resource: who is sending the spans. Its values leave the process
/// with every export, so they pass the redaction boundary as span
/// attributes do: `OTEL_RESOURCE_ATTRIBUTES=db.password=…` is exported as
/// `[REDACTED]`, an address in `service.namespace` as `[EMAIL]`.
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
                .map(|(k, v)| KeyValue::new(k.clone(), redact_field(k, v).into_owned())),
        )
        .build()
}

/// Builds the tracer provider; `None` when nothing is exported. `tls` is
/// used when the endpoint is `https://`.
pub(crate) fn provider(
    export: &SpanExport,
    tls: &TlsFiles,
    sampler: SamplerChoice,
    resource: Resource,
    limits: BatchLimits,
) -> std::io::Result<SdkTracerProvider> {
    let timeout = limits.export_timeout;
    let processor = match export.clone() {
        SpanExport::OtlpGrpc { endpoint } => {
            let tls = tls.clone();
            BoundedBatch::start(
                move || grpc_exporter(endpoint, &tls, timeout),
                resource.clone(),
                limits,
            )?
        }
        SpanExport::OtlpHttp { endpoint } => {
            let tls = tls.clone();
            BoundedBatch::start(
                move || http_exporter(&endpoint, &tls, timeout),
                resource.clone(),
                limits,
            )?
        }
        SpanExport::Console => {
            BoundedBatch::start(|| Ok(console::ConsoleExporter), resource.clone(), limits)?
        }
        SpanExport::None => {
            return Ok(SdkTracerProvider::builder()
                .with_sampler(sampler.sampler())
                .with_id_generator(DecidedIds::default())
                .with_resource(resource)
                .build());
        }
    };
    Ok(SdkTracerProvider::builder()
        .with_sampler(sampler.sampler())
        .with_id_generator(DecidedIds::default())
        .with_resource(resource)
        .with_span_processor(processor)
        .build())
}

/// The OTLP/gRPC exporter; over TLS for an `https://` endpoint. Runs on
/// the export thread: the error is the reason its spans are dropped.
fn grpc_exporter(
    endpoint: String,
    tls: &TlsFiles,
    timeout: Duration,
) -> Result<opentelemetry_otlp::SpanExporter, String> {
    let https = endpoint.starts_with("https://");
    if https && !tls::AVAILABLE {
        return Err(tls::unavailable_warning(&endpoint));
    }
    let builder = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .with_timeout(timeout);
    #[cfg(feature = "otlp-tls")]
    let builder = if https {
        use opentelemetry_otlp::WithTonicConfig as _;
        builder.with_tls_config(tls::grpc(tls))
    } else {
        builder
    };
    #[cfg(not(feature = "otlp-tls"))]
    let _ = tls;
    builder.build().map_err(|e| {
        let why = format!("OTLP gRPC exporter not built: {e}");
        tracing::warn!(target: "obs::telemetry", "{why}");
        why
    })
}

/// The OTLP/HTTP (protobuf) exporter, posting to `endpoint/v1/traces`;
/// over TLS (hyper-rustls) for an `https://` endpoint.
fn http_exporter(
    endpoint: &str,
    tls: &TlsFiles,
    timeout: Duration,
) -> Result<opentelemetry_otlp::SpanExporter, String> {
    let https = endpoint.starts_with("https://");
    if https && !tls::AVAILABLE {
        return Err(tls::unavailable_warning(endpoint));
    }
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let builder = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(url)
        .with_timeout(timeout)
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary);
    #[cfg(feature = "otlp-tls")]
    let builder = if https {
        use opentelemetry_otlp::WithHttpConfig as _;
        let client = tls::https_client(tls, timeout).map_err(|e| {
            let why = format!("OTLP HTTP exporter without TLS: {e}");
            tracing::warn!(target: "obs::telemetry", "{why}");
            why
        })?;
        builder.with_http_client(client)
    } else {
        builder
    };
    #[cfg(not(feature = "otlp-tls"))]
    let _ = tls;
    builder.build().map_err(|e| {
        let why = format!("OTLP HTTP exporter not built: {e}");
        tracing::warn!(target: "obs::telemetry", "{why}");
        why
    })
}

/// How long [`crate::ObsGuard`] waits for the last spans to leave.
pub(crate) const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
