//! The `result` label, and how a return value is classified: the
//! autoderef trick picks the most specific of the `Settle*` impls for a
//! value, and of the `Classify*` impls for a type, so a `Result` is
//! recognised by the trait system (through aliases such as `io::Result`)
//! and never by the name the user wrote.

use std::fmt::{Debug, Display};
use std::marker::PhantomData;

use super::guard::CallGuard;

/// How a call ended; the `result` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Outcome {
    /// Returned normally (for a `Result`, an `Ok`).
    Ok = 0,
    /// Returned an `Err`.
    Error = 1,
    /// An async call whose future was dropped before it completed.
    Cancelled = 2,
    /// Panicked.
    Panic = 3,
}

impl Outcome {
    pub(super) const ALL: [Self; 4] = [Self::Ok, Self::Error, Self::Cancelled, Self::Panic];

    /// The `result` label value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
            Self::Panic => "panic",
        }
    }
}

/// Wraps a return value for outcome classification by autoderef: the
/// generated code calls `(&&&&Probe(&value)).settle(&guard)`, and method
/// resolution picks the most specific of the `Settle*` impls below.
#[derive(Debug)]
pub struct Probe<'a, T>(pub &'a T);

/// `Result<T, E>` with `E: Display`: the span gets the error's text.
pub trait SettleDisplay {
    /// Records the outcome on the guard.
    fn settle(&self, guard: &CallGuard);
}

impl<T, E: Display> SettleDisplay for &&&Probe<'_, Result<T, E>> {
    fn settle(&self, guard: &CallGuard) {
        guard.returned_result();
        match self.0 {
            Ok(_) => guard.succeed(),
            Err(e) => guard.fail(Some(e), std::any::type_name::<E>()),
        }
    }
}

/// `Result<T, E>` with `E: Debug` only.
pub trait SettleDebug {
    /// Records the outcome on the guard.
    fn settle(&self, guard: &CallGuard);
}

struct DebugAsDisplay<'a, E>(&'a E);

impl<E: Debug> Display for DebugAsDisplay<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Debug::fmt(self.0, f)
    }
}

impl<T, E: Debug> SettleDebug for &&Probe<'_, Result<T, E>> {
    fn settle(&self, guard: &CallGuard) {
        guard.returned_result();
        match self.0 {
            Ok(_) => guard.succeed(),
            Err(e) => guard.fail(Some(&DebugAsDisplay(e)), std::any::type_name::<E>()),
        }
    }
}

/// `Result<T, E>` with an error that can't be printed.
pub trait SettleResult {
    /// Records the outcome on the guard.
    fn settle(&self, guard: &CallGuard);
}

impl<T, E> SettleResult for &Probe<'_, Result<T, E>> {
    fn settle(&self, guard: &CallGuard) {
        guard.returned_result();
        match self.0 {
            Ok(_) => guard.succeed(),
            Err(_) => guard.fail(None, std::any::type_name::<E>()),
        }
    }
}

/// Anything else (`Option`, `()`, `impl Trait`, a generic `T`): a normal
/// return is `ok`.
pub trait SettleOther {
    /// Records the outcome on the guard.
    fn settle(&self, guard: &CallGuard);
}

impl<T> SettleOther for Probe<'_, T> {
    fn settle(&self, guard: &CallGuard) {
        guard.succeed();
    }
}

/// A return type, for classification by autoderef without a value: the
/// generated code calls `(&&ReturnType::<R>::new()).is_result()` once per
/// call site, and method resolution picks [`ClassifyResult`] for any
/// `Result<T, E>` (`io::Result<()>`, a `type Outcome = Result<u8, E>`) and
/// [`ClassifyOther`] for the rest.
pub struct ReturnType<R: ?Sized>(PhantomData<fn() -> *const R>);

impl<R: ?Sized> ReturnType<R> {
    /// The classifier of `R`.
    #[must_use]
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<R: ?Sized> Default for ReturnType<R> {
    fn default() -> Self {
        Self::new()
    }
}

/// `Result<T, E>`: the function has `error` series from the start.
pub trait ClassifyResult {
    /// Whether the return type is a `Result`.
    fn is_result(&self) -> bool;
}

impl<T, E> ClassifyResult for &ReturnType<Result<T, E>> {
    fn is_result(&self) -> bool {
        true
    }
}

/// Any other return type.
pub trait ClassifyOther {
    /// Whether the return type is a `Result`.
    fn is_result(&self) -> bool;
}

impl<R: ?Sized> ClassifyOther for ReturnType<R> {
    fn is_result(&self) -> bool {
        false
    }
}
