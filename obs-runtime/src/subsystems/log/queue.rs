//! Log I/O off the thread that logs: each finished line goes into a
//! bounded queue that one writer thread drains into the real writer. A full
//! queue (the writer is slower than the program logs, or stalled: a pipe
//! nobody reads, a disk that hangs) drops the line and counts it in
//! `obs_log_lines_dropped_total` instead of holding the request up; the
//! count is the only trace a lost line leaves, so it is exposed like every
//! obs counter. [`LogQueue::flush`] (called by `ObsGuard`) waits for what is
//! queued, within a deadline.

use std::io::{self, Write as _};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;

use crate::metric_core::metrics::Counter;
use crate::metric_core::registry::own_counter;

/// Lines waiting for the writer thread at most; past that they are dropped
/// and counted. At about 300 bytes a line, 2.4 MB.
pub(crate) const QUEUE_LINES: usize = 8192;

/// How long [`LogQueue::flush`] waits for the queued lines by default.
pub(crate) const FLUSH_DEADLINE: Duration = Duration::from_secs(2);

/// `obs_log_lines_dropped_total`.
pub(crate) fn dropped_lines() -> &'static Counter {
    static DROPPED: OnceLock<&'static Counter> = OnceLock::new();
    own_counter(
        &DROPPED,
        "obs_log_lines_dropped_total",
        "Log lines dropped because the log writer fell behind (its queue was full) or failed.",
    )
}

enum Message {
    Line(Vec<u8>),
    /// Answered once every line queued before it is written.
    Flush(SyncSender<()>),
}

/// The queue `init()` installed, for the panic hook to flush.
static INSTALLED: OnceLock<LogQueue> = OnceLock::new();

/// Waits up to `deadline` for the lines queued so far by the queue
/// `init()` installed, if any.
pub(crate) fn flush_installed(deadline: Duration) {
    if let Some(queue) = INSTALLED.get() {
        queue.flush(deadline);
    }
}

/// The sending side: a [`MakeWriter`] whose writers queue each write (one
/// formatted line) for the writer thread.
#[derive(Clone)]
pub(crate) struct LogQueue {
    /// The writer thread is joined by nobody: it ends when every sender is
    /// gone and the queue is drained.
    sender: SyncSender<Message>,
}

impl std::fmt::Debug for LogQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogQueue").finish_non_exhaustive()
    }
}

impl LogQueue {
    /// Starts the writer thread for `inner`, holding at most `lines` lines.
    ///
    /// # Errors
    /// When the thread can't start.
    pub(crate) fn start<W>(inner: W, lines: usize) -> io::Result<Self>
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        // Exists at zero from start-up, like every series.
        dropped_lines();
        let (sender, receiver) = mpsc::sync_channel(lines.max(1));
        std::thread::Builder::new()
            .name("obs-log-writer".into())
            .spawn(move || drain(&inner, &receiver))?;
        Ok(Self { sender })
    }

    /// Makes this the queue the panic hook flushes (the first one wins:
    /// `init()` installs one pipeline per process).
    pub(crate) fn install(&self) {
        let _ = INSTALLED.set(self.clone());
    }

    /// Waits until every line queued so far is written, or `deadline`
    /// passed; `false` then (the lines stay queued for the writer thread).
    pub(crate) fn flush(&self, deadline: Duration) -> bool {
        let until = Instant::now() + deadline;
        let (ack, done) = mpsc::sync_channel(1);
        // The queue may be full: retry until the deadline rather than block.
        let mut message = Message::Flush(ack);
        loop {
            match self.sender.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(m)) => {
                    if Instant::now() >= until {
                        return false;
                    }
                    message = m;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        let left = until.saturating_duration_since(Instant::now());
        match done.recv_timeout(left) {
            Ok(()) => true,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => false,
        }
    }
}

/// The writer thread: writes lines in order, answers flushes, ends when
/// every sender is gone.
fn drain<W>(inner: &W, receiver: &Receiver<Message>)
where
    W: for<'w> MakeWriter<'w>,
{
    while let Ok(message) = receiver.recv() {
        match message {
            Message::Line(line) => {
                let mut writer = inner.make_writer();
                if writer.write_all(&line).is_err() {
                    dropped_lines().inc();
                }
                // Lines that queued up meanwhile go to the same writer.
                let mut flush_acks = Vec::new();
                while let Ok(next) = receiver.try_recv() {
                    match next {
                        Message::Line(line) => {
                            if writer.write_all(&line).is_err() {
                                dropped_lines().inc();
                            }
                        }
                        Message::Flush(ack) => flush_acks.push(ack),
                    }
                }
                let _ = writer.flush();
                drop(writer);
                for ack in flush_acks {
                    let _ = ack.try_send(());
                }
            }
            Message::Flush(ack) => {
                let _ = inner.make_writer().flush();
                let _ = ack.try_send(());
            }
        }
    }
}

/// One event's writer: what the formatter writes (one line, sometimes a
/// rate-limit notice first) is queued as one message when it is done.
pub(crate) struct QueuedLine<'a> {
    queue: &'a LogQueue,
    buffer: Vec<u8>,
}

impl io::Write for QueuedLine<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for QueuedLine<'_> {
    fn drop(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let line = std::mem::take(&mut self.buffer);
        match self.queue.sender.try_send(Message::Line(line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => dropped_lines().inc(),
        }
    }
}

impl<'a> MakeWriter<'a> for LogQueue {
    type Writer = QueuedLine<'a>;

    fn make_writer(&'a self) -> QueuedLine<'a> {
        QueuedLine {
            queue: self,
            buffer: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    /// Lines into memory.
    #[derive(Clone, Default)]
    struct Memory(Arc<Mutex<Vec<u8>>>);

    struct MemoryWriter(Arc<Mutex<Vec<u8>>>);

    impl io::Write for MemoryWriter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Memory {
        type Writer = MemoryWriter;
        fn make_writer(&'a self) -> MemoryWriter {
            MemoryWriter(Arc::clone(&self.0))
        }
    }

    #[test]
    fn lines_arrive_in_order_and_flush_waits_for_them() {
        let memory = Memory::default();
        let queue = LogQueue::start(memory.clone(), 16).unwrap();
        for i in 0..100 {
            let mut w = queue.make_writer();
            writeln!(w, "line {i}").unwrap();
        }
        // 100 lines through 16 slots: some may have been dropped, but
        // whatever arrived is in order and complete.
        assert!(queue.flush(Duration::from_secs(10)));
        let text = String::from_utf8(memory.0.lock().unwrap().clone()).unwrap();
        let numbers: Vec<u32> = text
            .lines()
            .map(|l| l.strip_prefix("line ").unwrap().parse().unwrap())
            .collect();
        assert!(!numbers.is_empty());
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    }

    /// A writer that blocks until released.
    #[derive(Clone)]
    struct Stalled(Arc<AtomicBool>);

    struct StalledWriter(Arc<AtomicBool>);

    impl io::Write for StalledWriter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            while !self.0.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Stalled {
        type Writer = StalledWriter;
        fn make_writer(&'a self) -> StalledWriter {
            StalledWriter(Arc::clone(&self.0))
        }
    }

    #[test]
    fn a_stalled_writer_drops_and_counts_and_flush_gives_up() {
        let released = Arc::new(AtomicBool::new(false));
        let queue = LogQueue::start(Stalled(Arc::clone(&released)), 4).unwrap();
        let before = dropped_lines().get();
        let started = Instant::now();
        for _ in 0..50 {
            let mut w = queue.make_writer();
            w.write_all(b"x\n").unwrap();
        }
        // Never blocked on the writer: far under the time a blocked write
        // would take (it never returns until released).
        assert!(started.elapsed() < Duration::from_secs(30));
        assert!(dropped_lines().get() >= before + 40);
        assert!(!queue.flush(Duration::from_millis(50)));
        released.store(true, Ordering::Release);
        assert!(queue.flush(Duration::from_secs(30)));
    }
}
