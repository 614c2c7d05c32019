use obs_runtime::instrumented;

#[instrumented(buckets = [-1.0, 1.0])]
fn query() {}

fn main() {}
