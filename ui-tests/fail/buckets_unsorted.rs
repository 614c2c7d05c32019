use obs_runtime::instrumented;

#[instrumented(buckets = [1.0, 0.5])]
fn query() {}

fn main() {}
