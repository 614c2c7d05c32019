//! What `init` installs of traces: the layer that turns `tracing` spans into
//! OpenTelemetry spans, and the handle [`crate::ObsGuard`] flushes. The one
//! place where the `otlp` feature decides whether spans leave the process.

use super::TraceConfig;

/// The tracer provider the guard flushes and shuts down; empty without the
/// `otlp` feature, with `OTEL_SDK_DISABLED=true`, or when `init` failed.
#[derive(Debug, Default)]
pub(crate) struct SpanPipeline {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

// Without `otlp` there is nothing to flush: the methods are empty.
#[cfg_attr(not(feature = "otlp"), allow(clippy::unused_self))]
impl SpanPipeline {
    /// Exports every finished span now; returns within
    /// [`SHUTDOWN_TIMEOUT`](super::SHUTDOWN_TIMEOUT) even if the collector
    /// hangs (what is still unexported then is left to the worker).
    pub(crate) fn flush(&self) {
        #[cfg(feature = "otlp")]
        if let Some(p) = &self.provider {
            let _ = p.force_flush();
        }
    }

    /// Exports what is left and stops the export thread, within
    /// [`SHUTDOWN_TIMEOUT`](super::SHUTDOWN_TIMEOUT) in all: one request to
    /// the worker with one deadline, not a flush and then a shutdown with a
    /// deadline each.
    pub(crate) fn shutdown(&mut self) {
        #[cfg(feature = "otlp")]
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown_with_timeout(super::SHUTDOWN_TIMEOUT);
        }
    }
}

/// `tracing-opentelemetry`'s layer behind the one that keeps unsampled
/// spans from it.
#[cfg(feature = "otlp")]
pub(crate) type OtelLayer<S> = super::unsampled::SkipUnsampled<
    tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>,
>;

/// The OpenTelemetry layer (`None` when disabled) and the pipeline behind
/// it; also installs the global tracer provider and the W3C propagator.
///
/// # Errors
/// When the export thread can't start.
#[cfg(feature = "otlp")]
pub(crate) fn layer<S>(
    config: &TraceConfig,
) -> std::io::Result<(Option<OtelLayer<S>>, SpanPipeline)>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    use opentelemetry::trace::TracerProvider as _;

    if config.disabled {
        return Ok((None, SpanPipeline::default()));
    }
    let resource = super::resource(&config.resource);
    // The drop counter exists at zero from start-up, like every series.
    super::dropped_spans();
    let provider = super::provider(
        &config.export,
        &config.tls,
        config.sampler,
        resource,
        super::BatchLimits {
            max_queue_bytes: config.queue_bytes,
            ..super::BatchLimits::default()
        },
    )?;
    let tracer = provider.tracer("obs");
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    opentelemetry::global::set_tracer_provider(provider.clone());
    // Histograms and counters keep the ids of sampled spans as exemplars.
    crate::metric_core::metrics::exemplar::set_source(sampled_ids);
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_error_records_to_exceptions(true);
    Ok((
        Some(super::unsampled::SkipUnsampled::new(layer, config.sampler)),
        SpanPipeline {
            provider: Some(provider),
        },
    ))
}

/// The ids of the current OpenTelemetry span when it is sampled: the span
/// `tracing-opentelemetry` made current when its `tracing` span was
/// entered. A thread-local read; nothing is allocated.
#[cfg(feature = "otlp")]
fn sampled_ids() -> Option<crate::metric_core::metrics::exemplar::TraceIds> {
    use opentelemetry::trace::TraceContextExt as _;
    opentelemetry::Context::map_current(|cx| {
        let span = cx.span();
        let context = span.span_context();
        if !context.is_sampled() || !context.is_valid() {
            return None;
        }
        let trace = context.trace_id().to_bytes();
        let (hi, lo) = trace.split_at(8);
        Some(crate::metric_core::metrics::exemplar::TraceIds {
            trace_hi: u64::from_be_bytes(hi.try_into().ok()?),
            trace_lo: u64::from_be_bytes(lo.try_into().ok()?),
            span: std::num::NonZeroU64::new(u64::from_be_bytes(context.span_id().to_bytes()))?,
        })
    })
}

/// Without the `otlp` feature spans stay in the process: no layer.
///
/// # Errors
/// Never; the signature is the `otlp` one's.
#[cfg(not(feature = "otlp"))]
#[allow(clippy::unnecessary_wraps)]
pub(crate) fn layer(
    _config: &TraceConfig,
) -> std::io::Result<(Option<tracing_subscriber::layer::Identity>, SpanPipeline)> {
    Ok((None, SpanPipeline::default()))
}
