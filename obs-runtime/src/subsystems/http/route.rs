//! A request's route template, and the per-service cache of the series
//! handles its requests record into.

use std::sync::OnceLock;

use http::Request;

use super::metrics::{METHODS, STATUS_SLOTS, method_at, metrics};
use crate::metric_core::metrics::HistogramHandle;
use crate::metric_core::metrics::cell::UpDownCell;

pub use crate::leaves::schema::UNMATCHED_ROUTE;

/// The route template of a request, for services that don't route with
/// axum: put it in the request's extensions before [`ObsLayer`](super::ObsLayer) sees it
/// (axum's `MatchedPath` is read directly with the `axum` feature).
///
/// ```
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(obs_runtime::http::RouteTemplate("/orders/{id}"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteTemplate(pub &'static str);

#[derive(Clone, Copy)]
/// The series handles a finished request records into.
pub(super) struct Finished {
    pub(super) duration: HistogramHandle<'static>,
    pub(super) request_size: HistogramHandle<'static>,
    pub(super) response_size: HistogramHandle<'static>,
}

impl Finished {
    pub(super) fn lookup(labels: &[&str; 4]) -> Self {
        let m = metrics();
        Self {
            duration: m.duration.with_values(labels),
            request_size: m.request_size.with_values(labels),
            response_size: m.response_size.with_values(labels),
        }
    }
}

/// Series handles resolved once per service. Axum wraps every route in its
/// own service, so one service nearly always sees one route: its
/// (method, status) series are then found without hashing label values on
/// each request. A service that sees another route (a fallback, a plain
/// tower stack) looks up as usual.
pub(super) struct SeriesCache {
    pub(super) route: OnceLock<Box<str>>,
    pub(super) active: [OnceLock<&'static UpDownCell>; METHODS.len()],
    pub(super) finished: [[OnceLock<(u16, Finished)>; STATUS_SLOTS]; METHODS.len()],
}

impl SeriesCache {
    pub(super) const fn new() -> Self {
        Self {
            route: OnceLock::new(),
            active: [const { OnceLock::new() }; METHODS.len()],
            finished: [const { [const { OnceLock::new() }; STATUS_SLOTS] }; METHODS.len()],
        }
    }

    /// A cache for a new service. They live in one static table, so a
    /// request in flight refers to its cache without a reference count (a
    /// shared count would be two contended atomic operations per
    /// request); services past the table's size share slots, and a slot
    /// another route claimed first only means plain lookups.
    pub(super) fn next() -> &'static Self {
        const SLOTS: usize = 64;
        static CACHES: [SeriesCache; SLOTS] = [const { SeriesCache::new() }; SLOTS];
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let [first, ..] = &CACHES;
        let next = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        CACHES.get(next % SLOTS).unwrap_or(first)
    }
}

impl std::fmt::Debug for SeriesCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesCache")
            .field("route", &self.route.get())
            .finish_non_exhaustive()
    }
}

impl SeriesCache {
    /// This cache's copy of `route` if the cache serves it (the first
    /// route seen claims it).
    pub(super) fn serves(&'static self, route: &str) -> Option<&'static str> {
        let own: &'static str = self.route.get_or_init(|| route.into());
        (own == route).then_some(own)
    }

    pub(super) fn active(&self, method: usize, route: &Route) -> &'static UpDownCell {
        let lookup = || {
            metrics()
                .active
                .with_values(&[method_at(method), route.as_str()])
        };
        // A method slot past the table (none is: `method_label` numbers
        // the table's rows) is looked up each time, like an uncached route.
        match (route, self.active.get(method)) {
            (Route::Cached(_), Some(slot)) => slot.get_or_init(lookup),
            _ => lookup(),
        }
    }

    pub(super) fn finished(
        &self,
        method: usize,
        route: &Route,
        status: u16,
        labels: &[&str; 4],
    ) -> Finished {
        if let (Route::Cached(_), Some(slots)) = (route, self.finished.get(method)) {
            for slot in slots {
                let (code, handles) = slot.get_or_init(|| (status, Finished::lookup(labels)));
                if *code == status {
                    return *handles;
                }
            }
        }
        Finished::lookup(labels)
    }
}

/// A request's route template, kept without copying it.
#[derive(Clone)]
pub(super) enum Route {
    /// The route of the service's [`SeriesCache`], in the cache's copy:
    /// its series are found in the cache.
    Cached(&'static str),
    Static(&'static str),
    #[cfg(feature = "axum")]
    Matched(axum::extract::MatchedPath),
}

impl Route {
    pub(super) fn as_str(&self) -> &str {
        match self {
            Self::Cached(s) | Self::Static(s) => s,
            #[cfg(feature = "axum")]
            Self::Matched(m) => m.as_str(),
        }
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The request's route; the cache's own copy when `cache` serves it, so
/// the request neither touches the router's shared reference count nor
/// compares the route again when it ends.
pub(super) fn route_of<B>(req: &Request<B>, cache: &'static SeriesCache) -> Route {
    #[cfg(feature = "axum")]
    if let Some(path) = req.extensions().get::<axum::extract::MatchedPath>() {
        return match cache.serves(path.as_str()) {
            Some(own) => Route::Cached(own),
            // An `Arc` inside: cloning it copies no text.
            None => Route::Matched(path.clone()),
        };
    }
    let route = req
        .extensions()
        .get::<RouteTemplate>()
        .map_or(UNMATCHED_ROUTE, |r| r.0);
    cache
        .serves(route)
        .map_or(Route::Static(route), Route::Cached)
}
