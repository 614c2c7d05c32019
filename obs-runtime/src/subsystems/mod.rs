//! Layer 2, the subsystems: health probes, the HTTP layer, traces, logs,
//! `init()`, the catalog and the exports made from it, pushes to a
//! Pushgateway, outbound HTTP calls (`client`, beside `init`: it imports
//! `http` for the method and request-id rules). They import from the leaves and the metric core; between
//! themselves, `trace` < `log` < `health` < `http` < `init` < `catalog` <
//! `export` (each may import those before it, never one after it); `push`
//! imports none of them; `pools` imports `health` (the Redis check's hook),
//! `jobs` imports `trace` and `log`; `errors` (beside `health`) imports
//! `trace` and `log`, and `http` and `init` import it; `otlp_metrics`
//! (beside `log`) imports `trace` (its OTLP settings readers, TLS and
//! resource) and `init` starts it.

pub(crate) mod catalog;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
#[cfg(feature = "sentry")]
#[cfg_attr(docsrs, doc(cfg(feature = "sentry")))]
pub mod errors;
pub mod export;
pub mod health;
pub mod host;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod http;
pub(crate) mod init;
pub mod jobs;
pub mod log;
// Built without `otlp` too: `init` reads `OTEL_METRICS_EXPORTER` through it,
// so a build that can't push says so. Pushes only with the feature.
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub mod otlp_metrics;
pub mod pools;
pub mod push;
// Built without `otlp` too: `init` reads the `OTEL_*` environment (and the
// resource `obs_build_info` is named from) through it. Public only with it.
#[cfg_attr(not(feature = "otlp"), allow(unreachable_pub))]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub mod trace;
