//! Layer 1, the metric core: cells and families (`metrics`), the exposition
//! writers (`encode`, and `openmetrics` beside it), the run-time side of `#[instrumented]` (`callsite`),
//! process metrics, and the registry that gathers them for a scrape. It
//! imports from the leaves only; inside it, `encode` < `metrics` <
//! `callsite` < `process` < `registry` (each may import those before it).

pub(crate) mod callsite;
pub mod encode;
pub mod metrics;
pub(crate) mod openmetrics;
pub mod process;
pub mod registry;
