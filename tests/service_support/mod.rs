//! The example service as a real process on a loopback port, and a blocking
//! HTTP/1.1 client, for the end-to-end tests.

#![allow(dead_code)]

pub mod prometheus;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A response: status, lower-cased header names, body bytes.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request with `Connection: close`; `None` when nothing answers.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Option<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"))
    {
        body = dechunk(&body);
    }
    Some(Response {
        status,
        headers,
        body,
    })
}

pub fn get(addr: SocketAddr, path: &str) -> Option<Response> {
    request(addr, "GET", path, &[])
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&raw[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 || raw.len() < eol + 2 + size {
            return out;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[(eol + 4 + size).min(raw.len())..];
    }
}

/// Polls `check` until it gives `Some` or `within` passes.
pub fn wait_for<T>(within: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `cargo test` builds the examples beside the test binaries:
/// `target/<profile>/examples/service`.
fn example_binary() -> PathBuf {
    example_binary_named("service")
}

/// `target/<profile>/examples/<name>`.
pub fn example_binary_named(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: `cargo test --workspace` builds it; or run `cargo build --example {name}` first",
        path.display()
    );
    path
}

/// The example service, killed when dropped.
pub struct ExampleService {
    child: Child,
    pub addr: SocketAddr,
}

impl ExampleService {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Started with `env` set over the defaults (`OTEL_TRACES_EXPORTER=none`,
    /// `OBS_ENV=production`, `RUST_LOG=warn`).
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        Self::start_logged(&example_binary(), env, None, false)
    }

    /// The example `binary`, started as [`start_with`](Self::start_with)
    /// does; its standard output and error go to `output` when given.
    pub fn start_example(
        binary: &std::path::Path,
        env: &[(&str, &str)],
        output: Option<&std::path::Path>,
    ) -> Self {
        Self::start_logged(binary, env, output, true)
    }

    /// [`start_example`](Self::start_example), with standard output to the
    /// file too only when `stdout` (obs writes its log lines to standard
    /// error; a console span exporter, to standard output).
    pub fn start_logged(
        binary: &std::path::Path,
        env: &[(&str, &str)],
        output: Option<&std::path::Path>,
        stdout: bool,
    ) -> Self {
        let port = free_port();
        let mut command = Command::new(binary);
        command
            .env("PORT", port.to_string())
            .env("OBS_ENV", "production")
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("RUST_LOG", "warn")
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL");
        for (k, v) in env {
            command.env(k, v);
        }
        let file = output.map(|path| std::fs::File::create(path).expect("create the log file"));
        let out = match &file {
            Some(f) if stdout => Stdio::from(f.try_clone().expect("clone the log file")),
            _ => Stdio::null(),
        };
        let err = file.map_or_else(Stdio::null, Stdio::from);
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start the example service");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let service = Self { child, addr };
        let up = wait_for(Duration::from_secs(60), || {
            get(addr, "/livez").filter(|r| r.status == 200)
        });
        assert!(
            up.is_some(),
            "the example service did not answer /livez on {addr} within 60 s"
        );
        service
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM, as Kubernetes does, and returns how long the process
    /// took to exit (`None`: still running after `limit`, then killed).
    pub fn terminate(&mut self, limit: Duration) -> Option<Duration> {
        let started = std::time::Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill(1)");
        assert!(sent.success(), "kill -TERM failed");
        wait_for(limit, || {
            self.child
                .try_wait()
                .ok()
                .flatten()
                .map(|_| started.elapsed())
        })
    }

    /// Resident memory of the service process, from `/proc/<pid>/statm`.
    pub fn resident_bytes(&self) -> u64 {
        let statm = std::fs::read_to_string(format!("/proc/{}/statm", self.pid())).expect("statm");
        statm
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            * 4096
    }
}

impl Drop for ExampleService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs Debian's `promtool` with `args` in `dir` and returns what it
/// printed; fails the test, with that text, when it does not succeed.
pub fn promtool(args: &[&str], dir: &std::path::Path) -> String {
    let out = Command::new(tool("promtool", "prometheus"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

/// A Debian tool's path, or a failure that says how to get it.
pub fn tool(name: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
        let p = PathBuf::from(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "`{name}` not found: install the Debian package `{package}` (scripts/test does when it is missing)"
    );
}

/// `/metrics` of this process (its `encode_text`) on a free loopback
/// port, until `stop`: what a real Prometheus scrapes in the tests that
/// register families in process.
pub fn serve_metrics(
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> (SocketAddr, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    stream
                        .set_read_timeout(Some(Duration::from_secs(5)))
                        .unwrap();
                    let mut head = Vec::new();
                    let mut byte = [0_u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                        head.push(byte[0]);
                    }
                    let body = obs_runtime::encode_text();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    (addr, server)
}

/// Serves `router` on a free loopback port, on a runtime of its own (kept
/// alive by the caller), with the peer's address available to handlers.
pub fn serve_router(router: axum::Router) -> (SocketAddr, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    (addr, runtime)
}

/// The value of the sample `series` (name and labels as written) in a
/// text-format scrape.
pub fn sample_value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Calls `work` every `every` on a thread of its own until `stop` is set:
/// the feed of families a real Prometheus scrapes while a test runs.
pub fn repeat_until(
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    every: Duration,
    mut work: impl FnMut() + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            work();
            std::thread::sleep(every);
        }
    })
}
