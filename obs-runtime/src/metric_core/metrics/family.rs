//! Where a metric's series live: a fixed array for label sets of known
//! cardinality, or a capped map for values only known at run time.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::PoisonError;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{SystemTime, UNIX_EPOCH};

use super::cell::{Bounds, CounterCell, GaugeCell, HistogramCell, UpDownCell};
use crate::leaves::labels::{LabelSet, LabelSetKind};
use crate::leaves::schema::{
    MAX_LABEL_VALUE_LEN, MAX_LABELS, MAX_SERIES_PER_METRIC, OVERFLOW_VALUE, truncate_label_value,
};
use crate::leaves::sync::{AtomicU64, RwLock};

static DEFAULT_MAX_SERIES: AtomicUsize = AtomicUsize::new(MAX_SERIES_PER_METRIC);

/// Sets the series limit of dynamic families created from now on (default
/// [`MAX_SERIES_PER_METRIC`]); a metric's own
/// [`with_max_series`](crate::metrics::Counter::with_max_series) wins.
///
/// ```
/// obs_runtime::metrics::set_default_max_series(5_000);
/// # obs_runtime::metrics::set_default_max_series(obs_runtime::schema::MAX_SERIES_PER_METRIC);
/// ```
pub fn set_default_max_series(limit: usize) {
    DEFAULT_MAX_SERIES.store(limit.max(1), Relaxed);
}

pub(crate) fn default_max_series() -> usize {
    DEFAULT_MAX_SERIES.load(Relaxed)
}

/// A cell type and what it needs to be created.
pub(crate) trait NewCell: Send + Sync + Sized + 'static {
    type Layout: Send + Sync;
    fn new_cell(layout: &Self::Layout) -> Self;
}

impl NewCell for CounterCell {
    type Layout = ();
    fn new_cell((): &()) -> Self {
        Self::new()
    }
}

impl NewCell for GaugeCell {
    type Layout = ();
    fn new_cell((): &()) -> Self {
        Self::new()
    }
}

impl NewCell for UpDownCell {
    type Layout = ();
    fn new_cell((): &()) -> Self {
        Self::new()
    }
}

impl NewCell for HistogramCell {
    type Layout = Bounds;
    fn new_cell(bounds: &Bounds) -> Self {
        Self::new(bounds)
    }
}

type Entry<C> = (Box<[Box<str>]>, &'static C);

/// The table's keys are hashes already; hashing them again would cost as
/// much as the lookup itself.
#[derive(Debug, Default, Clone, Copy)]
struct KeyIsHash(u64);

impl Hasher for KeyIsHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Series in the order they were first seen, and an index from the hash of
/// their values to their positions. Insertion order is stable from scrape
/// to scrape without sorting 10,000 keys on every scrape.
#[derive(Debug)]
struct Table<C: 'static> {
    by_hash: HashMap<u64, Vec<u32>, BuildHasherDefault<KeyIsHash>>,
    entries: Vec<Entry<C>>,
}

impl<C> Table<C> {
    fn find(&self, hash: u64, values: &[&str]) -> Option<&'static C> {
        let bucket = self.by_hash.get(&hash)?;
        bucket.iter().find_map(|&i| {
            let (key, cell) = self.entries.get(i as usize)?;
            (key.len() == values.len() && key.iter().zip(values).all(|(a, b)| **a == **b))
                .then_some(*cell)
        })
    }
}

/// The hash of a combination of label values, from a per-family random
/// seed. Eight bytes at a time (a rotate, an xor and a multiply each), then
/// each value's length, so `("ab", "c")` and `("a", "bc")` differ, and a
/// final avalanche (the 64-bit finaliser of `MurmurHash3`) so the low bits the
/// table indexes by depend on every byte. Label values are short: a
/// byte-at-a-time hash (FNV, what `prometheus` uses) cost more than the
/// rest of the lookup. Not a keyed hash: the map is capped, so colliding
/// keys can slow one metric's lookups but never grow its memory.
fn hash_values(seed: u64, values: &[&str]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = seed;
    let mut mix = |word: u64| h = (h.rotate_left(23) ^ word).wrapping_mul(K);
    for v in values {
        let mut chunks = v.as_bytes().chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            mix(u64::from_le_bytes(word));
        }
        // The last 0 to 7 bytes, shifted in: shorter than a copy call.
        let tail = chunks
            .remainder()
            .iter()
            .rev()
            .fold(0u64, |w, b| (w << 8) | u64::from(*b));
        mix(tail);
        mix(v.len() as u64);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Label combinations known only at run time, at most `cap` of them. Past
/// the cap, every new combination lands in one overflow series whose labels
/// all read `__overflow__`, the drop is counted, and a warning naming the
/// metric is logged at most once a minute. The map never grows past the cap.
///
/// The overflow series is also where combinations obs can't keep apart
/// go: values given for the wrong number of labels, and a value equal to
/// the marker itself. Kept, either would write a series the scrape can't
/// tell from another one (a duplicate, or a series without some of the
/// family's labels); refused, they are counted like any other refusal, so
/// every series whose labels read `__overflow__` is the overflow series.
#[derive(Debug)]
pub(crate) struct Dynamic<C: 'static> {
    seed: u64,
    table: RwLock<Table<C>>,
    cap: usize,
    overflow: C,
    overflowed: AtomicU64,
    /// When each [`Refusal`] was last logged, in seconds: one kind of
    /// refusal does not hide another's warning.
    last_warning: [AtomicU64; 3],
}

/// Why a combination went to the overflow series.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refusal {
    /// The family holds `cap` series already.
    Cap,
    /// `with_values` got `got` values for `expected` labels.
    Arity { got: usize, expected: usize },
    /// A value equals [`OVERFLOW_VALUE`].
    Marker,
}

/// The first `n` of `values`, or all of them when there are fewer.
fn first<'a>(values: &'a [&'a str], n: usize) -> &'a [&'a str] {
    values.get(..n).unwrap_or(values)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl<C: NewCell> Dynamic<C> {
    pub(crate) fn new(layout: &C::Layout, cap: usize) -> Self {
        Self {
            seed: RandomState::new().hash_one(0xcbf2_9ce4_8422_2325_u64),
            table: RwLock::new(Table {
                by_hash: HashMap::default(),
                entries: Vec::new(),
            }),
            cap,
            overflow: C::new_cell(layout),
            overflowed: AtomicU64::new(0),
            last_warning: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    pub(crate) fn set_cap(&mut self, cap: usize) {
        self.cap = cap.max(1);
    }

    /// The series of `values` (one per label, in order).
    pub(crate) fn get(&self, metric: &str, layout: &C::Layout, values: &[&str]) -> &C {
        // Values past the length limit are cut (as the encoder cuts them),
        // so a long value and its cut form are one series. Almost never
        // needed: the copy is made only then.
        let cut: [&str; MAX_LABELS];
        let values = if values.len() <= MAX_LABELS
            && values.iter().all(|v| v.len() <= MAX_LABEL_VALUE_LEN)
        {
            values
        } else {
            let mut copy = [""; MAX_LABELS];
            for (slot, v) in copy.iter_mut().zip(values) {
                *slot = truncate_label_value(v);
            }
            cut = copy;
            first(&cut, values.len())
        };
        if values.contains(&OVERFLOW_VALUE) {
            return self.refuse(metric, Refusal::Marker);
        }
        let hash = hash_values(self.seed, values);
        {
            let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(cell) = table.find(hash, values) {
                return cell;
            }
        }
        let mut table = self.table.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(cell) = table.find(hash, values) {
            return cell;
        }
        if table.entries.len() >= self.cap {
            drop(table);
            return self.refuse(metric, Refusal::Cap);
        }
        // Leaked on purpose: a series lives as long as the program, and the
        // cap bounds how many there can be.
        let cell: &'static C = Box::leak(Box::new(C::new_cell(layout)));
        let key: Box<[Box<str>]> = values.iter().map(|v| Box::from(*v)).collect();
        // The cap keeps the index far below `u32::MAX`.
        let index = u32::try_from(table.entries.len()).unwrap_or(u32::MAX);
        table.entries.push((key, cell));
        table.by_hash.entry(hash).or_default().push(index);
        cell
    }

    /// The overflow series, counted, with a warning at most once a minute
    /// for each kind of refusal.
    pub(crate) fn refuse(&self, metric: &str, why: Refusal) -> &C {
        self.overflowed.fetch_add(1, Relaxed);
        let [cap, arity, marker] = &self.last_warning;
        let last_warning = match why {
            Refusal::Cap => cap,
            Refusal::Arity { .. } => arity,
            Refusal::Marker => marker,
        };
        let now = now_secs();
        let last = last_warning.load(Relaxed);
        if now >= last + 60
            && last_warning
                .compare_exchange(last, now, Relaxed, Relaxed)
                .is_ok()
        {
            match why {
                Refusal::Cap => tracing::warn!(
                    metric,
                    limit = self.cap,
                    "metric `{metric}` reached its limit of {} series: new label combinations are counted in its `__overflow__` series (see obs_cardinality_overflow_total)",
                    self.cap
                ),
                Refusal::Arity { got, expected } => tracing::warn!(
                    metric,
                    got,
                    expected,
                    "metric `{metric}` has {expected} labels but `with_values` got {got} values: counted in its `__overflow__` series (see obs_cardinality_overflow_total); pass one value per label, in the order of `LabelSet::NAMES`"
                ),
                Refusal::Marker => tracing::warn!(
                    metric,
                    "metric `{metric}` got the label value `{OVERFLOW_VALUE}`, which marks its overflow series: counted there (see obs_cardinality_overflow_total); map that value to another one"
                ),
            }
        }
        &self.overflow
    }

    /// How many lookups went to the overflow series.
    pub(crate) fn overflowed(&self) -> u64 {
        self.overflowed.load(Relaxed)
    }

    /// How many series the map holds (the overflow series not counted).
    pub(crate) fn len(&self) -> usize {
        self.table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .len()
    }

    /// Every combination with its cell, in the order first seen, then the
    /// overflow series once used.
    pub(crate) fn for_each<'a>(&'a self, labels: usize, mut f: impl FnMut(&[&str], &'a C)) {
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        let mut values: Vec<&str> = Vec::with_capacity(labels);
        for (key, cell) in &table.entries {
            values.clear();
            values.extend(key.iter().map(|v| &**v));
            f(&values, cell);
        }
        drop(table);
        if self.overflowed() > 0 {
            f(&vec![OVERFLOW_VALUE; labels], &self.overflow);
        }
    }

    /// [`for_each`](Self::for_each) with each value paired with its label
    /// name, through one buffer for the whole walk.
    pub(crate) fn for_each_labelled(&self, names: &[&str], mut f: impl FnMut(&[(&str, &str)], &C)) {
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(names.len());
        for (key, cell) in &table.entries {
            pairs.clear();
            pairs.extend(names.iter().copied().zip(key.iter().map(|v| &**v)));
            f(&pairs, cell);
        }
        if self.overflowed() > 0 {
            pairs.clear();
            pairs.extend(names.iter().map(|n| (*n, OVERFLOW_VALUE)));
            f(&pairs, &self.overflow);
        }
    }
}

/// A metric's name, help and series.
#[derive(Debug)]
pub(crate) struct Family<C: NewCell> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) help: Cow<'static, str>,
    pub(crate) label_names: &'static [&'static str],
    pub(crate) layout: C::Layout,
    fixed: Box<[C]>,
    dynamic: Option<Dynamic<C>>,
}

impl<C: NewCell> Family<C> {
    pub(crate) fn new<L: LabelSet>(
        name: Cow<'static, str>,
        help: Cow<'static, str>,
        layout: C::Layout,
    ) -> Self {
        let (fixed, dynamic) = match L::KIND {
            LabelSetKind::Bounded(c) => (
                (0..c.cardinality.max(1))
                    .map(|_| C::new_cell(&layout))
                    .collect(),
                None,
            ),
            LabelSetKind::Open => (
                Box::default(),
                Some(Dynamic::new(&layout, default_max_series())),
            ),
        };
        Self {
            name,
            help,
            label_names: L::NAMES,
            layout,
            fixed,
            dynamic,
        }
    }

    pub(crate) fn set_max_series(&mut self, cap: usize) {
        if let Some(d) = &mut self.dynamic {
            d.set_cap(cap);
        }
    }

    /// The cell of one label combination: an index for fixed sets, a
    /// capped lookup for dynamic ones.
    #[inline]
    pub(crate) fn get<L: LabelSet>(&self, labels: &L) -> &C {
        // `L::KIND` is a constant, so each metric type compiles to one of
        // the two arms: an index for bounded sets, as before the kinds.
        match (L::KIND, &self.dynamic) {
            (LabelSetKind::Bounded(c), None) => self.fixed_at((c.ordinal)(labels)),
            (_, Some(dynamic)) => {
                let mut values = [""; MAX_LABELS];
                let n = L::NAMES.len().min(MAX_LABELS);
                for (i, slot) in values.iter_mut().enumerate().take(n) {
                    *slot = labels.value_of(i);
                }
                dynamic.get(&self.name, &self.layout, first(&values, n))
            }
            (LabelSetKind::Open, None) => self.fixed_at(0),
        }
    }

    /// The cell of label values given as strings (dynamic families only;
    /// fixed families answer with their first series). Too few or too many
    /// values go to the overflow series: cut or padded, they would merge
    /// with another combination or write a series without some labels.
    pub(crate) fn get_by_values(&self, values: &[&str]) -> &C {
        match &self.dynamic {
            Some(dynamic) if values.len() != self.label_names.len() => dynamic.refuse(
                &self.name,
                Refusal::Arity {
                    got: values.len(),
                    expected: self.label_names.len(),
                },
            ),
            Some(dynamic) => dynamic.get(&self.name, &self.layout, values),
            None => self.fixed_at(0),
        }
    }

    /// The fixed series at `index`, clamped to the last one: a hand-written
    /// `LabelSet` may return an ordinal out of range, and the host program
    /// must not panic for it.
    #[inline]
    #[allow(
        clippy::indexing_slicing,
        reason = "called only for families without `dynamic`, to which `new` gives `cardinality.max(1)` fixed series: `len - 1` doesn't wrap and the clamped index is in bounds (one compare, as before)"
    )]
    fn fixed_at(&self, index: usize) -> &C {
        &self.fixed[index.min(self.fixed.len() - 1)]
    }

    /// Every series with its labels, fixed combinations in ordinal order.
    pub(crate) fn for_each<L: LabelSet>(&self, mut f: impl FnMut(&[(&str, &str)], &C)) {
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(self.label_names.len());
        if let LabelSetKind::Bounded(c) = L::KIND {
            for (ordinal, cell) in self.fixed.iter().enumerate() {
                pairs.clear();
                pairs.extend(
                    self.label_names
                        .iter()
                        .enumerate()
                        .map(|(i, n)| (*n, (c.value_at)(ordinal, i))),
                );
                f(&pairs, cell);
            }
        }
        if let Some(dynamic) = &self.dynamic {
            dynamic.for_each_labelled(self.label_names, f);
        }
    }

    /// Drops into the overflow series, for dynamic families.
    pub(crate) fn overflowed(&self) -> Option<u64> {
        self.dynamic.as_ref().map(Dynamic::overflowed)
    }

    /// Series held, the overflow series not counted.
    pub(crate) fn series(&self) -> usize {
        self.fixed.len() + self.dynamic.as_ref().map_or(0, Dynamic::len)
    }
}
