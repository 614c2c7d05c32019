//! The hello-world axum service of the HTTP benchmark: `GET /` answers
//! "Hello, world!". `scripts/bench-http` starts it twice, without and with
//! obs's HTTP layer, and drives each with `wrk` on loopback.
//!
//! `hello_server <port> [plain|obs]`
//!
//! TODO(ObsLayer): the tower/axum `ObsLayer` does not exist yet (it is its
//! own issue). When it lands, wrap the router in [`with_obs_layer`] and the
//! `obs` mode measures it; until then `obs` refuses to start, so the script
//! can't report a figure that isn't one.

use axum::Router;
use axum::routing::get;

async fn hello() -> &'static str {
    "Hello, world!"
}

fn router() -> Router {
    Router::new().route("/", get(hello))
}

/// The router with obs's HTTP layer: the hook for `ObsLayer`.
fn with_obs_layer(router: Router) -> Option<Router> {
    // TODO(ObsLayer): `Some(router.layer(obs_runtime::http::ObsLayer::new()))`
    let _ = router;
    None
}

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let mode = args.next().unwrap_or_else(|| "plain".to_owned());
    let app = match mode.as_str() {
        "plain" => router(),
        "obs" => match with_obs_layer(router()) {
            Some(app) => app,
            None => {
                eprintln!("ObsLayer does not exist yet: nothing to measure in `obs` mode");
                std::process::exit(2);
            }
        },
        other => {
            eprintln!("unknown mode {other:?}: use `plain` or `obs`");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind 127.0.0.1");
        axum::serve(listener, app).await.expect("serve");
    });
}
