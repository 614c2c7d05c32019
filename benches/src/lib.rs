//! Helpers shared by the benchmarks in `benches/`; run them with
//! `cargo bench -p benches` (see `BENCHMARKS.md` at the repository root).
//!
//! The benchmarks measure time with criterion; what criterion can't see
//! (bytes written, allocations, memory per series) they count with
//! [`CountingAlloc`] and write with [`record`] next to criterion's own
//! output, where `scripts/bench-summary` finds it.

pub mod http;
pub mod peer;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// A global allocator that counts what goes through it while
/// [`count`](CountingAlloc::count) runs; install it in a benchmark with
/// `#[global_allocator]`. Outside `count` an allocation costs one relaxed
/// load more than the system allocator's, so criterion's timings of the
/// same binary aren't inflated by the counting.
///
/// ```
/// use benches::CountingAlloc;
/// static A: CountingAlloc = CountingAlloc::new();
/// let ((), spent) = A.count(|| ());
/// assert_eq!(spent.allocations, 0);
/// ```
#[derive(Debug)]
pub struct CountingAlloc {
    armed: AtomicBool,
    allocations: AtomicU64,
    allocated: AtomicU64,
    freed: AtomicU64,
}

/// What a [`CountingAlloc`] had counted at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocCount {
    /// Calls to `alloc` (a `realloc` counts as one).
    pub allocations: u64,
    /// Bytes requested.
    pub allocated: u64,
    /// Bytes released.
    pub freed: u64,
}

impl AllocCount {
    /// What happened between `before` and `self`.
    #[must_use]
    pub fn since(self, before: Self) -> Self {
        Self {
            allocations: self.allocations - before.allocations,
            allocated: self.allocated - before.allocated,
            freed: self.freed - before.freed,
        }
    }

    /// Bytes still held: allocated minus freed.
    #[must_use]
    pub fn live(self) -> i128 {
        i128::from(self.allocated) - i128::from(self.freed)
    }
}

impl CountingAlloc {
    /// A counter at zero.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            armed: AtomicBool::new(false),
            allocations: AtomicU64::new(0),
            allocated: AtomicU64::new(0),
            freed: AtomicU64::new(0),
        }
    }

    /// Runs `f` and returns what was allocated and freed meanwhile (by
    /// every thread).
    pub fn count<R>(&self, f: impl FnOnce() -> R) -> (R, AllocCount) {
        self.armed.store(true, Relaxed);
        let before = self.snapshot();
        let r = f();
        let spent = self.snapshot().since(before);
        self.armed.store(false, Relaxed);
        (r, spent)
    }

    fn snapshot(&self) -> AllocCount {
        AllocCount {
            allocations: self.allocations.load(Relaxed),
            allocated: self.allocated.load(Relaxed),
            freed: self.freed.load(Relaxed),
        }
    }
}

impl Default for CountingAlloc {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.armed.load(Relaxed) {
            self.allocations.fetch_add(1, Relaxed);
            self.allocated.fetch_add(layout.size() as u64, Relaxed);
        }
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if self.armed.load(Relaxed) {
            self.freed.fetch_add(layout.size() as u64, Relaxed);
        }
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if self.armed.load(Relaxed) {
            self.allocations.fetch_add(1, Relaxed);
            self.allocated.fetch_add(new_size as u64, Relaxed);
            self.freed.fetch_add(layout.size() as u64, Relaxed);
        }
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Where figures that criterion doesn't measure are written:
/// `$CARGO_TARGET_DIR/criterion/obs-extra` (or `target/` of the workspace).
#[must_use]
pub fn extra_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("criterion").join("obs-extra")
}

/// Writes `rows` (`name`, `value`, `unit`) to `<extra_dir>/<file>.tsv` and
/// prints them, so the summary script and a reader both see them.
///
/// ```no_run
/// benches::record("memory", &[("counter_series".into(), 8.0, "bytes")]);
/// ```
pub fn record(file: &str, rows: &[(String, f64, &str)]) {
    let mut text = String::new();
    for (name, value, unit) in rows {
        println!("{file}: {name} = {value} {unit}");
        text.push_str(&format!("{name}\t{value}\t{unit}\n"));
    }
    let dir = extra_dir();
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(format!("{file}.tsv")), text);
    }
}

/// The 11 bucket bounds (in seconds) every histogram of the comparisons
/// uses: `prometheus`'s default list, so each library does the same work.
pub const BUCKETS_11: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
