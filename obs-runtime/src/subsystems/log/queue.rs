//! Log I/O off the thread that logs: each finished line goes into a
//! bounded queue that one writer thread drains into the real writer. A full
//! queue (the writer is slower than the program logs, or stalled: a pipe
//! nobody reads, a disk that hangs) drops the line and counts it in
//! `obs_log_lines_dropped_total` instead of holding the request up; the
//! count is the only trace a lost line leaves, so it is exposed like every
//! obs counter. [`LogQueue::flush`] (called by `ObsGuard`) waits for what is
//! queued, within a deadline.

use std::io::{self, Write as _};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
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
    /// Line buffers the writer thread is done with, for the next lines.
    spare: Arc<Spare>,
}

/// At most this many spent line buffers wait to be reused.
const SPARE_BUFFERS: usize = 1024;

/// A spent line buffer larger than this is freed, not kept.
const SPARE_CAPACITY: usize = 4096;

/// Line buffers handed back by the writer thread, so a line costs no
/// allocation on the thread that logs and no free on the writer thread:
/// a buffer freed by another thread than the one that allocated it goes
/// back to its arena under the arena's lock, and the next line's
/// allocation then takes that lock too. The writer hands back a round's
/// buffers under one lock; a logging thread takes one at a time.
#[derive(Default)]
struct Spare(Mutex<Vec<Vec<u8>>>);

impl Spare {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default()
    }

    /// Keeps the buffers in `spent` (emptied) up to the bound; `spent` is
    /// left empty.
    fn give_back(&self, spent: &mut Vec<Vec<u8>>) {
        if spent.is_empty() {
            return;
        }
        let mut spare = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let room = SPARE_BUFFERS.saturating_sub(spare.len());
        spare.extend(spent.drain(..).take(room));
        drop(spare);
        // What found no room is freed here, outside the lock.
        spent.clear();
    }

    /// Keeps one buffer (a line that could not be queued).
    fn give_back_one(&self, buffer: Vec<u8>) {
        let mut one = Vec::with_capacity(1);
        if let Some(buffer) = reusable(buffer) {
            one.push(buffer);
        }
        self.give_back(&mut one);
    }
}

/// `buffer` emptied, unless it is too large to keep.
fn reusable(mut buffer: Vec<u8>) -> Option<Vec<u8>> {
    (buffer.capacity() <= SPARE_CAPACITY).then(|| {
        buffer.clear();
        buffer
    })
}

impl std::fmt::Debug for LogQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogQueue").finish_non_exhaustive()
    }
}

impl LogQueue {
    /// Starts the writer thread for `inner`, holding at most `lines` lines,
    /// written as `writes` says.
    ///
    /// # Errors
    /// When the thread can't start.
    pub(crate) fn start<W>(inner: W, lines: usize, writes: Writes) -> io::Result<Self>
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        // Exists at zero from start-up, like every series.
        dropped_lines();
        let (sender, receiver) = mpsc::sync_channel(lines.max(1));
        let spare = Arc::new(Spare::default());
        let writer_spare = Arc::clone(&spare);
        std::thread::Builder::new()
            .name("obs-log-writer".into())
            .spawn(move || drain(&inner, &receiver, writes, &writer_spare))?;
        Ok(Self { sender, spare })
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

/// How the writer thread hands lines to the real writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writes {
    /// One write per line: for a writer that buffers on its own and acts
    /// between lines (the rotating log file).
    PerLine,
    /// The lines at hand joined into one write of up to
    /// [`COALESCE_BYTES`]: for an unbuffered writer such as stderr, where
    /// each write is a system call.
    Coalesced,
}

/// The most bytes of lines joined into one write.
pub(crate) const COALESCE_BYTES: usize = 64 * 1024;

/// After a round that wrote lines, the writer thread waits this long
/// before it looks again, so a busy program wakes it about a thousand
/// times a second at most instead of once a line (each wake-up a context
/// switch, which on a one-core server preempts the request threads); an
/// idle one it waits for.
const LINGER: Duration = Duration::from_millis(1);

/// The writer thread: writes lines in order, answers flushes, ends when
/// every sender is gone.
fn drain<W>(inner: &W, receiver: &Receiver<Message>, how: Writes, spare: &Spare)
where
    W: for<'w> MakeWriter<'w>,
{
    let mut joined = Joined::default();
    let mut acks = Vec::new();
    let mut spent = Vec::new();
    while let Ok(first) = receiver.recv() {
        let mut next = Some(first);
        loop {
            let mut writer = inner.make_writer();
            let mut wrote = false;
            // What came meanwhile goes to the same writer.
            while let Some(message) = next.take().or_else(|| receiver.try_recv().ok()) {
                match message {
                    Message::Line(line) => {
                        wrote = true;
                        match how {
                            Writes::PerLine => {
                                if writer.write_all(&line).is_err() {
                                    dropped_lines().inc();
                                }
                            }
                            Writes::Coalesced => {
                                joined.push(&line);
                                if joined.bytes.len() >= COALESCE_BYTES {
                                    joined.write_to(&mut writer);
                                }
                            }
                        }
                        if let Some(buffer) = reusable(line) {
                            spent.push(buffer);
                        }
                    }
                    // Answered once the lines before it are written.
                    Message::Flush(ack) => acks.push(ack),
                }
            }
            joined.write_to(&mut writer);
            let _ = writer.flush();
            drop(writer);
            spare.give_back(&mut spent);
            for ack in acks.drain(..) {
                let _ = ack.try_send(());
            }
            if !wrote {
                break;
            }
            std::thread::sleep(LINGER);
        }
    }
}

/// Lines joined for one write, and how many they are.
#[derive(Default)]
struct Joined {
    bytes: Vec<u8>,
    lines: u64,
}

impl Joined {
    fn push(&mut self, line: &[u8]) {
        self.bytes.extend_from_slice(line);
        self.lines += 1;
    }

    /// Writes the joined lines, counting them all as dropped if the write
    /// fails (how much of it got out is not known).
    fn write_to(&mut self, writer: &mut impl io::Write) {
        if self.bytes.is_empty() {
            return;
        }
        if writer.write_all(&self.bytes).is_err() {
            dropped_lines().inc_by(self.lines);
        }
        self.bytes.clear();
        self.lines = 0;
        // A burst's buffer is not kept for the life of the program.
        self.bytes.shrink_to(COALESCE_BYTES * 2);
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
        if self.buffer.capacity() == 0 {
            self.buffer = self.queue.spare.take();
        }
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
            Err(TrySendError::Full(message) | TrySendError::Disconnected(message)) => {
                dropped_lines().inc();
                if let Message::Line(buffer) = message {
                    self.queue.spare.give_back_one(buffer);
                }
            }
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
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    /// Lines into memory, and how many writes brought them.
    #[derive(Clone, Default)]
    struct Memory(Arc<Mutex<Vec<u8>>>, Arc<AtomicUsize>);

    struct MemoryWriter(Arc<Mutex<Vec<u8>>>, Arc<AtomicUsize>);

    impl io::Write for MemoryWriter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            self.1.fetch_add(1, Ordering::Relaxed);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Memory {
        type Writer = MemoryWriter;
        fn make_writer(&'a self) -> MemoryWriter {
            MemoryWriter(Arc::clone(&self.0), Arc::clone(&self.1))
        }
    }

    #[test]
    fn lines_arrive_in_order_and_flush_waits_for_them() {
        let memory = Memory::default();
        let queue = LogQueue::start(memory.clone(), 16, Writes::Coalesced).unwrap();
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

    #[test]
    fn an_unbuffered_writer_gets_lines_joined_and_a_file_one_write_a_line() {
        for (writes, joined) in [(Writes::Coalesced, true), (Writes::PerLine, false)] {
            let memory = Memory::default();
            let queue = LogQueue::start(memory.clone(), 4096, writes).unwrap();
            for i in 0..1_000 {
                let mut w = queue.make_writer();
                writeln!(w, "line {i}").unwrap();
            }
            assert!(queue.flush(Duration::from_secs(30)));
            let bytes = memory.0.lock().unwrap().clone();
            let calls = memory.1.load(Ordering::Relaxed);
            let text = String::from_utf8(bytes).unwrap();
            let mut expected = String::new();
            for i in 0..1_000 {
                use std::fmt::Write as _;
                writeln!(expected, "line {i}").unwrap();
            }
            assert_eq!(text, expected, "every line, whole and in order");
            if joined {
                // Lines that queued while the writer lingered went out
                // together: far fewer writes than lines.
                assert!(calls < 100, "{calls} writes for 1000 lines");
            } else {
                assert_eq!(calls, 1_000);
            }
        }
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
        let queue = LogQueue::start(Stalled(Arc::clone(&released)), 4, Writes::PerLine).unwrap();
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

    #[test]
    fn line_buffers_come_back_for_the_next_lines_and_stay_bounded() {
        let memory = Memory::default();
        let queue = LogQueue::start(memory.clone(), 4096, Writes::Coalesced).unwrap();
        let spare = || queue.spare.0.lock().unwrap().len();
        for i in 0..100 {
            let mut w = queue.make_writer();
            writeln!(w, "line {i}").unwrap();
        }
        assert!(queue.flush(Duration::from_secs(30)));
        // The writer handed them back (all of them: none too large).
        let kept = spare();
        assert_eq!(kept, 100);
        // The next line reuses one.
        let mut w = queue.make_writer();
        writeln!(w, "again").unwrap();
        assert_eq!(spare(), kept - 1);
        drop(w);
        // A huge line's buffer is freed, not kept.
        let mut w = queue.make_writer();
        w.write_all(&vec![b'x'; 2 * SPARE_CAPACITY]).unwrap();
        drop(w);
        assert!(queue.flush(Duration::from_secs(30)));
        assert_eq!(spare(), kept - 1, "only the small line's buffer came back");
        // Never more than the bound, however many lines.
        for i in 0..(2 * SPARE_BUFFERS) {
            let mut w = queue.make_writer();
            writeln!(w, "line {i}").unwrap();
        }
        assert!(queue.flush(Duration::from_secs(30)));
        assert!(spare() <= SPARE_BUFFERS);
        let text = String::from_utf8(memory.0.lock().unwrap().clone()).unwrap();
        assert!(text.ends_with(&format!("line {}\n", 2 * SPARE_BUFFERS - 1)));
        assert!(text.contains("\nagain\n"));
    }
}
