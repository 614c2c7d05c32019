//! OTLP metrics push (feature `otlp`): the whole registry — `#[instrumented]`
//! call sites, metric sets, the HTTP families, process metrics, foreign
//! `prometheus` collectors — sent to an OpenTelemetry Collector every
//! interval, for services that are not scraped.
//!
//! Turned on by `OTEL_METRICS_EXPORTER=otlp` (the default is `none`;
//! `prometheus` means scrape only), configured like the spans' export:
//!
//! | variable | values | default |
//! |---|---|---|
//! | `OTEL_METRICS_EXPORTER` | `none`, `otlp`, `prometheus` (scrape only) | `none` |
//! | `OTEL_METRIC_EXPORT_INTERVAL` | milliseconds between pushes | `60000` |
//! | `OTEL_METRIC_EXPORT_TIMEOUT` | milliseconds one push may take (the last push at shutdown gets at most the guard's 5 s) | `30000` |
//! | `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` | the full URL (HTTP: path included, used as it is) | `OTEL_EXPORTER_OTLP_ENDPOINT`, with `/v1/metrics` appended for HTTP |
//! | `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL` | `grpc`, `http/protobuf` | `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf` |
//! | `OTEL_EXPORTER_OTLP_METRICS_HEADERS` | `key=value,…` (percent-decoded), over `OTEL_EXPORTER_OTLP_HEADERS` | none |
//! | `OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE`, `…_CLIENT_CERTIFICATE`, `…_CLIENT_KEY` | as for traces (feature `otlp-tls`) | the generic ones |
//!
//! What arrives: requests of at most 4,096 data points each (a large
//! registry takes several, a family split across them in order), each one
//! `ResourceMetrics` with the spans' resource
//! (`service.name`, …, values redacted), scope `obs`, and one metric per
//! family of the text exposition, under the same name — counters as
//! monotonic cumulative sums, gauges as gauges, histograms as
//! explicit-bucket histograms with the same bounds (per-bucket counts), a
//! unit where the name ends in one (`_seconds` → `s`), labels as
//! attributes. Cumulative series start at the process's start.
//!
//! Export runs on a thread of its own (`obs-metric-export`), one export at
//! a time; a failed, refused or timed-out export drops that batch — the
//! next carries the same cumulative totals — and counts its points in
//! `obs_telemetry_dropped_metric_points_total`. [`ObsGuard::flush`] pushes
//! now; dropping the guard pushes once more, within the guard's deadline.
//!
//! ```no_run
//! // OTEL_METRICS_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318
//! let guard = obs_runtime::init();
//! // … work …
//! guard.flush(); // spans, and a metrics push, now
//! ```
//!
//! [`ObsGuard::flush`]: crate::ObsGuard::flush

mod config;
#[cfg(feature = "otlp")]
mod convert;
#[cfg(feature = "otlp")]
mod transport;
#[cfg(feature = "otlp")]
mod worker;

pub use config::MetricExport;
pub(crate) use config::MetricsConfig;

#[cfg(feature = "otlp")]
pub(crate) use crate::subsystems::trace::SHUTDOWN_TIMEOUT;

/// The export thread the guard flushes and stops; empty when nothing is
/// pushed.
#[derive(Debug, Default)]
pub(crate) struct MetricPipeline {
    #[cfg(feature = "otlp")]
    running: Option<Running>,
}

#[cfg(feature = "otlp")]
#[derive(Debug)]
struct Running {
    control: std::sync::mpsc::SyncSender<worker::Control>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// An acknowledgement to wait for, until a deadline.
#[derive(Debug)]
pub(crate) struct Pending {
    #[cfg(feature = "otlp")]
    ack: Option<std::sync::mpsc::Receiver<()>>,
}

#[cfg_attr(not(feature = "otlp"), allow(clippy::unused_self))]
impl Pending {
    /// Waits for the export thread until `deadline`; `true` if it answered.
    pub(crate) fn wait(self, deadline: std::time::Instant) -> bool {
        #[cfg(feature = "otlp")]
        if let Some(ack) = self.ack {
            return ack
                .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
                .is_ok();
        }
        let _ = deadline;
        true
    }
}

// Without `otlp` nothing is pushed: the methods are empty.
#[cfg_attr(not(feature = "otlp"), allow(clippy::unused_self))]
impl MetricPipeline {
    /// Starts the export thread when `config` asks for a push (and traces
    /// are not disabled: `OTEL_SDK_DISABLED` turns every signal off).
    /// `resource` is the spans' (`OTEL_SERVICE_NAME`, …).
    ///
    /// # Errors
    /// When the thread can't start.
    #[cfg_attr(not(feature = "otlp"), allow(clippy::unnecessary_wraps))]
    pub(crate) fn start(
        config: &MetricsConfig,
        resource: &[(String, String)],
        disabled: bool,
    ) -> std::io::Result<Self> {
        #[cfg(feature = "otlp")]
        {
            if disabled || config.export == MetricExport::None {
                return Ok(Self::default());
            }
            // The drop counter exists at zero from the start, like every series.
            worker::dropped_points();
            let attributes =
                worker::resource_attributes(&crate::subsystems::trace::resource(resource));
            let (control, rx) = std::sync::mpsc::sync_channel(4);
            let config = config.clone();
            let thread = std::thread::Builder::new()
                .name("obs-metric-export".into())
                .spawn(move || worker::run(&config, attributes, &rx))?;
            Ok(Self {
                running: Some(Running {
                    control,
                    thread: Some(thread),
                }),
            })
        }
        #[cfg(not(feature = "otlp"))]
        {
            let _ = (config, resource, disabled);
            Ok(Self::default())
        }
    }

    /// Asks for a push now; wait on the answer with [`Pending::wait`].
    pub(crate) fn start_flush(&self) -> Pending {
        #[cfg(feature = "otlp")]
        {
            let ack = self.running.as_ref().and_then(|r| {
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                r.control
                    .try_send(worker::Control::Flush(tx))
                    .ok()
                    .map(|()| rx)
            });
            Pending { ack }
        }
        #[cfg(not(feature = "otlp"))]
        Pending {}
    }

    /// Asks for the last push, to end by `deadline`; wait on the answer
    /// with [`Pending::wait`], then call [`finish`](Self::finish).
    pub(crate) fn start_shutdown(&mut self, deadline: std::time::Instant) -> Pending {
        #[cfg(feature = "otlp")]
        {
            let ack = self.running.as_ref().and_then(|r| {
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                r.control
                    .try_send(worker::Control::Shutdown(tx, deadline))
                    .ok()
                    .map(|()| rx)
            });
            Pending { ack }
        }
        #[cfg(not(feature = "otlp"))]
        {
            let _ = deadline;
            Pending {}
        }
    }

    /// Joins the thread if it answered; else leaves it behind (a hung
    /// collector must not hold the process past its deadline).
    pub(crate) fn finish(&mut self, answered: bool) {
        #[cfg(feature = "otlp")]
        if let Some(mut running) = self.running.take()
            && answered
            && let Some(thread) = running.thread.take()
        {
            let _ = thread.join();
        }
        #[cfg(not(feature = "otlp"))]
        let _ = answered;
    }
}
