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

/// A fixed set of labels a metric is keyed by; `()` is the empty set.
///
/// Implemented by `#[derive(LabelSet)]` for structs whose fields are
/// [`LabelValue`]s. A set whose fields all have a known cardinality is itself
/// finite: a metric keyed by it is a fixed array indexed by
/// [`ordinal`](LabelSet::ordinal), and every combination exists at zero from
/// registration.
///
/// ```
/// use obs_runtime::LabelSet;
/// assert_eq!(<() as LabelSet>::CARDINALITY, 1);
/// assert!(<() as LabelSet>::NAMES.is_empty());
/// ```
pub trait LabelSet {
    /// The label names, in exposition order.
    const NAMES: &'static [&'static str];

    /// How many combinations of values exist, or 0 when any field is open.
    const CARDINALITY: usize;

    /// The combination's position in `0..CARDINALITY`.
    fn ordinal(&self) -> usize;

    /// The value of label `index` in the combination at `ordinal`.
    fn value_at(ordinal: usize, index: usize) -> &'static str;

    /// The value of label `index` in this combination.
    fn value_of(&self, index: usize) -> &'static str;
}

impl LabelSet for () {
    const NAMES: &'static [&'static str] = &[];
    const CARDINALITY: usize = 1;

    fn ordinal(&self) -> usize {
        0
    }

    fn value_at(_: usize, _: usize) -> &'static str {
        ""
    }

    fn value_of(&self, _: usize) -> &'static str {
        ""
    }
}
