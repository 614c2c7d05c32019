//! How an export request reaches the collector: tonic's client for gRPC
//! (the generated `MetricsService` client of opentelemetry-proto), and
//! opentelemetry-http's hyper client for HTTP/protobuf, over rustls for an
//! `https://` endpoint with the `otlp-tls` feature (`trace::tls`, the same
//! trust rules as spans). Built and used on the export thread, inside its
//! tokio runtime.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use prost::Message as _;

use crate::subsystems::trace::tls::{self, TlsFiles};

use super::MetricExport;

/// The connection to the collector.
pub(crate) enum Transport {
    Grpc {
        client: MetricsServiceClient<tonic::transport::Channel>,
        headers: tonic::metadata::MetadataMap,
    },
    Http {
        client: Box<dyn opentelemetry_http::HttpClient>,
        url: String,
        headers: http::HeaderMap,
    },
}

/// What an export that reached the collector says: how many points it
/// refused (`partial_success`), and why.
pub(crate) struct Rejected {
    pub(crate) points: u64,
    pub(crate) why: String,
}

impl Transport {
    /// Builds the transport for `export`; runs inside the export thread's
    /// runtime. The error is the reason every export is then dropped.
    pub(crate) fn new(
        export: &MetricExport,
        headers: &[(String, String)],
        tls: &TlsFiles,
        timeout: Duration,
    ) -> Result<Self, String> {
        match export {
            MetricExport::None => Err("no metrics export configured".to_owned()),
            MetricExport::OtlpGrpc { endpoint } => grpc(endpoint, headers, tls, timeout),
            MetricExport::OtlpHttp { url } => http_transport(url, headers, tls, timeout),
        }
    }

    /// Sends one request, within `timeout`.
    pub(crate) async fn send(
        &mut self,
        request: ExportMetricsServiceRequest,
        timeout: Duration,
    ) -> Result<Option<Rejected>, String> {
        let response = match self {
            Self::Grpc { client, headers } => {
                let mut request = tonic::Request::new(request);
                *request.metadata_mut() = headers.clone();
                request.set_timeout(timeout);
                let call = client.export(request);
                match tokio::time::timeout(timeout, call).await {
                    Ok(Ok(response)) => response.into_inner(),
                    Ok(Err(status)) => return Err(format!("gRPC export failed: {status}")),
                    Err(_) => return Err("export timed out".to_owned()),
                }
            }
            Self::Http {
                client,
                url,
                headers,
            } => {
                let body = bytes::Bytes::from(request.encode_to_vec());
                let mut builder = http::Request::builder()
                    .method(http::Method::POST)
                    .uri(url.as_str())
                    .header(http::header::CONTENT_TYPE, "application/x-protobuf");
                if let Some(h) = builder.headers_mut() {
                    h.extend(headers.clone());
                }
                let request = builder
                    .body(body)
                    .map_err(|e| format!("HTTP request not built: {e}"))?;
                let response = match tokio::time::timeout(timeout, client.send_bytes(request)).await
                {
                    Ok(Ok(response)) => response,
                    Ok(Err(e)) => return Err(format!("HTTP export failed: {e}")),
                    Err(_) => return Err("export timed out".to_owned()),
                };
                if !response.status().is_success() {
                    return Err(format!("HTTP export refused: {}", response.status()));
                }
                // An empty body is a full success.
                ExportMetricsServiceResponse::decode(response.body().as_ref()).unwrap_or_default()
            }
        };
        Ok(response.partial_success.and_then(|p| {
            (p.rejected_data_points > 0).then(|| Rejected {
                points: u64::try_from(p.rejected_data_points).unwrap_or(0),
                why: p.error_message,
            })
        }))
    }
}

fn grpc(
    endpoint: &str,
    headers: &[(String, String)],
    tls: &TlsFiles,
    timeout: Duration,
) -> Result<Transport, String> {
    let https = endpoint.starts_with("https://");
    if https && !tls::AVAILABLE {
        return Err(tls::unavailable_warning(endpoint));
    }
    let channel = tonic::transport::Endpoint::from_shared(endpoint.to_owned())
        .map_err(|e| format!("OTLP gRPC endpoint {endpoint:?} not usable: {e}"))?
        .connect_timeout(timeout);
    #[cfg(feature = "otlp-tls")]
    let channel = if https {
        channel
            .tls_config(tls::grpc(tls))
            .map_err(|e| format!("OTLP gRPC TLS not configured: {e}"))?
    } else {
        channel
    };
    #[cfg(not(feature = "otlp-tls"))]
    let _ = tls;
    let mut metadata = tonic::metadata::MetadataMap::new();
    for (k, v) in headers {
        let key = tonic::metadata::MetadataKey::from_bytes(k.as_bytes())
            .map_err(|_| format!("header name {k:?} is not valid"))?;
        let value = tonic::metadata::MetadataValue::try_from(v.as_str())
            .map_err(|_| format!("the value of header {k:?} is not valid"))?;
        metadata.insert(key, value);
    }
    Ok(Transport::Grpc {
        client: MetricsServiceClient::new(channel.connect_lazy()),
        headers: metadata,
    })
}

fn http_transport(
    url: &str,
    headers: &[(String, String)],
    tls: &TlsFiles,
    timeout: Duration,
) -> Result<Transport, String> {
    let https = url.starts_with("https://");
    if https && !tls::AVAILABLE {
        return Err(tls::unavailable_warning(url));
    }
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        let key = http::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("header name {k:?} is not valid"))?;
        let value = http::HeaderValue::from_str(v)
            .map_err(|_| format!("the value of header {k:?} is not valid"))?;
        map.insert(key, value);
    }
    #[cfg(feature = "otlp-tls")]
    let client: Box<dyn opentelemetry_http::HttpClient> = if https {
        Box::new(tls::https_client(tls, timeout)?)
    } else {
        Box::new(opentelemetry_http::hyper::HyperClient::with_default_connector(timeout, None))
    };
    #[cfg(not(feature = "otlp-tls"))]
    let client: Box<dyn opentelemetry_http::HttpClient> = {
        let _ = tls;
        Box::new(opentelemetry_http::hyper::HyperClient::with_default_connector(timeout, None))
    };
    Ok(Transport::Http {
        client,
        url: url.to_owned(),
        headers: map,
    })
}
