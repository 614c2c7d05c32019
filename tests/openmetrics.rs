//! OpenMetrics 1.0.0 on `/metrics`: the example service answers a scraper
//! that asks for it (and only then) with OpenMetrics, gzipped or not; the
//! text passes a strict checker of the specification's rules and Debian's
//! `promtool check metrics`; and a real Prometheus, which asks for
//! OpenMetrics by default, scrapes an in-process server and answers
//! queries on what it read.

#[path = "otlp/child.rs"]
mod child;
#[path = "otlp/receiver.rs"]
mod receiver;
mod service_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use obs_runtime::instrumented;
use service_support::prometheus::Prometheus;
use service_support::{ExampleService, request, tool, wait_for};

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The `Accept` header Prometheus 2.x sends.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

// ---------------------------------------------------------------------------
// A strict checker of OpenMetrics 1.0.0 text, from the specification's ABNF
// and rules (https://github.com/OpenObservability/OpenMetrics, section
// "Text format").

/// A sample's labels, in order.
type Labels = Vec<(String, String)>;
/// Per histogram series: its buckets as (le, count), in order.
type Buckets = BTreeMap<Labels, Vec<(f64, f64)>>;

/// What the checker learned: family name -> type, and unit if declared.
#[derive(Debug, Default)]
struct Checked {
    families: BTreeMap<String, (String, Option<String>)>,
    samples: usize,
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An `escaped-string`: no raw `"` or newline, and a backslash only before
/// `n`, `"` or `\` (the specification says a single backslash SHOULD NOT
/// start other sequences; the strict reading rejects them).
fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                other => return Err(format!("bad escape \\{other:?} in {s:?}")),
            },
            '"' | '\n' => return Err(format!("unescaped {c:?} in {s:?}")),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// A `number`: a real number, or (case-insensitively) an infinity or NaN.
fn number(s: &str) -> Result<f64, String> {
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if matches!(unsigned, "inf" | "infinity") && lower.len() - unsigned.len() <= 1 {
        return Ok(if lower.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" {
        return Ok(f64::NAN);
    }
    // realnumber: [sign] digits [. digits] [e [sign] digits], at least one
    // digit in the mantissa.
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |d: &str| d.chars().all(|c| c.is_ascii_digit());
    let exp_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    if !(digits(int) && digits(frac) && (int.len() + frac.len()) > 0 && exp_ok) {
        return Err(format!("not a number: {s:?}"));
    }
    s.parse::<f64>().map_err(|e| format!("{s:?}: {e}"))
}

/// Splits `{a="x",b="y"}` off the front of `rest`: the labels, unescaped,
/// and what follows.
fn labels(rest: &str) -> Result<(Labels, &str), String> {
    let Some(mut rest) = rest.strip_prefix('{') else {
        return Ok((Vec::new(), rest));
    };
    let mut out = Vec::new();
    if let Some(after) = rest.strip_prefix('}') {
        return Ok((out, after));
    }
    loop {
        let (name, after) = rest.split_once("=\"").ok_or("label without =\"")?;
        if !is_label_name(name) {
            return Err(format!("bad label name {name:?}"));
        }
        // The value runs to the first `"` not escaped.
        let mut end = None;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.ok_or("unterminated label value")?;
        let value = unescape(&after[..end])?;
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("label {name} twice"));
        }
        out.push((name.to_owned(), value));
        rest = &after[end + 1..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix('}') {
            return Ok((out, r));
        } else {
            return Err(format!("expected , or }} at {rest:?}"));
        }
    }
}

/// The suffixes a sample of a family of `kind` may add to its name.
fn suffixes(kind: &str) -> &'static [&'static str] {
    match kind {
        "counter" => &["_total", "_created"],
        "histogram" => &["_bucket", "_count", "_sum", "_created"],
        "gaugehistogram" => &["_bucket", "_gcount", "_gsum"],
        "summary" => &["", "_count", "_sum", "_created"],
        "info" => &["_info"],
        _ => &[""],
    }
}

/// Checks `text` against OpenMetrics 1.0.0; the error names the line.
fn check_openmetrics(text: &str) -> Result<Checked, String> {
    let body = text
        .strip_suffix("# EOF\n")
        .or_else(|| text.strip_suffix("# EOF"))
        .ok_or("the exposition does not end with # EOF")?;
    if text.contains('\r') {
        return Err("carriage return in the exposition".into());
    }
    let mut checked = Checked::default();
    // The family being written: name, type, the descriptors seen, whether
    // a sample came already.
    let mut current: Option<(String, String, BTreeSet<&str>, bool)> = None;
    let mut series: BTreeSet<(String, Labels)> = BTreeSet::new();
    // Per histogram series: (le, count) in order, and its _count.
    let mut buckets: Buckets = BTreeMap::new();
    let mut counts: BTreeMap<Labels, f64> = BTreeMap::new();
    let check_histograms =
        |buckets: &mut Buckets, counts: &mut BTreeMap<Labels, f64>| -> Result<(), String> {
            for (labels, bs) in std::mem::take(buckets) {
                let last = bs.last().ok_or("a histogram series without buckets")?;
                if last.0 != f64::INFINITY {
                    return Err(format!("{labels:?}: no +Inf bucket"));
                }
                if bs.windows(2).any(|w| w[0].0 >= w[1].0 || w[0].1 > w[1].1) {
                    return Err(format!("{labels:?}: buckets out of order: {bs:?}"));
                }
                if let Some(c) = counts.get(&labels)
                    && *c != last.1
                {
                    return Err(format!("{labels:?}: _count {c} != +Inf bucket {}", last.1));
                }
            }
            counts.clear();
            Ok(())
        };
    for (n, line) in body.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if line == "# EOF" {
            return Err(at("# EOF before the end".into()));
        }
        if let Some(meta) = line.strip_prefix("# ") {
            let (keyword, rest) = meta.split_once(' ').ok_or_else(|| at("bare #".into()))?;
            let (name, value) = rest.split_once(' ').unwrap_or((rest, ""));
            if !is_metric_name(name) {
                return Err(at(format!("bad family name {name:?}")));
            }
            let new_family = current.as_ref().is_none_or(|c| c.0 != name);
            if new_family {
                check_histograms(&mut buckets, &mut counts).map_err(&at)?;
                if checked.families.contains_key(name) {
                    return Err(at(format!("family {name} described twice (interleaved)")));
                }
                current = Some((name.to_owned(), "unknown".into(), BTreeSet::new(), false));
                checked
                    .families
                    .insert(name.to_owned(), ("unknown".into(), None));
            }
            let cur = current.as_mut().ok_or_else(|| at("no family".into()))?;
            if cur.3 {
                return Err(at("a descriptor after the family's samples".into()));
            }
            let kw: &str = match keyword {
                "TYPE" => "TYPE",
                "UNIT" => "UNIT",
                "HELP" => "HELP",
                other => return Err(at(format!("unknown descriptor {other}"))),
            };
            if !cur.2.insert(kw) {
                return Err(at(format!("second {kw} for {name}")));
            }
            let entry = checked.families.get_mut(name).ok_or("family")?;
            match kw {
                "TYPE" => {
                    if ![
                        "counter",
                        "gauge",
                        "histogram",
                        "gaugehistogram",
                        "stateset",
                        "info",
                        "summary",
                        "unknown",
                    ]
                    .contains(&value)
                    {
                        return Err(at(format!("bad type {value:?}")));
                    }
                    value.clone_into(&mut cur.1);
                    entry.0 = value.to_owned();
                }
                "UNIT" => {
                    if !value.is_empty() && !name.ends_with(&format!("_{value}")) {
                        return Err(at(format!("unit {value} is not a suffix of {name}")));
                    }
                    if !value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                    {
                        return Err(at(format!("bad unit {value:?}")));
                    }
                    entry.1 = Some(value.to_owned());
                }
                _ => {
                    unescape(value).map_err(&at)?;
                }
            }
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            return Err(at("not a known line form".into()));
        }
        // A sample.
        let name_end = line.find(['{', ' ']).ok_or_else(|| at("no value".into()))?;
        let name = &line[..name_end];
        if !is_metric_name(name) {
            return Err(at(format!("bad metric name {name:?}")));
        }
        let (sample_labels, rest) = labels(&line[name_end..]).map_err(&at)?;
        let rest = rest
            .strip_prefix(' ')
            .ok_or_else(|| at("no space before the value".into()))?;
        let (values, exemplar) = match rest.split_once(" # ") {
            Some((v, e)) => (v, Some(e)),
            None => (rest, None),
        };
        let mut parts = values.split(' ');
        let value = number(parts.next().unwrap_or_default()).map_err(&at)?;
        if let Some(ts) = parts.next() {
            number(ts).map_err(&at)?;
        }
        if parts.next().is_some() {
            return Err(at("trailing text".into()));
        }
        let cur = current
            .as_mut()
            .ok_or_else(|| at("a sample before any # TYPE".into()))?;
        cur.3 = true;
        let suffix = name
            .strip_prefix(cur.0.as_str())
            .filter(|s| suffixes(&cur.1).contains(s))
            .ok_or_else(|| {
                at(format!(
                    "sample {name} is not part of the {} family {} (outside its block?)",
                    cur.1, cur.0
                ))
            })?;
        if let Some(e) = exemplar {
            if !(suffix == "_bucket" || suffix == "_total") {
                return Err(at("an exemplar on a sample that can't have one".into()));
            }
            let (ex_labels, rest) = labels(e).map_err(&at)?;
            let len: usize = ex_labels
                .iter()
                .map(|(k, v)| k.chars().count() + v.chars().count())
                .sum();
            if len > 128 {
                return Err(at("exemplar labels longer than 128 characters".into()));
            }
            let mut parts = rest
                .strip_prefix(' ')
                .ok_or_else(|| at("exemplar without value".into()))?
                .split(' ');
            number(parts.next().unwrap_or_default()).map_err(&at)?;
            if let Some(ts) = parts.next() {
                number(ts).map_err(&at)?;
            }
        }
        if matches!(
            suffix,
            "_total" | "_count" | "_sum" | "_bucket" | "_created"
        ) && (value.is_nan() || value < 0.0)
        {
            return Err(at("a counter-like value is negative or NaN".into()));
        }
        let mut key_labels = sample_labels.clone();
        match (cur.1.as_str(), suffix) {
            ("histogram", "_bucket") => {
                let le = sample_labels
                    .iter()
                    .position(|(k, _)| k == "le")
                    .ok_or_else(|| at("a bucket without le".into()))?;
                let (_, le_text) = key_labels.remove(le);
                let bound = number(&le_text).map_err(&at)?;
                // Canonical: a float has a point or an exponent; +Inf.
                if bound.is_finite() && !le_text.contains(['.', 'e']) || le_text == "inf" {
                    return Err(at(format!("le {le_text:?} is not canonical")));
                }
                buckets
                    .entry(key_labels.clone())
                    .or_default()
                    .push((bound, value));
            }
            ("histogram", "_count") => {
                if value.fract() != 0.0 {
                    return Err(at("a fractional count".into()));
                }
                counts.insert(key_labels.clone(), value);
            }
            _ => {}
        }
        if !series.insert((name.to_owned(), sample_labels)) {
            return Err(at("a duplicate series".into()));
        }
        checked.samples += 1;
    }
    check_histograms(&mut buckets, &mut counts)?;
    Ok(checked)
}

#[test]
fn the_checker_rejects_what_the_specification_forbids() {
    let good = "# TYPE a counter\n# HELP a A \\\"b\\\".\na_total{x=\"1\"} 1\n# TYPE h_seconds histogram\n# UNIT h_seconds seconds\nh_seconds_bucket{le=\"1.0\"} 1\nh_seconds_bucket{le=\"+Inf\"} 2\nh_seconds_count 2\nh_seconds_sum 1.5\n# EOF\n";
    let checked = check_openmetrics(good).expect("a valid exposition");
    assert_eq!(checked.samples, 5);
    for (bad, why) in [
        (good.replace("# EOF\n", ""), "no EOF"),
        (
            good.replace("a_total", "a"),
            "counter sample without _total",
        ),
        (good.replace("A \\\"b\\\"", "A \"b\""), "raw quote in HELP"),
        (
            good.replace("UNIT h_seconds seconds", "UNIT h_seconds bytes"),
            "unit not a suffix",
        ),
        (good.replace("le=\"1.0\"", "le=\"1\""), "non-canonical le"),
        (
            good.replace("h_seconds_count 2", "h_seconds_count 3"),
            "count != +Inf",
        ),
        (
            format!(
                "{}a_total{{x=\"2\"}} 1\n# EOF\n",
                good.trim_end_matches("# EOF\n")
            ),
            "interleaved",
        ),
        (
            good.replace("# TYPE a counter\n", "# TYPE a counter\n# TYPE a gauge\n"),
            "two TYPEs",
        ),
        (good.replace("{x=\"1\"}", "{x=\"1\\q\"}"), "bad escape"),
        (
            good.replace(" 1\n# TYPE h", " one\n# TYPE h"),
            "not a number",
        ),
        (
            good.replace(
                "a_total{x=\"1\"} 1",
                "a_total{x=\"1\"} 1\na_total{x=\"1\"} 2",
            ),
            "duplicate",
        ),
        (good.replace("# EOF\n", "# EOF\n# EOF\n"), "text after EOF"),
    ] {
        assert!(check_openmetrics(&bad).is_err(), "accepted ({why}):\n{bad}");
    }
}

// ---------------------------------------------------------------------------

/// Decompresses with gzip(1).
fn gunzip(bytes: &[u8]) -> String {
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "not gzip");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The series of an exposition (either format), by name and labels with
/// `le` read as a number, so `le="1"` and `le="1.0"` are the same.
fn series_of(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let end = l.find(['{', ' ']).unwrap();
            let (labels, _) = labels(&l[end..]).unwrap();
            let labels: Vec<String> = labels
                .into_iter()
                .map(|(k, v)| {
                    if k == "le" {
                        let n: f64 = v.parse().unwrap_or(f64::INFINITY);
                        format!("le={n}")
                    } else {
                        format!("{k}={v:?}")
                    }
                })
                .collect();
            format!("{}{{{}}}", &l[..end], labels.join(","))
        })
        .collect()
}

/// `promtool check metrics` on `body`: its exit status and what it said.
fn promtool_check_metrics(body: &[u8]) -> (bool, String) {
    let mut promtool = Command::new(tool("promtool", "prometheus"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    promtool.stdin.take().unwrap().write_all(body).unwrap();
    let out = promtool.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_example_service_negotiates_openmetrics_on_metrics() {
    let service = ExampleService::start();
    for i in 0..20 {
        let path = if i % 2 == 0 {
            format!("/users/{i}")
        } else {
            "/scan".to_owned()
        };
        let method = if i % 2 == 0 { "GET" } else { "POST" };
        request(service.addr, method, &path, &[]).expect("the service answers");
    }
    let scrape = |headers: &[(&str, &str)]| {
        let r = request(service.addr, "GET", "/metrics", headers).expect("metrics");
        assert_eq!(r.status, 200);
        r
    };

    // No Accept, or one that prefers the text format: 0.0.4 as before.
    for headers in [
        &[][..],
        &[("Accept", "text/plain;version=0.0.4")][..],
        &[(
            "Accept",
            "application/openmetrics-text;q=0.3,text/plain;q=0.5",
        )][..],
    ] {
        let r = scrape(headers);
        assert_eq!(
            r.header("content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8"),
            "{headers:?}"
        );
        assert!(!r.text().contains("# EOF"), "{headers:?}");
    }
    let text = scrape(&[]).text();

    // What Prometheus asks for: OpenMetrics.
    let r = scrape(&[("Accept", PROMETHEUS_ACCEPT)]);
    assert_eq!(r.header("content-type"), Some(OPENMETRICS));
    assert!(r.header("vary").is_some_and(|v| v.contains("accept")));
    let om = r.text();
    let checked = check_openmetrics(&om).unwrap_or_else(|e| panic!("{e}\n{om}"));
    eprintln!(
        "OpenMetrics: {} families, {} samples, {} bytes (text: {} bytes)",
        checked.families.len(),
        checked.samples,
        om.len(),
        text.len()
    );
    let family = |name: &str| checked.families.get(name).cloned();
    assert_eq!(
        family("http_server_request_duration_seconds"),
        Some(("histogram".into(), Some("seconds".into())))
    );
    assert_eq!(
        family("process_cpu_seconds"),
        Some(("counter".into(), Some("seconds".into()))),
        "a counter family is named without _total"
    );
    assert_eq!(
        family("process_resident_memory_bytes"),
        Some(("gauge".into(), Some("bytes".into())))
    );
    assert!(om.contains("\nprocess_cpu_seconds_total "));
    assert!(om.contains("le=\"+Inf\""));
    assert!(!om.contains("_created"), "no creation times are kept");
    assert!(!om.contains(" untyped\n"));

    // The same registry: every series of the text format, and no other.
    let (text_series, om_series) = (series_of(&text), series_of(&om));
    let only_text: Vec<_> = text_series.difference(&om_series).collect();
    let only_om: Vec<_> = om_series.difference(&text_series).collect();
    assert!(
        only_text.is_empty() && only_om.is_empty(),
        "only in text: {only_text:?}\nonly in OpenMetrics: {only_om:?}"
    );
    // Every counter and histogram family of the text format is there,
    // with its type.
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let mut parts = line.split(' ').skip(2);
        let (name, kind) = (parts.next().unwrap(), parts.next().unwrap());
        let expected = match kind {
            "counter" => (name.strip_suffix("_total").unwrap_or(name), "counter"),
            "untyped" => (name, "unknown"),
            _ => (name, kind),
        };
        assert_eq!(
            family(expected.0).map(|f| f.0).as_deref(),
            Some(expected.1),
            "{line}"
        );
    }

    // gzip works for both.
    for (accept, content_type) in [
        (PROMETHEUS_ACCEPT, OPENMETRICS),
        ("text/plain", "text/plain; version=0.0.4; charset=utf-8"),
    ] {
        let r = scrape(&[("Accept", accept), ("Accept-Encoding", "gzip")]);
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        assert_eq!(r.header("content-type"), Some(content_type));
        let body = gunzip(&r.body);
        assert_eq!(body.ends_with("# EOF\n"), content_type == OPENMETRICS);
        if content_type == OPENMETRICS {
            check_openmetrics(&body).unwrap_or_else(|e| panic!("gzipped: {e}"));
        }
    }

    // promtool 2.42's `check metrics` has no OpenMetrics parser: it reads
    // the body as the 0.0.4 text format, where `# UNIT` and `# EOF` are
    // comments and a counter's `x_total` samples are a family apart from
    // `# HELP x`. So it must parse the body, and its only findings may be
    // "no help text" for the `_total` samples of our counter families
    // (the text format's reading of OpenMetrics' naming); anything else,
    // a parse error first of all, fails.
    let (ok, report) = promtool_check_metrics(om.as_bytes());
    eprintln!(
        "promtool check metrics (OpenMetrics body): ok={ok} {:?}",
        report.trim()
    );
    assert!(!report.contains("error"), "promtool: {report}");
    for finding in report.lines().filter(|l| !l.trim().is_empty()) {
        let counter = finding
            .strip_suffix("_total no help text")
            .and_then(&family)
            .is_some_and(|(kind, _)| kind == "counter");
        assert!(counter, "promtool: {finding:?} in\n{report}");
    }
    // And the text format, served to the same service, passes it clean.
    let (ok, report) = promtool_check_metrics(text.as_bytes());
    assert!(
        ok && report.trim().is_empty(),
        "promtool on the text format: {report}"
    );
}

// ---------------------------------------------------------------------------
// A real Prometheus scrapes an in-process server.

#[instrumented(metric = "om_e2e_work")]
fn work(i: u64) {
    std::thread::sleep(Duration::from_millis(1 + i % 5));
}

#[test]
fn a_real_prometheus_scrapes_openmetrics_and_answers_queries() {
    let jobs = obs_runtime::metrics::Counter::<()>::new("om_e2e_jobs_total", "Jobs done.")
        .unwrap()
        .register()
        .unwrap();
    jobs.inc_by(42);
    for i in 0..50 {
        work(i);
    }

    // The server records each scrape's Accept header.
    let accepts: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&accepts);
    let app = obs_runtime::http::routes().layer(tower::util::MapRequestLayer::new(
        move |req: axum::extract::Request| {
            if req.uri().path() == "/metrics" {
                let accept = req
                    .headers()
                    .get("accept")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                seen.lock().unwrap().push(accept);
            }
            req
        },
    ));
    let (addr, runtime) = service_support::serve_router(app);

    let prometheus = Prometheus::start("openmetrics", "om", addr);
    let value = |promql: &str| {
        prometheus.try_query(promql).ok()?.first()?["value"][1]
            .as_str()?
            .parse::<f64>()
            .ok()
    };
    let jobs_seen = wait_for(Duration::from_secs(60), || {
        value(r#"om_e2e_jobs_total{job="om"}"#)
    });
    assert_eq!(jobs_seen, Some(42.0), "{}", prometheus.log());
    let p50 = value(
        "histogram_quantile(0.5, sum by (le) (om_e2e_work_duration_seconds_bucket{result=\"ok\"}))",
    );
    assert!(
        p50.is_some_and(|v| v > 0.0 && v < 1.0),
        "p50 of the work: {p50:?}"
    );
    let calls = value(r#"sum(om_e2e_work_calls_total{result="ok"})"#);
    assert_eq!(calls, Some(50.0));

    // Prometheus asked for OpenMetrics, and read it as such: the unit it
    // keeps as metadata comes only from `# UNIT`.
    let accept = accepts.lock().unwrap().first().cloned().unwrap_or_default();
    assert!(
        accept.starts_with("application/openmetrics-text"),
        "Prometheus asked for {accept:?}"
    );
    let metadata = service_support::get(
        prometheus.addr,
        "/api/v1/targets/metadata?metric=om_e2e_work_duration_seconds",
    )
    .expect("metadata");
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.body).unwrap();
    assert_eq!(
        metadata["data"][0]["unit"], "seconds",
        "metadata: {metadata}"
    );
    assert_eq!(metadata["data"][0]["type"], "histogram");
    // The bucket bounds are stored as written: canonical numbers.
    let le = service_support::get(prometheus.addr, "/api/v1/label/le/values").expect("le");
    let le: serde_json::Value = serde_json::from_slice(&le.body).unwrap();
    let le: Vec<&str> = le["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(le.contains(&"+Inf"), "le values: {le:?}");
    assert!(
        le.iter()
            .all(|v| *v == "+Inf" || v.contains('.') || v.contains('e')),
        "le values: {le:?}"
    );
    eprintln!("Prometheus sent Accept: {accept}; p50 {p50:?}; le values {le:?}");
    drop(prometheus);
    runtime.shutdown_timeout(Duration::from_secs(1));
}

#[test]
fn foreign_collectors_come_out_valid_too() {
    let registry = obs_runtime::registry::global();
    let counter =
        prometheus::IntCounter::new("om_foreign_requests_total", "Foreign \"quoted\".").unwrap();
    counter.inc_by(3);
    let legacy = prometheus::Counter::new("om_legacy_hits", "A counter without _total.").unwrap();
    legacy.inc_by(2.0);
    let histogram = prometheus::Histogram::with_opts(
        prometheus::HistogramOpts::new("om_foreign_latency_seconds", "Latency.")
            .buckets(vec![0.005, 1.0, 10.0]),
    )
    .unwrap();
    histogram.observe(0.5);
    registry.register_collector(Box::new(counter)).unwrap();
    registry.register_collector(Box::new(legacy)).unwrap();
    registry.register_collector(Box::new(histogram)).unwrap();

    let om = obs_runtime::encode_openmetrics();
    let checked = check_openmetrics(&om).unwrap_or_else(|e| panic!("{e}\n{om}"));
    let family = |name: &str| checked.families.get(name).map(|f| f.0.as_str());
    assert_eq!(family("om_foreign_requests"), Some("counter"));
    assert!(om.contains("# HELP om_foreign_requests Foreign \\\"quoted\\\".\n"));
    assert!(om.contains("\nom_foreign_requests_total 3\n"));
    // Its series keeps the name the text format gives it.
    assert_eq!(family("om_legacy_hits"), Some("unknown"));
    assert!(om.contains("\nom_legacy_hits 2\n"));
    assert_eq!(family("om_foreign_latency_seconds"), Some("histogram"));
    for bucket in [
        "om_foreign_latency_seconds_bucket{le=\"0.005\"} 0\n",
        "om_foreign_latency_seconds_bucket{le=\"1.0\"} 1\n",
        "om_foreign_latency_seconds_bucket{le=\"10.0\"} 1\n",
        "om_foreign_latency_seconds_bucket{le=\"+Inf\"} 1\n",
    ] {
        assert!(om.contains(bucket), "missing {bucket:?} in\n{om}");
    }
}

/// `(trace_id, span_id)` of every exemplar in an OpenMetrics body, by the
/// sample it follows.
fn exemplars_in(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter_map(|line| {
            let (sample, exemplar) = line.split_once(" # {")?;
            let labels = exemplar.split_once('}')?.0;
            let get = |key: &str| {
                labels.split(',').find_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    (k == key).then(|| v.trim_matches('"').to_owned())
                })
            };
            let name = sample.split(['{', ' ']).next()?.to_owned();
            Some((name, get("trace_id")?, get("span_id")?))
        })
        .collect()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn exemplars_link_buckets_and_counters_to_sampled_traces_only() {
    let rx = receiver::start();
    let endpoint = format!("http://{}", rx.grpc);
    let service = ExampleService::start_with(&[
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
        ("RUST_LOG", "info"),
    ]);
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: exemplars\n    static_configs:\n      - targets: ['{}']\n",
        service.addr
    );
    let prometheus = Prometheus::with_config(
        "exemplars",
        &config,
        &[
            "--storage.tsdb.path=data",
            "--enable-feature=exemplar-storage",
        ],
        &[],
        &[],
    );
    // Traffic while Prometheus scrapes: each scrape stores the exemplars
    // that changed since the one before.
    for round in 0..8 {
        for i in 0..25 {
            let path = format!("/users/{}", round * 25 + i);
            request(service.addr, "GET", &path, &[]).expect("the service answers");
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let body = request(
        service.addr,
        "GET",
        "/metrics",
        &[("Accept", PROMETHEUS_ACCEPT)],
    )
    .expect("metrics")
    .text();
    check_openmetrics(&body).unwrap_or_else(|e| panic!("{e}\n{body}"));
    // `promtool check metrics` reads the 0.0.4 text parser's grammar, which
    // has no exemplars (it stops at the first ` # {`): the strict checker
    // above and Prometheus's own OpenMetrics parser (below) judge them.
    let found = exemplars_in(&body);
    let names: BTreeSet<&str> = found.iter().map(|(n, _, _)| n.as_str()).collect();
    for expected in [
        "http_server_request_duration_seconds_bucket",
        "db_query_duration_seconds_bucket",
        "cache_misses_total",
    ] {
        assert!(
            names.contains(expected),
            "no exemplar on {expected}; exemplars on {names:?}"
        );
    }
    // The 0.0.4 text has no place for them.
    let text = request(service.addr, "GET", "/metrics", &[])
        .expect("metrics")
        .text();
    assert!(!text.contains(" # {"), "an exemplar in the 0.0.4 text");

    // Every exemplar names a span the receiver got: sampled, exported. Half
    // the requests were not sampled, and none of them left an exemplar.
    let spans = rx.store.wait_for(Duration::from_secs(30), |spans| {
        found
            .iter()
            .all(|(_, t, s)| spans.iter().any(|r| &r.trace_id == t && &r.span_id == s))
    });
    for (name, trace, span) in &found {
        assert!(
            spans
                .iter()
                .any(|r| &r.trace_id == trace && &r.span_id == span),
            "the exemplar of {name} names trace {trace} span {span}, which the receiver never got ({} spans)",
            spans.len()
        );
    }
    let traces: BTreeSet<&str> = spans
        .iter()
        .filter(|s| s.name.starts_with("GET /users"))
        .map(|s| s.trace_id.as_str())
        .collect();
    assert!(
        (40..=160).contains(&traces.len()),
        "about half of 200 requests sampled: {} traces",
        traces.len()
    );

    // Prometheus kept them: the HTTP duration's exemplars, each a trace the
    // receiver has.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let path = format!(
        "/api/v1/query_exemplars?query={}&start={}&end={}",
        percent_encode("http_server_request_duration_seconds_bucket"),
        now - 600,
        now + 600
    );
    let stored = wait_for(Duration::from_secs(60), || {
        let r = service_support::get(prometheus.addr, &path)?;
        let v: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
        let ids: Vec<String> = v["data"]
            .as_array()?
            .iter()
            .flat_map(|series| series["exemplars"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| Some(e["labels"]["trace_id"].as_str()?.to_owned()))
            .collect();
        (!ids.is_empty()).then_some(ids)
    })
    .unwrap_or_else(|| panic!("no exemplar in Prometheus: {}", prometheus.log()));
    for trace in &stored {
        assert!(
            spans.iter().any(|s| &s.trace_id == trace),
            "Prometheus holds an exemplar of trace {trace}, which the receiver never got"
        );
    }
    eprintln!(
        "{} exemplars in the scrape on {names:?}; {} stored by Prometheus; {} sampled traces",
        found.len(),
        stored.len(),
        traces.len()
    );
}

#[test]
fn a_counter_and_a_gauge_that_would_share_an_openmetrics_family_are_refused() {
    use obs_runtime::metrics::{Counter, Gauge};
    use obs_runtime::registry::RegistryError;
    Gauge::<()>::new("om_clash_depth", "Queue depth.")
        .unwrap()
        .register()
        .unwrap();
    let refused = Counter::<()>::new("om_clash_depth_total", "Items queued.")
        .unwrap()
        .register()
        .unwrap_err();
    assert_eq!(
        refused,
        RegistryError::FamilyClash {
            name: "om_clash_depth_total".into(),
            registered: "om_clash_depth".into(),
        }
    );
    assert!(
        refused
            .to_string()
            .contains("one OpenMetrics family `om_clash_depth`"),
        "{refused}"
    );
    // The other way round, and through the `prometheus` bridge.
    Counter::<()>::new("om_clash_sent_total", "Sent.")
        .unwrap()
        .register()
        .unwrap();
    let gauge = prometheus::Gauge::new("om_clash_sent", "Sent, as a gauge.").unwrap();
    let refused = obs_runtime::registry::global()
        .register_collector(Box::new(gauge))
        .unwrap_err();
    assert!(
        matches!(refused, RegistryError::FamilyClash { .. }),
        "{refused:?}"
    );
    // The scrape that would have had two families `om_clash_*` has one each.
    let body = obs_runtime::encode_openmetrics();
    check_openmetrics(&body).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_prefix_and_constant_labels_come_out_valid() {
    // The exposition is process-wide: configured in a child of its own.
    child::in_own_process("a_prefix_and_constant_labels_come_out_valid", || {
        obs_runtime::registry::configure(
            obs_runtime::registry::Exposition::default()
                .prefix("om_app")
                .constant_label("service", "om \"quoted\"")
                .constant_label("environment", "test"),
        )
        .unwrap();
        work(1);
        let histogram = prometheus::Histogram::with_opts(
            prometheus::HistogramOpts::new("om_foreign_wait_seconds", "Wait.").buckets(vec![1.0]),
        )
        .unwrap();
        histogram.observe(0.5);
        obs_runtime::registry::global()
            .register_collector(Box::new(histogram))
            .unwrap();
        let om = obs_runtime::encode_openmetrics();
        let checked = check_openmetrics(&om).unwrap_or_else(|e| panic!("{e}\n{om}"));
        let family = |name: &str| checked.families.get(name).map(|f| f.0.as_str());
        assert_eq!(family("om_app_om_e2e_work_calls"), Some("counter"), "{om}");
        assert_eq!(
            family("om_app_om_e2e_work_duration_seconds"),
            Some("histogram")
        );
        assert_eq!(family("om_app_om_foreign_wait_seconds"), Some("histogram"));
        assert_eq!(family("process_cpu_seconds"), Some("counter"), "{om}");
        assert!(om.contains(
            "om_app_om_foreign_wait_seconds_bucket{service=\"om \\\"quoted\\\"\",environment=\"test\",le=\"1.0\"} 1\n"
        ), "{om}");
        for line in om.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.contains("environment=\"test\""), "{line}");
        }
        let (ok, report) = promtool_check_metrics(obs_runtime::encode_text().as_bytes());
        assert!(ok, "{report}");
    });
}
