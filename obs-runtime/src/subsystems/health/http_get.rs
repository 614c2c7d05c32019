//! [`http_get`]: a `GET` to an HTTP dependency ("external API" checks),
//! over hyper-util's client (feature `health-http`), `http://` or
//! `https://` (rustls with ring, the TLS stack `otlp-tls` uses too,
//! trusting the system's certificate store or the CA given with
//! [`HttpGet::ca_pem`]; a certificate that is not trusted fails the check
//! with the reason rustls gives).
//!
//! What decides, as a Kubernetes `httpGet` probe does: the status code (2xx
//! by default). The body is read up to a limit (64 KiB by default) and the
//! connection dropped there, so a dependency streaming a huge or endless
//! body can't hold the check or its memory; an optional
//! [`HttpGet::body_contains`] looks inside what was read. The whole
//! exchange — connect, headers, body — is bounded by the check's own
//! timeout (read from the run, so `#[health_check(timeout = "3s")]` is
//! enough) and ends a little before it, so the reason says what was slow.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use http_body::Body as _;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::Observed;
use super::builtin::CheckError;

/// The body bytes read by default before the check stops reading.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// How long a `GET` may take outside a check's run, where no timeout
/// bounds it.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of the body a failure's reason quotes.
const QUOTED_BODY: usize = 200;

/// A `GET` that passes when the dependency answers with an expected status
/// (2xx by default) within the check's timeout. Built by [`http_get`];
/// `.await` it (or call [`HttpGet::check`]) inside a `#[health_check]`.
///
/// ```
/// use obs_runtime::health::{self, CheckError, Observed};
///
/// #[obs_runtime::health_check("doc_payments_api", timeout = "3s")]
/// async fn payments_api() -> Result<Observed, CheckError> {
///     health::http_get("http://payments.internal:8080/health")
///         .expect_status(|s| s == 200 || s == 204)
///         .max_body_bytes(4_096)
///         .body_contains("\"ok\"")
///         .await
/// }
/// ```
#[derive(Debug, Clone)]
#[must_use = "an HttpGet does nothing until awaited"]
pub struct HttpGet {
    url: String,
    expected: fn(u16) -> bool,
    max_body: usize,
    needle: Option<String>,
    timeout: Option<Duration>,
    /// PEM certificates to trust instead of the system's store.
    ca: Option<Arc<[u8]>>,
}

/// A [`HttpGet`] of `url`: `http://` or `https://` (other schemes are
/// refused with a clear reason).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use obs_runtime::health;
/// let err = health::http_get("ftp://example.com/").await.unwrap_err();
/// assert!(err.to_string().contains("http://"), "{err}");
/// # }
/// ```
pub fn http_get(url: impl Into<String>) -> HttpGet {
    HttpGet {
        url: url.into(),
        expected: is_success,
        max_body: DEFAULT_MAX_BODY_BYTES,
        needle: None,
        timeout: None,
        ca: None,
    }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

impl HttpGet {
    /// Which status codes pass (2xx by default).
    ///
    /// ```
    /// let get = obs_runtime::health::http_get("http://localhost/ping").expect_status(|s| s < 400);
    /// # drop(get);
    /// ```
    pub fn expect_status(mut self, expected: fn(u16) -> bool) -> Self {
        self.expected = expected;
        self
    }

    /// How many body bytes to read at most (64 KiB by default); reading
    /// stops there and the connection is dropped. An answer longer than
    /// this is not a failure by itself.
    ///
    /// ```
    /// let get = obs_runtime::health::http_get("http://localhost/ping").max_body_bytes(1_024);
    /// # drop(get);
    /// ```
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body = limit;
        self
    }

    /// Also fail unless the body's first [`max_body_bytes`](Self::max_body_bytes)
    /// contain `needle`.
    ///
    /// ```
    /// let get = obs_runtime::health::http_get("http://localhost/health").body_contains("UP");
    /// # drop(get);
    /// ```
    pub fn body_contains(mut self, needle: impl Into<String>) -> Self {
        self.needle = Some(needle.into());
        self
    }

    /// A timeout of its own. Inside a check's run the shorter of this and
    /// the check's timeout applies; outside one, 10 s when not set.
    ///
    /// ```
    /// use std::time::Duration;
    /// let get = obs_runtime::health::http_get("http://localhost/ping").timeout(Duration::from_millis(500));
    /// # drop(get);
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Trusts the certificates of `pem` (one or more PEM `CERTIFICATE`
    /// blocks: a private CA, or a self-signed server certificate) instead
    /// of the system's store, for an `https://` URL.
    ///
    /// ```
    /// let get = obs_runtime::health::http_get("https://billing.internal/health")
    ///     .ca_pem(b"-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n".to_vec());
    /// # drop(get);
    /// ```
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca = Some(pem.into().into());
        self
    }

    /// Runs the `GET`: the response time in seconds when it passes.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // Nothing listens on port 9 of loopback (the discard port).
    /// let err = obs_runtime::health::http_get("http://127.0.0.1:9/").check().await.unwrap_err();
    /// assert!(err.to_string().starts_with("GET http://127.0.0.1:9/ failed"), "{err}");
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the URL is not `http://` or `https://`, the server's
    /// certificate is not trusted, nothing answers in time, the status is
    /// not expected, or the body lacks [`body_contains`](Self::body_contains)'s text.
    pub async fn check(self) -> Result<Observed, CheckError> {
        let uri: http::Uri = self
            .url
            .parse()
            .map_err(|e| CheckError::new(format!("not a URL ({e}): {}", self.url)))?;
        let shown = shown_url(&uri);
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(CheckError::new(format!(
                "{shown}: health::http_get takes http:// or https://host[:port]/path URLs only"
            )));
        }
        let started = Instant::now();
        let limit = self.time_limit(started);
        let exchange = self.exchange(uri, &shown);
        match tokio::time::timeout(limit, exchange).await {
            Ok(Ok(())) => Ok(Observed::new(started.elapsed().as_secs_f64(), "seconds")),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(CheckError::new(format!(
                "GET {shown} gave no complete answer within {}",
                super::runner::format_timeout(limit)
            ))),
        }
    }

    /// The time the exchange may take: its own timeout, capped by the
    /// check's deadline less a margin, for this reason to beat the
    /// runner's plain "timed out".
    fn time_limit(&self, now: Instant) -> Duration {
        match super::runner::deadline() {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(now);
                let margin = (left / 5).min(Duration::from_millis(100));
                let left = left.saturating_sub(margin);
                self.timeout.map_or(left, |own| own.min(left))
            }
            None => self.timeout.unwrap_or(DEFAULT_TIMEOUT),
        }
    }

    async fn exchange(&self, uri: http::Uri, shown: &str) -> Result<(), CheckError> {
        let tls = if uri.scheme_str() == Some("https") {
            tls_config(self.ca.as_deref())
                .map_err(|e| CheckError::new(format!("GET {shown}: {e}")))?
        } else {
            // Never used for `http://`; the connector wants one.
            plain_config().map_err(|e| CheckError::new(format!("GET {shown}: {e}")))?
        };
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        // A client per run: no idle connection outlives it to go stale.
        let client: Client<_, String> = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(connector);
        let request = http::Request::get(uri)
            .header(
                http::header::USER_AGENT,
                concat!("obs-health-check/", env!("CARGO_PKG_VERSION")),
            )
            .body(String::new())
            .map_err(|e| CheckError::new(format!("GET {shown}: {e}")))?;
        let response = client
            .request(request)
            .await
            .map_err(|e| CheckError::new(format!("GET {shown} failed: {}", error_chain(&e))))?;
        let status = response.status();
        let mut body = response.into_body();
        let mut read: Vec<u8> = Vec::new();
        let mut truncated = false;
        while read.len() < self.max_body {
            let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
            match frame {
                None => break,
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        let room = self.max_body - read.len();
                        truncated = data.len() > room;
                        read.extend(data.iter().take(room));
                    }
                }
                Some(Err(e)) => {
                    return Err(CheckError::new(format!(
                        "GET {shown}: the body broke off after {} bytes: {}",
                        read.len(),
                        error_chain(&e)
                    )));
                }
            }
        }
        // Stop reading: dropping the body closes the connection.
        truncated |= !body.is_end_stream() && read.len() >= self.max_body;
        drop(body);
        if !(self.expected)(status.as_u16()) {
            return Err(CheckError::new(format!(
                "GET {shown} answered {status}{}",
                quote(&read)
            )));
        }
        if let Some(needle) = &self.needle
            && !contains(&read, needle.as_bytes())
        {
            let within = if truncated {
                format!(" (in the first {} bytes read)", self.max_body)
            } else {
                String::new()
            };
            return Err(CheckError::new(format!(
                "GET {shown} answered {status} without {needle:?}{within}{}",
                quote(&read)
            )));
        }
        Ok(())
    }
}

impl IntoFuture for HttpGet {
    type Output = Result<Observed, CheckError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.check())
    }
}

/// The URL as a reason shows it: scheme, host, port and path; never the
/// user info or the query, where keys and tokens travel.
fn shown_url(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("?");
    let host = uri.host().unwrap_or("?");
    match uri.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}{}", uri.path()),
        None => format!("{scheme}://{host}{}", uri.path()),
    }
}

/// `: "<the body's start>"`, printable characters only, or nothing.
fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let start: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(QUOTED_BODY)
        .collect();
    let start = start.trim();
    if start.is_empty() {
        String::new()
    } else {
        format!(": {start:?}")
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// The crypto provider: one the program installed wins, as in tonic; else
/// ring, the one this feature builds.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// The system's trust store, read once (a few hundred certificates).
fn native_roots() -> &'static rustls::RootCertStore {
    static ROOTS: OnceLock<rustls::RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        roots
    })
}

/// The TLS configuration of an `https://` check: `ca` (PEM) or else the
/// system's store as trust anchors.
fn tls_config(ca: Option<&[u8]>) -> Result<rustls::ClientConfig, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;

    let roots = match ca {
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("the CA given with ca_pem: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("the CA given with ca_pem: {e}"))?;
            }
            if roots.is_empty() {
                return Err("the CA given with ca_pem holds no PEM certificate".to_owned());
            }
            roots
        }
        None if native_roots().is_empty() => {
            return Err(
                "no certificate in the system's trust store: install the CA \
                        certificates (Debian: ca-certificates) or give one with ca_pem"
                    .to_owned(),
            );
        }
        None => native_roots().clone(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS unavailable: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn plain_config() -> Result<rustls::ClientConfig, String> {
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS unavailable: {e}"))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}

/// `e` as rustls' error, also when an `io::Error` wraps it (whose
/// `source()` skips the wrapped error).
fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let mut inner = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    // An `io::Error` may wrap another (the connector's around the TLS
    // stream's): a few levels at most.
    for _ in 0..4 {
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        inner = inner.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
    None
}

/// An error with its sources: hyper's top error says little alone
/// ("client error (Connect)"). A certificate rustls refused is said
/// plainly.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        if let Some(rustls::Error::InvalidCertificate(why)) = rustls_error(cause) {
            let _ = std::fmt::Write::write_fmt(
                &mut text,
                format_args!(
                    ": the server's TLS certificate is not trusted ({why:?}): give its CA with ca_pem, or fix the certificate"
                ),
            );
            return text;
        }
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_credentials_or_query() {
        let uri: http::Uri = "http://user:s3cret@api.example.com:8080/health?key=abc"
            .parse()
            .unwrap();
        assert_eq!(shown_url(&uri), "http://api.example.com:8080/health");
    }

    #[test]
    fn bodies_are_quoted_short_and_printable() {
        assert_eq!(quote(b""), "");
        assert_eq!(quote(b"db down\n"), ": \"db down\"");
        assert_eq!(quote(&[b'x'; 500]).len(), QUOTED_BODY + 4);
    }

    #[test]
    fn needles_are_found() {
        assert!(contains(b"status: UP", b"UP"));
        assert!(!contains(b"status: DOWN", b"UP"));
    }
}
