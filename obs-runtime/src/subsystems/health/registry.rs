//! The checks of the program, gathered at link time, and what the macro's
//! generated code hands over: the check's settings and a function that
//! starts one run.

use std::fmt::{self, Display};
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;

use super::{Observed, Probe};

/// Every `#[health_check]` in the program.
#[linkme::distributed_slice]
pub static HEALTH_CHECKS: [RegisteredCheck];

/// One run of a check, boxed so every check has the same type.
pub type CheckFuture = Pin<Box<dyn Future<Output = CheckOutcome> + Send + 'static>>;

/// What a run of a check returned: an observed value, or the reason it
/// failed (its error's `Display`).
#[derive(Debug, Clone)]
pub struct CheckOutcome(pub(crate) Result<Option<Observed>, String>);

/// Boxes the future of a check's run; the generated code calls it.
pub fn boxed_check(run: impl Future<Output = CheckOutcome> + Send + 'static) -> CheckFuture {
    Box::pin(run)
}

/// The return types a health check may have.
#[diagnostic::on_unimplemented(
    message = "a health check returns `Result<(), E>` or `Result<Observed, E>` with `E: Display`, not `{Self}`",
    label = "the runner can't read a pass or a failure from this type",
    note = "return `Ok(())` when the dependency answers and `Err(e)` with the reason when it does not; return `Ok(obs_runtime::health::Observed::new(45.0, \"percent\"))` to report a measured value; the error type must implement `Display`, whose text becomes the failure's `output`"
)]
pub trait CheckReturn {
    /// The outcome the runner records.
    fn into_outcome(self) -> CheckOutcome;
}

impl<E: Display> CheckReturn for Result<(), E> {
    fn into_outcome(self) -> CheckOutcome {
        CheckOutcome(self.map(|()| None).map_err(|e| e.to_string()))
    }
}

impl<E: Display> CheckReturn for Result<Observed, E> {
    fn into_outcome(self) -> CheckOutcome {
        CheckOutcome(self.map(Some).map_err(|e| e.to_string()))
    }
}

/// A health check as the macro registers it.
///
/// ```
/// use obs_runtime::health_check;
///
/// #[health_check("doc_registered", timeout = "250ms", critical = false)]
/// async fn doc_registered() -> Result<(), std::io::Error> {
///     Ok(())
/// }
///
/// let check = obs_runtime::health::registered()
///     .iter()
///     .find(|c| c.name() == "doc_registered")
///     .unwrap();
/// assert_eq!(check.timeout().as_millis(), 250);
/// assert!(!check.critical());
/// assert!(check.location().contains(".rs:"), "file:line:column of the function's name");
/// ```
pub struct RegisteredCheck {
    name: &'static str,
    kind: Probe,
    critical: bool,
    timeout_ms: u64,
    run: fn() -> CheckFuture,
    file: &'static str,
    line: u32,
    column: u32,
    module: &'static str,
}

impl fmt::Debug for RegisteredCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisteredCheck")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("critical", &self.critical)
            .field("timeout_ms", &self.timeout_ms)
            .field("location", &self.location())
            .finish_non_exhaustive()
    }
}

/// The settings of one `#[health_check]`, in the order the macro writes
/// them.
pub struct CheckMeta {
    /// The check's name.
    pub name: &'static str,
    /// The probe that runs it.
    pub kind: Probe,
    /// Whether a failure fails the probe (or only warns).
    pub critical: bool,
    /// The timeout, in milliseconds.
    pub timeout_ms: u64,
    /// Starts one run.
    pub run: fn() -> CheckFuture,
    /// `file!()` at the function's name.
    pub file: &'static str,
    /// `line!()` there.
    pub line: u32,
    /// `column!()` there.
    pub column: u32,
    /// `module_path!()`.
    pub module: &'static str,
}

impl RegisteredCheck {
    /// The generated code's constructor.
    #[doc(hidden)]
    #[must_use]
    pub const fn new(meta: CheckMeta) -> Self {
        Self {
            name: meta.name,
            kind: meta.kind,
            critical: meta.critical,
            timeout_ms: meta.timeout_ms,
            run: meta.run,
            file: meta.file,
            line: meta.line,
            column: meta.column,
            module: meta.module,
        }
    }

    /// The check's name: its key in the report, its URL and its label.
    ///
    /// ```
    /// let names: Vec<&str> = obs_runtime::health::registered().iter().map(|c| c.name()).collect();
    /// # let _ = names;
    /// ```
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The probe that runs it.
    ///
    /// ```
    /// use obs_runtime::health::Probe;
    /// let liveness = obs_runtime::health::registered().iter().filter(|c| c.kind() == Probe::Liveness).count();
    /// # let _ = liveness;
    /// ```
    #[must_use]
    pub fn kind(&self) -> Probe {
        self.kind
    }

    /// Whether a failure fails the probe; a non-critical failure only
    /// warns.
    ///
    /// ```
    /// let optional = obs_runtime::health::registered().iter().filter(|c| !c.critical()).count();
    /// # let _ = optional;
    /// ```
    #[must_use]
    pub fn critical(&self) -> bool {
        self.critical
    }

    /// How long one run may take before it counts as failed.
    ///
    /// ```
    /// for check in obs_runtime::health::registered() {
    ///     assert!(check.timeout().as_secs() <= 60);
    /// }
    /// ```
    #[must_use]
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// Where the check is written: `file:line:column`.
    ///
    /// ```
    /// for check in obs_runtime::health::registered() {
    ///     assert_eq!(check.location().matches(':').count(), 2);
    /// }
    /// ```
    #[must_use]
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }

    /// The module the check is declared in.
    ///
    /// ```
    /// for check in obs_runtime::health::registered() {
    ///     assert!(!check.module().is_empty());
    /// }
    /// ```
    #[must_use]
    pub fn module(&self) -> &'static str {
        self.module
    }

    pub(crate) fn start(&self) -> CheckFuture {
        (self.run)()
    }
}

/// Two checks share a name, so their results, URLs and series would be
/// confused: the program is misconfigured.
///
/// ```
/// // A program whose checks all have distinct names validates.
/// assert!(obs_runtime::health::validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateCheck {
    /// The shared name.
    pub name: &'static str,
    /// Where the first is written (`file:line:column`, module).
    pub first: String,
    /// Where the second is written.
    pub second: String,
}

impl Display for DuplicateCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "two health checks are named `{}`: one at {}, the other at {}; give each check its own name",
            self.name, self.first, self.second
        )
    }
}

impl std::error::Error for DuplicateCheck {}

fn describe(check: &RegisteredCheck) -> String {
    format!("{} (in `{}`)", check.location(), check.module)
}

/// Every registered check, sorted by name, or the first duplicate name.
pub(crate) fn checks() -> Result<&'static [&'static RegisteredCheck], &'static DuplicateCheck> {
    static CHECKED: OnceLock<Result<Vec<&'static RegisteredCheck>, DuplicateCheck>> =
        OnceLock::new();
    let checked = CHECKED.get_or_init(|| {
        let mut all: Vec<&'static RegisteredCheck> = HEALTH_CHECKS.iter().collect();
        // Sorting by location too makes the message's order stable.
        all.sort_by(|a, b| {
            (a.name, a.file, a.line, a.column).cmp(&(b.name, b.file, b.line, b.column))
        });
        let neighbours = all.iter().zip(all.iter().skip(1));
        if let Some((first, second)) = neighbours.into_iter().find(|(a, b)| a.name == b.name) {
            return Err(DuplicateCheck {
                name: first.name,
                first: describe(first),
                second: describe(second),
            });
        }
        Ok(all)
    });
    match checked {
        Ok(all) => Ok(all),
        Err(dup) => Err(dup),
    }
}
