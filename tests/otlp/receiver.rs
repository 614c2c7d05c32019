//! A real OTLP trace receiver for tests: the gRPC `TraceService` generated
//! by `opentelemetry-proto` served by tonic, and the HTTP/protobuf endpoint
//! (`POST /v1/traces`), both on loopback at a free port. Received spans are
//! decoded and kept, with their resource attributes. [`start_tls`] serves
//! both over TLS (rustls), optionally demanding a client certificate.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message as _;

/// One received span, flattened for assertions.
#[derive(Debug, Clone)]
pub struct Received {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    /// 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
    pub kind: i32,
    /// 0 unset, 1 ok, 2 error.
    pub status_code: i32,
    pub status_message: String,
    pub attributes: BTreeMap<String, String>,
    pub events: Vec<(String, BTreeMap<String, String>)>,
    pub resource: BTreeMap<String, String>,
}

fn text(v: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn map(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), text(kv.value.as_ref())))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone, Default)]
pub struct Store(
    Arc<Mutex<Vec<Received>>>,
    Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
);

impl Store {
    fn add(&self, request: &ExportTraceServiceRequest) {
        self.1.lock().unwrap().push(request.clone());
        let mut spans = self.0.lock().unwrap();
        for rs in &request.resource_spans {
            let resource = rs
                .resource
                .as_ref()
                .map(|r| map(&r.attributes))
                .unwrap_or_default();
            for ss in &rs.scope_spans {
                for s in &ss.spans {
                    spans.push(Received {
                        name: s.name.clone(),
                        trace_id: hex(&s.trace_id),
                        span_id: hex(&s.span_id),
                        parent_span_id: hex(&s.parent_span_id),
                        kind: s.kind,
                        status_code: s.status.as_ref().map_or(0, |st| st.code),
                        status_message: s
                            .status
                            .as_ref()
                            .map(|st| st.message.clone())
                            .unwrap_or_default(),
                        attributes: map(&s.attributes),
                        events: s
                            .events
                            .iter()
                            .map(|e| (e.name.clone(), map(&e.attributes)))
                            .collect(),
                        resource: resource.clone(),
                    });
                }
            }
        }
    }

    pub fn spans(&self) -> Vec<Received> {
        self.0.lock().unwrap().clone()
    }

    /// The export requests as received, whole: for checks on everything
    /// that reached the collector, not only the fields `Received` keeps.
    pub fn requests(&self) -> Vec<ExportTraceServiceRequest> {
        self.1.lock().unwrap().clone()
    }

    /// Waits until `pred` holds for the received spans, or the deadline.
    pub fn wait_for(
        &self,
        deadline: Duration,
        pred: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let end = Instant::now() + deadline;
        loop {
            let spans = self.spans();
            if pred(&spans) || Instant::now() >= end {
                return spans;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

struct Service(Store);

#[tonic::async_trait]
impl TraceService for Service {
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

/// A running receiver; it stops with the test process.
pub struct Receiver {
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub store: Store,
}

/// Binds a free loopback port for the gRPC server without starting it.
pub fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The receiver's TLS: its certificate chain and key (PEM), and the CA
/// whose client certificate it demands (mTLS), if any.
#[derive(Clone)]
pub struct ServerTls {
    pub cert: String,
    pub key: String,
    pub client_ca: Option<String>,
}

/// Starts the gRPC server on `grpc` (a free port from [`free_port`]) and the
/// HTTP endpoint on another free port, each on a thread of its own.
pub fn start_on(grpc: SocketAddr) -> Receiver {
    start_with(grpc, None)
}

/// Both endpoints over TLS, on free ports.
pub fn start_tls(tls: &ServerTls) -> Receiver {
    start_with(free_port(), Some(tls))
}

fn start_with(grpc: SocketAddr, tls: Option<&ServerTls>) -> Receiver {
    let store = Store::default();
    let grpc_tls = tls.map(|tls| {
        use tonic::transport::{Certificate, Identity, ServerTlsConfig};
        let config = ServerTlsConfig::new().identity(Identity::from_pem(&tls.cert, &tls.key));
        match &tls.client_ca {
            Some(ca) => config.client_ca_root(Certificate::from_pem(ca)),
            None => config,
        }
    });
    let grpc_store = store.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind(grpc).await.unwrap();
            ready_tx.send(()).unwrap();
            let mut server = tonic::transport::Server::builder();
            if let Some(tls) = grpc_tls {
                server = server.tls_config(tls).unwrap();
            }
            server
                .add_service(TraceServiceServer::new(Service(grpc_store)))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
                .await
                .unwrap();
        });
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("gRPC receiver did not start");

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let http = listener.local_addr().unwrap();
    let http_store = store.clone();
    let http_tls = tls.map(rustls_config);
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let store = http_store.clone();
            let tls = http_tls.clone();
            std::thread::spawn(move || match tls {
                Some(config) => {
                    if let Ok(session) = rustls::ServerConnection::new(config) {
                        serve_http(rustls::StreamOwned::new(session, conn), &store);
                    }
                }
                None => serve_http(conn, &store),
            });
        }
    });
    Receiver { grpc, http, store }
}

pub fn start() -> Receiver {
    start_on(free_port())
}

/// The HTTP side's rustls server: ring, as the runtime; a client
/// certificate demanded when `client_ca` is set.
fn rustls_config(tls: &ServerTls) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match &tls.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                roots.add(cert.unwrap()).unwrap();
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let chain = CertificateDer::pem_slice_iter(tls.cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(tls.key.as_bytes()).unwrap();
    Arc::new(builder.with_single_cert(chain, key).unwrap())
}

/// HTTP/1.1 with keep-alive: `POST /v1/traces` with a protobuf body; over
/// a plain or a TLS stream.
fn serve_http<S: Read + Write>(conn: S, store: &Store) {
    let mut reader = BufReader::new(conn);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let status = if request_line.starts_with("POST /v1/traces ") {
            match ExportTraceServiceRequest::decode(body.as_slice()) {
                Ok(req) => {
                    store.add(&req);
                    "200 OK"
                }
                Err(_) => "400 Bad Request",
            }
        } else {
            "404 Not Found"
        };
        let response = ExportTraceServiceResponse {
            partial_success: None,
        }
        .encode_to_vec();
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\n\r\n",
            response.len()
        );
        let writer = reader.get_mut();
        if writer
            .write_all(head.as_bytes())
            .and_then(|()| writer.write_all(&response))
            .and_then(|()| writer.flush())
            .is_err()
        {
            return;
        }
    }
}
