//! Everything the program declares, gathered at link time: every
//! `#[instrumented]` function with its metric families and objective, and
//! every health check. The one model that alert rules, their tests (and,
//! next, dashboards and docs) are generated from, so they can't drift from
//! the code.
//!
//! ```
//! #[obs_runtime::instrumented(metric = "doc_catalog_pay", slo(success = "99.9%"))]
//! fn pay() -> Result<(), String> { Ok(()) }
//!
//! let catalog = obs_runtime::catalog();
//! let pay = catalog.functions().iter().find(|f| f.function == "pay").unwrap();
//! assert_eq!(pay.base, "doc_catalog_pay");
//! assert_eq!(pay.objective.unwrap().success_ppm, Some(999_000));
//! ```

use std::time::Duration;

use crate::leaves::schema::{Objective, Probe};
use crate::metric_core::callsite;
use crate::subsystems::health;

/// An `#[instrumented]` function.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FunctionInfo {
    /// The metric base: `<base>_calls_total`, `<base>_duration_seconds`.
    pub base: &'static str,
    /// The `function` label.
    pub function: &'static str,
    /// The `module` label.
    pub module: &'static str,
    /// Labels with literal values.
    pub labels: Vec<(&'static str, &'static str)>,
    /// Labels whose values come from arguments.
    pub arg_labels: Vec<&'static str>,
    /// Histogram bounds, in seconds.
    pub buckets: &'static [f64],
    /// Whether `<base>_in_flight` is kept.
    pub in_flight: bool,
    /// The objective from `slo(..)`.
    pub objective: Option<Objective>,
}

impl FunctionInfo {
    /// `<base>_calls_total`.
    #[must_use]
    pub fn calls_metric(&self) -> String {
        format!("{}_calls_total", self.base)
    }

    /// `<base>_duration_seconds`.
    #[must_use]
    pub fn duration_metric(&self) -> String {
        format!("{}_duration_seconds", self.base)
    }

    /// A name for the function's objective and alerts, unique in the
    /// program: `<base>:<function>` when the base is shared, else the base.
    #[must_use]
    pub fn slo_name(&self) -> String {
        if self.base == self.function {
            self.base.to_owned()
        } else {
            format!("{}_{}", self.base, self.function)
        }
    }
}

/// A health check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckInfo {
    /// Its name, the `check` label.
    pub name: &'static str,
    /// The probe that runs it.
    pub kind: Probe,
    /// How long a run may take.
    pub timeout: Duration,
    /// Whether a failure fails the probe (else it warns).
    pub critical: bool,
}

/// What the program declares.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    functions: Vec<FunctionInfo>,
    checks: Vec<CheckInfo>,
}

impl Catalog {
    /// Every `#[instrumented]` function, by base name, then module, then
    /// function.
    #[must_use]
    pub fn functions(&self) -> &[FunctionInfo] {
        &self.functions
    }

    /// The functions that declare an objective.
    pub fn objectives(&self) -> impl Iterator<Item = (&FunctionInfo, Objective)> {
        self.functions
            .iter()
            .filter_map(|f| f.objective.map(|o| (f, o)))
    }

    /// Every health check, by name.
    #[must_use]
    pub fn checks(&self) -> &[CheckInfo] {
        &self.checks
    }

    /// The distinct metric bases of the functions, sorted.
    #[must_use]
    pub fn bases(&self) -> Vec<&'static str> {
        let mut bases: Vec<&'static str> = self.functions.iter().map(|f| f.base).collect();
        bases.dedup();
        bases
    }
}

/// The catalog of this program; see the module documentation.
#[must_use]
pub fn catalog() -> Catalog {
    let mut functions: Vec<FunctionInfo> = callsite::all()
        .iter()
        .map(|site| {
            let meta = site.meta();
            FunctionInfo {
                base: meta.base,
                function: meta.function,
                module: meta.module,
                labels: meta.labels.to_vec(),
                arg_labels: site.arg_label_names().collect(),
                buckets: meta.buckets,
                in_flight: meta.in_flight,
                objective: meta.objective,
            }
        })
        .collect();
    functions.sort_by(|a, b| (a.base, a.module, a.function).cmp(&(b.base, b.module, b.function)));
    let mut checks: Vec<CheckInfo> = health::registered()
        .iter()
        .map(|c| CheckInfo {
            name: c.name(),
            kind: c.kind(),
            timeout: c.timeout(),
            critical: c.critical(),
        })
        .collect();
    checks.sort_by_key(|c| c.name);
    Catalog { functions, checks }
}
