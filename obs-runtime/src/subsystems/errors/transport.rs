//! The bounded transport: envelopes wait in a queue of [`CAPACITY`] for one
//! worker thread that posts them with a per-request deadline. A full queue,
//! a refused connection, a timeout or a non-2xx answer is a counted drop in
//! `obs_errors_dropped_total`; the thread that reported the error never
//! waits for the network.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sentry::Envelope;
use sentry::types::Dsn;

use crate::metric_core::metrics::Counter;
use crate::metric_core::registry::own_counter;

/// Envelopes that may wait for the worker.
pub(crate) const CAPACITY: usize = 32;

/// `obs_errors_dropped_total`.
pub(crate) fn dropped() -> &'static Counter {
    static DROPPED: OnceLock<&'static Counter> = OnceLock::new();
    own_counter(
        &DROPPED,
        "obs_errors_dropped_total",
        "Error events that never reached the error tracker: queue full, endpoint down, slow or refusing.",
    )
}

std::thread_local! {
    /// Set on the worker thread: what it logs (the HTTP client's own
    /// records) never becomes an event or a breadcrumb.
    static ON_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the current thread is the transport's worker.
pub(crate) fn on_worker() -> bool {
    ON_WORKER.with(std::cell::Cell::get)
}

/// Envelopes accepted and not yet answered (or dropped).
#[derive(Default)]
struct Pending {
    count: Mutex<usize>,
    done: Condvar,
}

impl Pending {
    fn add(&self) {
        if let Ok(mut n) = self.count.lock() {
            *n += 1;
        }
    }

    fn finish(&self) {
        if let Ok(mut n) = self.count.lock() {
            *n = n.saturating_sub(1);
        }
        self.done.notify_all();
    }

    /// Waits until nothing is pending or `timeout` passed; true when empty.
    fn wait_empty(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let Ok(mut n) = self.count.lock() else {
            return false;
        };
        while *n > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match self.done.wait_timeout(n, left) {
                Ok((guard, _)) => n = guard,
                Err(_) => return false,
            }
        }
        true
    }
}

/// The transport handed to the sentry client.
pub(crate) struct Bounded {
    queue: SyncSender<Vec<u8>>,
    pending: Arc<Pending>,
}

impl Bounded {
    /// Starts the worker posting to `dsn`'s envelope endpoint, each request
    /// bounded by `timeout`.
    pub(crate) fn start(dsn: &Dsn, timeout: Duration) -> std::io::Result<Self> {
        dropped(); // the counter exists at zero from start-up
        let (queue, rx) = sync_channel::<Vec<u8>>(CAPACITY);
        let pending = Arc::new(Pending::default());
        let url = dsn.envelope_api_url().to_string();
        let auth = dsn
            .to_auth(Some(concat!("obs-runtime/", env!("CARGO_PKG_VERSION"))))
            .to_string();
        let worker_pending = Arc::clone(&pending);
        std::thread::Builder::new()
            .name("obs-errors".into())
            .spawn(move || work(&rx, &url, &auth, timeout, &worker_pending))?;
        Ok(Self { queue, pending })
    }
}

fn work(rx: &Receiver<Vec<u8>>, url: &str, auth: &str, timeout: Duration, pending: &Pending) {
    ON_WORKER.with(|w| w.set(true));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    while let Ok(body) = rx.recv() {
        // Compressed on this thread, never the reporting one; a body that
        // can't be compressed goes as it is.
        let (body, encoding) = match gzip(&body) {
            Ok(compressed) => (compressed, "gzip"),
            Err(_) => (body, "identity"),
        };
        let sent = agent
            .post(url)
            .header("X-Sentry-Auth", auth)
            .header("Content-Type", "application/x-sentry-envelope")
            .header("Content-Encoding", encoding)
            .send(&body[..]);
        match sent {
            Ok(response) if response.status().is_success() => {}
            _ => dropped().inc(),
        }
        pending.finish();
    }
}

fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 2),
        flate2::Compression::fast(),
    );
    encoder.write_all(body)?;
    encoder.finish()
}

impl sentry::Transport for Bounded {
    fn send_envelope(&self, envelope: Envelope) {
        let mut body = Vec::new();
        if envelope.to_writer(&mut body).is_err() {
            dropped().inc();
            return;
        }
        self.pending.add();
        match self.queue.try_send(body) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                dropped().inc();
                self.pending.finish();
            }
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.pending.wait_empty(timeout)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        self.flush(timeout)
    }
}
