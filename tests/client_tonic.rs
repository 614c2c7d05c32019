//! `ObsClientLayer::for_server` around a tonic `Channel` (whose generated
//! clients send path-only URIs): a gRPC call to the real OTLP
//! receiver (opentelemetry-proto's generated client) is measured as an
//! outbound HTTP call (`POST`, the receiver's address and port, status 200),
//! and a call to a closed port is a `connect` error type, not a panic.

#[path = "otlp/receiver.rs"]
mod receiver;

use std::time::Duration;

use obs_runtime::client::ObsClientLayer;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use tower::Layer as _;

fn line_of(metrics: &str, needle: &[&str]) -> Option<String> {
    metrics
        .lines()
        .find(|l| {
            l.starts_with("http_client_request_duration_seconds_count{")
                && needle.iter().all(|n| l.contains(n))
        })
        .map(str::to_owned)
}

#[test]
fn a_tonic_channel_under_the_layer_is_measured() {
    let receiver = receiver::start();
    let port = receiver.grpc.port().to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://{}", receiver.grpc)).unwrap();
        let server = endpoint.uri().clone();
        let channel = endpoint
            .connect_timeout(Duration::from_secs(5))
            .connect_lazy();
        let mut client = TraceServiceClient::new(ObsClientLayer::for_server(server).layer(channel));
        let answer = client
            .export(ExportTraceServiceRequest::default())
            .await
            .expect("the receiver answers");
        assert!(answer.into_inner().partial_success.is_none());

        // A closed port: tonic's connect error, classified, no panic.
        let closed = receiver::free_port();
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{closed}")).unwrap();
        let server = endpoint.uri().clone();
        let channel = endpoint
            .connect_timeout(Duration::from_secs(5))
            .connect_lazy();
        let mut client = TraceServiceClient::new(ObsClientLayer::for_server(server).layer(channel));
        let status = client
            .export(ExportTraceServiceRequest::default())
            .await
            .expect_err("nothing listens there");
        assert_eq!(status.code(), tonic::Code::Unavailable, "{status}");
        let metrics = obs_runtime::encode_text();
        let refused = line_of(
            &metrics,
            &[
                &format!(r#"server_port="{}""#, closed.port()),
                r#"error_type="connect""#,
            ],
        );
        assert!(refused.is_some_and(|l| l.ends_with(" 1")), "{metrics}");
    });
    let metrics = obs_runtime::encode_text();
    let ok = line_of(
        &metrics,
        &[
            r#"http_request_method="POST""#,
            r#"server_address="127.0.0.1""#,
            &format!(r#"server_port="{port}""#),
            r#"http_response_status_code="200",error_type="""#,
        ],
    );
    assert!(ok.is_some_and(|l| l.ends_with(" 1")), "{metrics}");
    assert!(!metrics.contains("TraceService"), "a gRPC path in a label");
}
