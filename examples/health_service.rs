//! A service with health checks, serving the probe endpoints on loopback.
//!
//! ```text
//! cargo run --release --example health_service -- 127.0.0.1:8089 60
//! curl -i http://127.0.0.1:8089/readyz
//! wrk -t2 -c64 -d20s --latency http://127.0.0.1:8089/readyz
//! ```
//!
//! Arguments: the address to listen on (default `127.0.0.1:8089`) and how
//! many seconds to serve before exiting (default: until interrupted).

use std::net::SocketAddr;
use std::time::Duration;

use obs_runtime::health::{self, CheckError, HealthConfig, Observed};
use obs_runtime::health_check;

/// A dependency that takes a few milliseconds to answer, as a database
/// round trip would.
#[health_check("database", timeout = "2s")]
async fn database() -> Result<(), CheckError> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    Ok(())
}

#[health_check("disk", critical = false)]
async fn disk() -> Result<Observed, CheckError> {
    health::disk_space(std::env::temp_dir(), 95.0)
}

#[health_check("memory", kind = "liveness", critical = false)]
async fn memory() -> Result<Observed, CheckError> {
    health::process_memory(4 << 30)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:8089".to_owned())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let serve_for = args.next().and_then(|s| s.parse::<u64>().ok());

    if let Err(dup) = health::validate() {
        eprintln!("{dup}");
        std::process::exit(2);
    }
    let _ = health::configure(HealthConfig::default().version(env!("CARGO_PKG_VERSION")));
    let app = axum::Router::new().merge(health::axum::router());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("serving /livez /readyz /startupz /healthz on http://{addr}");
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    );
    match serve_for {
        Some(secs) => {
            let _ = tokio::time::timeout(Duration::from_secs(secs), server).await;
            Ok(())
        }
        None => server.await,
    }
}
