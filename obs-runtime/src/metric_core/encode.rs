//! The Prometheus text exposition format, version 0.0.4.
//!
//! Metrics describe themselves to a `Sink` (crate-private); `TextSink`
//! writes the text format, `metric_core::openmetrics` writes `OpenMetrics`
//! 1.0.0 from the same walk, and the registry's `prometheus::core::Collector`
//! implementation uses another sink that builds `MetricFamily` values.
//! Escaping follows the format exactly: in `# HELP` text `\` and newline
//! are escaped, in label values `\`, `"` and newline; everything else,
//! non-ASCII included, is written as UTF-8.

use std::fmt::Write as _;

/// A consistent-enough reading of one histogram series.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct HistogramSnapshot {
    /// Cumulative counts, one per bound, then `+Inf`.
    pub(crate) cumulative: Vec<u64>,
    pub(crate) sum: f64,
}

impl HistogramSnapshot {
    pub(crate) fn count(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }
}

/// What a metric family says about itself without a scrape: the
/// catalog's view of a member of the registry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Description {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) help: String,
    pub(crate) labels: Vec<String>,
    /// Per label, the values it can take, when the label set is bounded.
    pub(crate) values: Option<Vec<Vec<&'static str>>>,
    /// Histogram bounds (empty for the other kinds).
    pub(crate) buckets: Vec<f64>,
}

/// Something the registry can scrape.
pub(crate) trait Collect: Send + Sync {
    /// The family names it writes.
    fn names(&self) -> Vec<String>;
    fn collect(&self, sink: &mut dyn Sink);
    /// The families it writes, described for the catalog.
    fn describe(&self) -> Vec<Description>;
    /// For metrics with a dynamic family: lookups sent to the overflow series.
    fn overflowed(&self) -> Option<u64> {
        None
    }
}

/// The content type of the text format, for a `/metrics` response.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The content type of `OpenMetrics` 1.0.0 text, for a `/metrics` response
/// to a scraper that asked for it (see
/// [`encode_openmetrics`](crate::registry::Registry::encode_openmetrics)).
///
/// ```
/// assert!(obs_runtime::encode::OPENMETRICS_CONTENT_TYPE.starts_with("application/openmetrics-text"));
/// ```
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// An exemplar: one observation's link to the trace that made it, written
/// after its bucket or counter sample in `OpenMetrics` only (the text format
/// has no place for it). `labels` are the exemplar's own (`trace_id`,
/// `span_id`); `timestamp` is in seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Exemplar<'a> {
    pub(crate) labels: &'a [(&'a str, &'a str)],
    pub(crate) value: f64,
    pub(crate) timestamp: Option<f64>,
}

/// What the registry's exposition adds to the families at encode time:
/// the name prefix and the constant labels, rendered once when the
/// program configures them, so a scrape only copies bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Exposed {
    /// The prefix with its `_` (`brain_`), or empty.
    pub(crate) prefix: String,
    /// The constant labels, in the order given.
    pub(crate) labels: Vec<(String, String)>,
    /// The same labels as a label set's inside, escaped:
    /// `service="brain",environment="production"`.
    pub(crate) rendered: String,
}

/// The families the prefix leaves alone: obs's own (`obs_*`), the
/// process's (`process_*`, as every Prometheus client library names them)
/// and the host's (`node_*`, `node_exporter`'s names). Dashboards query these
/// under their usual names whatever the service is called.
pub(crate) const UNPREFIXED: &[&str] = &["obs_", "process_", "node_"];

impl Exposed {
    /// `prefix` without its trailing `_` (empty for none) and labels
    /// already checked by the registry.
    pub(crate) fn new(prefix: &str, labels: Vec<(String, String)>) -> Self {
        let mut rendered = String::new();
        for (k, v) in &labels {
            if !rendered.is_empty() {
                rendered.push(',');
            }
            rendered.push_str(k);
            rendered.push_str("=\"");
            escape_label_value(&mut rendered, v);
            rendered.push('"');
        }
        Self {
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}_")
            },
            labels,
            rendered,
        }
    }

    /// Whether the family `name` is exposed under the prefix: not when
    /// there is none, not for [`UNPREFIXED`] families, and not when the
    /// name carries the prefix already (a metric a migrating team declared
    /// as `brain_missions_total` stays that, never `brain_brain_…`).
    pub(crate) fn prefixes(&self, name: &str) -> bool {
        !self.prefix.is_empty()
            && !name.starts_with(self.prefix.as_str())
            && !UNPREFIXED.iter().any(|p| name.starts_with(p))
    }

    /// Whether `name` is one of the constant labels.
    pub(crate) fn has_label(&self, name: &str) -> bool {
        self.labels.iter().any(|(k, _)| k == name)
    }
}

/// A metric family's type, as written after `# TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::Summary => "summary",
            Self::Untyped => "untyped",
        }
    }
}

/// Receives metric families and their series. `family` comes first, then the
/// series of that family.
pub(crate) trait Sink {
    fn family(&mut self, name: &str, help: &str, kind: Kind);
    fn counter(&mut self, name: &str, labels: &[(&str, &str)], value: u64);
    fn gauge(&mut self, name: &str, labels: &[(&str, &str)], value: f64);
    fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
        snap: &HistogramSnapshot,
    );
    /// A sample written as it is: summaries and untyped series of foreign
    /// collectors.
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64);

    /// Whether the sink writes exemplars: the others are not given any, so
    /// a text scrape spends nothing on them.
    fn wants_exemplars(&self) -> bool {
        false
    }

    /// [`counter`](Self::counter) with the series' last exemplar, if it
    /// kept one. Only a sink that can write exemplars (`OpenMetrics`)
    /// overrides it; the others drop the exemplar.
    fn counter_with_exemplar(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        value: u64,
        exemplar: Option<&Exemplar<'_>>,
    ) {
        let _ = exemplar;
        self.counter(name, labels, value);
    }

    /// [`histogram`](Self::histogram) with an exemplar per bucket
    /// (`exemplars[i]` belongs to the bucket of `bounds[i]`, the last one
    /// to `+Inf`; a shorter slice leaves the rest without one).
    fn histogram_with_exemplars(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
        snap: &HistogramSnapshot,
        exemplars: &[Option<Exemplar<'_>>],
    ) {
        let _ = exemplars;
        self.histogram(name, labels, bounds, snap);
    }
}

/// Writes the text format into a `String`.
///
/// A scrape of 10,000 series is about 1 MB of text, so the writer avoids
/// every per-series cost it can: integers are formatted by hand, a label
/// value is copied whole unless it holds a character to escape, and the
/// `le` values of a histogram are rendered once per bucket layout, not once
/// per series.
#[derive(Debug, Default)]
pub(crate) struct TextSink {
    pub(crate) out: String,
    le: LeValues,
    /// The registry's prefix and constant labels, if configured.
    exposed: Option<&'static Exposed>,
    /// Whether the family being written takes the prefix.
    prefixed: bool,
}

/// The `le` values of the last bucket layout a sink wrote, rendered once
/// per layout rather than once per series.
#[derive(Debug, Default)]
pub(crate) struct LeValues {
    /// The bucket layout whose `le` values are in `text`.
    of: Vec<f64>,
    text: Vec<String>,
}

impl LeValues {
    /// The rendered `le` values of `bounds` (then `+Inf`), each written by
    /// `write`; taken out of the cache, to be given back with
    /// [`put_back`](Self::put_back) once the series is written.
    pub(crate) fn take(&mut self, bounds: &[f64], write: fn(&mut String, f64)) -> Vec<String> {
        // Compared by value: a few float compares, and right even when a
        // foreign collector's temporary list reuses an address.
        if self.text.is_empty() || self.of != bounds {
            self.text.clear();
            for b in bounds {
                let mut text = String::new();
                write(&mut text, *b);
                self.text.push(text);
            }
            self.text.push("+Inf".to_owned());
            self.of.clear();
            self.of.extend_from_slice(bounds);
        }
        std::mem::take(&mut self.text)
    }

    /// Gives back what [`take`](Self::take) lent.
    pub(crate) fn put_back(&mut self, text: Vec<String>) {
        self.text = text;
    }
}

impl TextSink {
    /// A sink whose buffer starts with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
            ..Self::default()
        }
    }

    /// The same sink, writing the registry's prefix and constant labels.
    pub(crate) fn exposing(mut self, exposed: Option<&'static Exposed>) -> Self {
        self.exposed = exposed;
        self
    }

    /// A sample's or family's name, with the prefix when its family takes it.
    fn name(&mut self, name: &str) {
        if self.prefixed
            && let Some(e) = self.exposed
        {
            self.out.push_str(&e.prefix);
        }
        self.out.push_str(name);
    }

    fn labels(&mut self, labels: &[(&str, &str)], extra: Option<(&str, &str)>) {
        write_labels(&mut self.out, labels, self.exposed, extra);
    }

    fn series(&mut self, name: &str, labels: &[(&str, &str)], extra: Option<(&str, &str)>) {
        self.name(name);
        self.labels(labels, extra);
        self.out.push(' ');
    }

    fn value_u64(&mut self, v: u64) {
        write_u64(&mut self.out, v);
        self.out.push('\n');
    }

    fn value_f64(&mut self, v: f64) {
        write_float(&mut self.out, v);
        self.out.push('\n');
    }

    /// `name` followed by `suffix`, then the labels.
    fn suffixed(&mut self, name: &str, suffix: &str, labels: &[(&str, &str)]) {
        self.name(name);
        self.out.push_str(suffix);
        self.labels(labels, None);
        self.out.push(' ');
    }
}

impl Sink for TextSink {
    fn family(&mut self, name: &str, help: &str, kind: Kind) {
        self.prefixed = self.exposed.is_some_and(|e| e.prefixes(name));
        self.out.push_str("# HELP ");
        self.name(name);
        self.out.push(' ');
        escape_help(&mut self.out, help);
        self.out.push_str("\n# TYPE ");
        self.name(name);
        self.out.push(' ');
        self.out.push_str(kind.as_str());
        self.out.push('\n');
    }

    fn counter(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        self.series(name, labels, None);
        self.value_u64(value);
    }

    fn gauge(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.series(name, labels, None);
        self.value_f64(value);
    }

    fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
        snap: &HistogramSnapshot,
    ) {
        let le = self.le.take(bounds, write_float);
        for (count, le) in snap.cumulative.iter().zip(&le) {
            self.name(name);
            self.out.push_str("_bucket");
            self.labels(labels, Some(("le", le)));
            self.out.push(' ');
            self.value_u64(*count);
        }
        self.le.put_back(le);
        self.suffixed(name, "_sum", labels);
        self.value_f64(snap.sum);
        self.suffixed(name, "_count", labels);
        self.value_u64(snap.count());
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.series(name, labels, None);
        self.value_f64(value);
    }
}

/// Integers are written by the leaves' helper (log lines use it too).
pub(crate) use crate::leaves::text::write_u64;

/// Writes a float the way Prometheus parses it: `+Inf`, `-Inf`, `NaN`, and
/// the shortest decimal that reads back to the same value otherwise.
pub(crate) fn write_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Escapes `# HELP` text: `\` and newline.
pub(crate) fn escape_help(out: &mut String, text: &str) {
    if !text.bytes().any(|b| b == b'\\' || b == b'\n') {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Whether `bytes` holds `\\`, `"` or a newline. Eight bytes at a time: a
/// byte equal to `c` is a zero byte of `word ^ (c * 0x01..01)`, and
/// `(x - 0x01..01) & !x & 0x80..80` is non-zero exactly when `x` has a zero
/// byte. Label values are the bulk of a scrape's text.
fn needs_label_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has = |word: u64, c: u8| {
        let x = word ^ (ONES * u64::from(c));
        x.wrapping_sub(ONES) & !x & HIGHS != 0
    };
    let word_has = |word: u64| has(word, b'\\') || has(word, b'"') || has(word, b'\n');
    if let Some(&last) = bytes.last_chunk::<8>() {
        // Whole words, then the last eight bytes (overlapping the words
        // already seen: only presence matters), so no byte loop.
        let (words, rest) = bytes.as_chunks::<8>();
        return words.iter().any(|&word| word_has(u64::from_le_bytes(word)))
            || (!rest.is_empty() && word_has(u64::from_le_bytes(last)));
    }
    if let (Some(&first), Some(&last)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        // Two overlapping halves; short values (`"GET"`, `"200"`, enum
        // names) are most of a scrape's label values.
        let half = |word: [u8; 4]| u64::from(u32::from_le_bytes(word));
        return word_has(half(first) | (half(last) << 32));
    }
    bytes.iter().any(|&b| b == b'\\' || b == b'"' || b == b'\n')
}

/// `{k="v",…}`: the series' labels, the registry's constant labels, then
/// `extra` (a histogram's `le`); nothing when there are no labels. Both
/// text formats spell label sets alike.
pub(crate) fn write_labels(
    out: &mut String,
    labels: &[(&str, &str)],
    constant: Option<&Exposed>,
    extra: Option<(&str, &str)>,
) {
    let constant = constant.filter(|c| !c.labels.is_empty());
    if labels.is_empty() && extra.is_none() && constant.is_none() {
        return;
    }
    out.push('{');
    let open = out.len();
    // A comma before every pair but the first.
    let pair = |out: &mut String, k: &str, v: &str| {
        if out.len() > open {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        escape_label_value(out, v);
        out.push('"');
    };
    for (k, v) in labels {
        pair(out, k, v);
    }
    if let Some(c) = constant {
        if labels.iter().any(|(k, _)| c.has_label(k)) {
            // The registry refuses a family whose labels clash with the
            // constant ones; should a foreign collector still write one,
            // the series' own label wins, so the label set stays valid.
            for (k, v) in &c.labels {
                if !labels.iter().any(|(l, _)| l == k) {
                    pair(out, k, v);
                }
            }
        } else {
            if out.len() > open {
                out.push(',');
            }
            out.push_str(&c.rendered);
        }
    }
    if let Some((k, v)) = extra {
        pair(out, k, v);
    }
    out.push('}');
}

/// Escapes a label value: `\`, `"` and newline. Values longer than the
/// schema's limit are cut at a character boundary first.
pub(crate) fn escape_label_value(out: &mut String, value: &str) {
    let value = crate::leaves::schema::truncate_label_value(value);
    if !needs_label_escape(value.as_bytes()) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_back_in_prometheus_syntax() {
        let mut s = String::new();
        for v in [
            0.0,
            1.0,
            2.5,
            0.01,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -3.25,
        ] {
            write_float(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "0 1 2.5 0.01 +Inf -Inf NaN -3.25 ");
    }

    #[test]
    fn escaping() {
        let mut s = String::new();
        escape_help(&mut s, "a\\b\n\"c\"");
        assert_eq!(s, "a\\\\b\\n\"c\"");
        s.clear();
        escape_label_value(&mut s, "a\\b\n\"c\" é");
        assert_eq!(s, "a\\\\b\\n\\\"c\\\" é");
    }

    #[test]
    fn escape_detection_sees_every_position() {
        for special in ['\\', '"', '\n'] {
            for len in 0..20 {
                for at in 0..len {
                    let mut v: Vec<char> = "abcdefghijklmnopqrst".chars().take(len).collect();
                    v[at] = special;
                    let v: String = v.into_iter().collect();
                    assert!(needs_label_escape(v.as_bytes()), "{v:?}");
                }
            }
        }
        assert!(!needs_label_escape("/api/v1/route/{id} é ✓ \t".as_bytes()));
        for len in 0..20 {
            let v = &"ab\u{e9}cd\u{2713}efghijklmnopq".as_bytes()[..len];
            assert!(!needs_label_escape(v), "{v:?}");
        }
    }

    #[test]
    fn constant_labels_go_before_le_and_give_way_to_a_series_label() {
        let exposed = Exposed::new(
            "brain",
            vec![
                ("service".into(), "br\"ain".into()),
                ("env".into(), "prod".into()),
            ],
        );
        let labels = |l: &[(&str, &str)], extra| {
            let mut s = String::new();
            write_labels(&mut s, l, Some(&exposed), extra);
            s
        };
        assert_eq!(labels(&[], None), r#"{service="br\"ain",env="prod"}"#);
        assert_eq!(
            labels(&[("a", "1")], Some(("le", "+Inf"))),
            r#"{a="1",service="br\"ain",env="prod",le="+Inf"}"#
        );
        assert_eq!(
            labels(&[("service", "own")], None),
            r#"{service="own",env="prod"}"#
        );
        assert!(exposed.prefixes("http_requests_total"));
        for name in [
            "brain_x",
            "process_cpu_seconds_total",
            "obs_build_info",
            "node_load1",
        ] {
            assert!(!exposed.prefixes(name), "{name}");
        }
        let mut sink = TextSink::default().exposing(Some(Box::leak(Box::new(exposed.clone()))));
        sink.family("jobs_total", "Jobs.", Kind::Counter);
        sink.counter("jobs_total", &[], 3);
        assert_eq!(
            sink.out,
            "# HELP brain_jobs_total Jobs.\n# TYPE brain_jobs_total counter\nbrain_jobs_total{service=\"br\\\"ain\",env=\"prod\"} 3\n"
        );
    }

    #[test]
    fn integers() {
        let mut s = String::new();
        for v in [0, 7, 10, 1_234_567, u64::MAX] {
            write_u64(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "0 7 10 1234567 18446744073709551615 ");
    }
}
