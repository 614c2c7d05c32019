//! Exemplars: the last observation of a bucket (or counter) made inside a
//! **sampled** span, kept with that span's trace and span ids so a latency
//! spike on a dashboard links to the trace of a slow request. Written in
//! `OpenMetrics` only (the 0.0.4 text format has no place for them).
//!
//! The metric core knows nothing of OpenTelemetry: the trace subsystem
//! installs a [`source`](set_source) that answers "which sampled span is
//! current?". Until it does, asking costs one atomic load. A slot is
//! allocated the first time a series records an exemplar, so series that
//! never see a sampled span keep their size; writing one is a sequence lock
//! over plain atomics, lossy under contention (a writer that finds another
//! mid-write leaves it the slot: the last exemplar is a sample, not a log).

use std::num::NonZeroU64;
use std::sync::OnceLock;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::fence;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::leaves::sync::AtomicU64;
use crate::metric_core::encode::Exemplar;

/// The ids of a sampled span: a W3C trace id (128 bits) and span id (64
/// bits, never zero for a valid span).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceIds {
    pub(crate) trace_hi: u64,
    pub(crate) trace_lo: u64,
    pub(crate) span: NonZeroU64,
}

impl TraceIds {
    /// The trace id as 32 lowercase hex digits, the span id as 16: the
    /// spelling of W3C `traceparent` and of every trace backend.
    pub(crate) fn hex(&self) -> (String, String) {
        (
            format!("{:016x}{:016x}", self.trace_hi, self.trace_lo),
            format!("{:016x}", self.span.get()),
        )
    }
}

static SOURCE: OnceLock<fn() -> Option<TraceIds>> = OnceLock::new();

/// Installs the function that names the current sampled span (the trace
/// subsystem's, once its pipeline is up). The first one stays.
#[cfg_attr(
    not(feature = "otlp"),
    allow(dead_code, reason = "only the OTLP pipeline knows sampled spans")
)]
pub(crate) fn set_source(source: fn() -> Option<TraceIds>) {
    let _ = SOURCE.set(source);
}

/// The current span's ids when it is sampled; `None` (after one atomic
/// load) while no tracing pipeline is installed.
#[inline]
pub(crate) fn sampled() -> Option<TraceIds> {
    SOURCE.get().and_then(|source| source())
}

/// One kept exemplar, as read at scrape time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Recorded {
    pub(crate) ids: TraceIds,
    pub(crate) value: f64,
    /// Seconds since the Unix epoch, to the millisecond.
    pub(crate) timestamp: f64,
}

/// Hands `recorded` (one per bucket, or one for a counter) to `write` as
/// the encoder's [`Exemplar`]s, labelled `trace_id` and `span_id`.
pub(crate) fn written<R>(
    recorded: &[Option<Recorded>],
    write: impl FnOnce(&[Option<Exemplar<'_>>]) -> R,
) -> R {
    let ids: Vec<Option<(String, String)>> = recorded
        .iter()
        .map(|r| r.as_ref().map(|r| r.ids.hex()))
        .collect();
    let labels: Vec<Option<[(&str, &str); 2]>> = ids
        .iter()
        .map(|ids| {
            ids.as_ref()
                .map(|(trace, span)| [("trace_id", trace.as_str()), ("span_id", span.as_str())])
        })
        .collect();
    let exemplars: Vec<Option<Exemplar<'_>>> = recorded
        .iter()
        .zip(&labels)
        .map(|(r, labels)| {
            Some(Exemplar {
                labels: labels.as_ref()?,
                value: r.as_ref()?.value,
                timestamp: Some(r.as_ref()?.timestamp),
            })
        })
        .collect();
    write(&exemplars)
}

/// One exemplar under a sequence lock: `seq` is odd while a writer is
/// inside, and 0 until the first write.
#[derive(Debug)]
struct Slot {
    seq: AtomicU64,
    trace_hi: AtomicU64,
    trace_lo: AtomicU64,
    span: AtomicU64,
    value: AtomicU64,
    millis: AtomicU64,
}

impl Slot {
    fn new() -> Self {
        Self {
            seq: AtomicU64::new(0),
            trace_hi: AtomicU64::new(0),
            trace_lo: AtomicU64::new(0),
            span: AtomicU64::new(0),
            value: AtomicU64::new(0),
            millis: AtomicU64::new(0),
        }
    }

    fn write(&self, ids: TraceIds, value: f64, millis: u64) {
        let seq = self.seq.load(Relaxed);
        if seq % 2 == 1
            || self
                .seq
                .compare_exchange(seq, seq.wrapping_add(1), Relaxed, Relaxed)
                .is_err()
        {
            // Another writer is inside: its exemplar is as good as ours.
            return;
        }
        // The odd sequence is visible before any field changes.
        fence(Release);
        self.trace_hi.store(ids.trace_hi, Relaxed);
        self.trace_lo.store(ids.trace_lo, Relaxed);
        self.span.store(ids.span.get(), Relaxed);
        self.value.store(value.to_bits(), Relaxed);
        self.millis.store(millis, Relaxed);
        self.seq.store(seq.wrapping_add(2), Release);
    }

    fn read(&self) -> Option<Recorded> {
        // A few tries: a reader only meets a writer mid-write when both
        // touch the same slot in the same few nanoseconds.
        for _ in 0..4 {
            let before = self.seq.load(Acquire);
            if before == 0 {
                return None;
            }
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let trace_hi = self.trace_hi.load(Relaxed);
            let trace_lo = self.trace_lo.load(Relaxed);
            let span = self.span.load(Relaxed);
            let value = f64::from_bits(self.value.load(Relaxed));
            let millis = self.millis.load(Relaxed);
            // The field loads complete before the sequence is read again.
            fence(Acquire);
            if self.seq.load(Relaxed) == before {
                #[allow(clippy::cast_precision_loss)]
                let timestamp = millis as f64 / 1000.0;
                return Some(Recorded {
                    ids: TraceIds {
                        trace_hi,
                        trace_lo,
                        span: NonZeroU64::new(span)?,
                    },
                    value,
                    timestamp,
                });
            }
        }
        None
    }
}

/// The exemplars of one series: one slot per bucket (one for a counter),
/// allocated on the first exemplar.
#[derive(Debug, Default)]
pub(crate) struct Exemplars(OnceLock<Box<[Slot]>>);

impl Exemplars {
    pub(crate) const fn new() -> Self {
        Self(OnceLock::new())
    }

    /// Keeps `value` as the exemplar of slot `index` of `len`. Out of line:
    /// only calls made inside a sampled span come here.
    #[cold]
    #[inline(never)]
    pub(crate) fn record(&self, len: usize, index: usize, ids: TraceIds, value: f64) {
        let slots = self
            .0
            .get_or_init(|| (0..len).map(|_| Slot::new()).collect());
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        if let Some(slot) = slots.get(index) {
            slot.write(ids, value, millis);
        }
    }

    /// Whether any exemplar was ever kept: a scrape of a series without one
    /// asks nothing more.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        self.0.get().is_some()
    }

    /// The exemplar of slot `index`, if one was kept.
    pub(crate) fn get(&self, index: usize) -> Option<Recorded> {
        self.0.get()?.get(index)?.read()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u64) -> TraceIds {
        TraceIds {
            trace_hi: n,
            trace_lo: !n,
            span: NonZeroU64::new(n + 1).unwrap(),
        }
    }

    #[test]
    fn a_slot_keeps_the_last_exemplar_and_nothing_before_the_first() {
        let e = Exemplars::new();
        assert!(!e.any());
        assert_eq!(e.get(0), None);
        e.record(3, 1, ids(7), 0.25);
        e.record(3, 1, ids(9), 0.5);
        assert!(e.any());
        assert_eq!(e.get(0), None, "only the bucket that was hit");
        let got = e.get(1).unwrap();
        assert_eq!(got.ids, ids(9));
        assert!((got.value - 0.5).abs() < f64::EPSILON);
        assert!(got.timestamp > 1.7e9, "{}", got.timestamp);
        // An index past the slots is ignored, not a panic.
        e.record(3, 5, ids(1), 1.0);
        assert_eq!(e.get(5), None);
    }

    #[test]
    fn ids_are_written_as_w3c_hex() {
        let (trace, span) = TraceIds {
            trace_hi: 0x4bf9_2f35_77b3_4da6,
            trace_lo: 0xa3ce_929d_0e0e_4736,
            span: NonZeroU64::new(0x00f0_67aa_0ba9_02b7).unwrap(),
        }
        .hex();
        assert_eq!(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(span, "00f067aa0ba902b7");
    }

    #[test]
    fn readers_never_see_a_torn_exemplar() {
        let e = std::sync::Arc::new(Exemplars::new());
        e.record(1, 0, ids(1), 1.0);
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let e = std::sync::Arc::clone(&e);
                std::thread::spawn(move || {
                    for i in 0..20_000u64 {
                        let n = i * 2 + w;
                        #[allow(clippy::cast_precision_loss)]
                        e.record(1, 0, ids(n), n as f64);
                    }
                })
            })
            .collect();
        let mut seen = 0;
        while seen < 20_000 {
            if let Some(r) = e.get(0) {
                // Every field of one write, never a mix of two.
                assert_eq!(r.ids.trace_lo, !r.ids.trace_hi);
                assert_eq!(r.ids.span.get(), r.ids.trace_hi + 1);
                #[allow(clippy::cast_precision_loss)]
                let expected = r.ids.trace_hi as f64;
                assert!((r.value - expected).abs() < f64::EPSILON, "{r:?}");
            }
            seen += 1;
        }
        for w in writers {
            w.join().unwrap();
        }
    }
}
