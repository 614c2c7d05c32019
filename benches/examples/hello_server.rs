//! The hello-world axum service of the HTTP benchmark: `GET /` answers
//! "Hello, world!". `scripts/bench-http` starts it twice, without and with
//! obs's HTTP layer, and drives each with `wrk` on loopback.
//!
//! `hello_server <port> [plain|obs|obs_logged]`
//!
//! - `plain`: the route alone;
//! - `noop_layer`: under a layer that does nothing, which is what axum
//!   charges for any layer added with `Router::layer`;
//! - `obs`: under `ObsLayer`, no subscriber installed (metrics and request
//!   ids; spans and the access-log event are disabled, as with `RUST_LOG`
//!   filtering them out);
//! - `obs_logged`: under `ObsLayer` with `obs_runtime::init()`'s pipeline,
//!   one JSON access-log line per request written to a sink, spans created
//!   but not exported.

use axum::Router;
use benches::http::router;

/// The router with obs's HTTP layer.
fn with_obs_layer(router: Router) -> Router {
    router.layer(obs_runtime::http::ObsLayer::new())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let mode = args.next().unwrap_or_else(|| "plain".to_owned());
    let app = match mode.as_str() {
        "plain" => router(),
        "noop_layer" => benches::http::with_noop_layer(router()),
        "obs" => with_obs_layer(router()),
        "obs_logged" => {
            let guard = obs_runtime::Builder::from_env()
                .log_format(obs_runtime::log::LogFormat::Json)
                .log_writer(std::io::sink)
                .span_export(obs_runtime::trace::SpanExport::None)
                .init();
            // Kept for the life of the process.
            std::mem::forget(guard);
            with_obs_layer(router())
        }
        other => {
            eprintln!("unknown mode {other:?}: use `plain`, `noop_layer`, `obs` or `obs_logged`");
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
