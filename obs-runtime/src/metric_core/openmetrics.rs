//! `OpenMetrics` 1.0.0 text, from the same registry walk as the 0.0.4 text
//! format: `OpenMetricsSink` is one more [`Sink`].
//!
//! What differs from the 0.0.4 text, per the specification
//! (<https://github.com/OpenObservability/OpenMetrics/blob/main/specification/OpenMetrics.md>):
//!
//! - A family is described by `# TYPE`, `# UNIT` and `# HELP`. The unit is
//!   read from the name's suffix (`_seconds`, `_bytes`, …; see [`UNITS`]),
//!   because the specification requires a declared unit to be a suffix of
//!   the family's name; a family without one gets no `# UNIT` line.
//! - A counter family is named without `_total` (`# TYPE
//!   process_cpu_seconds counter`), and its samples keep the suffix
//!   (`process_cpu_seconds_total 4.2`). obs's own counters always end in
//!   `_total` (the schema requires it), so their series are the same in
//!   both formats. A counter of a foreign `prometheus` collector whose name
//!   lacks `_total` is written as `unknown` under its own name: appending
//!   `_total` would rename the series whenever the scraper switches
//!   format, and dashboards and alerts would lose it.
//! - `_created` is optional and left out: obs keeps no creation time per
//!   series.
//! - `le` (and a summary's `quantile`) values are canonical numbers: Go's
//!   `%g` with `.0` appended to an integer (`le="1.0"`, `le="0.005"`,
//!   `le="1e+06"`), and `+Inf`.
//! - A histogram with a negative bound writes no `_sum` (the specification
//!   allows a sum only where it can't decrease).
//! - `untyped` is `unknown`; `# HELP` text escapes `"` too; the exposition
//!   ends with `# EOF`.
//! - A bucket or counter sample may carry an exemplar
//!   (`… 3 # {trace_id="…",span_id="…"} 0.042 1700000000.5`), given through
//!   [`Sink::histogram_with_exemplars`] and [`Sink::counter_with_exemplar`].

use crate::metric_core::encode::{
    Exemplar, Exposed, HistogramSnapshot, Kind, LeValues, Sink, escape_label_value, write_float,
    write_labels, write_u64,
};

/// The unit suffixes a family name may end in, as `OpenMetrics` declares them
/// in `# UNIT`: the Prometheus base units.
pub(crate) const UNITS: &[&str] = &[
    "seconds", "bytes", "ratio", "meters", "grams", "joules", "volts", "amperes", "celsius",
];

/// How the samples of the family being written are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Anything whose sample names are written as given.
    Plain,
    /// A summary: its `quantile` label values are rendered canonically.
    Summary,
}

/// Writes `OpenMetrics` 1.0.0 text into a `String`; [`finish`](Self::finish)
/// adds the closing `# EOF`.
#[derive(Debug)]
pub(crate) struct OpenMetricsSink {
    out: String,
    family: Family,
    /// The canonical `le` values of the last bucket layout.
    le: LeValues,
    /// The registry's prefix and constant labels, if configured.
    exposed: Option<&'static Exposed>,
    /// Whether the family being written takes the prefix.
    prefixed: bool,
}

impl Default for OpenMetricsSink {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl OpenMetricsSink {
    /// A sink whose buffer starts with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
            family: Family::Plain,
            le: LeValues::default(),
            exposed: None,
            prefixed: false,
        }
    }

    /// The same sink, writing the registry's prefix and constant labels.
    pub(crate) fn exposing(mut self, exposed: Option<&'static Exposed>) -> Self {
        self.exposed = exposed;
        self
    }

    /// A family's or sample's name, with the prefix when the family takes it.
    fn name(&mut self, name: &str) {
        if self.prefixed
            && let Some(e) = self.exposed
        {
            self.out.push_str(&e.prefix);
        }
        self.out.push_str(name);
    }

    /// The exposition, ended with `# EOF`.
    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("# EOF\n");
        self.out
    }

    fn labels(&mut self, labels: &[(&str, &str)], extra: Option<(&str, &str)>) {
        write_labels(&mut self.out, labels, self.exposed, extra);
    }

    /// `name`, `suffix`, the labels and a space.
    fn series(&mut self, name: &str, suffix: &str, labels: &[(&str, &str)]) {
        self.name(name);
        self.out.push_str(suffix);
        self.labels(labels, None);
        self.out.push(' ');
    }

    /// Ends a sample: its exemplar, if any, and the newline.
    fn end(&mut self, exemplar: Option<&Exemplar<'_>>) {
        if let Some(e) = exemplar {
            self.out.push_str(" # ");
            // An exemplar's label set is written even when empty.
            self.out.push('{');
            let mut sep = false;
            for (k, v) in e.labels {
                if sep {
                    self.out.push(',');
                }
                sep = true;
                self.out.push_str(k);
                self.out.push_str("=\"");
                escape_label_value(&mut self.out, v);
                self.out.push('"');
            }
            self.out.push_str("} ");
            write_float(&mut self.out, e.value);
            if let Some(ts) = e.timestamp {
                self.out.push(' ');
                write_float(&mut self.out, ts);
            }
        }
        self.out.push('\n');
    }
}

/// The unit `name` declares by its suffix, if any.
pub(crate) fn unit_of(name: &str) -> Option<&'static str> {
    UNITS.iter().copied().find(|unit| {
        name.strip_suffix(unit)
            .is_some_and(|rest| rest.len() > 1 && rest.ends_with('_'))
    })
}

/// Escapes `# HELP` text for `OpenMetrics`: `\`, newline and `"`.
fn escape_help(out: &mut String, text: &str) {
    if !text.bytes().any(|b| matches!(b, b'\\' | b'\n' | b'"')) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// Writes `v` as a canonical `OpenMetrics` number (for `le` and `quantile`):
/// Go's `%g` (the shortest decimal that reads back; exponent form below
/// 1e-4 and from 1e+06 on, with a sign and at least two exponent digits),
/// with `.0` appended when the result has neither a point nor an exponent.
pub(crate) fn write_canonical(out: &mut String, v: f64) {
    if !v.is_finite() {
        write_float(out, v);
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // `{:e}` is the shortest round-trip mantissa and its exponent.
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        let start = out.len();
        write_float(out, v);
        if !out.get(start..).is_some_and(|s| s.contains('.')) {
            out.push_str(".0");
        }
    } else {
        out.push_str(mantissa);
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            out.push('0');
        }
        write_u64(out, u64::from(abs));
    }
}

impl Sink for OpenMetricsSink {
    fn wants_exemplars(&self) -> bool {
        true
    }

    fn family(&mut self, name: &str, help: &str, kind: Kind) {
        let (family, type_name) = match kind {
            Kind::Counter => match name.strip_suffix("_total") {
                Some(base) if !base.is_empty() => (base, "counter"),
                // See the module's documentation: the series keeps its name.
                _ => (name, "unknown"),
            },
            Kind::Gauge => (name, "gauge"),
            Kind::Histogram => (name, "histogram"),
            Kind::Summary => (name, "summary"),
            Kind::Untyped => (name, "unknown"),
        };
        self.prefixed = self.exposed.is_some_and(|e| e.prefixes(name));
        self.family = if kind == Kind::Summary {
            Family::Summary
        } else {
            Family::Plain
        };
        self.out.push_str("# TYPE ");
        self.name(family);
        self.out.push(' ');
        self.out.push_str(type_name);
        self.out.push('\n');
        if let Some(unit) = unit_of(family) {
            self.out.push_str("# UNIT ");
            self.name(family);
            self.out.push(' ');
            self.out.push_str(unit);
            self.out.push('\n');
        }
        self.out.push_str("# HELP ");
        self.name(family);
        self.out.push(' ');
        escape_help(&mut self.out, help);
        self.out.push('\n');
    }

    fn counter(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        self.counter_with_exemplar(name, labels, value, None);
    }

    fn counter_with_exemplar(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        value: u64,
        exemplar: Option<&Exemplar<'_>>,
    ) {
        self.series(name, "", labels);
        write_u64(&mut self.out, value);
        self.end(exemplar);
    }

    fn gauge(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.series(name, "", labels);
        write_float(&mut self.out, value);
        self.out.push('\n');
    }

    fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
        snap: &HistogramSnapshot,
    ) {
        self.histogram_with_exemplars(name, labels, bounds, snap, &[]);
    }

    fn histogram_with_exemplars(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
        snap: &HistogramSnapshot,
        exemplars: &[Option<Exemplar<'_>>],
    ) {
        let le = self.le.take(bounds, write_canonical);
        for (i, (count, le)) in snap.cumulative.iter().zip(&le).enumerate() {
            self.name(name);
            self.out.push_str("_bucket");
            self.labels(labels, Some(("le", le)));
            self.out.push(' ');
            write_u64(&mut self.out, *count);
            self.end(exemplars.get(i).and_then(Option::as_ref));
        }
        self.le.put_back(le);
        self.series(name, "_count", labels);
        write_u64(&mut self.out, snap.count());
        self.out.push('\n');
        // A sum is a counter in OpenMetrics: not with negative bounds, nor
        // when it is negative or not a number.
        if bounds.iter().all(|b| *b >= 0.0) && snap.sum >= 0.0 {
            self.series(name, "_sum", labels);
            write_float(&mut self.out, snap.sum);
            self.out.push('\n');
        }
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        if self.family == Family::Summary && labels.iter().any(|(k, _)| *k == "quantile") {
            let canonical: Vec<String> = labels
                .iter()
                .map(|(k, v)| match v.parse::<f64>() {
                    Ok(q) if *k == "quantile" => {
                        let mut s = String::new();
                        write_canonical(&mut s, q);
                        s
                    }
                    _ => (*v).to_owned(),
                })
                .collect();
            let relabelled: Vec<(&str, &str)> = labels
                .iter()
                .zip(&canonical)
                .map(|((k, _), v)| (*k, v.as_str()))
                .collect();
            self.series(name, "", &relabelled);
        } else {
            self.series(name, "", labels);
        }
        write_float(&mut self.out, value);
        self.out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut OpenMetricsSink)) -> String {
        let mut sink = OpenMetricsSink::default();
        f(&mut sink);
        sink.finish()
    }

    #[test]
    fn canonical_numbers_follow_the_specification_examples() {
        let render = |values: &[f64]| {
            values
                .iter()
                .map(|v| {
                    let mut s = String::new();
                    write_canonical(&mut s, *v);
                    s
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            render(&[
                0.0, 0.001, 0.002, 0.01, 0.1, 0.9, 0.95, 0.99, 0.999, 1.0, 1.7, 10.0
            ]),
            "0.0 0.001 0.002 0.01 0.1 0.9 0.95 0.99 0.999 1.0 1.7 10.0"
        );
        assert_eq!(
            render(&[1e-10, 1e-9, 1e-5, 1e-4, 0.1, 1.0, 1e5, 1e6, 1e10]),
            "1e-10 1e-09 1e-05 0.0001 0.1 1.0 100000.0 1e+06 1e+10"
        );
        assert_eq!(
            render(&[f64::INFINITY, f64::NEG_INFINITY, -2.5, 2.5e-7, 1.5e300]),
            "+Inf -Inf -2.5 2.5e-07 1.5e+300"
        );
    }

    #[test]
    fn counters_drop_total_from_the_family_and_keep_it_on_samples() {
        let text = written(|s| {
            s.family("jobs_processed_total", "Jobs done.", Kind::Counter);
            s.counter("jobs_processed_total", &[("queue", "mail")], 7);
            s.family("process_cpu_seconds_total", "CPU time.", Kind::Counter);
            s.sample("process_cpu_seconds_total", &[], 4.25);
        });
        assert_eq!(
            text,
            "# TYPE jobs_processed counter\n# HELP jobs_processed Jobs done.\njobs_processed_total{queue=\"mail\"} 7\n\
             # TYPE process_cpu_seconds counter\n# UNIT process_cpu_seconds seconds\n# HELP process_cpu_seconds CPU time.\nprocess_cpu_seconds_total 4.25\n# EOF\n"
        );
    }

    #[test]
    fn a_counter_without_total_keeps_its_series_name_as_unknown() {
        let text = written(|s| {
            s.family("legacy_hits", "Hits.", Kind::Counter);
            s.sample("legacy_hits", &[], 3.0);
            s.family("_total", "Odd.", Kind::Counter);
            s.sample("_total", &[], 1.0);
        });
        assert_eq!(
            text,
            "# TYPE legacy_hits unknown\n# HELP legacy_hits Hits.\nlegacy_hits 3\n\
             # TYPE _total unknown\n# HELP _total Odd.\n_total 1\n# EOF\n"
        );
    }

    #[test]
    fn gauges_and_untyped() {
        let text = written(|s| {
            s.family("queue_depth", "Waiting.", Kind::Gauge);
            s.gauge("queue_depth", &[("queue", "a")], 2.5);
            s.family("process_resident_memory_bytes", "RSS.", Kind::Gauge);
            s.sample("process_resident_memory_bytes", &[], 1024.0);
            s.family("foreign_thing", "Whatever.", Kind::Untyped);
            s.sample("foreign_thing", &[], f64::NAN);
        });
        assert_eq!(
            text,
            "# TYPE queue_depth gauge\n# HELP queue_depth Waiting.\nqueue_depth{queue=\"a\"} 2.5\n\
             # TYPE process_resident_memory_bytes gauge\n# UNIT process_resident_memory_bytes bytes\n# HELP process_resident_memory_bytes RSS.\nprocess_resident_memory_bytes 1024\n\
             # TYPE foreign_thing unknown\n# HELP foreign_thing Whatever.\nforeign_thing NaN\n# EOF\n"
        );
    }

    #[test]
    fn histograms_write_canonical_le_count_and_sum() {
        let snap = HistogramSnapshot {
            cumulative: vec![1, 3, 4],
            sum: 2.75,
        };
        let text = written(|s| {
            s.family("req_duration_seconds", "Latency.", Kind::Histogram);
            s.histogram(
                "req_duration_seconds",
                &[("route", "/a")],
                &[0.5, 1.0],
                &snap,
            );
            s.histogram(
                "req_duration_seconds",
                &[("route", "/b")],
                &[0.5, 1.0],
                &snap,
            );
        });
        assert_eq!(
            text,
            "# TYPE req_duration_seconds histogram\n# UNIT req_duration_seconds seconds\n# HELP req_duration_seconds Latency.\n\
             req_duration_seconds_bucket{route=\"/a\",le=\"0.5\"} 1\n\
             req_duration_seconds_bucket{route=\"/a\",le=\"1.0\"} 3\n\
             req_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n\
             req_duration_seconds_count{route=\"/a\"} 4\n\
             req_duration_seconds_sum{route=\"/a\"} 2.75\n\
             req_duration_seconds_bucket{route=\"/b\",le=\"0.5\"} 1\n\
             req_duration_seconds_bucket{route=\"/b\",le=\"1.0\"} 3\n\
             req_duration_seconds_bucket{route=\"/b\",le=\"+Inf\"} 4\n\
             req_duration_seconds_count{route=\"/b\"} 4\n\
             req_duration_seconds_sum{route=\"/b\"} 2.75\n# EOF\n"
        );
    }

    #[test]
    fn a_histogram_with_negative_bounds_has_no_sum() {
        let snap = HistogramSnapshot {
            cumulative: vec![1, 2],
            sum: -3.0,
        };
        let text = written(|s| {
            s.family("temperature_celsius", "T.", Kind::Histogram);
            s.histogram("temperature_celsius", &[], &[-1.0], &snap);
        });
        assert!(
            text.contains("temperature_celsius_bucket{le=\"-1.0\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("temperature_celsius_count 2\n"), "{text}");
        assert!(!text.contains("_sum"), "{text}");
    }

    #[test]
    fn summaries_render_quantiles_canonically() {
        let text = written(|s| {
            s.family("rpc_seconds", "RPC.", Kind::Summary);
            s.sample("rpc_seconds", &[("quantile", "1"), ("m", "x")], 0.5);
            s.sample("rpc_seconds_sum", &[("m", "x")], 9.0);
            s.sample("rpc_seconds_count", &[("m", "x")], 3.0);
        });
        assert!(
            text.contains("# TYPE rpc_seconds summary\n# UNIT rpc_seconds seconds\n"),
            "{text}"
        );
        assert!(
            text.contains("rpc_seconds{quantile=\"1.0\",m=\"x\"} 0.5\n"),
            "{text}"
        );
        assert!(
            text.contains("rpc_seconds_sum{m=\"x\"} 9\nrpc_seconds_count{m=\"x\"} 3\n"),
            "{text}"
        );
    }

    #[test]
    fn help_and_label_values_are_escaped() {
        let text = written(|s| {
            s.family("x_total", "C:\\temp,\nsaid \"hi\" ✓", Kind::Counter);
            s.counter("x_total", &[("note", "a\\b\n\"c\" é")], 1);
        });
        assert_eq!(
            text,
            "# TYPE x counter\n# HELP x C:\\\\temp,\\nsaid \\\"hi\\\" ✓\nx_total{note=\"a\\\\b\\n\\\"c\\\" é\"} 1\n# EOF\n"
        );
    }

    #[test]
    fn units_are_suffixes_after_an_underscore() {
        assert_eq!(unit_of("http_request_duration_seconds"), Some("seconds"));
        assert_eq!(unit_of("body_size_bytes"), Some("bytes"));
        assert_eq!(unit_of("seconds"), None);
        assert_eq!(unit_of("_seconds"), None);
        assert_eq!(unit_of("milliseconds"), None);
        assert_eq!(unit_of("queue_depth"), None);
    }

    #[test]
    fn exemplars_follow_their_bucket_and_counter_samples() {
        let snap = HistogramSnapshot {
            cumulative: vec![1, 2],
            sum: 0.6,
        };
        let ids = [
            ("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
            ("span_id", "00f067aa0ba902b7"),
        ];
        let text = written(|s| {
            s.family("d_seconds", "D.", Kind::Histogram);
            s.histogram_with_exemplars(
                "d_seconds",
                &[],
                &[0.1],
                &snap,
                &[
                    None,
                    Some(Exemplar {
                        labels: &ids,
                        value: 0.5,
                        timestamp: Some(1_700_000_000.5),
                    }),
                ],
            );
            s.family("c_total", "C.", Kind::Counter);
            s.counter_with_exemplar(
                "c_total",
                &[],
                4,
                Some(&Exemplar {
                    labels: &[],
                    value: 1.0,
                    timestamp: None,
                }),
            );
        });
        assert!(text.contains("d_seconds_bucket{le=\"0.1\"} 1\n"), "{text}");
        assert!(
            text.contains("d_seconds_bucket{le=\"+Inf\"} 2 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\",span_id=\"00f067aa0ba902b7\"} 0.5 1700000000.5\n"),
            "{text}"
        );
        assert!(text.contains("c_total 4 # {} 1\n"), "{text}");
    }

    #[test]
    fn an_empty_exposition_is_just_eof() {
        assert_eq!(written(|_| {}), "# EOF\n");
    }
}
