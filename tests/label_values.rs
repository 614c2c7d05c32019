//! `with_values` on open label sets: a wrong number of values and the
//! overflow marker as a real value both go to the overflow series, counted,
//! so every series of the scrape has all of its family's labels and no two
//! series share their labels.

use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::{LabelSet, encode_text, schema};

#[derive(LabelSet, Clone, Copy)]
struct RouteTier {
    route: &'static str,
    tier: &'static str,
}

/// The series lines of `family` (its name, then `{` or a space), in scrape
/// order.
fn series_of<'a>(text: &'a str, family: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| {
            l.strip_prefix(family)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .collect()
}

/// No two lines of `family` name the same label set.
fn assert_unique_series(text: &str, family: &str) {
    let mut keys: Vec<&str> = series_of(text, family)
        .into_iter()
        .map(|l| l.rsplit_once(' ').map_or(l, |(k, _)| k))
        .collect();
    let all = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), all, "duplicate series of {family} in\n{text}");
}

#[test]
fn a_wrong_number_of_values_goes_to_the_overflow_series() {
    let c = Counter::<RouteTier>::new("arity_requests_total", "Requests.")
        .unwrap()
        .register()
        .unwrap();
    c.with_values(&["/a", "gold"]).inc();
    c.with_values(&["/a"]).inc(); // too few
    c.with_values(&["/a", "gold", "extra"]).inc(); // too many
    c.with_values(&[]).inc();
    assert_eq!(
        c.series(),
        1,
        "only the well-formed combination is a series"
    );
    assert_eq!(c.overflowed(), Some(3));
    let text = encode_text();
    assert_eq!(
        series_of(&text, "arity_requests_total"),
        [
            "arity_requests_total{route=\"/a\",tier=\"gold\"} 1",
            "arity_requests_total{route=\"__overflow__\",tier=\"__overflow__\"} 3",
        ],
        "{text}"
    );
    assert!(
        text.contains("obs_cardinality_overflow_total{metric=\"arity_requests_total\"} 3\n"),
        "{text}"
    );

    let g = Gauge::<RouteTier>::new("arity_queue_depth", "Depth.")
        .unwrap()
        .register()
        .unwrap();
    g.with_values(&["/a", "gold"]).set(2.0);
    g.with_values(&["/b"]).set(7.0);
    let h = Histogram::<RouteTier>::new("arity_wait_seconds", "Wait.", schema::LATENCY)
        .unwrap()
        .register()
        .unwrap();
    h.with_values(&["/a", "gold"]).observe(0.1);
    h.with_values(&["/a", "gold", "/b"]).observe(0.2);
    let text = encode_text();
    assert_eq!(
        series_of(&text, "arity_queue_depth"),
        [
            "arity_queue_depth{route=\"/a\",tier=\"gold\"} 2",
            "arity_queue_depth{route=\"__overflow__\",tier=\"__overflow__\"} 7",
        ],
        "{text}"
    );
    assert!(
        text.contains("arity_wait_seconds_count{route=\"__overflow__\",tier=\"__overflow__\"} 1\n")
            && text.contains("arity_wait_seconds_count{route=\"/a\",tier=\"gold\"} 1\n"),
        "{text}"
    );
    for family in ["arity_queue_depth", "arity_wait_seconds_bucket"] {
        assert_unique_series(&text, family);
        for line in series_of(&text, family) {
            assert!(line.contains("route=") && line.contains("tier="), "{line}");
        }
    }
}

#[test]
fn a_value_equal_to_the_overflow_marker_is_not_a_series_of_its_own() {
    let c = Counter::<RouteTier>::new("marker_requests_total", "Requests.")
        .unwrap()
        .with_max_series(2)
        .register()
        .unwrap();
    c.with_values(&[schema::OVERFLOW_VALUE, schema::OVERFLOW_VALUE])
        .inc();
    c.with(RouteTier {
        route: "/a",
        tier: schema::OVERFLOW_VALUE,
    })
    .inc();
    c.with_values(&["/a", "gold"]).inc();
    c.with_values(&["/b", "gold"]).inc();
    c.with_values(&["/c", "gold"]).inc(); // past the limit of 2
    assert_eq!(c.series(), 2);
    assert_eq!(c.overflowed(), Some(3));
    let text = encode_text();
    assert_eq!(
        series_of(&text, "marker_requests_total"),
        [
            "marker_requests_total{route=\"/a\",tier=\"gold\"} 1",
            "marker_requests_total{route=\"/b\",tier=\"gold\"} 1",
            "marker_requests_total{route=\"__overflow__\",tier=\"__overflow__\"} 3",
        ],
        "{text}"
    );
    assert_unique_series(&text, "marker_requests_total");
}
