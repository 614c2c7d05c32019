//! Bounded label values and label sets.
//!
//! A label value must come from a set that is small and known in advance, or
//! every distinct value becomes a series and the metric's memory and query
//! cost grow without bound. [`LabelValue`] marks the types that qualify:
//! `bool`, `&'static str` (literals compiled into the program) and field-less
//! enums. `String` and borrowed `&str` do not implement it, on purpose.

/// A type whose values may be used as a metric label value.
///
/// Types with a finite, compile-time known set of values report it through
/// [`CARDINALITY`](LabelValue::CARDINALITY) and [`ordinal`](LabelValue::ordinal),
/// which lets a metric keep one cell per value in a fixed array.
///
/// ```
/// use obs_runtime::LabelValue;
///
/// assert_eq!(true.label_value(), "true");
/// assert_eq!(<bool as LabelValue>::CARDINALITY, 2);
/// assert_eq!("eu-west".label_value(), "eu-west");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be a metric label value: its values are unbounded",
    label = "each distinct value here would create a new time series",
    note = "label values must come from a small, fixed set: use a field-less enum with `#[derive(LabelValue)]`, a `bool` or a `&'static str` literal",
    note = "to keep the value itself, record it on the span instead: in `#[instrumented]`, list the argument in `fields(..)`; elsewhere, a `tracing` field"
)]
pub trait LabelValue {
    /// How many distinct values the type has, or 0 when the set is open
    /// (such as `&'static str`) and only known at run time.
    const CARDINALITY: usize;

    /// The value as it appears in the exposition.
    fn label_value(&self) -> &'static str;

    /// The value's position in `0..CARDINALITY`; 0 for open sets.
    fn ordinal(&self) -> usize;

    /// The value at a position in `0..CARDINALITY`, used to create every
    /// series at zero; `None` past the end and for open sets.
    fn value_at(ordinal: usize) -> Option<&'static str>;
}

impl LabelValue for bool {
    const CARDINALITY: usize = 2;

    fn label_value(&self) -> &'static str {
        if *self { "true" } else { "false" }
    }

    fn ordinal(&self) -> usize {
        usize::from(*self)
    }

    fn value_at(ordinal: usize) -> Option<&'static str> {
        match ordinal {
            0 => Some("false"),
            1 => Some("true"),
            _ => None,
        }
    }
}

impl LabelValue for &'static str {
    const CARDINALITY: usize = 0;

    fn label_value(&self) -> &'static str {
        self
    }

    fn ordinal(&self) -> usize {
        0
    }

    fn value_at(_: usize) -> Option<&'static str> {
        None
    }
}

impl<T: LabelValue> LabelValue for &T {
    const CARDINALITY: usize = T::CARDINALITY;

    fn label_value(&self) -> &'static str {
        (**self).label_value()
    }

    fn ordinal(&self) -> usize {
        (**self).ordinal()
    }

    fn value_at(ordinal: usize) -> Option<&'static str> {
        T::value_at(ordinal)
    }
}

/// The labels a metric is keyed by: their names, and each one's value in
/// a combination. `()` is the empty set.
///
/// A set is one of two kinds ([`LabelSetKind`]), which decides how a metric
/// keeps its series:
/// - **bounded**: every value comes from a small fixed set (enums, `bool`),
///   so the combinations are known and numbered; a metric keyed by it is a
///   fixed array indexed by [`Combinations::ordinal`], with every series
///   present at zero from registration;
/// - **open**: some value is only known at run time (a `&'static str`
///   from configuration, a route template); a metric keyed by it keeps a
///   capped map and folds the combinations past its limit into one
///   overflow series.
///
/// Implemented by `#[derive(LabelSet)]` for structs whose fields are
/// [`LabelValue`]s, which picks the kind from the fields.
///
/// ```
/// use obs_runtime::{LabelSet, LabelSetKind};
/// assert_eq!(<() as LabelSet>::KIND.cardinality(), Some(1));
/// assert!(<() as LabelSet>::NAMES.is_empty());
/// ```
///
/// By hand, a bounded set numbers its combinations:
///
/// ```
/// use obs_runtime::{Combinations, LabelSet, LabelSetKind};
///
/// #[derive(Clone, Copy)]
/// enum Tier { Free, Paid }
///
/// impl LabelSet for Tier {
///     const NAMES: &'static [&'static str] = &["tier"];
///     const KIND: LabelSetKind<Self> = LabelSetKind::Bounded(Combinations {
///         cardinality: 2,
///         ordinal: |tier| *tier as usize,
///         value_at: |ordinal, _| if ordinal == 0 { "free" } else { "paid" },
///     });
///     fn value_of(&self, _: usize) -> &'static str {
///         match self { Tier::Free => "free", Tier::Paid => "paid" }
///     }
/// }
///
/// assert_eq!(Tier::KIND.cardinality(), Some(2));
/// ```
pub trait LabelSet {
    /// The label names, in exposition order.
    const NAMES: &'static [&'static str];

    /// Bounded (numbered combinations) or open (values known at run time).
    const KIND: LabelSetKind<Self>;

    /// The value of label `index` in this combination.
    fn value_of(&self, index: usize) -> &'static str;
}

/// The two kinds of [`LabelSet`], by which a metric picks its storage.
pub enum LabelSetKind<L: ?Sized> {
    /// A fixed number of combinations, each with its index.
    Bounded(Combinations<L>),
    /// Values known only at run time: a capped map.
    Open,
}

/// The numbered combinations of a bounded [`LabelSet`].
pub struct Combinations<L: ?Sized> {
    /// How many combinations exist.
    pub cardinality: usize,
    /// A combination's position in `0..cardinality`: the hot path's index.
    pub ordinal: fn(&L) -> usize,
    /// The value of label `index` (second argument) in the combination at
    /// a position (first argument), used to write every series at zero.
    pub value_at: fn(usize, usize) -> &'static str,
}

impl<L: ?Sized> LabelSetKind<L> {
    /// The number of combinations of a bounded set; `None` for an open one.
    #[must_use]
    pub const fn cardinality(&self) -> Option<usize> {
        match self {
            Self::Bounded(c) => Some(c.cardinality),
            Self::Open => None,
        }
    }

    /// The position of `labels` among the combinations of a bounded set;
    /// `None` for an open one.
    pub fn ordinal(&self, labels: &L) -> Option<usize> {
        match self {
            Self::Bounded(c) => Some((c.ordinal)(labels)),
            Self::Open => None,
        }
    }

    /// The value of label `index` in the combination at `ordinal` of a
    /// bounded set; `None` for an open one.
    #[must_use]
    pub fn value_at(&self, ordinal: usize, index: usize) -> Option<&'static str> {
        match self {
            Self::Bounded(c) => Some((c.value_at)(ordinal, index)),
            Self::Open => None,
        }
    }
}

// Not derived: a derive would require `L: Clone`, and the fields are
// copyable whatever `L` is.
impl<L: ?Sized> Clone for Combinations<L> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<L: ?Sized> Copy for Combinations<L> {}
impl<L: ?Sized> Clone for LabelSetKind<L> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<L: ?Sized> Copy for LabelSetKind<L> {}

impl<L: ?Sized> std::fmt::Debug for LabelSetKind<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bounded(c) => f
                .debug_struct("Bounded")
                .field("cardinality", &c.cardinality)
                .finish_non_exhaustive(),
            Self::Open => f.write_str("Open"),
        }
    }
}

impl LabelSet for () {
    const NAMES: &'static [&'static str] = &[];
    const KIND: LabelSetKind<Self> = LabelSetKind::Bounded(Combinations {
        cardinality: 1,
        ordinal: |()| 0,
        value_at: |_, _| "",
    });

    fn value_of(&self, _: usize) -> &'static str {
        ""
    }
}
