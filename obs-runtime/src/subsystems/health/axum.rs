//! The probe endpoints as an axum `Router` (feature `axum`).
//!
//! Serve it with the peer's address so failure reasons reach allowlisted
//! callers only: `into_make_service_with_connect_info::<SocketAddr>()`.
//! Without it every caller counts as outside the allowlist.
//!
//! ```no_run
//! # async fn serve() -> std::io::Result<()> {
//! use std::net::SocketAddr;
//!
//! let app = axum::Router::new().merge(obs_runtime::health::axum::router());
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::Health;

/// The endpoints of the global [`Health`] (see [`super::configure`]).
///
/// # Panics
/// When two health checks share a name: the message names both, so a
/// misconfigured program stops at start-up.
///
/// ```
/// let app: axum::Router = obs_runtime::health::axum::router();
/// # drop(app);
/// ```
pub fn router() -> Router {
    router_with(Health::global())
}

/// The endpoints of a given [`Health`].
///
/// # Panics
/// When two health checks share a name, as [`router`].
///
/// ```
/// use std::sync::Arc;
/// use obs_runtime::health::{Health, HealthConfig};
///
/// let app = obs_runtime::health::axum::router_with(Arc::new(Health::new(HealthConfig::default())));
/// # drop(app);
/// ```
#[allow(
    clippy::panic,
    reason = "documented under `# Panics` and tested: two checks sharing a name is a mistake in the program, not in its input, and it stops at start-up naming both; `health::validate` returns it as an error, and probes report it as a failing check"
)]
pub fn router_with(health: Arc<Health>) -> Router {
    if let Err(dup) = super::validate() {
        panic!("{dup}");
    }
    // Every probe path, and below the four main ones a single check.
    let singles = super::PROBE_PATHS
        .iter()
        .take(4)
        .map(|p| format!("{p}/{{name}}"));
    super::PROBE_PATHS
        .iter()
        .map(|p| (*p).to_owned())
        .chain(singles)
        .fold(Router::new(), |router, path| {
            router.route(&path, get(handle))
        })
        .with_state(health)
}

async fn handle(State(health): State<Arc<Health>>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let uri = request.uri();
    let Some(answer) = health.respond(uri.path(), uri.query(), peer).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let cache = HeaderValue::from_str(&answer.cache_control)
        .unwrap_or_else(|_| HeaderValue::from_static("no-cache"));
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(super::CONTENT_TYPE),
            ),
            (header::CACHE_CONTROL, cache),
        ],
        answer.body,
    )
        .into_response()
}
