use obs_runtime::instrumented;

#[instrumented(metric = "checkout", buckets = "latency", slo(latency = "300ms", percentile = "99%"))]
fn checkout() {}

fn main() {
    checkout();
}
