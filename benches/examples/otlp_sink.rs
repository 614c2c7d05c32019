//! A live OTLP trace receiver on loopback for `scripts/bench-http`: what
//! the `obs_full` and `peer` servers export their sampled spans to, so an
//! export costs what it costs against a collector that answers (decode
//! included), not a refused connection.
//!
//! `otlp_sink [HTTP_PORT [GRPC_PORT]]` (0 or nothing: a free port each)
//!
//! It serves OTLP/HTTP protobuf (`POST /v1/traces`) and OTLP/gRPC
//! (`TraceService/Export`) on 127.0.0.1, decodes every request and counts
//! its spans. Once both listen it prints one line to stdout,
//! `otlp_sink http=127.0.0.1:PORT grpc=127.0.0.1:PORT`; on SIGTERM or
//! Ctrl-C it prints `otlp_sink received N spans in M requests (K bad)` and
//! exits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::body::Bytes;
use axum::http::StatusCode;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;

/// What arrived, by either transport.
#[derive(Default)]
struct Counts {
    spans: AtomicU64,
    requests: AtomicU64,
    /// HTTP bodies that were not an `ExportTraceServiceRequest`.
    bad: AtomicU64,
}

impl Counts {
    fn add(&self, request: &ExportTraceServiceRequest) {
        let spans: usize = request
            .resource_spans
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .map(|ss| ss.spans.len())
            .sum();
        self.spans.fetch_add(spans as u64, Relaxed);
        self.requests.fetch_add(1, Relaxed);
    }
}

struct Grpc(Arc<Counts>);

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.add(request.get_ref());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// `POST /v1/traces`: the body decoded and counted, an empty
/// `ExportTraceServiceResponse` back (a success without partial failure).
async fn http_export(
    counts: Arc<Counts>,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], Vec<u8>) {
    let status = match ExportTraceServiceRequest::decode(body) {
        Ok(request) => {
            counts.add(&request);
            StatusCode::OK
        }
        Err(_) => {
            counts.bad.fetch_add(1, Relaxed);
            StatusCode::BAD_REQUEST
        }
    };
    let response = ExportTraceServiceResponse {
        partial_success: None,
    };
    (
        status,
        [("content-type", "application/x-protobuf")],
        response.encode_to_vec(),
    )
}

async fn terminated() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = term => {},
    }
}

fn port(arg: Option<String>) -> u16 {
    arg.map_or(0, |p| {
        p.parse().unwrap_or_else(|_| {
            eprintln!("otlp_sink: {p:?} is not a port number");
            std::process::exit(2)
        })
    })
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let http_port = port(args.next());
    let grpc_port = port(args.next());
    let counts = Arc::new(Counts::default());
    // One worker: the sink must take little from the servers it measures.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let http =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], http_port))).await?;
        let grpc =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], grpc_port))).await?;
        println!(
            "otlp_sink http={} grpc={}",
            http.local_addr()?,
            grpc.local_addr()?
        );

        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post({
                let counts = counts.clone();
                move |body: Bytes| http_export(counts.clone(), body)
            }),
        );
        let http_server = tokio::spawn(async move { axum::serve(http, app).await });
        let grpc_server = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(Grpc(counts.clone())))
                .serve_with_incoming(
                    tonic::transport::server::TcpIncoming::from(grpc).with_nodelay(Some(true)),
                ),
        );
        // Not a graceful shutdown: the exporters' keep-alive connections
        // would hold it open. What was received is counted already.
        tokio::select! {
            () = terminated() => {},
            served = http_server => served.map_err(std::io::Error::other)??,
            served = grpc_server => served
                .map_err(std::io::Error::other)?
                .map_err(std::io::Error::other)?,
        }
        println!(
            "otlp_sink received {} spans in {} requests ({} bad)",
            counts.spans.load(Relaxed),
            counts.requests.load(Relaxed),
            counts.bad.load(Relaxed),
        );
        Ok(())
    })
}
