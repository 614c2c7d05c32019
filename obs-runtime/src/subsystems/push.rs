//! Pushing the registry to a Prometheus [Pushgateway], for batch jobs and
//! cron jobs that end before Prometheus could scrape them.
//!
//! ```no_run
//! # fn run_the_batch() {}
//! run_the_batch();
//! // At the end of a successful run: every metric of the process, plus
//! // `last_success_timestamp_seconds`, under job="nightly_report".
//! if let Err(e) = obs_runtime::push::to_gateway(
//!     "http://pushgateway:9091",
//!     "nightly_report",
//!     &[("instance", "batch-1")],
//! ) {
//!     eprintln!("metrics not pushed: {e}");
//! }
//! ```
//!
//! What is pushed is the scrape (`encode_text()`): the program's metrics,
//! `#[instrumented]` functions, metric sets and the process metrics. The
//! gateway keeps it under the *group* `job` plus the grouping labels, and
//! Prometheus scrapes the gateway (with `honor_labels: true`, so `job` and
//! the grouping labels are kept).
//!
//! | call | HTTP | effect on the group |
//! |---|---|---|
//! | [`Pushgateway::push`] | `PUT` | replaces every metric of the group: what this run did not push is gone |
//! | [`Pushgateway::push_add`] | `POST` | replaces only the metrics of the same names; others stay |
//! | [`Pushgateway::delete`] | `DELETE` | removes the group |
//!
//! A batch job usually wants `PUT` at its end: the group then shows exactly
//! the last run. [`Pushgateway::push_success`] (and [`to_gateway`]) also set
//! `last_success_timestamp_seconds` to the time of the push, so an alert
//! can ask for `time() - last_success_timestamp_seconds > 86400` ("did not
//! succeed in 24 h"). A failed run pushes with [`Pushgateway::push_add`]
//! (`POST`), or not at all: its metrics replace those of the same names and
//! the group keeps the `last_success_timestamp_seconds` of the last run that
//! succeeded. A `PUT` from a process that never succeeded would drop that
//! series from the group, and the staleness alert with it. The gauge is
//! written only once a run has succeeded (never as 0), and it is registered
//! as soon as a [`Pushgateway`] exists, so the catalog, and the rules
//! generated from it, know the program is a batch job. A long run can push
//! as it goes with [`Pushgateway::every`], which also `POST`s until the
//! run's end.
//!
//! Every call has a deadline (default 10 s, [`Pushgateway::timeout`]) over
//! name resolution aside: connecting, sending and reading the answer. It
//! returns the failure — refused connection, timeout, the gateway's status
//! and message — and never panics. Only `http://` gateways are supported;
//! credentials in the URL (`http://user:password@host`) are sent as HTTP
//! basic authentication and never appear in an error.
//!
//! [Pushgateway]: https://github.com/prometheus/pushgateway

use std::fmt::{self, Write as _};
use std::io::{self, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::leaves::schema::check_name_syntax;
use crate::metric_core::encode::{Collect, Description, Kind, Sink};

/// The default deadline of a push.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The gauge [`Pushgateway::push_success`] sets.
pub const LAST_SUCCESS: &str = "last_success_timestamp_seconds";

/// How much of an error answer is kept for [`PushError::Status`].
const MAX_ERROR_BODY: usize = 512;

/// Why a push failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum PushError {
    /// The gateway's URL, the job or a grouping label is not usable.
    Invalid(String),
    /// An `https://` gateway: this client speaks plain HTTP only.
    TlsUnsupported,
    /// The gateway's host name did not resolve.
    Resolve(io::Error),
    /// No connection: refused, unreachable.
    Connect(io::Error),
    /// The deadline passed before the gateway answered.
    Timeout(Duration),
    /// Sending or reading failed after connecting.
    Io(io::Error),
    /// The gateway answered with an error status; its message is kept (cut
    /// at 512 bytes).
    Status {
        /// The HTTP status code.
        code: u16,
        /// The start of the answer's body.
        message: String,
    },
    /// The answer was not HTTP.
    BadResponse,
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(why) => write!(f, "push: {why}"),
            Self::TlsUnsupported => f.write_str(
                "push: https:// gateways are not supported; push to an http:// gateway (for example a sidecar on localhost)",
            ),
            Self::Resolve(e) => write!(f, "push: the gateway's name did not resolve: {e}"),
            Self::Connect(e) => write!(f, "push: could not connect to the gateway: {e}"),
            Self::Timeout(d) => write!(f, "push: no answer from the gateway within {d:?}"),
            Self::Io(e) => write!(f, "push: {e}"),
            Self::Status { code, message } => {
                write!(f, "push: the gateway answered {code}: {}", message.trim())
            }
            Self::BadResponse => f.write_str("push: the gateway's answer is not HTTP"),
        }
    }
}

impl std::error::Error for PushError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Resolve(e) | Self::Connect(e) | Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// A Pushgateway and the group pushed to: `job` and grouping labels.
///
/// ```
/// use std::time::Duration;
/// use obs_runtime::push::Pushgateway;
///
/// let gateway = Pushgateway::new("http://127.0.0.1:9091", "nightly_report")
///     .unwrap()
///     .grouping("instance", "batch-1")
///     .timeout(Duration::from_secs(5));
/// assert_eq!(gateway.path(), "/metrics/job/nightly_report/instance/batch-1");
/// assert!(Pushgateway::new("https://gw:9091", "j").is_err());
/// ```
#[derive(Clone)]
pub struct Pushgateway {
    host: String,
    port: u16,
    prefix: String,
    authorization: Option<String>,
    job: String,
    grouping: Vec<(String, String)>,
    timeout: Duration,
}

impl fmt::Debug for Pushgateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The credentials stay out.
        f.debug_struct("Pushgateway")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Pushgateway {
    /// A gateway at `url` (`http://host:port`, with an optional path
    /// prefix and `user:password@`), pushing as `job`.
    ///
    /// # Errors
    /// [`PushError::TlsUnsupported`] for `https://`;
    /// [`PushError::Invalid`] for another scheme, no host, a bad port or
    /// an empty job.
    pub fn new(url: &str, job: &str) -> Result<Self, PushError> {
        last_success();
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(if url.starts_with("https://") {
                PushError::TlsUnsupported
            } else {
                PushError::Invalid("the gateway's URL must start with http://".to_owned())
            });
        };
        let (authority, prefix) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport)?;
        if job.is_empty() {
            return Err(PushError::Invalid("the job name is empty".to_owned()));
        }
        Ok(Self {
            host,
            port,
            prefix: prefix.trim_end_matches('/').to_owned(),
            authorization: userinfo.map(|u| format!("Basic {}", base64(u.as_bytes(), STANDARD))),
            job: job.to_owned(),
            grouping: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Adds a grouping label (`instance`, `shard`, …). Its name is checked
    /// when pushing; any value works (values with `/` or empty ones are
    /// sent base64-encoded, as the gateway expects).
    #[must_use]
    pub fn grouping(mut self, name: &str, value: &str) -> Self {
        self.grouping.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The deadline of each call (default [`DEFAULT_TIMEOUT`]).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The group's path on the gateway: `/metrics/job/<job>/<label>/<value>…`.
    #[must_use]
    pub fn path(&self) -> String {
        let mut path = format!("{}/metrics", self.prefix);
        for (name, value) in std::iter::once(("job", self.job.as_str()))
            .chain(self.grouping.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        {
            if value.is_empty() || value.contains('/') {
                // The gateway's encoding for what a path segment can't hold.
                let encoded = if value.is_empty() {
                    "=".to_owned()
                } else {
                    base64(value.as_bytes(), URL_SAFE)
                };
                let _ = write!(path, "/{name}@base64/{encoded}");
            } else {
                let _ = write!(path, "/{name}/{}", percent_encode(value));
            }
        }
        path
    }

    /// `PUT`s the scrape: the group then holds exactly what this process
    /// exposes now.
    ///
    /// # Errors
    /// See [`PushError`].
    pub fn push(&self) -> Result<(), PushError> {
        self.send("PUT", &crate::metric_core::registry::global().encode_text())
    }

    /// `POST`s the scrape: metrics of the same names are replaced, others
    /// of the group stay.
    ///
    /// # Errors
    /// See [`PushError`].
    pub fn push_add(&self) -> Result<(), PushError> {
        self.send(
            "POST",
            &crate::metric_core::registry::global().encode_text(),
        )
    }

    /// Sets `last_success_timestamp_seconds` to now, then [`push`](Self::push)es.
    ///
    /// # Errors
    /// See [`PushError`].
    pub fn push_success(&self) -> Result<(), PushError> {
        mark_success();
        self.push()
    }

    /// Deletes the group from the gateway.
    ///
    /// # Errors
    /// See [`PushError`].
    pub fn delete(&self) -> Result<(), PushError> {
        self.send("DELETE", "")
    }

    /// Pushes (`POST`, so a last success already in the group stays) every
    /// `period` on a thread of its own until the returned [`PushLoop`] is
    /// finished or dropped, for runs longer than a scrape interval. A failed
    /// push is logged and retried at the next tick.
    ///
    /// # Errors
    /// When the thread can't be started.
    pub fn every(self, period: Duration) -> io::Result<PushLoop> {
        let (stop, ticks) = mpsc::channel::<()>();
        let gateway = Arc::new(self);
        let pusher = Arc::clone(&gateway);
        let thread = std::thread::Builder::new()
            .name("obs-push".to_owned())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = ticks.recv_timeout(period) {
                    if let Err(e) = pusher.push_add() {
                        tracing::warn!("{e}");
                    }
                }
            })?;
        Ok(PushLoop {
            gateway,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    fn check(&self) -> Result<(), PushError> {
        for (name, _) in &self.grouping {
            // The gateway's rule for label names, plus ours (snake_case);
            // `instance` and the like are what grouping labels are for.
            if let Some(why) = check_name_syntax(name) {
                return Err(PushError::Invalid(format!(
                    "grouping label `{name}`: {why}"
                )));
            }
            if name == "job" {
                return Err(PushError::Invalid(
                    "`job` is the job name, not a grouping label".to_owned(),
                ));
            }
        }
        Ok(())
    }

    fn send(&self, method: &str, body: &str) -> Result<(), PushError> {
        self.check()?;
        let deadline = Instant::now() + self.timeout;
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(PushError::Resolve)?
            .collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        let mut stream = None;
        for addr in addrs {
            let left = remaining(deadline, self.timeout)?;
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return Err(PushError::Timeout(self.timeout));
                }
                Err(e) => last = e,
            }
        }
        let mut stream = stream.ok_or(PushError::Connect(last))?;
        let io = |e: io::Error| match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => PushError::Timeout(self.timeout),
            _ => PushError::Io(e),
        };
        let mut head = format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: obs/{}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.path(),
            self.host_header(),
            env!("CARGO_PKG_VERSION"),
            body.len()
        );
        if let Some(auth) = &self.authorization {
            let _ = write!(head, "Authorization: {auth}\r\n");
        }
        head.push_str("\r\n");
        stream
            .set_write_timeout(Some(remaining(deadline, self.timeout)?))
            .map_err(io)?;
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(body.as_bytes()).map_err(io)?;
        // The status line and the start of the body are enough.
        let mut answer = Vec::new();
        let mut buf = [0_u8; 1024];
        loop {
            stream
                .set_read_timeout(Some(remaining(deadline, self.timeout)?))
                .map_err(io)?;
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    answer.extend_from_slice(buf.get(..n).unwrap_or_default());
                    if answer.len() > 4 * MAX_ERROR_BODY {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e)),
            }
        }
        let code = status_code(&answer).ok_or(PushError::BadResponse)?;
        if (200..300).contains(&code) {
            return Ok(());
        }
        let body = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .and_then(|i| answer.get(i + 4..))
            .unwrap_or_default();
        let cut = body.get(..MAX_ERROR_BODY).unwrap_or(body);
        Err(PushError::Status {
            code,
            message: crate::leaves::redact::redact(&String::from_utf8_lossy(cut)).into_owned(),
        })
    }

    fn host_header(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Pushes (`PUT`) this process's metrics to the gateway at `url` under
/// `job` and `grouping`, with `last_success_timestamp_seconds` set to now:
/// the call to make at the end of a successful batch run. For a failed run,
/// or other methods, use [`Pushgateway`].
///
/// # Errors
/// See [`PushError`]; the deadline is [`DEFAULT_TIMEOUT`].
pub fn to_gateway(url: &str, job: &str, grouping: &[(&str, &str)]) -> Result<(), PushError> {
    grouping
        .iter()
        .fold(Pushgateway::new(url, job)?, |g, (n, v)| g.grouping(n, v))
        .push_success()
}

/// Pushes on a timer; see [`Pushgateway::every`].
///
/// Dropping it stops the timer and pushes once more (`POST`), so the
/// gateway ends with the run's last numbers and keeps the last success;
/// [`finish`](Self::finish) does the same and returns that push's result;
/// [`finish_success`](Self::finish_success) marks the run successful and
/// `PUT`s, so the group then holds exactly this run.
#[derive(Debug)]
pub struct PushLoop {
    gateway: Arc<Pushgateway>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl PushLoop {
    fn stop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Stops the timer and pushes (`POST`) a last time: the end of a run
    /// that did not succeed.
    ///
    /// # Errors
    /// The last push's.
    pub fn finish(mut self) -> Result<(), PushError> {
        self.stop();
        self.gateway.push_add()
    }

    /// Stops the timer, sets `last_success_timestamp_seconds` and pushes a
    /// last time.
    ///
    /// # Errors
    /// The last push's.
    pub fn finish_success(mut self) -> Result<(), PushError> {
        self.stop();
        self.gateway.push_success()
    }
}

impl Drop for PushLoop {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop();
            if let Err(e) = self.gateway.push_add() {
                tracing::warn!("{e}");
            }
        }
    }
}

/// Sets `last_success_timestamp_seconds` to now.
///
/// ```
/// obs_runtime::push::mark_success();
/// assert!(obs_runtime::encode_text().contains("last_success_timestamp_seconds "));
/// ```
pub fn mark_success() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    last_success()
        .0
        .store(now.floor().to_bits(), Ordering::Relaxed);
}

/// `last_success_timestamp_seconds`: no sample until a run succeeds, so a
/// push from a run that has not succeeded never carries a 0 that would
/// overwrite the group's last success.
struct LastSuccess(AtomicU64);

const LAST_SUCCESS_HELP: &str =
    "When the batch job last succeeded, in seconds since the Unix epoch.";

fn last_success() -> &'static LastSuccess {
    static GAUGE: OnceLock<&'static LastSuccess> = OnceLock::new();
    GAUGE.get_or_init(|| {
        crate::metric_core::registry::global()
            .register_owned(LastSuccess(AtomicU64::new(0)), None)
            .unwrap_or_else(|e| {
                tracing::warn!("{LAST_SUCCESS} not exposed: {e}");
                Box::leak(Box::new(LastSuccess(AtomicU64::new(0))))
            })
    })
}

impl Collect for LastSuccess {
    fn names(&self) -> Vec<String> {
        vec![LAST_SUCCESS.to_owned()]
    }

    fn describe(&self) -> Vec<Description> {
        vec![Description {
            name: LAST_SUCCESS.to_owned(),
            kind: Kind::Gauge,
            help: LAST_SUCCESS_HELP.to_owned(),
            labels: Vec::new(),
            values: None,
            buckets: Vec::new(),
        }]
    }

    fn collect(&self, sink: &mut dyn Sink) {
        let at = f64::from_bits(self.0.load(Ordering::Relaxed));
        if at > 0.0 {
            sink.family(LAST_SUCCESS, LAST_SUCCESS_HELP, Kind::Gauge);
            sink.gauge(LAST_SUCCESS, &[], at);
        }
    }
}

fn remaining(deadline: Instant, timeout: Duration) -> Result<Duration, PushError> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or(PushError::Timeout(timeout))
}

fn split_host_port(hostport: &str) -> Result<(String, u16), PushError> {
    let invalid = |why: &str| PushError::Invalid(format!("the gateway's address: {why}"));
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| invalid("no closing ]"))?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(invalid("no host"));
    }
    let port = match port {
        // The gateway's default port.
        None => 9091,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| invalid("the port is not a number from 1 to 65535"))?,
    };
    Ok((host.to_owned(), port))
}

fn status_code(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/"))?;
    parts.next()?.parse().ok()
}

fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 with `=` padding, in `alphabet`.
fn base64(data: &[u8], alphabet: &[u8; 64]) -> String {
    let symbol = |v: u32| {
        alphabet
            .get((v & 63) as usize)
            .copied()
            .map_or('=', char::from)
    };
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let v = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(symbol(v >> 18));
        out.push(symbol(v >> 12));
        out.push(if chunk.len() > 1 { symbol(v >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { symbol(v) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes(), STANDARD), encoded);
        }
        assert_eq!(base64(&[0xfb, 0xff], URL_SAFE), "-_8=");
        assert_eq!(base64(&[0xfb, 0xff], STANDARD), "+/8=");
    }

    #[test]
    fn urls_are_read_or_refused_clearly() {
        let g = Pushgateway::new("http://user:pa55@gw.example:9999/prefix/", "j").unwrap();
        assert_eq!((g.host.as_str(), g.port), ("gw.example", 9999));
        assert_eq!(g.path(), "/prefix/metrics/job/j");
        assert_eq!(g.authorization.as_deref(), Some("Basic dXNlcjpwYTU1"));
        assert!(!format!("{g:?}").contains("pa55"), "{g:?}");
        let g = Pushgateway::new("http://[::1]", "j").unwrap();
        assert_eq!(
            (g.host.as_str(), g.port, g.host_header().as_str()),
            ("::1", 9091, "[::1]:9091")
        );
        for (url, job) in [
            ("ftp://gw:9091", "j"),
            ("http://:9091", "j"),
            ("http://gw:0", "j"),
            ("http://gw:99999", "j"),
            ("http://gw:port", "j"),
            ("http://[::1", "j"),
            ("http://gw:9091", ""),
        ] {
            assert!(
                matches!(Pushgateway::new(url, job), Err(PushError::Invalid(_))),
                "{url} {job:?}"
            );
        }
        assert!(matches!(
            Pushgateway::new("https://gw", "j"),
            Err(PushError::TlsUnsupported)
        ));
    }

    #[test]
    fn grouping_values_are_encoded_as_the_gateway_reads_them() {
        let g = Pushgateway::new("http://gw", "nightly report")
            .unwrap()
            .grouping("path", "a/b")
            .grouping("empty", "")
            .grouping("zone", "eu-1");
        assert_eq!(
            g.path(),
            "/metrics/job/nightly%20report/path@base64/YS9i/empty@base64/=/zone/eu-1"
        );
    }

    #[test]
    fn bad_grouping_labels_are_errors_before_connecting() {
        // Port 1 on loopback: a connection would be refused, but the label
        // is checked first.
        for name in ["job", "bad-name", "__reserved", "Zone"] {
            let g = Pushgateway::new("http://127.0.0.1:1", "j")
                .unwrap()
                .grouping(name, "x");
            assert!(matches!(g.push(), Err(PushError::Invalid(_))), "{name}");
        }
    }

    #[test]
    fn status_lines_are_read() {
        assert_eq!(status_code(b"HTTP/1.1 400 Bad Request\r\n\r\nx"), Some(400));
        assert_eq!(status_code(b"HTTP/1.0 202 Accepted\r\n"), Some(202));
        assert_eq!(status_code(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status_code(b""), None);
    }
}
