//! TLS to the collector: the certificate files the `OTEL_EXPORTER_OTLP_*`
//! variables name, read and checked once at init, and (feature `otlp-tls`)
//! what the gRPC and HTTP exporters are given of them.
//!
//! An `https://` endpoint trusts the system's certificate store, or only
//! the CA certificates of `OTEL_EXPORTER_OTLP_CERTIFICATE` when it is set
//! (as the Go and Java SDKs do: a private CA replaces the public ones, it
//! does not widen them). `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and
//! `OTEL_EXPORTER_OTLP_CLIENT_KEY` together give a client certificate
//! (mTLS). Each has a `OTEL_EXPORTER_OTLP_TRACES_*` variant that wins.
//!
//! TLS asked for and not possible — an `https://` endpoint in a build
//! without `otlp-tls`, a file that can't be read or holds no PEM of the
//! right kind — is a warning at init naming the variable and what to do,
//! never a silent drop; the spans (or metric points) that then fail are
//! counted in `obs_telemetry_dropped_spans_total` (or
//! `obs_telemetry_dropped_metric_points_total`) like any failed export.
//! Metrics read the same variables with their `_METRICS_` variants first.

/// Whether this build can speak TLS to the collector.
pub(crate) const AVAILABLE: bool = cfg!(feature = "otlp-tls");

/// The CA file: `OTEL_EXPORTER_OTLP_CERTIFICATE`, or its traces variant.
const CERTIFICATE: &str = "CERTIFICATE";
/// The client certificate chain (mTLS).
const CLIENT_CERTIFICATE: &str = "CLIENT_CERTIFICATE";
/// The client certificate's private key (mTLS).
const CLIENT_KEY: &str = "CLIENT_KEY";

/// The certificates for an `https://` endpoint, checked: PEM text that
/// holds at least one certificate (or one key) of the right kind.
#[derive(Clone, Default)]
pub(crate) struct TlsFiles {
    /// The CA certificates to trust instead of the system's store.
    pub(crate) ca: Option<Vec<u8>>,
    /// The client certificate chain and its key, for mTLS.
    pub(crate) identity: Option<(Vec<u8>, Vec<u8>)>,
}

// The key is a secret: never in a `Debug` of the settings.
impl std::fmt::Debug for TlsFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsFiles")
            .field("ca", &self.ca.as_ref().map(Vec::len))
            .field("client_certificate", &self.identity.is_some())
            .finish()
    }
}

/// One of the three variables: the name that was set (the signal's variant
/// first, as the specification orders them) and its value.
fn variable(
    get: &dyn Fn(&str) -> Option<String>,
    signal: &str,
    which: &str,
) -> Option<(String, String)> {
    [
        format!("OTEL_EXPORTER_OTLP_{signal}_{which}"),
        format!("OTEL_EXPORTER_OTLP_{which}"),
    ]
    .into_iter()
    .find_map(|name| {
        let value = get(&name)?.trim().to_owned();
        (!value.is_empty()).then_some((name, value))
    })
}

/// Reads the certificate variables of traces for `endpoint` (the
/// collector's URL as configured), pushing a warning for each thing that
/// can't be honoured.
pub(crate) fn from_env(
    get: &dyn Fn(&str) -> Option<String>,
    endpoint: &str,
    warnings: &mut Vec<String>,
) -> TlsFiles {
    from_env_for(get, "TRACES", endpoint, warnings)
}

/// [`from_env`] for `signal` (`"TRACES"`, `"METRICS"`): its
/// `OTEL_EXPORTER_OTLP_<SIGNAL>_*` variants win over the generic ones.
pub(crate) fn from_env_for(
    get: &dyn Fn(&str) -> Option<String>,
    signal: &str,
    endpoint: &str,
    warnings: &mut Vec<String>,
) -> TlsFiles {
    let https = endpoint.starts_with("https://");
    let ca = variable(get, signal, CERTIFICATE);
    let cert = variable(get, signal, CLIENT_CERTIFICATE);
    let key = variable(get, signal, CLIENT_KEY);
    let set: Vec<&str> = [&ca, &cert, &key]
        .into_iter()
        .flatten()
        .map(|(name, _)| name.as_str())
        .collect();
    if !AVAILABLE {
        if https {
            warnings.push(unavailable_warning(endpoint));
        }
        if !set.is_empty() {
            warnings.push(format!(
                "{} set, but obs-runtime was built without TLS: the certificates are not used. \
                 Enable obs-runtime's `otlp-tls` feature",
                set.join(", ")
            ));
        }
        return TlsFiles::default();
    }
    if !https && !set.is_empty() {
        warnings.push(format!(
            "{} set, but the OTLP endpoint {endpoint:?} is not https: telemetry is sent in clear \
             text and the certificates are not used. Use an https:// endpoint",
            set.join(", ")
        ));
    }
    let ca = ca.and_then(|(name, path)| {
        load(&name, &path, Kind::Certificates, warnings).or_else(|| {
            warnings.push(format!(
                "{name}: trusting the system's certificate store instead; the collector's \
                 certificate must chain to it, or fix {name}"
            ));
            None
        })
    });
    let identity = match (cert, key) {
        (Some((cert_name, cert_path)), Some((key_name, key_path))) => {
            let cert = load(&cert_name, &cert_path, Kind::Certificates, warnings);
            let key = load(&key_name, &key_path, Kind::PrivateKey, warnings);
            if let (Some(cert), Some(key)) = (cert, key) {
                Some((cert, key))
            } else {
                warnings.push(format!(
                    "{cert_name}/{key_name}: connecting without a client certificate; a \
                     collector that requires one (mTLS) refuses the export"
                ));
                None
            }
        }
        (Some((name, _)), None) | (None, Some((name, _))) => {
            let missing = if name.ends_with(CLIENT_KEY) {
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"
            } else {
                "OTEL_EXPORTER_OTLP_CLIENT_KEY"
            };
            warnings.push(format!(
                "{name} is set without {missing}: a client certificate (mTLS) needs both; \
                 connecting without one"
            ));
            None
        }
        (None, None) => None,
    };
    TlsFiles { ca, identity }
}

/// The warning for an `https://` endpoint in a build without TLS; also
/// the reason given when its spans or metric points are dropped.
pub(crate) fn unavailable_warning(endpoint: &str) -> String {
    format!(
        "the OTLP endpoint {endpoint:?} is https, but obs-runtime was built without TLS: no \
         export reaches it. Enable obs-runtime's `otlp-tls` feature, or send to an http:// \
         endpoint (OTEL_EXPORTER_OTLP_ENDPOINT)"
    )
}

#[derive(Clone, Copy)]
enum Kind {
    Certificates,
    PrivateKey,
}

/// Reads a PEM file and checks that it holds what `kind` says; `None`
/// (and a warning naming `name`) when it doesn't.
#[cfg(feature = "otlp-tls")]
fn load(name: &str, path: &str, kind: Kind, warnings: &mut Vec<String>) -> Option<Vec<u8>> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};

    let pem = match std::fs::read(path) {
        Ok(pem) => pem,
        Err(e) => {
            warnings.push(format!("{name}={path:?} can't be read: {e}"));
            return None;
        }
    };
    let problem = match kind {
        Kind::Certificates => {
            match CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>() {
                Ok(certs) if certs.is_empty() => {
                    Some("no PEM certificate (BEGIN CERTIFICATE) in it".to_owned())
                }
                Ok(_) => None,
                Err(e) => Some(format!("not valid PEM ({e})")),
            }
        }
        Kind::PrivateKey => match PrivateKeyDer::from_pem_slice(&pem) {
            Ok(_) => None,
            Err(e) => Some(format!(
                "no PEM private key (PKCS#8, PKCS#1 or SEC1) in it ({e})"
            )),
        },
    };
    match problem {
        None => Some(pem),
        Some(problem) => {
            warnings.push(format!("{name}={path:?}: {problem}"));
            None
        }
    }
}

#[cfg(not(feature = "otlp-tls"))]
fn load(_: &str, _: &str, _: Kind, _: &mut Vec<String>) -> Option<Vec<u8>> {
    None
}

/// The gRPC exporter's TLS: the CA file's certificates, else the system's
/// store; the client certificate if there is one. The endpoint's host is
/// the name checked against the server's certificate.
#[cfg(feature = "otlp-tls")]
pub(crate) fn grpc(
    files: &TlsFiles,
) -> opentelemetry_otlp::tonic_types::transport::ClientTlsConfig {
    use opentelemetry_otlp::tonic_types::transport::{Certificate, ClientTlsConfig, Identity};

    let config = match &files.ca {
        Some(ca) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)),
        None => ClientTlsConfig::new().with_native_roots(),
    };
    match &files.identity {
        Some((cert, key)) => config.identity(Identity::from_pem(cert, key)),
        None => config,
    }
}

/// The HTTP exporter's client for an `https://` endpoint: opentelemetry's
/// hyper client over hyper-rustls, with the same trust as [`grpc`].
///
/// # Errors
/// When no certificate can be trusted (an empty system store and no CA
/// file), or rustls refuses the client certificate: the reason, to log.
#[cfg(feature = "otlp-tls")]
pub(crate) fn https_client(
    files: &TlsFiles,
    timeout: std::time::Duration,
) -> Result<
    opentelemetry_http::hyper::HyperClient<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    >,
    String,
> {
    use std::sync::Arc;

    use rustls::crypto::CryptoProvider;
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};

    // A provider the program installed wins, as in tonic; else ring, the
    // one this feature builds.
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS unavailable: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = &files.ca {
        for cert in CertificateDer::pem_slice_iter(ca) {
            let cert = cert.map_err(|e| format!("OTEL_EXPORTER_OTLP_CERTIFICATE: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("OTEL_EXPORTER_OTLP_CERTIFICATE: {e}"))?;
        }
    } else {
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        if roots.is_empty() {
            return Err("no certificate in the system's trust store; set \
                 OTEL_EXPORTER_OTLP_CERTIFICATE to the CA of the collector's certificate"
                .to_owned());
        }
    }
    let builder = builder.with_root_certificates(roots);
    let config = match &files.identity {
        Some((cert, key)) => {
            let chain = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: {e}"))?;
            let key = PrivateKeyDer::from_pem_slice(key)
                .map_err(|e| format!("OTEL_EXPORTER_OTLP_CLIENT_KEY: {e}"))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("client certificate refused: {e}"))?
        }
        None => builder.with_no_client_auth(),
    };
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(opentelemetry_http::hyper::HyperClient::new(
        connector, timeout, None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)], endpoint: &str) -> (TlsFiles, Vec<String>) {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut warnings = Vec::new();
        let files = from_env(&|k| map.get(k).cloned(), endpoint, &mut warnings);
        (files, warnings)
    }

    #[test]
    fn nothing_asked_nothing_said() {
        let (files, w) = read(&[], "http://localhost:4318");
        assert!(w.is_empty(), "{w:?}");
        assert!(files.ca.is_none() && files.identity.is_none());
        let (_, w) = read(&[], "https://collector:4318");
        assert_eq!(w.is_empty(), AVAILABLE, "{w:?}");
    }

    #[test]
    fn an_unreadable_ca_file_names_the_variable_and_the_fallback() {
        let (files, w) = read(
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem")],
            "https://collector:4317",
        );
        assert!(files.ca.is_none());
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[1].contains("OTEL_EXPORTER_OTLP_CERTIFICATE"), "{w:?}");
        if AVAILABLE {
            assert!(
                w[0].contains("OTEL_EXPORTER_OTLP_CERTIFICATE=\"/nonexistent/ca.pem\""),
                "{w:?}"
            );
            assert!(w[1].contains("system's certificate store"), "{w:?}");
        } else {
            // One warning for the https endpoint, one for the variable.
            assert!(w[0].contains("https://collector:4317"), "{w:?}");
            assert!(w.iter().all(|w| w.contains("`otlp-tls`")), "{w:?}");
        }
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        let (files, w) = read(
            &[(
                "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
                "/x/client.pem",
            )],
            "https://collector:4317",
        );
        assert!(files.identity.is_none());
        if AVAILABLE {
            assert_eq!(w.len(), 1, "{w:?}");
            assert!(
                w[0].starts_with("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE is set without OTEL_EXPORTER_OTLP_CLIENT_KEY"),
                "{w:?}"
            );
        }
    }

    #[test]
    fn https_without_tls_is_a_warning_that_says_what_to_do() {
        let w = unavailable_warning("https://collector:4318");
        assert!(w.contains("https://collector:4318") && w.contains("`otlp-tls`"));
    }

    #[cfg(feature = "otlp-tls")]
    #[test]
    fn pem_files_are_checked_and_the_traces_variant_wins() {
        let dir = std::env::temp_dir().join(format!("obs-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_pem = dir.join("not.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let (files, w) = read(
            &[
                (
                    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                    not_pem.to_str().unwrap(),
                ),
                ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ignored.pem"),
            ],
            "https://collector:4317",
        );
        assert!(files.ca.is_none());
        assert!(
            w[0].starts_with("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE=")
                && w[0].contains("no PEM certificate"),
            "{w:?}"
        );
        let (_, w) = read(
            &[
                (
                    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                    not_pem.to_str().unwrap(),
                ),
                ("OTEL_EXPORTER_OTLP_CLIENT_KEY", not_pem.to_str().unwrap()),
            ],
            "https://collector:4317",
        );
        assert!(w.iter().any(|w| w.contains("no PEM private key")), "{w:?}");
        assert!(
            w.last().unwrap().contains("without a client certificate"),
            "{w:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(feature = "otlp-tls")]
    #[test]
    fn certificates_with_a_clear_text_endpoint_are_a_warning() {
        let (_, w) = read(
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem")],
            "http://collector:4317",
        );
        assert!(w[0].contains("not https"), "{w:?}");
    }
}
