use obs_runtime::instrumented;

#[instrumented(buckets = [])]
fn query() {}

fn main() {}
