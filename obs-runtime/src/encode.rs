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
#[derive(Debug, Default)]
pub(crate) struct TextSink {
    pub(crate) out: String,
}

impl TextSink {
    fn series(&mut self, name: &str, labels: &[(&str, &str)], extra: Option<(&str, &str)>) {
        self.out.push_str(name);
        if !labels.is_empty() || extra.is_some() {
            self.out.push('{');
            let mut first = true;
            for (k, v) in labels.iter().copied().chain(extra) {
                if !first {
                    self.out.push(',');
                }
                first = false;
                self.out.push_str(k);
                self.out.push_str("=\"");
                escape_label_value(&mut self.out, v);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
    }

    fn value_u64(&mut self, v: u64) {
        let _ = writeln!(self.out, "{v}");
    }

    fn value_f64(&mut self, v: f64) {
        write_float(&mut self.out, v);
        self.out.push('\n');
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
        let bucket = format!("{name}_bucket");
        let mut le = String::new();
        for (i, count) in snap.cumulative.iter().enumerate() {
            le.clear();
            match bounds.get(i) {
                Some(b) => write_float(&mut le, *b),
                None => le.push_str("+Inf"),
            }
            self.series(&bucket, labels, Some(("le", &le)));
            self.value_u64(*count);
        }
        self.series(&format!("{name}_sum"), labels, None);
        self.value_f64(snap.sum);
        self.series(&format!("{name}_count"), labels, None);
        self.value_u64(snap.count());
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.series(name, labels, None);
        self.value_f64(value);
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
    for c in crate::schema::truncate_label_value(value).chars() {
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
}
