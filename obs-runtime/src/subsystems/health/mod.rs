//! Health checks and the Kubernetes probes that run them.
//!
//! A check is an `async fn` marked [`#[health_check]`](crate::health_check);
//! it registers itself at link time, so every probe knows every check from
//! start-up. A probe ([`report`]) runs its checks concurrently, each in its
//! own task under its own timeout; a check that panics or times out is a
//! failure, never a crash or a hang. Results are cached for a TTL (1 s by
//! default) with single flight: however many probes arrive inside the TTL,
//! each check runs at most once.
//!
//! | probe | endpoint | runs the checks of kind | on failure Kubernetes… |
//! |---|---|---|---|
//! | [`Probe::Liveness`] | `/livez`, `/health/live` | `liveness` only (never dependencies unless marked so) | restarts the pod |
//! | [`Probe::Readiness`] | `/readyz`, `/health/ready` | `readiness` (the default kind) | stops routing traffic to it |
//! | [`Probe::Startup`] | `/startupz`, `/health/startup` | `startup` | holds the other probes back |
//! | all | `/healthz`, `/health` | every kind | (for people and dashboards) |
//!
//! The overall status follows the IETF draft "Health Check Response Format
//! for HTTP APIs": `pass`, `warn` (only non-critical checks failed) or
//! `fail`; HTTP 200 for `pass` and `warn`, 503 for `fail`.
//!
//! ```standalone_crate
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use obs_runtime::health::{self, Observed, Probe};
//! use obs_runtime::health_check;
//!
//! #[health_check("doc_disk", timeout = "250ms")]
//! async fn doc_disk() -> Result<Observed, std::io::Error> {
//!     Ok(Observed::new(45.0, "percent"))
//! }
//!
//! let report = health::report(Probe::Readiness).await;
//! assert_eq!(report.http_status(), 200);
//! let json = report.to_json();
//! assert!(json.contains(r#""doc_disk":{"status":"pass","kind":"readiness""#));
//! assert!(json.contains(r#""observed_value":45,"observed_unit":"percent""#));
//! # }
//! ```
//!
//! # Metrics
//! Every run sets `health_check_status{check,kind}` (1 pass, 0.5 warn — a
//! non-critical check failed —, 0 fail) and observes
//! `health_check_duration_seconds{check}` (timeouts included).
//!
//! Both are there for every registered check from the first scrape, before
//! any probe: that scrape starts one run of each check that has not run
//! yet, on the checks' own runtime and through the global [`Health`]'s
//! cache (a probe arriving meanwhile joins the run rather than starting
//! another). Until the run ends, within the check's timeout, the status
//! reads 0 — a check has not passed until it has, as Kubernetes holds a pod
//! unready until its first readiness probe passes. So
//! `absent(health_check_status{check="database"})` fires only when the
//! check is gone (or the target is down), never because no probe has come
//! yet; give a failure alert a `for:` longer than the longest timeout.
//!
//! # State
//! A check takes no arguments: the runner has nothing to give it. Reach
//! shared state, such as a connection pool, through a `static` the program
//! fills in `main` (a `OnceLock<Pool>`); until it is filled the check
//! reports its absence as a failure, which is what readiness should say.

mod builtin;
pub(crate) use builtin::{FsStat, fs_stat};
mod config;
mod endpoint;
#[cfg(feature = "health-http")]
mod http_get;
mod metrics;
mod registry;
mod report;
mod runner;
// Loom models of the single-flight slot (`scripts/loom`).
#[cfg(all(test, obs_loom))]
mod loom_runner;
mod service;
mod types;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;

use crate::leaves::labels::LabelValue;

#[cfg(feature = "redis")]
pub(crate) use builtin::REDIS_PING_HOOK;
pub use builtin::{CheckError, disk_space, process_memory};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use builtin::{deadpool_postgres, postgres};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use builtin::{deadpool_redis, redis};
pub use config::{HealthConfig, ShowReasons};
pub use endpoint::{CONTENT_TYPE, HealthResponse};
#[cfg(feature = "health-http")]
#[cfg_attr(docsrs, doc(cfg(feature = "health-http")))]
pub use http_get::{DEFAULT_MAX_BODY_BYTES, HttpGet, http_get};
pub use registry::{DuplicateCheck, RegisteredCheck};
pub use report::{CheckReport, HealthReport, REASON_WITHHELD};
pub(crate) use service::Selection;
pub use service::{Health, configure, registered, report, report_all, validate};
pub use types::{Observed, PROBE_PATHS, Status};

pub(crate) mod private {
    pub use super::registry::{
        CheckFuture, CheckMeta, CheckOutcome, CheckReturn, HEALTH_CHECKS, RegisteredCheck,
        boxed_check,
    };
}

pub use crate::leaves::schema::Probe;

impl LabelValue for Probe {
    const CARDINALITY: usize = 3;

    fn label_value(&self) -> &'static str {
        self.as_str()
    }

    fn ordinal(&self) -> usize {
        *self as usize
    }

    fn value_at(ordinal: usize) -> Option<&'static str> {
        [Self::Readiness, Self::Liveness, Self::Startup]
            .get(ordinal)
            .map(|p| p.as_str())
    }
}
