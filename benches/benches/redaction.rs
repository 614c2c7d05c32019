//! Redaction of 1 MB adversarial lines: the near misses that made the old
//! scanner quadratic (`bearer-` repeated took 130 s per MB). Each must now
//! cost about what an ordinary megabyte does; timings are recorded, never
//! asserted (`tests/redaction_dos.rs` holds the generous deadline).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const INPUTS: &[(&str, &str)] = &[
    (
        "ordinary",
        "GET /api/v1/orders/1234 200 in 12ms user-agent=curl/8 ",
    ),
    ("bearer", "bearer-"),
    ("basic", "basic+"),
    ("placeholder_pairs", "token=[REDACTED],"),
    ("jwt_prefix", "eyJ."),
    ("email_local", "a.b-c+"),
    ("digits", "4111 1111 "),
];

fn megabyte(unit: &str) -> String {
    unit.repeat((1 << 20) / unit.len())
}

fn redaction(c: &mut Criterion) {
    let mut group = c.benchmark_group("redact_1mb");
    group.sample_size(10);
    for &(name, unit) in INPUTS {
        let text = megabyte(unit);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &text, |b, text| {
            b.iter(|| black_box(obs_runtime::redact::redact(black_box(text))).len());
        });
    }
    group.finish();
}

criterion_group!(benches, redaction);
criterion_main!(benches);
