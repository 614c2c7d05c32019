//! Deployment verification for services built on obs: the check a CI/CD
//! pipeline runs after a deploy, and the canary comparison it runs before
//! promoting one.
//!
//! ```sh
//! cargo run --example obs_deploy -- verify http://127.0.0.1:8080
//! cargo run --example obs_deploy -- verify http://127.0.0.1:8080 --require llm_tokens_total
//! cargo run --example obs_deploy -- canary --prometheus http://127.0.0.1:9090 \
//!     --canary 'job="api",track="canary"' --baseline 'job="api",track="stable"' \
//!     --max-ratio 1.2 --for 5m
//! ```
//!
//! `verify <url>`: `GET <url>/readyz` answers 200, `GET <url>/metrics`
//! answers 200 with text that passes a strict reader of the Prometheus text
//! format 0.0.4 (the one obs's own tests check its encoder with), and every
//! required family is declared there (`# TYPE`). Without `--require`, the
//! families every obs service exposes: `http_server_request_duration_seconds`,
//! `health_check_status`, `obs_build_info`.
//!
//! `canary`: asks Prometheus's HTTP API (`/api/v1/query`) for the p95
//! latency and the 5xx ratio of the canary's and the baseline's requests
//! over the last `--for` and fails when the canary is more than
//! `--max-ratio` times worse on either. The exact PromQL is in the README
//! ("Deployment verification") and printed with `--verbose`.
//!
//! Exit status: 0 all checks pass, 1 a check fails, 2 bad usage. URLs are
//! `http://` or `https://` (rustls; the system's certificate bundle, or
//! the PEM certificates `--ca` names).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

#[path = "../tests/exposition_support/mod.rs"]
mod exposition;

const USAGE: &str = "usage:
  obs_deploy verify <url> [--require <metric>]... [--ca <pem>]
  obs_deploy canary --prometheus <url> --canary <selector> --baseline <selector> [--ca <pem>]
                    [--max-ratio 1.2] [--for 5m] [--error-budget 0.01]
                    [--quantile 0.95] [--metric http_server_request_duration_seconds]
                    [--status-label http_response_status_code] [--verbose]";

/// The families an obs service always declares.
const DEFAULT_REQUIRED: &[&str] = &[
    "http_server_request_duration_seconds",
    "health_check_status",
    "obs_build_info",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("verify") => parse_verify(&args[1..]).map(|v| verify(&v)),
        Some("canary") => parse_canary(&args[1..]).map(|c| canary(&c)),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err("a command, verify or canary, is needed".to_owned()),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(why) => {
            eprintln!("obs_deploy: {why}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

// ---- arguments ---------------------------------------------------------------

struct Verify {
    url: Url,
    require: Vec<String>,
}

fn parse_verify(args: &[String]) -> Result<Verify, String> {
    let mut url = None;
    let mut ca: Option<std::path::PathBuf> = None;
    let mut require = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--require" => {
                let name = rest.next().ok_or("--require needs a metric name")?;
                require.push(name.clone());
            }
            "--ca" => ca = Some(rest.next().ok_or("--ca needs a PEM file")?.into()),
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            positional if url.is_none() => url = Some(Url::parse(positional)?),
            extra => return Err(format!("unexpected argument {extra:?}")),
        }
    }
    let mut url: Url = url.ok_or("verify needs the service's URL")?;
    url.ca = ca;
    if require.is_empty() {
        require = DEFAULT_REQUIRED.iter().map(|s| (*s).to_owned()).collect();
    }
    Ok(Verify { url, require })
}

struct Canary {
    prometheus: Url,
    canary: String,
    baseline: String,
    max_ratio: f64,
    window: String,
    error_budget: f64,
    quantile: f64,
    metric: String,
    status_label: String,
    verbose: bool,
}

fn parse_canary(args: &[String]) -> Result<Canary, String> {
    let mut prometheus = None;
    let mut canary = None;
    let mut baseline = None;
    let mut max_ratio = 1.2;
    let mut window = "5m".to_owned();
    let mut error_budget = 0.01;
    let mut quantile = 0.95;
    let mut metric = "http_server_request_duration_seconds".to_owned();
    let mut status_label = "http_response_status_code".to_owned();
    let mut verbose = false;
    let mut ca = None;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        if flag == "--verbose" {
            verbose = true;
            continue;
        }
        let mut value = || {
            rest.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--prometheus" => prometheus = Some(Url::parse(&value()?)?),
            "--ca" => ca = Some(std::path::PathBuf::from(value()?)),
            "--canary" => canary = Some(selector(&value()?)?),
            "--baseline" => baseline = Some(selector(&value()?)?),
            "--max-ratio" => max_ratio = positive(flag, &value()?)?,
            "--for" => window = duration(&value()?)?,
            "--error-budget" => error_budget = fraction(flag, &value()?)?,
            "--quantile" => quantile = fraction(flag, &value()?)?,
            "--metric" => metric = name(&value()?)?,
            "--status-label" => status_label = name(&value()?)?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let mut prometheus: Url = prometheus.ok_or("canary needs --prometheus <url>")?;
    prometheus.ca = ca;
    Ok(Canary {
        prometheus,
        canary: canary.ok_or("canary needs --canary <selector>")?,
        baseline: baseline.ok_or("canary needs --baseline <selector>")?,
        max_ratio,
        window,
        error_budget,
        quantile,
        metric,
        status_label,
        verbose,
    })
}

fn positive(flag: &str, text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{flag} {text:?}: a positive number is needed")),
    }
}

fn fraction(flag: &str, text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{flag} {text:?}: a number from 0 to 1 is needed")),
    }
}

/// A Prometheus duration of one unit (`30s`, `5m`, `1h`, `1d`).
fn duration(text: &str) -> Result<String, String> {
    let digits = text.trim_end_matches(['s', 'm', 'h', 'd', 'w']);
    let unit = &text[digits.len()..];
    let ok = matches!(unit, "s" | "m" | "h" | "d" | "w")
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.bytes().any(|b| b != b'0');
    ok.then(|| text.to_owned())
        .ok_or_else(|| format!("--for {text:?}: a duration such as 30s, 5m or 1h is needed"))
}

fn name(text: &str) -> Result<String, String> {
    let ok = text
        .bytes()
        .enumerate()
        .all(|(i, b)| b.is_ascii_alphabetic() || b == b'_' || (i > 0 && b.is_ascii_digit()))
        && !text.is_empty();
    ok.then(|| text.to_owned())
        .ok_or_else(|| format!("{text:?} is not a metric or label name"))
}

/// A series selector's matchers, `job="api",track="canary"` (braces
/// optional): each `name<op>"value"` with `=`, `!=`, `=~` or `!~`, so the
/// text can be spliced into PromQL without changing its meaning.
fn selector(text: &str) -> Result<String, String> {
    let inner = text.trim();
    let inner = inner
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(inner);
    let bad = |why: &str| format!("selector {text:?}: {why}");
    let mut rest = inner.trim();
    let mut matchers = Vec::new();
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .ok_or_else(|| bad("a matcher without an operator"))?;
        let label = &rest[..end];
        name(label).map_err(|e| bad(&e))?;
        rest = rest[end..].trim_start();
        let op = ["=~", "!~", "!=", "="]
            .into_iter()
            .find(|op| rest.starts_with(op))
            .ok_or_else(|| bad("an operator (=, !=, =~, !~) is needed after a label"))?;
        rest = rest[op.len()..].trim_start();
        let body = rest
            .strip_prefix('"')
            .ok_or_else(|| bad("label values are double-quoted"))?;
        let mut escaped = false;
        let close = body
            .char_indices()
            .find(|&(_, c)| {
                let done = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                done
            })
            .map(|(i, _)| i)
            .ok_or_else(|| bad("an unterminated label value"))?;
        matchers.push(format!("{label}{op}\"{}\"", &body[..close]));
        rest = body[close + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.is_empty() {
            return Err(bad("matchers are separated by commas"));
        }
    }
    if matchers.is_empty() {
        return Err(bad("at least one matcher, e.g. job=\"api\", is needed"));
    }
    Ok(matchers.join(","))
}

// ---- HTTP/1.1 over std ---------------------------------------------------------

/// An `http://host[:port][/prefix]` URL.
struct Url {
    tls: bool,
    host: String,
    port: u16,
    prefix: String,
    /// `--ca`: PEM certificates to trust instead of the system's store.
    ca: Option<std::path::PathBuf>,
}

impl Url {
    fn parse(text: &str) -> Result<Self, String> {
        let (tls, rest) = match (text.strip_prefix("http://"), text.strip_prefix("https://")) {
            (Some(rest), _) => (false, rest),
            (_, Some(rest)) => (true, rest),
            _ => return Err(format!("{text:?}: an http:// or https:// URL is needed")),
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("{text:?}: bad port {p:?}"))?,
            ),
            _ => (authority, if tls { 443 } else { 80 }),
        };
        if host.is_empty() {
            return Err(format!("{text:?}: no host"));
        }
        Ok(Self {
            tls,
            ca: None,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            prefix: path.trim_end_matches('/').to_owned(),
        })
    }

    fn path(&self, path: &str) -> String {
        if self.prefix.is_empty() {
            path.to_owned()
        } else {
            format!("/{}{path}", self.prefix)
        }
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}:{}{}", self.host, self.port, self.path(""))
    }
}

struct Response {
    status: u16,
    body: Vec<u8>,
}

/// `GET <url><path>` with a 10 s connect and read timeout.
fn get(url: &Url, path: &str) -> Result<Response, String> {
    let target = url.path(path);
    let fail = |why: String| format!("GET {url}{path}: {why}");
    let addr = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| fail(e.to_string()))?
        .next()
        .ok_or_else(|| fail("the host has no address".into()))?;
    let timeout = Duration::from_secs(10);
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| fail(e.to_string()))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| fail(e.to_string()))?;
    let head = format!(
        "GET {target} HTTP/1.1\r\nHost: {}:{}\r\nAccept: */*\r\nUser-Agent: obs_deploy\r\nConnection: close\r\n\r\n",
        url.host, url.port
    );
    let raw = if url.tls {
        let tls = tls_client(url)?;
        exchange(rustls::StreamOwned::new(tls, stream), &head)
    } else {
        exchange(stream, &head)
    }
    .map_err(fail)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| fail("no HTTP response head".into()))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| fail("no HTTP status line".into()))?;
    let chunked = lines.any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("transfer-encoding")
                && v.trim().eq_ignore_ascii_case("chunked")
        })
    });
    let body = &raw[split + 4..];
    let body = if chunked {
        dechunk(body).ok_or_else(|| fail("a malformed chunked body".into()))?
    } else {
        body.to_vec()
    };
    Ok(Response { status, body })
}

/// Writes `head`, reads the answer to its end (64 MiB at most). A TLS peer
/// that hangs up without `close_notify` after answering is an end too.
fn exchange(mut stream: impl Read + Write, head: &str) -> Result<Vec<u8>, String> {
    stream
        .write_all(head.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    match stream.take(64 << 20).read_to_end(&mut raw) {
        Ok(_) => Ok(raw),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => Ok(raw),
        Err(e) => Err(e.to_string()),
    }
}

/// A TLS session to `url`'s host (rustls, ring), trusting `--ca`'s PEM
/// certificates, or else the system's bundle.
fn tls_client(url: &Url) -> Result<rustls::ClientConnection, String> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, ServerName};
    const SYSTEM: &[&str] = &[
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ];
    let file = match &url.ca {
        Some(file) => file.clone(),
        None => SYSTEM
            .iter()
            .map(std::path::PathBuf::from)
            .find(|p| p.exists())
            .ok_or("no system certificate bundle; give one with --ca")?,
    };
    let pem = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("{}: {e}", file.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("{}: {e}", file.display()))?;
    }
    if roots.is_empty() {
        return Err(format!("{}: no PEM certificate", file.display()));
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from(url.host.clone()).map_err(|e| e.to_string())?;
    rustls::ClientConnection::new(std::sync::Arc::new(config), name).map_err(|e| e.to_string())
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(raw.get(..eol)?).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(eol + 2..eol + 2 + size)?);
        raw = raw.get(eol + 4 + size..)?;
    }
}

// ---- verify ----------------------------------------------------------------------

/// Prints one check's line and returns whether it passed.
fn report(ok: bool, what: &str, detail: &str) -> bool {
    println!("  {}  {what}: {detail}", if ok { "ok  " } else { "FAIL" });
    ok
}

fn verify(v: &Verify) -> bool {
    println!("verify {}", v.url);
    let mut results = vec![readiness(&v.url)];
    match get(&v.url, "/metrics") {
        Err(e) => {
            results.push(report(false, "metrics", &e));
            for name in &v.require {
                results.push(report(false, name, "not checked: no scrape"));
            }
        }
        Ok(r) if r.status != 200 => {
            results.push(report(
                false,
                "metrics",
                &format!("GET /metrics answered {}", r.status),
            ));
        }
        Ok(r) => results.extend(metrics(&r.body, &v.require)),
    }
    let failed = results.iter().filter(|ok| !**ok).count();
    if failed == 0 {
        println!("PASS: {} checks", results.len());
    } else {
        println!("FAIL: {failed} of {} checks failed", results.len());
    }
    failed == 0
}

fn readiness(url: &Url) -> bool {
    let r = match get(url, "/readyz") {
        Ok(r) => r,
        Err(e) => return report(false, "readiness", &e),
    };
    // obs answers with the health+json document: name the checks.
    let checks = serde_json::from_slice::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|doc| {
            let checks = doc.get("checks")?.as_object()?;
            Some(
                checks
                    .iter()
                    .map(|(name, c)| {
                        format!(
                            "{name} {}",
                            c.get("status").and_then(|s| s.as_str()).unwrap_or("?")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })
        .unwrap_or_else(|| "no health+json document".to_owned());
    report(
        r.status == 200,
        "readiness",
        &format!("GET /readyz answered {} ({checks})", r.status),
    )
}

fn metrics(body: &[u8], require: &[String]) -> Vec<bool> {
    let Ok(text) = std::str::from_utf8(body) else {
        return vec![report(false, "metrics", "the scrape is not UTF-8")];
    };
    let scrape = match exposition::parse(text) {
        Ok(s) => s,
        Err(e) => {
            return vec![report(
                false,
                "metrics",
                &format!("not Prometheus text 0.0.4: {e}"),
            )];
        }
    };
    let types: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.split_once(' '))
        .collect();
    let mut results = vec![report(
        true,
        "metrics",
        &format!(
            "valid Prometheus text 0.0.4, {} families, {} samples",
            types.len(),
            scrape.samples.len()
        ),
    )];
    for name in require {
        let family = types.iter().find(|(family, _)| family == name);
        let samples = scrape
            .samples
            .iter()
            .filter(|s| {
                s.name
                    .strip_prefix(name.as_str())
                    .is_some_and(|rest| ["", "_total", "_bucket", "_count", "_sum"].contains(&rest))
            })
            .count();
        results.push(match family {
            Some((_, kind)) => report(true, name, &format!("{kind}, {samples} samples")),
            None if samples > 0 => report(true, name, &format!("{samples} samples")),
            None => report(false, name, "not exposed"),
        });
    }
    results
}

// ---- canary ------------------------------------------------------------------------

/// The PromQL of one side: (requests per second, p-quantile latency,
/// 5xx ratio).
fn queries(c: &Canary, sel: &str) -> [String; 4] {
    let (m, w, s) = (&c.metric, &c.window, &c.status_label);
    [
        format!("sum(rate({m}_count{{{sel}}}[{w}]))"),
        format!(
            "histogram_quantile({}, sum by (le) (rate({m}_bucket{{{sel}}}[{w}])))",
            c.quantile
        ),
        format!("sum(rate({m}_count{{{sel},{s}=~\"5..\"}}[{w}]))"),
        format!(
            "sum(rate({m}_count{{{sel},{s}=~\"5..\"}}[{w}])) / sum(rate({m}_count{{{sel}}}[{w}]))"
        ),
    ]
}

/// An instant query's single value: `None` when the result is empty or
/// not a number (`NaN` from a quantile of no requests).
fn query(prometheus: &Url, promql: &str) -> Result<Option<f64>, String> {
    let encoded: String = promql
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let r = get(prometheus, &format!("/api/v1/query?query={encoded}"))?;
    let doc: serde_json::Value = serde_json::from_slice(&r.body)
        .map_err(|e| format!("Prometheus answered {} with no JSON: {e}", r.status))?;
    if doc["status"] != "success" {
        return Err(format!(
            "Prometheus refused {promql}: {} {}",
            doc["errorType"], doc["error"]
        ));
    }
    let results = doc["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if results.len() > 1 {
        return Err(format!(
            "{promql} gave {} series, one expected",
            results.len()
        ));
    }
    Ok(results
        .first()
        .and_then(|r| r["value"][1].as_str())
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite()))
}

struct Side {
    rps: f64,
    latency: Option<f64>,
    errors: f64,
}

fn measure(c: &Canary, label: &str, sel: &str) -> Result<Option<Side>, String> {
    let [rps, latency, errors_rps, _] = queries(c, sel);
    if c.verbose {
        for q in queries(c, sel) {
            println!("  {label} query: {q}");
        }
    }
    let rps = query(&c.prometheus, &rps)?.unwrap_or(0.0);
    if rps <= 0.0 {
        return Ok(None);
    }
    let latency = query(&c.prometheus, &latency)?;
    let errors = query(&c.prometheus, &errors_rps)?.unwrap_or(0.0) / rps;
    Ok(Some(Side {
        rps,
        latency,
        errors,
    }))
}

fn canary(c: &Canary) -> bool {
    println!(
        "canary {{{}}} against baseline {{{}}} over {} (max ratio {}, p{})",
        c.canary,
        c.baseline,
        c.window,
        c.max_ratio,
        c.quantile * 100.0
    );
    let sides = measure(c, "canary", &c.canary)
        .and_then(|canary| Ok((canary, measure(c, "baseline", &c.baseline)?)));
    let (canary, baseline) = match sides {
        Err(e) => return report(false, "prometheus", &e),
        Ok((None, _)) => {
            return report(
                false,
                "traffic",
                "no traffic: the canary served no requests in the window",
            );
        }
        Ok((_, None)) => {
            return report(
                false,
                "traffic",
                "no traffic: the baseline served no requests in the window",
            );
        }
        Ok((Some(canary), Some(baseline))) => (canary, baseline),
    };
    report(
        true,
        "traffic",
        &format!(
            "canary {:.3} req/s, baseline {:.3} req/s",
            canary.rps, baseline.rps
        ),
    );
    let latency_ok = match (canary.latency, baseline.latency) {
        (Some(k), Some(b)) if b > 0.0 => report(
            k / b <= c.max_ratio,
            "latency",
            &format!(
                "p{} canary {:.4}s, baseline {:.4}s, ratio {:.2} (max {})",
                c.quantile * 100.0,
                k,
                b,
                k / b,
                c.max_ratio
            ),
        ),
        (Some(k), Some(_)) => report(
            k <= 0.0,
            "latency",
            &format!("baseline p{} is 0, canary {k:.4}s", c.quantile * 100.0),
        ),
        _ => report(
            false,
            "latency",
            "no latency buckets for one side (is --metric a histogram?)",
        ),
    };
    let errors_ok = if baseline.errors > 0.0 {
        let ratio = canary.errors / baseline.errors;
        report(
            ratio <= c.max_ratio,
            "errors",
            &format!(
                "5xx canary {:.4}, baseline {:.4}, ratio {ratio:.2} (max {})",
                canary.errors, baseline.errors, c.max_ratio
            ),
        )
    } else {
        report(
            canary.errors <= c.error_budget,
            "errors",
            &format!(
                "5xx canary {:.4}, baseline 0: compared with the absolute budget {}",
                canary.errors, c.error_budget
            ),
        )
    };
    let ok = latency_ok && errors_ok;
    println!(
        "{}",
        if ok {
            "PASS: the canary is no worse than the baseline"
        } else {
            "FAIL: the canary regressed"
        }
    );
    ok
}
