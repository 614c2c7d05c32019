//! The text exposition with arbitrary help text and label values: every
//! scrape reads back as Prometheus text line by line, the help text and
//! every label value unescape to what was given (values cut at the
//! schema's limit), and no series is written twice. The OpenMetrics
//! scrape of the same registry ends with its one `# EOF` line, names the
//! counter family without `_total` with its help escaped the OpenMetrics
//! way (`"` too), and holds the counter's sample lines exactly as the text
//! scrape does.
//!
//! Input: fields split at `0x00`; the first is the help text, the rest are
//! label values, two per series. Each input registers one more counter and
//! histogram for the life of the process (registration is for ever), so
//! `scripts/fuzz` restarts the target every 20 inputs
//! (`AFL_FUZZER_LOOPCOUNT`) to keep the scrape small.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use obs_fuzz::exposition::parse;
use obs_runtime::metrics::{Counter, Histogram};
use obs_runtime::schema::{OVERFLOW_VALUE, truncate_label_value};
use obs_runtime::{LabelSet, encode_openmetrics, encode_text};

#[derive(LabelSet, Clone, Copy)]
struct Labels {
    route: &'static str,
    tier: &'static str,
}

fn main() {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    afl::fuzz!(|data: &[u8]| {
        let fields = obs_fuzz::fields(data);
        let (help, values) = fields.split_first().expect("split gives one field");
        let n = NEXT.fetch_add(1, Relaxed);
        let counter_name = format!("fuzz_{n}_total");
        let histogram_name = format!("fuzz_{n}_seconds");
        let counter = Counter::<Labels>::new(counter_name.clone(), help.clone())
            .expect("a valid name")
            .register()
            .expect("a fresh name");
        let histogram = Histogram::<Labels>::new(histogram_name.clone(), help.clone(), &[0.1, 1.0])
            .expect("a valid name")
            .register()
            .expect("a fresh name");
        let pairs: Vec<[&str; 2]> = values
            .chunks(2)
            .map(|pair| [pair[0].as_str(), pair.get(1).map_or("", String::as_str)])
            .collect();
        for (i, pair) in pairs.iter().enumerate() {
            counter.with_values(pair).inc();
            #[allow(clippy::cast_precision_loss)]
            histogram.with_values(pair).observe(i as f64 / 10.0);
        }

        let text = encode_text();
        let scrape = parse(&text).unwrap_or_else(|e| panic!("{e}\nscrape:\n{text}"));
        for family in [&counter_name, &histogram_name] {
            assert_eq!(
                scrape.help_of(family),
                Some(help.as_str()),
                "help of {family}"
            );
        }
        for pair in &pairs {
            // A value equal to the overflow marker is refused into the
            // overflow series: `__overflow__` only ever means "refused".
            let want = if pair.contains(&OVERFLOW_VALUE) {
                [OVERFLOW_VALUE, OVERFLOW_VALUE]
            } else {
                [truncate_label_value(pair[0]), truncate_label_value(pair[1])]
            };
            let found = scrape.samples_of(&counter_name).any(|s| {
                s.labels.len() == 2
                    && s.labels[0] == ("route".to_owned(), want[0].to_owned())
                    && s.labels[1] == ("tier".to_owned(), want[1].to_owned())
            });
            assert!(found, "no series {want:?} in\n{text}");
        }

        let om = encode_openmetrics();
        let eof: Vec<usize> = om
            .lines()
            .enumerate()
            .filter(|(_, l)| *l == "# EOF")
            .map(|(i, _)| i)
            .collect();
        assert_eq!(eof, [om.lines().count() - 1], "# EOF once, last:\n{om}");
        assert!(om.ends_with("# EOF\n"));
        let mut escaped = String::new();
        for c in help.chars() {
            match c {
                '\\' => escaped.push_str("\\\\"),
                '\n' => escaped.push_str("\\n"),
                '"' => escaped.push_str("\\\""),
                c => escaped.push(c),
            }
        }
        let family = counter_name.trim_end_matches("_total");
        assert!(
            om.contains(&format!("# TYPE {family} counter\n")),
            "no counter family {family} in\n{om}"
        );
        assert!(
            om.contains(&format!("# HELP {family} {escaped}\n")),
            "help of {family} in\n{om}"
        );
        let samples = |scrape: &str| -> Vec<String> {
            let prefix = format!("{counter_name}{{");
            scrape
                .lines()
                .filter(|l| l.starts_with(&prefix))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(samples(&om), samples(&text), "counter samples differ");
    });
}
