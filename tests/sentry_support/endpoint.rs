//! A Sentry envelope endpoint on loopback: `POST /api/<project>/envelope/`
//! with the `X-Sentry-Auth` header, bodies plain or gzip, envelopes parsed
//! into their event items. `Mode::Hang` accepts and reads, and never answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Answer,
    Hang,
}

#[derive(Default)]
pub struct Seen {
    /// Every request body, decoded.
    pub bodies: Vec<Vec<u8>>,
    /// The event items of the envelopes.
    pub events: Vec<serde_json::Value>,
    /// Requests that were not a valid envelope post.
    pub rejected: Vec<String>,
    pub connections: usize,
    /// Bodies that came gzip-compressed.
    pub gzipped: usize,
}

pub struct Endpoint {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Seen>>,
}

pub const PROJECT: &str = "42";

impl Endpoint {
    pub fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                shared.lock().unwrap().connections += 1;
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, mode, &shared));
            }
        });
        Self { addr, seen }
    }

    /// The DSN pointing at this endpoint.
    pub fn dsn(&self) -> String {
        format!("http://public@{}/{PROJECT}", self.addr)
    }

    pub fn events(&self) -> Vec<serde_json::Value> {
        self.seen.lock().unwrap().events.clone()
    }

    /// Waits until `n` events arrived (or 10 seconds passed).
    pub fn wait_for(&self, n: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && self.events().len() < n {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.events()
    }
}

/// A closed port: bound, then released.
pub fn closed_port_dsn() -> String {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    format!("http://public@{addr}/{PROJECT}")
}

fn serve(stream: TcpStream, mode: Mode, seen: &Mutex<Seen>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let request_line = line.trim_end().to_owned();
        let mut length = 0usize;
        let mut gzip = false;
        let mut auth = String::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap_or(0),
                "content-encoding" => gzip = value.eq_ignore_ascii_case("gzip"),
                "x-sentry-auth" => auth = value.to_owned(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if mode == Mode::Hang {
            // Read, never answered: the connection stays open until the
            // client gives up.
            std::thread::sleep(Duration::from_secs(3600));
            return;
        }
        if gzip {
            let mut plain = Vec::new();
            if flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut plain)
                .is_err()
            {
                seen.lock().unwrap().rejected.push("bad gzip".into());
                let _ = out.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
                continue;
            }
            body = plain;
            seen.lock().unwrap().gzipped += 1;
        }
        let expected = format!("POST /api/{PROJECT}/envelope/ HTTP/1.1");
        if request_line != expected || !auth.contains("sentry_key=public") {
            seen.lock()
                .unwrap()
                .rejected
                .push(format!("{request_line} auth={auth}"));
            let _ = out.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
            continue;
        }
        let events = parse_envelope(&body);
        {
            let mut seen = seen.lock().unwrap();
            seen.bodies.push(body);
            seen.events.extend(events);
        }
        let _ = out.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
        );
    }
}

/// The event payloads of an envelope: a header line, then items, each an
/// item header line and a payload of `length` bytes (or up to the newline).
fn parse_envelope(body: &[u8]) -> Vec<serde_json::Value> {
    let mut events = Vec::new();
    let Some(first) = body.iter().position(|&b| b == b'\n') else {
        return events;
    };
    let mut rest = &body[first + 1..];
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let header: serde_json::Value = match serde_json::from_slice(&rest[..end]) {
            Ok(h) => h,
            Err(_) => break,
        };
        rest = rest.get(end + 1..).unwrap_or(&[]);
        let length = header["length"]
            .as_u64()
            .map(|l| l as usize)
            .unwrap_or_else(|| rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len()));
        let payload = &rest[..length.min(rest.len())];
        if header["type"] == "event" {
            events.push(serde_json::from_slice(payload).expect("event payload is JSON"));
        }
        rest = rest.get(length + 1..).unwrap_or(&[]);
    }
    events
}
