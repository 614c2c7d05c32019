use obs_runtime::instrumented;

#[instrumented(slo(latency = "250 ms", percentile = "99%"))]
fn one() {}

#[instrumented(slo(success = "99%", period = "14d"))]
fn two() {}

fn main() {
    one();
    two();
}
