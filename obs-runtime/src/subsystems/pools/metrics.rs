//! The pool families: the wait-time histogram the timed gets record into,
//! and a collector that reads every registered pool when the registry is
//! scraped (no task polls the pools in between).

use std::sync::OnceLock;

use crate::LabelSet;
use crate::leaves::schema;
use crate::metric_core::encode::{Collect, Description, Kind, Sink};
use crate::metric_core::metrics::Histogram;
use crate::metric_core::registry::{self, register_or_unexposed};

use super::registry as pools;
use super::snapshot::PoolSnapshot;

/// `db_client_connection_count{pool_name, state}`.
pub(super) const COUNT: &str = "db_client_connection_count";
/// `db_client_connection_max{pool_name}`.
pub(super) const MAX: &str = "db_client_connection_max";
/// `db_client_connection_pending_requests{pool_name}`.
pub(super) const PENDING: &str = "db_client_connection_pending_requests";
/// `db_client_connection_wait_time_seconds{pool_name}`.
pub(super) const WAIT: &str = "db_client_connection_wait_time_seconds";
/// `redis_connected{pool_name}`.
pub(super) const REDIS_CONNECTED: &str = "redis_connected";

const COUNT_HELP: &str =
    "Connections open in the pool, by state: idle (nobody holds it) or used (handed out).";
const MAX_HELP: &str = "The most connections the pool may open.";
const PENDING_HELP: &str = "Requests waiting for a connection from the pool now.";
const WAIT_HELP: &str = "Time it took to obtain a connection from the pool (timed gets; a get that failed or was cancelled counts the time it waited).";
const REDIS_HELP: &str =
    "1 if the last get or PING on this Redis pool reached the server, 0 if it failed to.";

/// The label of the wait-time histogram: one value per registered pool,
/// at most [`pools::MAX_POOLS`] of them.
#[derive(LabelSet)]
#[label(crate = "crate")]
pub(super) struct PoolLabels {
    pool_name: &'static str,
}

/// The pool families, registered once for the program.
pub(super) struct Families {
    pub(super) wait: &'static Histogram<PoolLabels>,
}

/// The families, registered with the registry on first use.
pub(super) fn families() -> &'static Families {
    static FAMILIES: OnceLock<Families> = OnceLock::new();
    FAMILIES.get_or_init(|| {
        register_or_unexposed(
            "pool metric",
            || ScrapeTime,
            |c| registry::global().register_owned(c, None),
        );
        Families {
            wait: register_or_unexposed(
                "pool metric",
                || Histogram::<PoolLabels>::unchecked(WAIT.into(), WAIT_HELP.into(), schema::DB),
                Histogram::register_own,
            ),
        }
    })
}

/// Reads the registered pools at scrape time.
struct ScrapeTime;

/// The families `ScrapeTime` writes, in order, with their kind, help and
/// labels.
const SCRAPED: [(&str, &str, &[&str]); 4] = [
    (COUNT, COUNT_HELP, &["pool_name", "state"]),
    (MAX, MAX_HELP, &["pool_name"]),
    (PENDING, PENDING_HELP, &["pool_name"]),
    (REDIS_CONNECTED, REDIS_HELP, &["pool_name"]),
];

#[allow(clippy::cast_precision_loss)] // connection counts are far below 2^53
fn gauge(n: u64) -> f64 {
    n as f64
}

impl Collect for ScrapeTime {
    fn names(&self) -> Vec<String> {
        SCRAPED.iter().map(|(n, ..)| (*n).to_owned()).collect()
    }

    fn describe(&self) -> Vec<Description> {
        SCRAPED
            .iter()
            .map(|(name, help, labels)| Description {
                name: (*name).to_owned(),
                kind: Kind::Gauge,
                help: (*help).to_owned(),
                labels: labels.iter().map(|l| (*l).to_owned()).collect(),
                values: None,
                buckets: Vec::new(),
            })
            .collect()
    }

    fn collect(&self, sink: &mut dyn Sink) {
        // Each pool read once per scrape, outside the registry's lock.
        let read: Vec<(std::sync::Arc<pools::Entry>, PoolSnapshot)> = pools::all()
            .into_iter()
            .filter_map(|e| {
                let snapshot = e.read();
                if snapshot.is_none() {
                    tracing::warn!(target: "obs::pools", pool = %e.name, "reading the pool's status panicked; left out of this scrape");
                }
                Some((e, snapshot?))
            })
            .collect();
        if !read.is_empty() {
            sink.family(COUNT, COUNT_HELP, Kind::Gauge);
            for (e, s) in &read {
                sink.gauge(
                    COUNT,
                    &[("pool_name", &e.name), ("state", "idle")],
                    gauge(s.idle),
                );
                sink.gauge(
                    COUNT,
                    &[("pool_name", &e.name), ("state", "used")],
                    gauge(s.used),
                );
            }
            sink.family(MAX, MAX_HELP, Kind::Gauge);
            for (e, s) in &read {
                sink.gauge(MAX, &[("pool_name", &e.name)], gauge(s.max));
            }
            sink.family(PENDING, PENDING_HELP, Kind::Gauge);
            for (e, s) in &read {
                sink.gauge(PENDING, &[("pool_name", &e.name)], gauge(s.pending));
            }
        }
        let connected: Vec<(&str, f64)> = read
            .iter()
            .filter(|(e, _)| e.redis)
            .filter_map(|(e, _)| Some((&*e.name, e.connected()?)))
            .collect();
        if !connected.is_empty() {
            sink.family(REDIS_CONNECTED, REDIS_HELP, Kind::Gauge);
            for (name, up) in connected {
                sink.gauge(REDIS_CONNECTED, &[("pool_name", name)], up);
            }
        }
    }
}
