//! The export thread: every interval it walks the registry into an
//! [`OtlpSink`], splits it into `ExportMetricsServiceRequest`s of at most
//! 4,096 points and sends them one after the other, under one deadline,
//! one export at a time. A failed, refused or timed-out export drops that
//! batch (the next one carries the same cumulative values again) and counts
//! its points in `obs_telemetry_dropped_metric_points_total`; nothing the
//! application does ever waits on it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::metric_core::metrics::Counter;
use crate::metric_core::registry::{global, own_counter};

use super::MetricsConfig;
use super::convert::{OtlpSink, split};
use super::transport::Transport;

/// The name of the drop counter.
pub(crate) const DROPPED: &str = "obs_telemetry_dropped_metric_points_total";

/// The counter of data points that never reached the collector.
pub(crate) fn dropped_points() -> &'static Counter {
    static CELL: OnceLock<&'static Counter> = OnceLock::new();
    own_counter(
        &CELL,
        DROPPED,
        "Metric data points dropped before reaching the collector: export failed, timed out or \
         was refused.",
    )
}

/// The most data points one request carries: about 1 MB of protobuf for
/// histograms of 11 buckets, well under the 4 MiB a collector's gRPC
/// receiver takes by default.
const MAX_POINTS_PER_REQUEST: usize = 4_096;

static LAST_WARNING: AtomicU64 = AtomicU64::new(0);

fn drop_points(n: u64, why: &str) {
    dropped_points().inc_by(n);
    let now = unix_nanos(SystemTime::now()) / 1_000_000_000;
    let last = LAST_WARNING.load(Relaxed);
    if (last == 0 || now >= last + 60)
        && LAST_WARNING
            .compare_exchange(last, now.max(1), Relaxed, Relaxed)
            .is_ok()
    {
        tracing::warn!(
            target: "obs::telemetry",
            dropped = n,
            "metric points dropped ({why}); {DROPPED} counts them all.{}",
            crate::subsystems::trace::drop_hint(why)
        );
    }
}

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// What the guard asks of the thread.
pub(crate) enum Control {
    /// Export now; acknowledge when done.
    Flush(SyncSender<()>),
    /// Export one last time before `deadline`, acknowledge and stop.
    Shutdown(SyncSender<()>, Instant),
}

/// The resource of the spans, as OTLP attributes.
pub(crate) fn resource_attributes(resource: &opentelemetry_sdk::Resource) -> Vec<KeyValue> {
    resource
        .iter()
        .map(|(k, v)| KeyValue {
            key: k.to_string(),
            value: Some(AnyValue::from(v.clone())),
            ..KeyValue::default()
        })
        .collect()
}

struct Exporter {
    transport: Result<Transport, String>,
    resource: Vec<KeyValue>,
    start_nanos: u64,
}

impl Exporter {
    /// One export of the whole registry, within `timeout`.
    fn export(&mut self, rt: &tokio::runtime::Runtime, timeout: Duration) {
        let mut sink = OtlpSink::new(self.start_nanos, unix_nanos(SystemTime::now()));
        global().collect(&mut sink);
        let (metrics, points) = sink.finish();
        let transport = match &mut self.transport {
            Ok(t) => t,
            Err(why) => {
                drop_points(points as u64, &format!("no exporter: {why}"));
                return;
            }
        };
        // One deadline for the whole push, however many requests it takes.
        let deadline = Instant::now() + timeout;
        for (metrics, points) in split(metrics, MAX_POINTS_PER_REQUEST) {
            let points = points as u64;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                drop_points(points, "export timed out");
                continue;
            }
            let request = request(&self.resource, metrics);
            match rt.block_on(transport.send(request, left)) {
                Ok(None) => {}
                Ok(Some(rejected)) => drop_points(
                    rejected.points.min(points),
                    &format!("the collector refused some: {}", rejected.why),
                ),
                Err(why) => drop_points(points, &why),
            }
        }
    }
}

/// One request: the resource, scope `obs`, and `metrics`.
fn request(resource: &[KeyValue], metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource.to_vec(),
                ..Resource::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "obs".to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    ..InstrumentationScope::default()
                }),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// The thread's body.
pub(crate) fn run(config: &MetricsConfig, resource: Vec<KeyValue>, rx: &Receiver<Control>) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        tracing::warn!(target: "obs::telemetry", "no runtime for the metrics export: nothing is pushed");
        // Answer the guard so it never waits for its deadline.
        while let Ok(control) = rx.recv() {
            match control {
                Control::Flush(ack) => {
                    let _ = ack.send(());
                }
                Control::Shutdown(ack, _) => {
                    let _ = ack.send(());
                    return;
                }
            }
        }
        return;
    };
    let transport = {
        let _entered = rt.enter();
        Transport::new(&config.export, &config.headers, &config.tls, config.timeout)
    };
    let start = crate::metric_core::process::start_time_seconds()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or_else(SystemTime::now, |s| UNIX_EPOCH + Duration::from_secs_f64(s));
    let mut exporter = Exporter {
        transport,
        resource,
        start_nanos: unix_nanos(start),
    };
    let mut next = Instant::now() + config.interval;
    loop {
        match rx.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Err(RecvTimeoutError::Timeout) => {
                exporter.export(&rt, config.timeout);
                next = Instant::now() + config.interval;
            }
            Ok(Control::Flush(ack)) => {
                exporter.export(&rt, config.timeout.min(super::SHUTDOWN_TIMEOUT));
                let _ = ack.send(());
            }
            Ok(Control::Shutdown(ack, deadline)) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if !left.is_zero() {
                    exporter.export(&rt, config.timeout.min(left));
                }
                let _ = ack.send(());
                return;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
