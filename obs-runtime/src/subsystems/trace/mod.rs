//! OpenTelemetry traces (feature `otlp`): the spans of `#[instrumented]`
//! and of your own `tracing` spans, exported over OTLP through
//! `tracing-opentelemetry`, with W3C propagation helpers.
//!
//! [`crate::init()`] sets the pipeline up from the `OTEL_*` environment;
//! this module holds its parts. `config` (reading that environment, and
//! the resource `obs_build_info` is named from) and `pipeline` (what
//! `init` installs) are built with or without the feature; the rest is the
//! exporting machinery. `tls` reads the certificate variables; with the
//! `otlp-tls` feature an `https://` endpoint is reached over rustls.
//! `unsampled` keeps what can't be exported (an unsampled span's records,
//! events and children) away from `tracing-opentelemetry`.

mod config;
mod pipeline;

#[cfg(feature = "otlp")]
mod batch;
#[cfg(feature = "otlp")]
mod console;
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub mod propagation;
#[cfg(feature = "otlp")]
mod provider;
#[cfg(feature = "otlp")]
pub(crate) mod tls;
#[cfg(feature = "otlp")]
mod unsampled;

pub(crate) use config::{TraceConfig, service_name_from_env};
pub(crate) use pipeline::{SpanPipeline, layer};

#[cfg(feature = "otlp")]
pub(crate) use batch::{BatchLimits, dropped_spans, hint as drop_hint};
#[cfg(feature = "otlp")]
pub(crate) use config::{OtlpEndpoint, otlp_endpoint, otlp_headers, otlp_protocol};
#[cfg(feature = "otlp")]
pub(crate) use provider::{SHUTDOWN_TIMEOUT, provider, resource};
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub use provider::{SamplerChoice, SpanExport};
#[cfg(feature = "otlp")]
pub(crate) use unsampled::{context_of, unsampled_id};
