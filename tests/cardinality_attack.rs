//! A million distinct label values against one bounded metric: the series
//! count stops at the cap, the rest is counted, and memory stays bounded.
//! Alone in its file (its own process) so no other test moves the RSS.

use obs_runtime::metrics::Counter;
use obs_runtime::{LabelSet, encode_text};

/// Resident memory of this process, from `/proc/self/statm` (pages × 4 KiB,
/// the page size of the Linux machines this runs on).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * 4096
}

#[derive(LabelSet, Clone, Copy)]
struct Route {
    route: &'static str,
}

#[test]
fn a_million_distinct_values_keep_the_series_at_the_cap() {
    const ATTACK: u64 = 1_000_000;
    const CAP: usize = 10_000;
    let requests = Counter::<Route>::new("attack_requests_total", "Requests by route.")
        .unwrap()
        .with_max_series(CAP)
        .register()
        .unwrap();
    let before = resident_bytes();
    let mut value = String::new();
    for i in 0..ATTACK {
        value.clear();
        value.push_str("/users/");
        value.push_str(&i.to_string());
        requests.with_values(&[&value]).inc();
    }
    let after = resident_bytes();
    assert_eq!(requests.series(), CAP, "the map stops growing at the cap");
    let refused = ATTACK - CAP as u64;
    assert_eq!(requests.overflowed(), Some(refused));
    let text = encode_text();
    assert!(text.contains(&format!(
        "attack_requests_total{{route=\"__overflow__\"}} {refused}\n"
    )));
    assert!(text.contains(&format!(
        "obs_cardinality_overflow_total{{metric=\"attack_requests_total\"}} {refused}\n"
    )));
    // Values are cut at 1,024 bytes on a character boundary.
    let long = "é".repeat(1_000);
    let cut = "é".repeat(512);
    let c = Counter::<Route>::new("attack_long_total", "Long values.")
        .unwrap()
        .register()
        .unwrap();
    c.with_values(&[&long]).inc();
    assert!(encode_text().contains(&format!("attack_long_total{{route=\"{cut}\"}} 1\n")));
    let grown = after.saturating_sub(before);
    eprintln!(
        "resident memory grew by {} KiB across the attack",
        grown / 1024
    );
    assert!(grown < 64 << 20, "resident memory grew by {grown} bytes");
}
