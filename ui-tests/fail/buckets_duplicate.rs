use obs_runtime::instrumented;

#[instrumented(buckets = [0.5, 0.5, 1.0])]
fn query() {}

fn main() {}
