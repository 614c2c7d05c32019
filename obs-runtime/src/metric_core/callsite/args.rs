//! Labels whose values come from the function's arguments.

use crate::leaves::labels::LabelValue;

/// A label whose value comes from an argument.
#[derive(Debug, Clone, Copy)]
pub struct ArgLabel {
    pub(super) name: &'static str,
    pub(super) cardinality: usize,
    pub(super) value_at: fn(usize) -> Option<&'static str>,
}

impl ArgLabel {
    pub(super) fn name(&self) -> &'static str {
        self.name
    }
}

/// An argument label, typed by the argument. The generated code holds one
/// in a `const` per label; only [`TypedLabel::new`] requires `LabelValue`,
/// so an unbounded type (`String`) gives exactly one error, at the type.
pub struct TypedLabel<T: ?Sized> {
    meta: ArgLabel,
    read: fn(&T) -> (usize, &'static str),
}

fn read_label<T: LabelValue + ?Sized>(value: &T) -> (usize, &'static str) {
    (value.ordinal(), value.label_value())
}

impl<T: ?Sized> TypedLabel<T> {
    /// Label `name`, taken from an argument of type `T`.
    #[must_use]
    pub const fn new(name: &'static str) -> Self
    where
        T: LabelValue,
    {
        Self {
            meta: ArgLabel {
                name,
                cardinality: T::CARDINALITY,
                value_at: T::value_at,
            },
            read: read_label::<T>,
        }
    }

    /// The untyped description, for the call site's `static`.
    #[must_use]
    pub const fn meta(&self) -> ArgLabel {
        self.meta
    }

    /// The argument's ordinal and rendered value.
    #[inline]
    pub fn read(&self, value: &T) -> (usize, &'static str) {
        (self.read)(value)
    }
}
