//! The Prometheus text exposition format, version 0.0.4.
//!
//! Metrics describe themselves to a [`Sink`]; [`TextSink`] writes the text
//! format, and the registry's `prometheus::core::Collector` implementation
//! uses another sink that builds `MetricFamily` values. Escaping follows the
//! format exactly: in `# HELP` text `\` and newline are escaped, in label
//! values `\`, `"` and newline; everything else, non-ASCII included, is
//! written as UTF-8.

use std::fmt::Write as _;

use crate::metrics::cell::HistogramSnapshot;

/// The content type of the text format, for a `/metrics` response.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

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
    fn as_str(self) -> &'static str {
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
    /// The bucket layout whose `le` values are in `le`.
    le_of: Vec<f64>,
    le: Vec<String>,
}

impl TextSink {
    /// A sink whose buffer starts with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
            ..Self::default()
        }
    }

    fn labels(&mut self, labels: &[(&str, &str)], extra: Option<(&str, &str)>) {
        if labels.is_empty() && extra.is_none() {
            return;
        }
        self.out.push('{');
        for (i, (k, v)) in labels.iter().copied().chain(extra).enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape_label_value(&mut self.out, v);
            self.out.push('"');
        }
        self.out.push('}');
    }

    fn series(&mut self, name: &str, labels: &[(&str, &str)], extra: Option<(&str, &str)>) {
        self.out.push_str(name);
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

    /// Renders the `le` values of `bounds` unless they are the last ones.
    fn prepare_le(&mut self, bounds: &[f64]) {
        // Compared by value: a few float compares, and right even when a
        // foreign collector's temporary list reuses an address.
        if !self.le.is_empty() && self.le_of == bounds {
            return;
        }
        self.le.clear();
        for b in bounds {
            let mut text = String::new();
            write_float(&mut text, *b);
            self.le.push(text);
        }
        self.le.push("+Inf".to_owned());
        self.le_of.clear();
        self.le_of.extend_from_slice(bounds);
    }

    /// `name` followed by `suffix`, then the labels.
    fn suffixed(&mut self, name: &str, suffix: &str, labels: &[(&str, &str)]) {
        self.out.push_str(name);
        self.out.push_str(suffix);
        self.labels(labels, None);
        self.out.push(' ');
    }
}

impl Sink for TextSink {
    fn family(&mut self, name: &str, help: &str, kind: Kind) {
        self.out.push_str("# HELP ");
        self.out.push_str(name);
        self.out.push(' ');
        escape_help(&mut self.out, help);
        self.out.push_str("\n# TYPE ");
        self.out.push_str(name);
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
        self.prepare_le(bounds);
        let le = std::mem::take(&mut self.le);
        for (count, le) in snap.cumulative.iter().zip(&le) {
            self.out.push_str(name);
            self.out.push_str("_bucket");
            self.labels(labels, Some(("le", le)));
            self.out.push(' ');
            self.value_u64(*count);
        }
        self.le = le;
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

/// Writes an unsigned integer in decimal, without the formatting machinery.
pub(crate) fn write_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        // `v % 10` is below 10, so the cast can't truncate.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (v % 10) as u8;
        buf[i] = b'0' + digit;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if let Ok(digits) = std::str::from_utf8(&buf[i..]) {
        out.push_str(digits);
    }
}

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

/// Escapes a label value: `\`, `"` and newline. Values longer than the
/// schema's limit are cut at a character boundary first.
pub(crate) fn escape_label_value(out: &mut String, value: &str) {
    let value = crate::schema::truncate_label_value(value);
    if !value.bytes().any(|b| b == b'\\' || b == b'"' || b == b'\n') {
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
    fn integers() {
        let mut s = String::new();
        for v in [0, 7, 10, 1_234_567, u64::MAX] {
            write_u64(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "0 7 10 1234567 18446744073709551615 ");
    }
}
