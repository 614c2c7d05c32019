//! Route objectives: what [`ObsLayer::slo`](super::ObsLayer::slo) and
//! [`ObsLayer::default_slo`](super::ObsLayer::default_slo) declare, kept
//! for the life of the program so the catalog (and the rules, dashboards
//! and docs made from it) can read them. They record nothing per request:
//! the SLIs are computed by Prometheus from
//! `http_server_request_duration_seconds`.

use std::sync::{Mutex, PoisonError};

use crate::leaves::schema::{Objective, check_http_objective, check_route_template};

/// Why a route objective was refused: the route isn't a template in the
/// router's syntax, or the objective breaks a rule `slo!` checks at compile
/// time (it was built by hand).
///
/// ```
/// use obs_runtime::http::ObsLayer;
///
/// let refused = ObsLayer::new()
///     .slo("/users/:id", obs_runtime::slo!(success = "99.9%"))
///     .unwrap_err();
/// assert!(refused.to_string().contains("/users/:id"));
/// assert!(refused.to_string().contains("{id}"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteObjectiveError {
    route: String,
    reason: String,
}

impl RouteObjectiveError {
    /// The route as given.
    #[must_use]
    pub fn route(&self) -> &str {
        &self.route
    }
}

impl std::fmt::Display for RouteObjectiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the objective of route {:?} was refused: {}",
            self.route, self.reason
        )
    }
}

impl std::error::Error for RouteObjectiveError {}

/// The declared objectives: per route, and the service-wide default.
struct Declared {
    routes: Vec<(String, Objective)>,
    default: Option<Objective>,
}

static DECLARED: Mutex<Declared> = Mutex::new(Declared {
    routes: Vec::new(),
    default: None,
});

fn declared() -> std::sync::MutexGuard<'static, Declared> {
    // The data stays consistent whatever panicked while holding the lock:
    // every change is one push or assignment.
    DECLARED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records `objective` for `route`, replacing an earlier one of the same
/// route (the latest layer built wins, as a route has one objective).
pub(super) fn declare(route: &str, objective: Objective) -> Result<(), RouteObjectiveError> {
    let refused = |reason: String| RouteObjectiveError {
        route: route.to_owned(),
        reason,
    };
    if let Some(why) = check_route_template(route) {
        return Err(refused(why.to_owned()));
    }
    check_http_objective(&objective).map_err(refused)?;
    let mut declared = declared();
    match declared.routes.iter_mut().find(|(r, _)| r == route) {
        Some((_, o)) => *o = objective,
        None => declared.routes.push((route.to_owned(), objective)),
    }
    Ok(())
}

/// Records the service-wide default.
pub(super) fn declare_default(objective: Objective) -> Result<(), RouteObjectiveError> {
    check_http_objective(&objective).map_err(|reason| RouteObjectiveError {
        route: "(every route)".to_owned(),
        reason,
    })?;
    declared().default = Some(objective);
    Ok(())
}

/// Every route objective declared so far, by route.
pub(crate) fn route_objectives() -> Vec<(String, Objective)> {
    let mut routes = declared().routes.clone();
    routes.sort_by(|a, b| a.0.cmp(&b.0));
    routes
}

/// The service-wide default objective, if declared.
pub(crate) fn default_objective() -> Option<Objective> {
    declared().default
}
