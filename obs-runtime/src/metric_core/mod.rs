//! Layer 1, the metric core: cells and families (`metrics`), the exposition
//! writer (`encode`), the run-time side of `#[instrumented]` (`callsite`),
//! process metrics, and the registry that gathers them for a scrape. It
//! imports from the leaves only; inside it, `encode` < `metrics` <
//! `callsite` < `process` < `registry` (each may import those before it).

pub(crate) mod callsite;
pub mod encode;
pub mod metrics;
pub mod process;
pub mod registry;
