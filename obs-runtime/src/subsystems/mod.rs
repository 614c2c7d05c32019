//! Layer 2, the subsystems: health probes, the HTTP layer, traces, logs and
//! `init()`. They import from the leaves and the metric core; between
//! themselves, `trace` < `log` < `health` < `http` < `init` (each may import
//! those before it, never one after it).

pub mod health;
#[cfg(feature = "tower")]
pub mod http;
pub(crate) mod init;
pub mod log;
#[cfg(feature = "otlp")]
pub mod trace;
